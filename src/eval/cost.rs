//! The FLOPs `--profile` charges a builtin call whose kernel does not
//! count its own work. Products (matmul, dot, linear, einsum, the
//! convolutions) count theirs as they run; everything else is charged
//! here from the shapes of its first argument and its result.
//!
//! The counts are the conventional ones, so that GFLOP/s figures compare
//! with other tools': one per element and elementwise operation, the
//! passes of each normalisation, and the leading terms of the textbook
//! counts for the factorisations (Golub and Van Loan, *Matrix
//! Computations*, 4th ed., table 5.5.1 and sections 3.2, 5.2 and 8.3).
//! Moving data (reshape, casts, concat, rearrange...) and drawing random
//! numbers cost no FLOPs.

/// The shapes a cost is computed from.
pub struct Shapes<'s> {
    /// The first tensor argument's, when the checker proved it.
    pub input: Option<&'s [usize]>,
    /// The second tensor argument's, for `solve`'s right-hand side.
    pub second: Option<&'s [usize]>,
    /// The result's element count (all outputs of a tuple together).
    pub output: usize,
}

/// `None` for a kernel that counts its own FLOPs.
pub fn builtin_flops(name: &str, shapes: &Shapes) -> Option<f64> {
    let out = shapes.output as f64;
    let input = shapes.input.map_or(out, elements);
    let passes = |k: f64| Some(k * input);
    match name {
        "matmul" | "dot" | "linear" | "einsum" | "conv1d" | "conv2d" | "conv_transpose2d" => None,
        "exp" | "log" | "sqrt" | "sin" | "cos" | "tanh" | "sigmoid" | "gelu" | "abs" | "relu"
        | "sign" | "floor" | "isnan" | "maximum" | "minimum" | "pow" | "where" | "outer" => {
            Some(out)
        }
        "sum" | "prod" | "max" | "min" | "argmax" | "argmin" | "all" | "any" | "max_pool2d"
        | "avg_pool2d" | "reduce" => passes(1.0),
        "trace" => Some(out * diagonal(shapes.input?)),
        "mean" | "norm" => passes(2.0),
        "var" | "std" => passes(3.0),
        "logsumexp" => passes(4.0),
        "softmax" | "log_softmax" => passes(5.0),
        "layernorm" | "batchnorm" => passes(7.0),
        "inv" | "det" | "solve" | "eigh" | "svd" | "qr" => {
            Some(factorisation(name, shapes.input?, shapes.second))
        }
        _ => Some(0.0),
    }
}

fn elements(shape: &[usize]) -> f64 {
    shape.iter().map(|&n| n as f64).product()
}

/// The length of the diagonal of the last two axes.
fn diagonal(shape: &[usize]) -> f64 {
    match shape {
        [.., m, n] => (*m).min(*n) as f64,
        _ => 0.0,
    }
}

/// The count for a batch of `[.., m, n]` matrices.
fn factorisation(name: &str, input: &[usize], second: Option<&[usize]>) -> f64 {
    let rank = input.len();
    if rank < 2 {
        return 0.0;
    }
    let batch = elements(&input[..rank - 2]);
    let (m, n) = (input[rank - 2] as f64, input[rank - 1] as f64);
    let (long, short) = (m.max(n), m.min(n));
    let each = match name {
        // LU (2n³/3), then n triangular solves for the inverse's columns.
        "inv" => 2.0 * n * n * n,
        "det" => 2.0 / 3.0 * n * n * n,
        "solve" => {
            // A 1-D right-hand side is one column, as in NumPy.
            let columns = match second {
                Some(&[.., _, k]) => k as f64,
                _ => 1.0,
            };
            2.0 / 3.0 * n * n * n + 2.0 * n * n * columns
        }
        // Tridiagonalisation and the implicit QR iteration with vectors.
        "eigh" => 9.0 * n * n * n,
        // R-SVD with the thin U.
        "svd" => 6.0 * long * short * short + 11.0 * short * short * short,
        // Householder R, then the thin Q accumulated from the reflectors.
        "qr" => 4.0 * short * short * (long - short / 3.0),
        _ => 0.0,
    };
    batch * each
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(name: &str, input: &[usize], output: usize) -> Option<f64> {
        builtin_flops(
            name,
            &Shapes {
                input: Some(input),
                second: None,
                output,
            },
        )
    }

    #[test]
    fn products_count_themselves() {
        assert_eq!(cost("matmul", &[4, 4], 16), None);
        assert_eq!(cost("conv2d", &[1, 3, 8, 8], 64), None);
    }

    #[test]
    fn reductions_read_every_input_element() {
        assert_eq!(cost("sum", &[64, 32], 64), Some(2048.0));
        assert_eq!(cost("softmax", &[64, 32], 2048), Some(5.0 * 2048.0));
        assert_eq!(cost("exp", &[64, 32], 2048), Some(2048.0));
        assert_eq!(cost("reshape", &[64, 32], 2048), Some(0.0));
    }

    #[test]
    fn factorisations_follow_the_textbook_counts() {
        assert_eq!(cost("inv", &[3, 10, 10], 300), Some(3.0 * 2000.0));
        assert_eq!(cost("svd", &[20, 10], 0), Some(6.0 * 2000.0 + 11000.0));
        assert_eq!(cost("svd", &[10, 20], 0), cost("svd", &[20, 10], 0));
        let solve = builtin_flops(
            "solve",
            &Shapes {
                input: Some(&[6, 6]),
                second: Some(&[6, 2]),
                output: 12,
            },
        );
        assert_eq!(solve, Some(144.0 + 144.0));
    }
}
