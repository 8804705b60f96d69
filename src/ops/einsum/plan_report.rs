//! What einsum's kernel will do, without doing it (the REPL's `:explain`):
//! the same plan as [`kernels`](super::kernels) — diagonals first, then the
//! operands contracted left to right, each pair as one batched matrix
//! product — followed on sizes alone, with each step's FLOPs and the bytes
//! of the product it makes.

use super::kernels::{AxisLabel, Plan};
use crate::check::rules::einsum_spec::{parse_einsum, SpecItem};

/// One pairwise product.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The labels of the two terms and of their product, as `ab,bc->ac`.
    pub contraction: String,
    /// Batch, rows, summed and columns of the batched matrix product.
    pub dims: [usize; 4],
    /// A multiply and an add per term, as the kernel counts them.
    pub flops: f64,
    /// The product's size in bytes.
    pub bytes: u64,
}

/// A term's labels with their sizes.
#[derive(Clone)]
struct Term {
    labels: Vec<(AxisLabel, usize)>,
}

impl Term {
    fn has(&self, label: AxisLabel) -> bool {
        self.labels.iter().any(|(l, _)| *l == label)
    }

    fn size(&self, label: AxisLabel) -> usize {
        self.labels
            .iter()
            .find(|(l, _)| *l == label)
            .map_or(1, |(_, n)| *n)
    }

    /// Keeps only the labels `keep` accepts: the others are summed.
    fn sum_unless(&mut self, keep: impl Fn(AxisLabel) -> bool) {
        self.labels.retain(|(l, _)| keep(*l));
    }
}

/// The steps of `einsum(spec, operands...)` for operands of `shapes` whose
/// elements take `element_bytes` each; `None` when the spec does not fit
/// the shapes (which the checker excludes).
pub fn explain(spec: &str, shapes: &[Vec<usize>], element_bytes: u64) -> Option<Vec<Step>> {
    let parsed = parse_einsum(spec).ok()?;
    let views: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
    let plan = Plan::new(&parsed, &views)?;
    let mut names: Vec<&str> = Vec::new();
    for item in parsed.operands.iter().flat_map(|o| &o.items) {
        if let SpecItem::Label { name, .. } = item {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let word_form = parsed.word_form;
    let show = |term: &Term| {
        let words: Vec<String> = term
            .labels
            .iter()
            .map(|(label, _)| match label {
                AxisLabel::Named(i) => names.get(*i).copied().unwrap_or("?").to_owned(),
                AxisLabel::Batch(k) => format!("…{k}"),
            })
            .collect();
        words.join(if word_form { " " } else { "" })
    };
    let mut terms = plan.inputs.iter().zip(shapes).map(|(labels, shape)| {
        let mut term = Term {
            labels: labels.iter().copied().zip(shape.iter().copied()).collect(),
        };
        // A repeated label is taken as a diagonal: one axis, kept last.
        let mut seen = Vec::new();
        term.labels.retain(|(l, _)| {
            let first = !seen.contains(l);
            seen.push(*l);
            first
        });
        term
    });
    let mut acc = terms.next()?;
    let mut steps = Vec::new();
    for (i, mut b) in terms.enumerate() {
        let later = plan.needed_after(i + 1);
        let mut a = acc;
        a.sum_unless(|l| later.contains(&l) || b.has(l));
        b.sum_unless(|l| later.contains(&l) || a.has(l));
        let shared = |l: &AxisLabel| b.has(*l);
        let pick = |t: &Term, keep: &dyn Fn(&AxisLabel) -> bool| -> Vec<(AxisLabel, usize)> {
            t.labels.iter().filter(|(l, _)| keep(l)).copied().collect()
        };
        let batch: Vec<(AxisLabel, usize)> = pick(&a, &|l| shared(l) && later.contains(l))
            .into_iter()
            .map(|(l, n)| (l, n.max(b.size(l))))
            .collect();
        let summed = pick(&a, &|l| shared(l) && !later.contains(l));
        let a_own = pick(&a, &|l| !shared(l));
        let b_own = pick(&b, &|l| !a.has(*l));
        let product = |labels: &[(AxisLabel, usize)]| labels.iter().map(|(_, n)| *n).product();
        let dims = [
            product(&batch),
            product(&a_own),
            product(&summed),
            product(&b_own),
        ];
        let [count, m, k, n] = dims.map(|d: usize| d as f64);
        let mut labels = batch;
        labels.extend(a_own);
        labels.extend(b_own);
        let result = Term { labels };
        let elements: u64 = result.labels.iter().map(|(_, n)| *n as u64).product();
        steps.push(Step {
            contraction: format!("{},{}->{}", show(&a), show(&b), show(&result)),
            dims,
            flops: 2.0 * count * m * k * n,
            bytes: elements.saturating_mul(element_bytes),
        });
        acc = result;
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_contracts_left_to_right() {
        let steps = explain("ij,jk,kl->il", &[vec![2, 3], vec![3, 4], vec![4, 5]], 4);
        let steps = steps.unwrap_or_default();
        let shown: Vec<(&str, [usize; 4], f64, u64)> = steps
            .iter()
            .map(|s| (s.contraction.as_str(), s.dims, s.flops, s.bytes))
            .collect();
        assert_eq!(
            shown,
            [
                ("ij,jk->ik", [1, 2, 3, 4], 48.0, 32),
                ("ik,kl->il", [1, 2, 4, 5], 80.0, 40),
            ]
        );
    }

    #[test]
    fn attention_scores_batch_over_shared_kept_labels() {
        let shapes = [vec![2, 8, 16, 64], vec![2, 8, 16, 64]];
        let steps = explain("bhqd,bhkd->bhqk", &shapes, 4).unwrap_or_default();
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].contraction, "bhqd,bhkd->bhqk");
        assert_eq!(steps[0].dims, [16, 16, 64, 16]);
        assert_eq!(steps[0].flops, 2.0 * 16.0 * 16.0 * 64.0 * 16.0);
        assert_eq!(steps[0].bytes, 2 * 8 * 16 * 16 * 4);
    }

    #[test]
    fn a_single_operand_has_no_product() {
        assert_eq!(explain("ii->i", &[vec![3, 3]], 8), Some(Vec::new()));
        assert_eq!(explain("ij->i", &[vec![3]], 8), None);
    }
}
