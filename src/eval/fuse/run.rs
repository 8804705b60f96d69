//! Running a plan: the output in chunks of `CHUNK` elements (chunks in
//! parallel for large outputs), each step over one chunk at a time in
//! f64 registers that stay in cache.

use ndarray::IxDyn;

use super::plan::{Plan, Step};
use crate::check::types::DType;
use crate::eval::interp::{internal, Eval};
use crate::eval::operators::broadcast_shape;
use crate::eval::parallel::{filled, wide};
use crate::eval::value::{Array, Element, Tensor};
use crate::ops::math::{self, Binary, Unary};
use crate::source::Span;
use crate::{map_tensor, with_unary};

/// 2 KiB of f64 per register, so that a chain's registers stay in L1:
/// with 8 KiB they spilled to L2, and `exp(x) * 2 + 1` on 4096² f32 took
/// 15.1 ms instead of 10.6 (`bench/compare.py --only "exp(x)"`).
const CHUNK: usize = 256;

pub(super) fn run(plan: &Plan, leaves: &[Tensor], span: Span) -> Eval<Tensor> {
    let failed = || internal(span, "broadcasting failed after the checker proved it");
    let shape = leaves
        .iter()
        .try_fold(Vec::new(), |s, t| broadcast_shape(&s, t.shape()));
    let shape = shape.ok_or_else(failed)?;
    let standard: Vec<Tensor> = leaves
        .iter()
        .map(|t| {
            map_tensor!(t, a => if a.is_standard_layout() {
                a.clone()
            } else {
                a.as_standard_layout().into_owned().into_shared()
            })
        })
        .collect();
    let layout = Layout::new(&shape, &standard).ok_or_else(failed)?;
    let len = shape.iter().product();
    Ok(match plan.dtype {
        DType::F32 => Tensor::F32(layout.collect(plan, len, |v| v as f32, span)?),
        _ => Tensor::F64(layout.collect(plan, len, |v| v, span)?),
    })
}

