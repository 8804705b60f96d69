//! Laurent polynomials over atoms: the general representation behind
//! [`Size`], kept canonical so that structural equality is provable
//! equality.

use std::cmp::Ordering;
use std::sync::Arc;

use super::ratio::Ratio;
use super::{AtomId, Size, SizeError};

/// A polynomial with more terms than this is refused rather than expanded:
/// real shapes have a handful, and products of long sums grow without bound.
const MAX_TERMS: usize = 256;
/// Bounds the work of a single multiplication before any term is combined.
const MAX_TERM_PAIRS: usize = 4096;
/// Bounds the unfolded size of a polynomial, opaque contents included, so
/// comparing, hashing and printing stay cheap even when terms are shared.
const MAX_WEIGHT: u32 = 4096;
/// Bounds the nesting of `floor` and `min`, which every traversal recurses
/// through.
const MAX_DEPTH: u32 = 24;

/// A variable of a polynomial: a named size, or an opaque term compared by
/// its normalised contents.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(super) enum Atom {
    Id(AtomId),
    Floor(Arc<Floor>),
    Min(Arc<Min>),
}

/// `floor(num / den)`, where `num` has integer coefficients and `den >= 1`
/// is the least common denominator of the exact quotient, so one quotient
/// has one representation. `den == 1` occurs when `num` divides by a
/// symbolic size, which need not give an integer.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) struct Floor {
    pub(super) num: Size,
    pub(super) den: i128,
}

/// `min(args...)`: at least two arguments, sorted, none a constant offset
/// of another (the smaller of such a pair is kept).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) struct Min {
    pub(super) args: Vec<Size>,
}

// `Size` has no public order (it would not be numeric), so the opaque
// terms order their contents by the canonical order of normal forms.
impl Ord for Floor {
    fn cmp(&self, other: &Self) -> Ordering {
        self.num
            .canonical_cmp(&other.num)
            .then_with(|| self.den.cmp(&other.den))
    }
}

impl PartialOrd for Floor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Min {
    fn cmp(&self, other: &Self) -> Ordering {
        let mine = self.args.iter().map(|arg| &arg.0);
        mine.cmp(other.args.iter().map(|arg| &arg.0))
    }
}

impl PartialOrd for Min {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `atom ** exp`, with `exp != 0`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) struct Factor {
    pub(super) atom: Atom,
    pub(super) exp: i32,
}

impl Ord for Factor {
    /// Atoms in canonical order, and for one atom the higher power first, so
    /// that sums print as `N**2 + N`.
    fn cmp(&self, other: &Self) -> Ordering {
        self.atom
            .cmp(&other.atom)
            .then_with(|| other.exp.cmp(&self.exp))
    }
}

impl PartialOrd for Factor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A product of factors sorted by atom, each atom at most once. The empty
/// monomial is 1, and sorts before every other.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub(super) struct Monomial(pub(super) Vec<Factor>);

impl Monomial {
    pub(super) fn of(atom: Atom) -> Monomial {
        Monomial(vec![Factor { atom, exp: 1 }])
    }

