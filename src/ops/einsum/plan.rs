//! The order in which einsum contracts its operands, chosen as opt_einsum
//! does: every order is tried for up to `OPTIMAL_MAX` operands (the
//! cheapest in FLOPs wins, ties to the smaller largest intermediate), and
//! beyond that the greedy choice is made at each step (the pair whose
//! product is smallest relative to its operands). Each step is then one
//! batched matrix product in `kernels::contract`.
//!
//! [`explain`] describes the chosen plan for the REPL's `:explain`.

use crate::check::rules::einsum_spec::parse_einsum;

/// Exhaustive search up to this many operands: 5 have 180 orders.
const OPTIMAL_MAX: usize = 5;

/// One pairwise contraction, as opt_einsum lists it: the positions of its
/// two operands in the list of terms at that point (the result is
/// appended to the list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair(pub usize, pub usize);

/// A chosen order, and what it costs.
#[derive(Clone, Debug)]
pub struct Order {
    pub pairs: Vec<Pair>,
    /// A multiply and an add per term of each pairwise product.
    pub flops: f64,
    /// Elements of the largest intermediate.
    pub largest: f64,
}

/// The labels of one term, by index; `sizes[label]` is its size.
pub(super) type Labels = Vec<usize>;

/// The cheapest order (see the module comment) of contracting `inputs`
/// into `output`.
pub(super) fn order(inputs: &[Labels], output: &[usize], sizes: &[usize]) -> Order {
    let problem = Problem { output, sizes };
    if inputs.len() <= OPTIMAL_MAX {
        problem.optimal(inputs.to_vec())
    } else {
        problem.greedy(inputs.to_vec())
    }
}

struct Problem<'p> {
    output: &'p [usize],
    sizes: &'p [usize],
}

impl Problem<'_> {
    fn elements(&self, labels: &[usize]) -> f64 {
        labels
            .iter()
            .map(|&l| self.sizes.get(l).copied().unwrap_or(1) as f64)
            .product()
    }

    /// The labels of a product of terms `i` and `j`: those that the output
    /// or another term still needs. Also its FLOPs.
    fn contract(&self, terms: &[Labels], i: usize, j: usize) -> (Labels, f64) {
        let (a, b) = (&terms[i], &terms[j]);
        let mut all: Labels = a.clone();
        all.extend(b.iter().filter(|l| !a.contains(l)));
        let needed = |l: &usize| {
            self.output.contains(l)
                || terms
                    .iter()
                    .enumerate()
                    .any(|(k, t)| k != i && k != j && t.contains(l))
        };
        let kept: Labels = all.iter().copied().filter(needed).collect();
        let summed = kept.len() < all.len();
        let flops = self.elements(&all) * if summed { 2.0 } else { 1.0 };
        (kept, flops)
    }

    fn step(&self, terms: &[Labels], pair: Pair) -> (Vec<Labels>, f64, f64) {
        let (product, flops) = self.contract(terms, pair.0, pair.1);
        let size = self.elements(&product);
        let mut next: Vec<Labels> = terms
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != pair.0 && *k != pair.1)
            .map(|(_, t)| t.clone())
            .collect();
        next.push(product);
        (next, flops, size)
    }

    fn optimal(&self, terms: Vec<Labels>) -> Order {
        let mut best = Order {
            pairs: Vec::new(),
            flops: f64::INFINITY,
            largest: f64::INFINITY,
        };
        if terms.len() < 2 {
            best.flops = 0.0;
            best.largest = 0.0;
            return best;
        }
        let mut path = Vec::new();
        self.search(&terms, &mut path, 0.0, 0.0, &mut best);
        best
    }

    fn search(
        &self,
        terms: &[Labels],
        path: &mut Vec<Pair>,
        flops: f64,
        largest: f64,
        best: &mut Order,
    ) {
        if flops > best.flops {
            return;
        }
        if terms.len() == 1 {
            if flops < best.flops || (flops == best.flops && largest < best.largest) {
                *best = Order {
                    pairs: path.clone(),
                    flops,
                    largest,
                };
            }
            return;
        }
        for j in 1..terms.len() {
            for i in 0..j {
                let (next, cost, size) = self.step(terms, Pair(i, j));
                path.push(Pair(i, j));
                self.search(&next, path, flops + cost, largest.max(size), best);
                path.pop();
            }
        }
    }

    fn greedy(&self, mut terms: Vec<Labels>) -> Order {
        let mut order = Order {
            pairs: Vec::new(),
            flops: 0.0,
            largest: 0.0,
        };
        while terms.len() > 1 {
            let mut choice: Option<(f64, f64, Pair)> = None;
            for j in 1..terms.len() {
                for i in 0..j {
                    let (product, flops) = self.contract(&terms, i, j);
                    let growth = self.elements(&product)
                        - self.elements(&terms[i])
                        - self.elements(&terms[j]);
                    if choice.is_none_or(|(g, f, _)| (growth, flops) < (g, f)) {
                        choice = Some((growth, flops, Pair(i, j)));
                    }
                }
            }
            let Some((_, _, pair)) = choice else {
                break;
            };
            let (next, flops, size) = self.step(&terms, pair);
            order.pairs.push(pair);
            order.flops += flops;
            order.largest = order.largest.max(size);
            terms = next;
        }
        order
    }
}

