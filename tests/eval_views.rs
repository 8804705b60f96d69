//! `broadcast_to` is a view, as NumPy's: binding, transposing, indexing
//! and elementwise arithmetic read the base without materialising the
//! broadcast shape, so `--max-memory` does not count it. Consumers that
//! need the elements in memory get them (and the limit applies then), and
//! writing into a view never changes the tensor it was made from. The
//! expected values are small enough to work out by hand.

use tsr::error::{Code, Severity};
use tsr::eval::{run_source, RunOptions};
use tsr::source::SourceFile;

/// Runs a program with `--max-memory BYTES`: what it printed, or the code
/// and line of the error it stopped with.
fn run_within(src: &str, max_memory: u64) -> Result<String, (Code, usize)> {
    let options = RunOptions {
        max_memory,
        ..RunOptions::default()
    };
    let file = SourceFile::new("t.tsr", src);
    let mut out = Vec::new();
    let outcome = run_source(&file, &options, &mut out);
    match outcome
        .diagnostics
        .iter()
        .find(|d| d.severity() == Severity::Error)
    {
        Some(d) => {
            let start = d.span.map_or(0, |s| s.start as usize);
            Err((d.code, src[..start].lines().count().max(1)))
        }
        None => Ok(String::from_utf8(out).expect("output is UTF-8")),
    }
}

/// 400 000 f32 elements, 1.6 MB, read from the 16 bytes of `x`.
const WIDE: &str = "let x = [0.0, 1.0, 2.0, 3.0]
let y = broadcast_to(x, [100000, 4])
";

#[test]
fn a_broadcast_is_bound_queried_and_indexed_without_its_memory() {
    let src = format!(
        "{WIDE}print(y.shape, y.size, y.nbytes, y.ndim, is_contiguous(y))
print(y[99999, 2], y.T.shape, y.T[3, 5], y[None, 5].shape, y[5:5].shape, y[-1, ...].shape)
print(y[:3, 1:3])
"
    );
    let expected = "[100000, 4] 400000 1600000 2 false
2.0 [4, 100000] 3.0 [1, 4] [0, 4] [4]
[3, 2] f32
[[ 1.0000,  2.0000],
 [ 1.0000,  2.0000],
 [ 1.0000,  2.0000]]
";
    assert_eq!(run_within(&src, 4000), Ok(expected.into()));
}

#[test]
fn elementwise_results_of_a_broadcast_stay_views() {
    // A fused chain, a plain operator, a negation and a comparison.
    let src = format!(
        "{WIDE}let z = y * 2.0 + 1.0
let d = y - x
let n = -y
let big = y > 1.5
print(z.shape, z[7], d[99999])
print(n[5, 1:3], big[3])
"
    );
    let expected = "[100000, 4] [4] f32
[ 1.0000,  3.0000,  5.0000,  7.0000] [4] f32
[ 0.0000,  0.0000,  0.0000,  0.0000]
[2] f32
[-1.0000, -2.0000] [4] bool
[false, false,  true,  true]
";
    assert_eq!(run_within(&src, 4000), Ok(expected.into()));
}

#[test]
fn consumers_that_need_the_elements_get_them_within_the_limit() {
    let src = format!("{WIDE}print(sum(y))\n");
    assert_eq!(run_within(&src, 4000), Err((Code::Limit, 3)));
    let small = "let x = [0.0, 1.0, 2.0, 3.0]
let s = broadcast_to(x, [2, 4])
print(sum(s), sum(s, 0))
print(s @ ones([4, 1]))
print(einsum(\"ij,j->i\", s, x))
";
    let expected = "12.0 [4] f32
[ 0.0000,  2.0000,  4.0000,  6.0000]
[2, 1] f32
[[ 6.0000],
 [ 6.0000]]
[2] f32
[ 14.0000,  14.0000]
";
    assert_eq!(run_within(small, 1 << 20), Ok(expected.into()));
}

#[test]
fn writing_into_a_broadcast_copies_it_first() {
    let src = "let x = [[0.0, 1.0, 2.0]]
let y = broadcast_to(x, [2, 3])
let z = y
y[0, 1] = 9.0
print(y)
print(x)
print(z)
";
    let expected = "[2, 3] f32
[[ 0.0000,  9.0000,  2.0000],
 [ 0.0000,  1.0000,  2.0000]]
[1, 3] f32
[[ 0.0000,  1.0000,  2.0000]]
[2, 3] f32
[[ 0.0000,  1.0000,  2.0000],
 [ 0.0000,  1.0000,  2.0000]]
";
    assert_eq!(run_within(src, 1 << 20), Ok(expected.into()));
}

#[test]
fn a_broadcast_passed_to_a_fn_binds_its_generics() {
    let src = "fn twice_t(a: [N, M]) -> [M, N] { a.T * 2.0 }
let x = [1.0, 2.0]
let r = twice_t(broadcast_to(x, [3, 2]))
print(r)
";
    let expected = "[2, 3] f32
[[ 2.0000,  2.0000,  2.0000],
 [ 4.0000,  4.0000,  4.0000]]
";
    assert_eq!(run_within(src, 1 << 20), Ok(expected.into()));
}

#[test]
fn gradients_see_broadcasts_as_tensors() {
    // d/dw sum(w * g) = g, with g a broadcast bound before the tape runs;
    // d/db sum(broadcast_to(b, [2, 2]) * w) sums w over the broadcast axis,
    // and d/dw of it is the broadcast.
    let src = "let g = broadcast_to([1.0, 2.0], [2, 2])
fn dot_g(w: [2, 2]) -> f32[] { sum(w * g) }
fn spread(b: [2], w: [2, 2]) -> f32[] { sum(broadcast_to(b, [2, 2]) * w) }
print(grad(dot_g, zeros([2, 2])))
print(grad(spread, [1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]]))
";
    let expected = "[2, 2] f32
[[ 1.0000,  2.0000],
 [ 1.0000,  2.0000]]
([2] f32
[ 4.0000,  6.0000], [2, 2] f32
[[ 1.0000,  2.0000],
 [ 1.0000,  2.0000]])
";
    assert_eq!(run_within(src, 1 << 20), Ok(expected.into()));
}