/// A leaf's data in row-major order.
enum Data<'t> {
    F32(&'t [f32]),
    F64(&'t [f64]),
    I64(&'t [i64]),
    Bool(&'t [bool]),
}

/// How each leaf is read: the output is `[outer, inner]`, and over the
/// trailing `inner` elements every leaf is either contiguous or constant.
struct Layout<'t> {
    shape: Vec<usize>,
    /// The first output axis of the inner block.
    split: usize,
    inner: usize,
    leaves: Vec<Input<'t>>,
}

struct Input<'t> {
    data: Data<'t>,
    /// Its stride along each output axis (0 where it is broadcast).
    strides: Vec<usize>,
    /// Whether it is contiguous over the inner block (else constant there).
    contiguous: bool,
}

impl<'t> Layout<'t> {
    fn new(shape: &[usize], leaves: &'t [Tensor]) -> Option<Layout<'t>> {
        let rank = shape.len();
        let own = row_major_strides(shape);
        let mut inputs = Vec::with_capacity(leaves.len());
        for t in leaves {
            let data = match t {
                Tensor::F32(a) => Data::F32(a.as_slice()?),
                Tensor::F64(a) => Data::F64(a.as_slice()?),
                Tensor::I64(a) => Data::I64(a.as_slice()?),
                Tensor::Bool(a) => Data::Bool(a.as_slice()?),
            };
            let offset = rank.checked_sub(t.shape().len())?;
            let theirs = row_major_strides(t.shape());
            let strides = (0..rank)
                .map(|k| match k.checked_sub(offset) {
                    Some(i) if t.shape()[i] != 1 => theirs[i],
                    _ => 0,
                })
                .collect();
            inputs.push(Input {
                data,
                strides,
                contiguous: false,
            });
        }
        // Grow the inner block from the last axis while every leaf stays
        // contiguous (its strides are the output's) or constant over it.
        let mut split = rank;
        while split > 0 {
            let k = split - 1;
            let fits = |i: &Input| {
                let axes = k..rank;
                let relevant = |j: &usize| shape[*j] != 1;
                let constant = axes.clone().filter(relevant).all(|j| i.strides[j] == 0);
                let contiguous = axes.filter(relevant).all(|j| i.strides[j] == own[j]);
                constant || contiguous
            };
            if !inputs.iter().all(fits) {
                break;
            }
            split = k;
        }
        for input in &mut inputs {
            input.contiguous = (split..rank).any(|j| shape[j] != 1 && input.strides[j] != 0);
        }
        Some(Layout {
            shape: shape.to_vec(),
            split,
            inner: shape[split..].iter().product(),
            leaves: inputs,
        })
    }

    /// The output, chunk by chunk (`filled`: chunks in parallel for large
    /// outputs, each task with its own registers).
    fn collect<O: Copy + Default + Send>(
        &self,
        plan: &Plan,
        len: usize,
        write: impl Fn(f64) -> O + Sync,
        span: Span,
    ) -> Eval<Array<O>> {
        // One register of `width` elements per step, end to end.
        let width = CHUNK.min(len);
        let registers = || vec![0.0f64; width * plan.steps.len()];
        let exact = self.exact(plan);
        let out = filled(len, CHUNK, registers, |registers, start, target| {
            self.chunk(plan, &exact, start, target.len(), width, registers);
            let root = registers.get(registers.len() - width..).unwrap_or(&[]);
            for (t, &v) in target.iter_mut().zip(root.iter()) {
                *t = write(v);
            }
        });
        Array::from_shape_vec(IxDyn(&self.shape), out)
            .map_err(|_| internal(span, "a fused result unlike its shape"))
    }

    /// Computes elements `start..start + len` of every step: step `i`
    /// writes `registers[i * width..][..len]`.
    fn chunk(
        &self,
        plan: &Plan,
        exact: &[bool],
        start: usize,
        len: usize,
        width: usize,
        registers: &mut [f64],
    ) {
        wide(
            #[inline(always)]
            || self.steps(plan, exact, start, len, width, registers),
        )
    }

    /// Whether each step's register holds only values exact in f32: f32
    /// leaves, small leaves whose every value is, and f32 nodes. An f32
    /// node need not round such operands (rounding them changes nothing),
    /// which saves two conversions per operand and element.
    fn exact(&self, plan: &Plan) -> Vec<bool> {
        fn all_exact<T: Element>(data: &[T]) -> bool {
            // A large f64 leaf is rounded rather than scanned.
            data.len() <= 64
                && data
                    .iter()
                    .all(|v| f64::from(v.as_f64() as f32) == v.as_f64())
        }
        plan.steps
            .iter()
            .map(|step| match *step {
                Step::Leaf(leaf) => match self.leaves.get(leaf).map(|i| &i.data) {
                    Some(Data::F32(_) | Data::Bool(_)) => true,
                    Some(Data::F64(d)) => all_exact(d),
                    Some(Data::I64(d)) => all_exact(d),
                    None => false,
                },
                Step::Neg { f32, .. } | Step::Unary { f32, .. } | Step::Binary { f32, .. } => f32,
            })
            .collect()
    }

    #[inline(always)]
    fn steps(
        &self,
        plan: &Plan,
        exact: &[bool],
        start: usize,
        len: usize,
        width: usize,
        registers: &mut [f64],
    ) {
        let rounds = |f32: bool, arg: usize| f32 && !exact.get(arg).copied().unwrap_or(false);
        for (i, step) in plan.steps.iter().enumerate() {
            let (done, rest) = registers.split_at_mut(i * width);
            let Some(out) = rest.get_mut(..len) else {
                return;
            };
            let register = |k: usize| done.get(k * width..k * width + len).unwrap_or(&[]);
            match *step {
                Step::Leaf(leaf) => self.load(leaf, start, out),
                Step::Neg { arg, f32 } => {
                    let x = register(arg);
                    let pairs = out.iter_mut().zip(x);
                    // The negation of an exact value is exact.
                    if rounds(f32, arg) {
                        pairs.for_each(|(o, &v)| *o = round(-v, true));
                    } else {
                        pairs.for_each(|(o, &v)| *o = -v);
                    }
                }
                Step::Unary { op, arg, f32 } => {
                    unary(op, f32, rounds(f32, arg), register(arg), out)
                }
                Step::Binary { op, lhs, rhs, f32 } => {
                    let operands = rounds(f32, lhs) || rounds(f32, rhs);
                    binary(op, f32, operands, register(lhs), register(rhs), out)
                }
            }
        }
    }

    #[inline(always)]
    /// Leaf `leaf`'s values at output elements `start..start + out.len()`.
    fn load(&self, leaf: usize, start: usize, out: &mut [f64]) {
        let Some(input) = self.leaves.get(leaf) else {
            return;
        };
        let mut done = 0;
        while done < out.len() {
            let at = start + done;
            let (row, col) = (at / self.inner, at % self.inner);
            let count = (self.inner - col).min(out.len() - done);
            let base = self.row_offset(input, row);
            let target = &mut out[done..done + count];
            if input.contiguous {
                input.data.read(base + col, target);
            } else {
                let mut one = [0.0];
                input.data.read(base, &mut one);
                target.fill(one[0]);
            }
            done += count;
        }
    }

    /// Where row `row` of the outer axes starts in a leaf's data.
    fn row_offset(&self, input: &Input, mut row: usize) -> usize {
        let mut offset = 0;
        for k in (0..self.split).rev() {
            let n = self.shape[k];
            offset += (row % n) * input.strides[k];
            row /= n;
        }
        offset
    }
}

impl Data<'_> {
    /// `out.len()` elements from `from`, as f64 (as `Tensor::cast` reads them).
    #[inline(always)]
    fn read(&self, from: usize, out: &mut [f64]) {
        #[inline(always)]
        fn copy<T: Element>(data: &[T], from: usize, out: &mut [f64]) {
            let source = data.get(from..from + out.len()).unwrap_or(&[]);
            out.iter_mut()
                .zip(source)
                .for_each(|(o, v)| *o = v.as_f64());
        }
        match self {
            Data::F32(d) => copy(d, from, out),
            Data::F64(d) => copy(d, from, out),
            Data::I64(d) => copy(d, from, out),
            Data::Bool(d) => copy(d, from, out),
        }
    }
}

fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    strides
}