    pub(super) fn is_one(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn mul(&self, other: &Monomial) -> Result<Monomial, SizeError> {
        let mut factors = Vec::with_capacity(self.0.len() + other.0.len());
        let mut left = self.0.iter().peekable();
        let mut right = other.0.iter().peekable();
        while let (Some(&l), Some(&r)) = (left.peek(), right.peek()) {
            match l.atom.cmp(&r.atom) {
                Ordering::Less => {
                    factors.push(l.clone());
                    left.next();
                }
                Ordering::Greater => {
                    factors.push(r.clone());
                    right.next();
                }
                Ordering::Equal => {
                    let exp = l.exp.checked_add(r.exp).ok_or(SizeError::Overflow)?;
                    if exp != 0 {
                        factors.push(Factor {
                            atom: l.atom.clone(),
                            exp,
                        });
                    }
                    left.next();
                    right.next();
                }
            }
        }
        factors.extend(left.cloned());
        factors.extend(right.cloned());
        Ok(Monomial(factors))
    }

    pub(super) fn inverse(&self) -> Result<Monomial, SizeError> {
        self.0
            .iter()
            .map(|factor| {
                let exp = factor.exp.checked_neg().ok_or(SizeError::Overflow)?;
                Ok(Factor {
                    atom: factor.atom.clone(),
                    exp,
                })
            })
            .collect::<Result<_, _>>()
            .map(Monomial)
    }

    /// Whether every exponent is positive, so the monomial is a plain
    /// product of integer atoms and therefore an integer.
    pub(super) fn is_integral(&self) -> bool {
        self.0.iter().all(|factor| factor.exp > 0)
    }
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(super) struct Term {
    pub(super) mono: Monomial,
    pub(super) coef: Ratio,
}

/// A canonical polynomial: terms sorted by monomial, no zero coefficient,
/// at least one non-constant term (constants are stored as integers in
/// [`Size`]). The constant term, if any, is first. `weight` and `depth` are
/// functions of `terms`, cached for the complexity limits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(super) struct Poly {
    pub(super) terms: Vec<Term>,
    weight: u32,
    depth: u32,
}

impl Poly {
    pub(super) fn new(terms: Vec<Term>) -> Result<Poly, SizeError> {
        if terms.len() > MAX_TERMS {
            return Err(SizeError::TooComplex);
        }
        let mut weight: u32 = 0;
        let mut depth: u32 = 0;
        for term in &terms {
            weight = weight.saturating_add(1);
            for factor in &term.mono.0 {
                let (atom_weight, atom_depth) = atom_cost(&factor.atom);
                weight = weight.saturating_add(atom_weight);
                depth = depth.max(atom_depth);
            }
        }
        if weight > MAX_WEIGHT || depth > MAX_DEPTH {
            return Err(SizeError::TooComplex);
        }
        Ok(Poly {
            terms,
            weight,
            depth,
        })
    }
}

fn atom_cost(atom: &Atom) -> (u32, u32) {
    match atom {
        Atom::Id(_) => (1, 0),
        Atom::Floor(floor) => {
            let (weight, depth) = size_cost(&floor.num);
            (weight.saturating_add(1), depth.saturating_add(1))
        }
        Atom::Min(min) => min.args.iter().fold((1, 1), |(weight, depth), arg| {
            let (arg_weight, arg_depth) = size_cost(arg);
            (
                weight.saturating_add(arg_weight),
                depth.max(arg_depth.saturating_add(1)),
            )
        }),
    }
}

fn size_cost(size: &Size) -> (u32, u32) {
    match size.poly() {
        Some(poly) => (poly.weight, poly.depth),
        None => (1, 0),
    }
}

/// Sorts terms by monomial, adds the coefficients of equal monomials and
/// drops the zeros.
pub(super) fn combine(mut terms: Vec<Term>) -> Result<Vec<Term>, SizeError> {
    terms.sort_by(|a, b| a.mono.cmp(&b.mono));
    let mut combined: Vec<Term> = Vec::with_capacity(terms.len());
    for term in terms {
        match combined.last_mut() {
            Some(last) if last.mono == term.mono => last.coef = last.coef.add(term.coef)?,
            _ => combined.push(term),
        }
    }
    combined.retain(|term| !term.coef.is_zero());
    Ok(combined)
}

/// The sum of two canonical term lists, by merging.
pub(super) fn add_terms(left: &[Term], right: &[Term]) -> Result<Vec<Term>, SizeError> {
    let mut sum = Vec::with_capacity(left.len() + right.len());
    let mut left = left.iter().peekable();
    let mut right = right.iter().peekable();
    while let (Some(&l), Some(&r)) = (left.peek(), right.peek()) {
        match l.mono.cmp(&r.mono) {
            Ordering::Less => {
                sum.push(l.clone());
                left.next();
            }
            Ordering::Greater => {
                sum.push(r.clone());
                right.next();
            }
            Ordering::Equal => {
                let coef = l.coef.add(r.coef)?;
                if !coef.is_zero() {
                    sum.push(Term {
                        mono: l.mono.clone(),
                        coef,
                    });
                }
                left.next();
                right.next();
            }
        }
    }
    sum.extend(left.cloned());
    sum.extend(right.cloned());
    Ok(sum)
}

/// Whether the terms are an integer whatever integers the atoms stand for.
pub(super) fn is_provably_integer(terms: &[Term]) -> bool {
    terms
        .iter()
        .all(|term| term.coef.is_integer() && term.mono.is_integral())
}

/// Every coefficient times `factor` (non-zero), which keeps the order.
pub(super) fn scale_terms(terms: &[Term], factor: Ratio) -> Result<Vec<Term>, SizeError> {
    terms
        .iter()
        .map(|term| {
            Ok(Term {
                mono: term.mono.clone(),
                coef: term.coef.mul(factor)?,
            })
        })
        .collect()
}

pub(super) fn mul_terms(left: &[Term], right: &[Term]) -> Result<Vec<Term>, SizeError> {
    if left.len().saturating_mul(right.len()) > MAX_TERM_PAIRS {
        return Err(SizeError::TooComplex);
    }
    let mut products = Vec::with_capacity(left.len() * right.len());
    for l in left {
        for r in right {
            products.push(Term {
                mono: l.mono.mul(&r.mono)?,
                coef: l.coef.mul(r.coef)?,
            });
        }
    }
    combine(products)
}

/// Every term times `coef * mono` (`coef` non-zero).
pub(super) fn mul_monomial(
    terms: &[Term],
    coef: Ratio,
    mono: &Monomial,
) -> Result<Vec<Term>, SizeError> {
    let products = terms
        .iter()
        .map(|term| {
            Ok(Term {
                mono: term.mono.mul(mono)?,
                coef: term.coef.mul(coef)?,
            })
        })
        .collect::<Result<Vec<_>, SizeError>>()?;
    // Multiplying by the same monomial can reorder terms, never merge them.
    combine(products)
}