/// One step of an explained plan.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainedStep {
    /// The two operands, as einsum subscripts (`"bhid"`); `...` axes are
    /// written `…` followed by their position from the right.
    pub operands: (String, String),
    pub result: String,
    pub flops: f64,
    /// Bytes of the result at `element_bytes` each.
    pub bytes: f64,
}

/// How einsum will contract operands of these shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub steps: Vec<ExplainedStep>,
    pub flops: f64,
    /// Elements of the largest intermediate (0 with one operand).
    pub largest_intermediate: f64,
}

/// The plan einsum follows for `spec` on operands of `shapes` (for the
/// REPL's `:explain`); an error message when the spec does not parse or
/// does not fit the shapes.
pub fn explain(spec: &str, shapes: &[&[usize]], element_bytes: usize) -> Result<Explained, String> {
    let parsed = parse_einsum(spec).map_err(|e| e.message)?;
    let labelled = super::kernels::Plan::new(&parsed, shapes)
        .ok_or_else(|| format!("`{spec}` does not fit operands of shapes {shapes:?}"))?;
    let (inputs, output, sizes) = labelled.indexed(shapes);
    let chosen = order(&inputs, &output, &sizes);
    let problem = Problem {
        output: &output,
        sizes: &sizes,
    };
    let mut terms = inputs;
    let mut steps = Vec::with_capacity(chosen.pairs.len());
    for &pair in &chosen.pairs {
        let (product, flops) = problem.contract(&terms, pair.0, pair.1);
        steps.push(ExplainedStep {
            operands: (labelled.name(&terms[pair.0]), labelled.name(&terms[pair.1])),
            result: labelled.name(&product),
            flops,
            bytes: problem.elements(&product) * element_bytes as f64,
        });
        terms = problem.step(&terms, pair).0;
    }
    Ok(Explained {
        steps,
        flops: chosen.flops,
        largest_intermediate: chosen.largest,
    })
}

#[cfg(test)]
mod tests {
    use super::{explain, order, Pair, Problem};

    #[test]
    fn a_matrix_chain_ending_in_a_vector_starts_from_the_vector() {
        // ab,bc,cd,d->a: labels a=0 b=1 c=2 d=3, all 100.
        let inputs = vec![vec![0, 1], vec![1, 2], vec![2, 3], vec![3]];
        let chosen = order(&inputs, &[0], &[100; 4]);
        assert_eq!(chosen.pairs, vec![Pair(2, 3), Pair(1, 2), Pair(0, 1)]);
        assert_eq!(chosen.flops, 3.0 * 2.0 * 100.0 * 100.0);
        assert_eq!(chosen.largest, 100.0);
    }

    #[test]
    fn greedy_beyond_five_operands_still_avoids_the_big_products() {
        // Six matrices in a chain closed by a vector at each end.
        let inputs = vec![
            vec![0],
            vec![0, 1],
            vec![1, 2],
            vec![2, 3],
            vec![3, 4],
            vec![4],
        ];
        let sizes = [50; 5];
        let chosen = order(&inputs, &[], &sizes);
        assert_eq!(chosen.pairs.len(), 5);
        assert!(chosen.largest <= 50.0, "{chosen:?}");
        let problem = Problem {
            output: &[],
            sizes: &sizes,
        };
        assert_eq!(chosen.flops, problem.optimal(inputs).flops);
    }

    #[test]
    fn explain_names_each_step() {
        let plan = explain("ij,jk,k->i", &[&[4, 8], &[8, 16], &[16]], 4).unwrap();
        assert_eq!(plan.steps.len(), 2);
        assert_eq!(plan.steps[0].operands, ("jk".to_string(), "k".to_string()));
        assert_eq!(plan.steps[0].result, "j");
        assert_eq!(plan.steps[0].flops, 2.0 * 8.0 * 16.0);
        assert_eq!(plan.steps[0].bytes, 32.0);
        assert_eq!(plan.steps[1].result, "i");
        assert_eq!(plan.flops, 2.0 * 8.0 * 16.0 + 2.0 * 4.0 * 8.0);
        assert_eq!(plan.largest_intermediate, 8.0);
        let single = explain("ii->i", &[&[3, 3]], 8).unwrap();
        assert!(single.steps.is_empty() && single.flops == 0.0);
        assert!(explain("ij->", &[&[2]], 4).is_err());
        assert!(explain("ij,", &[&[2, 2]], 4).is_err());
    }
}
