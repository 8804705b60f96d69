//! The run-time kernel of einsum: repeated labels taken as diagonals, then
//! the operands contracted pairwise in the order `super::plan` chooses,
//! each pair as one batched matrix product that reads its operands in
//! place (transposes and broadcasts as strides) and writes its result in
//! the order the next step or the output wants whenever that is the order
//! the product gives.

use std::num::Wrapping;

use ndarray::{ArrayView3, ArrayViewD, Axis as NdAxis, CowArray, Ix3, IxDyn, LinalgScalar};

use super::plan::{Labels, Pair};
use crate::check::rules::einsum_spec::{implicit_output, parse_einsum, EinsumSpec, SpecItem};
use crate::check::types::DType;
use crate::error::Diagnostic;
use crate::eval::interp::internal;
use crate::eval::value::{self as rt, Array, Value};
use crate::eval::Interp;
use crate::ops::linalg::Elem;
use crate::ops::shape::standard;
use crate::ops::Bound;
use crate::syntax::ast::ExprKind;

pub(crate) static KERNELS: &[(&str, crate::ops::Kernel)] = &[("einsum", einsum_kernel)];

fn einsum_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let text = match b.get(0).map(|e| &e.kind) {
        Some(ExprKind::Str(text)) => text.as_str(),
        _ => return Err(internal(b.span, "an einsum spec that is not a literal")),
    };
    let dtype = ev.out_dtype(b);
    let mut operands = Vec::with_capacity(b.rest(1).len());
    for arg in b.rest(1) {
        operands.push(ev.tensor(arg.value)?);
    }
    let (result, flops) =
        einsum_counted(text, &operands, dtype).map_err(|what| internal(b.span, what))?;
    ev.add_flops(flops);
    Ok(Value::Tensor(result))
}

/// einsum on tensors, computed in `dtype` (autodiff's rules call it with
/// the specs of gradients).
pub(crate) fn einsum_values(
    text: &str,
    operands: &[rt::Tensor],
    dtype: DType,
) -> Result<rt::Tensor, &'static str> {
    einsum_counted(text, operands, dtype).map(|(result, _)| result)
}

/// The result, and the FLOPs of its pairwise products.
fn einsum_counted(
    text: &str,
    operands: &[rt::Tensor],
    dtype: DType,
) -> Result<(rt::Tensor, f64), &'static str> {
    let spec = parse_einsum(text).map_err(|_| "an einsum spec the checker did not accept")?;
    let operands: Vec<rt::Tensor> = operands.iter().map(|t| t.cast(dtype)).collect();
    let shapes: Vec<&[usize]> = operands.iter().map(rt::Tensor::shape).collect();
    let plan = Plan::new(&spec, &shapes).ok_or("an einsum spec that does not fit its operands")?;
    macro_rules! arrays {
        ($variant:ident, $convert:expr) => {
            operands
                .iter()
                .map(|t| match t {
                    rt::Tensor::$variant(a) => Some($convert(a)),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or("an einsum operand of another element type")?
        };
    }
    let (result, flops) = match dtype {
        DType::F32 => {
            let (product, flops) = plan.run(arrays!(F32, Array::clone))?;
            (rt::Tensor::F32(product), flops)
        }
        DType::F64 => {
            let (product, flops) = plan.run(arrays!(F64, Array::clone))?;
            (rt::Tensor::F64(product), flops)
        }
        // Integer sums wrap, as NumPy's do.
        DType::I64 => {
            let wrapping = |a: &Array<i64>| a.mapv(Wrapping).into_shared();
            let (product, flops) = plan.run(arrays!(I64, wrapping))?;
            (rt::Tensor::I64(product.mapv(|w| w.0).into_shared()), flops)
        }
        DType::Bool => return Err("einsum on bool"),
    };
    Ok((standard(result), flops))
}

/// An axis label at run time: a spec label, by its index among the
/// spec's labels, or the k-th axis under `...` counted from the right,
/// which every operand's `...` shares as NumPy broadcasts them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum AxisLabel {
    Named(usize),
    Batch(usize),
}

/// What an einsum computes: each operand's axis labels, and the output's.
pub(super) struct Plan {
    inputs: Vec<Vec<AxisLabel>>,
    output: Vec<AxisLabel>,
    /// The spec's label names, by `AxisLabel::Named` index.
    names: Vec<String>,
}

/// An operand, or a partial product, with the label of each axis.
struct Term<T> {
    array: Array<T>,
    labels: Vec<AxisLabel>,
}

impl<T> Term<T> {
    fn position(&self, label: AxisLabel) -> Option<usize> {
        self.labels.iter().position(|l| *l == label)
    }

    fn size(&self, label: AxisLabel) -> usize {
        self.position(label)
            .and_then(|i| self.array.shape().get(i))
            .copied()
            .unwrap_or(1)
    }
}