#[inline]
fn round(v: f64, f32: bool) -> f64 {
    if f32 {
        f64::from(v as f32)
    } else {
        v
    }
}

#[inline(always)]
/// As `map_float`: the operand cast to the node's type (unless
/// `!operand`: it is exact already), the function in f64, the result
/// rounded once.
fn unary(op: Unary, f32: bool, operand: bool, x: &[f64], out: &mut [f64]) {
    with_unary!(op, f32, f => {
        if operand {
            out.iter_mut().zip(x).for_each(|(o, &v)| *o = round(f(round(v, true)), true));
        } else if f32 {
            out.iter_mut().zip(x).for_each(|(o, &v)| *o = round(f(v), true));
        } else {
            out.iter_mut().zip(x).for_each(|(o, &v)| *o = f(v));
        }
    })
}

#[inline(always)]
/// As the operators and `maximum`/`minimum`/`pow`: both operands cast to
/// the node's type (unless `!operands`: they are exact already), the
/// operation in f64, the result rounded once.
fn binary(op: Binary, f32: bool, operands: bool, a: &[f64], b: &[f64], out: &mut [f64]) {
    macro_rules! each {
        ($f:expr) => {{
            let f = $f;
            let pairs = out.iter_mut().zip(a.iter().zip(b));
            if operands {
                pairs.for_each(|(o, (&x, &y))| *o = round(f(round(x, true), round(y, true)), true));
            } else if f32 {
                pairs.for_each(|(o, (&x, &y))| *o = round(f(x, y), true));
            } else {
                pairs.for_each(|(o, (&x, &y))| *o = f(x, y));
            }
        }};
    }
    match op {
        Binary::Add => each!(|x: f64, y: f64| x + y),
        Binary::Sub => each!(|x: f64, y: f64| x - y),
        Binary::Mul => each!(|x: f64, y: f64| x * y),
        Binary::Div => each!(|x: f64, y: f64| x / y),
        Binary::Pow => each!(f64::powf),
        Binary::Maximum => each!(math::maximum),
        Binary::Minimum => each!(math::minimum),
    }
}