fn label_of<'s>(names: &mut Vec<&'s str>, name: &'s str) -> AxisLabel {
    match names.iter().position(|n| *n == name) {
        Some(i) => AxisLabel::Named(i),
        None => {
            names.push(name);
            AxisLabel::Named(names.len() - 1)
        }
    }
}

impl Plan {
    /// Labels every axis of operands of `shapes`; `None` if the spec does
    /// not fit them (which the checker excludes).
    pub(super) fn new(spec: &EinsumSpec, shapes: &[&[usize]]) -> Option<Plan> {
        if spec.operands.len() != shapes.len() {
            return None;
        }
        let mut names: Vec<&str> = Vec::new();
        let mut inputs = Vec::with_capacity(shapes.len());
        let mut batch_rank = 0;
        for (operand, shape) in spec.operands.iter().zip(shapes) {
            let named = operand.labels().count();
            let batch = match operand.ellipsis() {
                Some(_) => shape.len().checked_sub(named)?,
                None if named == shape.len() => 0,
                None => return None,
            };
            batch_rank = batch_rank.max(batch);
            let mut labels = Vec::with_capacity(shape.len());
            for item in &operand.items {
                match item {
                    SpecItem::Label { name, .. } => labels.push(label_of(&mut names, name)),
                    SpecItem::Ellipsis { .. } => {
                        labels.extend((0..batch).rev().map(AxisLabel::Batch))
                    }
                }
            }
            inputs.push(labels);
        }
        let written = spec.output.clone();
        let output_spec = written.unwrap_or_else(|| implicit_output(spec));
        let mut output = Vec::with_capacity(output_spec.items.len());
        for item in &output_spec.items {
            match item {
                SpecItem::Label { name, .. } => {
                    let i = names.iter().position(|n| n == name)?;
                    output.push(AxisLabel::Named(i));
                }
                SpecItem::Ellipsis { .. } => {
                    output.extend((0..batch_rank).rev().map(AxisLabel::Batch));
                }
            }
        }
        let names = names.into_iter().map(str::to_string).collect();
        Some(Plan {
            inputs,
            output,
            names,
        })
    }

    /// A label as an index for `super::plan`: named labels first, then
    /// the `...` axes.
    fn index(&self, label: AxisLabel) -> usize {
        match label {
            AxisLabel::Named(i) => i,
            AxisLabel::Batch(k) => self.names.len() + k,
        }
    }

    /// The labels of each operand (a repeated label once, as after
    /// `diagonals`) and of the output as indices, and each label's size
    /// (a `...` axis of size 1 broadcasts).
    pub(super) fn indexed(&self, shapes: &[&[usize]]) -> (Vec<Labels>, Labels, Vec<usize>) {
        let mut sizes = Vec::new();
        let mut inputs = Vec::with_capacity(self.inputs.len());
        for (labels, shape) in self.inputs.iter().zip(shapes) {
            let mut own: Labels = Vec::with_capacity(labels.len());
            for (&label, &size) in labels.iter().zip(shape.iter()) {
                let i = self.index(label);
                if sizes.len() <= i {
                    sizes.resize(i + 1, 1);
                }
                sizes[i] = sizes[i].max(size);
                if !own.contains(&i) {
                    own.push(i);
                }
            }
            inputs.push(own);
        }
        let output = self.output.iter().map(|&l| self.index(l)).collect();
        (inputs, output, sizes)
    }

    /// Indexed labels written as einsum subscripts (`...` axes as `…`).
    pub(super) fn name(&self, labels: &[usize]) -> String {
        labels
            .iter()
            .map(|&i| match self.names.get(i) {
                Some(name) => name.clone(),
                None => "…".to_string(),
            })
            .collect()
    }

    /// Contracts the operands pairwise in the order `super::plan` chooses,
    /// each pair as one batched matrix product.
    /// The result, and the FLOPs of its pairwise products.
    fn run<T: Elem>(&self, arrays: Vec<Array<T>>) -> Result<(Array<T>, f64), &'static str> {
        let shapes: Vec<&[usize]> = arrays.iter().map(|a| a.shape()).collect();
        let (indexed, output, sizes) = self.indexed(&shapes);
        let order = super::plan::order(&indexed, &output, &sizes);
        let mut terms = arrays
            .into_iter()
            .zip(&self.inputs)
            .map(|(array, labels)| {
                diagonals(Term {
                    array,
                    labels: labels.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut flops = 0.0;
        for Pair(i, j) in order.pairs {
            if i >= j || j >= terms.len() {
                return Err("an einsum order out of range");
            }
            let b = terms.remove(j);
            let a = terms.remove(i);
            let mut needed = self.output.clone();
            needed.extend(terms.iter().flat_map(|t| t.labels.iter().copied()));
            let (product, cost) = contract(a, b, &needed)?;
            terms.push(product);
            flops += cost;
        }
        let acc = terms.pop().ok_or("an einsum without operands")?;
        let acc = sum_unless(acc, |l| self.output.contains(&l));
        let order = self
            .output
            .iter()
            .map(|&l| acc.position(l))
            .collect::<Option<Vec<usize>>>()
            .filter(|order| order.len() == acc.labels.len())
            .ok_or("an einsum output label missing from the product")?;
        Ok((acc.array.permuted_axes(IxDyn(&order)), flops))
    }
}

/// A term with each label repeated within it replaced by the diagonal
/// (`"ii->i"`), the diagonal's axis last.
fn diagonals<T: Clone>(mut term: Term<T>) -> Result<Term<T>, &'static str> {
    while let Some((p, q)) = repeated(&term.labels) {
        let shape = term.array.shape();
        let n = shape[p];
        if shape[q] != n {
            return Err("an einsum diagonal of unequal sizes");
        }
        let mut rest: Vec<usize> = shape.to_vec();
        rest.remove(q);
        rest.remove(p);
        let views: Vec<ArrayViewD<T>> = (0..n)
            .map(|i| {
                term.array
                    .index_axis(NdAxis(q), i)
                    .index_axis_move(NdAxis(p), i)
            })
            .collect();
        let array = if n == 0 {
            rest.push(0);
            Array::from_shape_vec(IxDyn(&rest), Vec::new())
        } else {
            ndarray::stack(NdAxis(rest.len()), &views).map(|a| a.into_shared())
        };
        term.array = array.map_err(|_| "an einsum diagonal ndarray refused")?;
        let label = term.labels.remove(q);
        term.labels.remove(p);
        term.labels.push(label);
    }
    Ok(term)
}

/// The first pair of axes with the same label, if any.
fn repeated(labels: &[AxisLabel]) -> Option<(usize, usize)> {
    (0..labels.len()).find_map(|q| (0..q).find(|&p| labels[p] == labels[q]).map(|p| (p, q)))
}

/// Sums the axes whose labels `keep` rejects.
fn sum_unless<T: LinalgScalar>(mut term: Term<T>, keep: impl Fn(AxisLabel) -> bool) -> Term<T> {
    for k in (0..term.labels.len()).rev() {
        if !keep(term.labels[k]) {
            term.array = term.array.sum_axis(NdAxis(k)).into_shared();
            term.labels.remove(k);
        }
    }
    term
}

/// The product of two terms, summed over the labels they share that are
/// not `later` needed; their other labels follow: shared, then `a`'s
/// own, then `b`'s own.
/// Also returns the product's FLOPs (a multiply and an add per term).
fn contract<T: Elem>(
    a: Term<T>,
    b: Term<T>,
    later: &[AxisLabel],
) -> Result<(Term<T>, f64), &'static str> {
    let mut a = sum_unless(a, |l| later.contains(&l) || b.labels.contains(&l));
    let mut b = sum_unless(b, |l| later.contains(&l) || a.labels.contains(&l));
    // A summed `...` axis of size 1 broadcast against n: the sum factors,
    // so b is summed alone and a's unit axis dropped (or the reverse).
    for label in a.labels.clone() {
        let (Some(i), Some(j)) = (a.position(label), b.position(label)) else {
            continue;
        };
        let (m, n) = (a.array.shape()[i], b.array.shape()[j]);
        if later.contains(&label) || m == n {
            continue;
        }
        let (unit, other, k) = match (m, n) {
            (1, _) => (&mut a, &mut b, j),
            (_, 1) => (&mut b, &mut a, i),
            _ => return Err("einsum axes of different sizes"),
        };
        let u = unit.position(label).ok_or("an einsum label lost")?;
        unit.array = unit.array.clone().index_axis_move(NdAxis(u), 0);
        unit.labels.remove(u);
        other.array = other.array.sum_axis(NdAxis(k)).into_shared();
        other.labels.remove(k);
    }
    let shared = |l: &&AxisLabel| b.labels.contains(l);
    let batch: Vec<AxisLabel> = a
        .labels
        .iter()
        .filter(shared)
        .filter(|l| later.contains(l))
        .copied()
        .collect();
    let summed: Vec<AxisLabel> = a
        .labels
        .iter()
        .filter(shared)
        .filter(|l| !later.contains(l))
        .copied()
        .collect();
    let a_own: Vec<AxisLabel> = a
        .labels
        .iter()
        .filter(|l| !b.labels.contains(l))
        .copied()
        .collect();
    let b_own: Vec<AxisLabel> = b
        .labels
        .iter()
        .filter(|l| !a.labels.contains(l))
        .copied()
        .collect();
    let mut batch_shape = Vec::with_capacity(batch.len());
    for &l in &batch {
        batch_shape.push(match (a.size(l), b.size(l)) {
            (m, n) if m == n || n == 1 => m,
            (1, n) => n,
            _ => return Err("einsum axes of different sizes"),
        });
    }
    let sizes = |t: &Term<T>, labels: &[AxisLabel]| -> Vec<usize> {
        labels.iter().map(|&l| t.size(l)).collect()
    };
    let (a_sizes, b_sizes) = (sizes(&a, &a_own), sizes(&b, &b_own));
    let product = |s: &[usize]| s.iter().try_fold(1usize, |p, &n| p.checked_mul(n));
    let too_large = "an einsum product too large";
    let count = product(&batch_shape).ok_or(too_large)?;
    let m = product(&a_sizes).ok_or(too_large)?;
    let k = product(&sizes(&a, &summed)).ok_or(too_large)?;
    let n = product(&b_sizes).ok_or(too_large)?;
    let nonzero = [count, m, n]
        .iter()
        .try_fold(1usize, |p, &s| p.checked_mul(s.max(1)));
    if nonzero.is_none_or(|p| p > isize::MAX as usize) {
        return Err(too_large);
    }
    let lhs = matrices(&a, &batch, &batch_shape, [&a_own, &summed], (count, m, k))?;
    let rhs = matrices(&b, &batch, &batch_shape, [&summed, &b_own], (count, k, n))?;
    let out = T::product_stack(lhs.view(), rhs.view()).map_err(|_| too_large)?;
    let mut shape = batch_shape;
    shape.extend(a_sizes);
    shape.extend(b_sizes);
    let array = out
        .into_dyn()
        .into_shape_with_order(IxDyn(&shape))
        .map_err(|_| "an einsum product shape ndarray refused")?
        .into_shared();
    let mut labels = batch;
    labels.extend(a_own);
    labels.extend(b_own);
    let flops = 2.0 * count as f64 * m as f64 * k as f64 * n as f64;
    Ok((Term { array, labels }, flops))
}

/// A term's axes ordered as `batch` then the two groups, the batch axes
/// broadcast to `batch_shape`, as a stack of `dims` matrices: a view of
/// the term's data whenever each group's axes merge into one stride
/// (transposed, broadcast and sliced operands included), a copy only
/// when they do not.
fn matrices<'t, T: Clone>(
    t: &'t Term<T>,
    batch: &[AxisLabel],
    batch_shape: &[usize],
    [rows, cols]: [&[AxisLabel]; 2],
    dims: (usize, usize, usize),
) -> Result<CowArray<'t, T, Ix3>, &'static str> {
    let order = batch
        .iter()
        .chain(rows)
        .chain(cols)
        .map(|&l| t.position(l))
        .collect::<Option<Vec<usize>>>()
        .filter(|order| order.len() == t.labels.len())
        .ok_or("an einsum operand whose labels do not fit")?;
    let full: Vec<usize> = t
        .labels
        .iter()
        .zip(t.array.shape())
        .map(|(l, &n)| match batch.iter().position(|b| b == l) {
            Some(i) => batch_shape.get(i).copied().unwrap_or(n),
            None => n,
        })
        .collect();
    let view = t
        .array
        .broadcast(IxDyn(&full))
        .ok_or("einsum batch axes that do not broadcast")?
        .permuted_axes(IxDyn(&order));
    let groups = [batch.len(), rows.len(), cols.len()];
    if let Some(stack) = merged(view.clone(), groups) {
        return Ok(CowArray::from(stack));
    }
    let copy = view
        .to_shape(dims)
        .map_err(|_| "an einsum operand shape ndarray refused")?;
    Ok(CowArray::from(copy.into_owned()))
}

/// `view` with each of three consecutive groups of axes (of `groups`
/// axes each) merged into one axis, when the strides allow it without a
/// copy: within a group, each axis must step over exactly the axes after
/// it. `None` otherwise, and for an empty view (nothing to save there).
fn merged<T>(mut view: ArrayViewD<'_, T>, groups: [usize; 3]) -> Option<ArrayView3<'_, T>> {
    if view.is_empty() || groups.iter().sum::<usize>() != view.ndim() {
        return None;
    }
    let mut end = view.ndim();
    for &len in groups.iter().rev() {
        let start = end - len;
        if len == 0 {
            view.insert_axis_inplace(NdAxis(start));
        }
        for p in (start..end.saturating_sub(1)).rev() {
            if !view.merge_axes(NdAxis(p), NdAxis(p + 1)) {
                return None;
            }
            view.index_axis_inplace(NdAxis(p), 0);
        }
        end = start;
    }
    view.into_dimensionality::<Ix3>().ok()
}
