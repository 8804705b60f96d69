//! Symbolic sizes in normal form (LANGUAGE.md sections 2, 5 and 10.5).
//!
//! A size is a Laurent polynomial with rational coefficients over atoms:
//! dims, generics, the products of runs, fresh sizes, and opaque
//! `floor(p / q)` and `min(p, q)` terms compared by their normalised
//! contents. The representation is canonical, so the derived `Eq` and `Hash`
//! are "provably equal": `D / H * H == D`, `M + N == N + M`, and `N != M`.
//!
//! The algebra assumes what the program asserts: every atom is an integer,
//! and every exact division it writes divides. A result that is provably
//! not a whole number (`10 / 4`, `(N + 1) / 2 - N / 2`) is refused. Nothing
//! here proves an inequality; whether a size is negative or a division
//! really divides is known only once the atoms have values ([`Size::eval`]).
//!
//! Constants, and a lone atom, are stored inline without allocation: they
//! are nearly every size a checker sees.

mod display;
mod eval;
mod opaque;
mod poly;
#[cfg(test)]
mod proptests;
mod ratio;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use poly::{Atom, Factor, Monomial, Poly, Term};
use ratio::Ratio;

/// An atomic size. The derived order is the canonical order in which sums
/// are printed, so `Dim` ids must follow declaration order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum AtomId {
    Dim(u32),
    Generic(u32),
    /// The product `|b|` of the axes of a run `*b`.
    RunProduct(u32),
    /// A size nothing else determines, such as a slice with a run-time bound.
    Fresh(u32),
}

/// A size in normal form. Equal values mean provably equal sizes.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Size(Repr);

/// A constant is always `Const` and a lone atom with coefficient 1 always
/// `Atom`, never a `Poly`, so that derived equality is equality of normal
/// forms. Constants are integers: a fractional constant is refused.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Repr {
    Atom(AtomId),
    Poly(Arc<Poly>),
    Const(i64),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SizeError {
    /// A coefficient or constant does not fit (i128 coefficients, i64
    /// constants), or an exponent grew past i32.
    Overflow,
    DivisionByZero,
    /// A size that must be a whole number is not, such as `10 / 4`.
    NotExact,
    /// Division by a sum of several terms, such as `X / (N + 1)`.
    NonMonomialDivisor,
    /// The expression exceeds the complexity limits of the normal form.
    TooComplex,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SizeError::Overflow => "size arithmetic overflows",
            SizeError::DivisionByZero => "size divided by zero",
            SizeError::NotExact => "size does not divide exactly",
            SizeError::NonMonomialDivisor => {
                "a size can only be divided by a product of dims, not by a sum"
            }
            SizeError::TooComplex => "size expression is too complex to check",
        })
    }
}

impl std::error::Error for SizeError {}

impl Size {
    pub const fn constant(value: i64) -> Size {
        Size(Repr::Const(value))
    }

    pub const fn zero() -> Size {
        Size::constant(0)
    }

    pub const fn one() -> Size {
        Size::constant(1)
    }

    pub const fn atom(atom: AtomId) -> Size {
        Size(Repr::Atom(atom))
    }

    // Each operation is split into an inlined constant case and the rest:
    // constant arithmetic is most of what a checker does.

    #[inline]
    pub fn add(&self, other: &Size) -> Result<Size, SizeError> {
        match (&self.0, &other.0) {
            (Repr::Const(a), Repr::Const(b)) => constant_result(a.checked_add(*b)),
            _ => self.add_symbolic(other),
        }
    }

    fn add_symbolic(&self, other: &Size) -> Result<Size, SizeError> {
        match (&self.0, &other.0) {
            (_, Repr::Const(0)) => Ok(self.clone()),
            (Repr::Const(0), _) => Ok(other.clone()),
            _ => Size::from_terms(poly::add_terms(&self.terms(), &other.terms())?),
        }
    }

    #[inline]
    pub fn sub(&self, other: &Size) -> Result<Size, SizeError> {
        match (&self.0, &other.0) {
            (Repr::Const(a), Repr::Const(b)) => constant_result(a.checked_sub(*b)),
            _ => self.sub_symbolic(other),
        }
    }

    fn sub_symbolic(&self, other: &Size) -> Result<Size, SizeError> {
        if other.as_const() == Some(0) {
            return Ok(self.clone());
        }
        if self == other {
            return Ok(Size::zero());
        }
        let negated = poly::scale_terms(&other.terms(), Ratio::int(-1))?;
        Size::from_terms(poly::add_terms(&self.terms(), &negated)?)
    }

    #[inline]
    pub fn mul(&self, other: &Size) -> Result<Size, SizeError> {
        match (&self.0, &other.0) {
            (Repr::Const(a), Repr::Const(b)) => constant_result(a.checked_mul(*b)),
            _ => self.mul_symbolic(other),
        }
    }

    fn mul_symbolic(&self, other: &Size) -> Result<Size, SizeError> {
        match (&self.0, &other.0) {
            (Repr::Const(0), _) | (_, Repr::Const(0)) => Ok(Size::zero()),
            (Repr::Const(1), _) => Ok(other.clone()),
            (_, Repr::Const(1)) => Ok(self.clone()),
            (Repr::Const(c), _) => Size::from_terms(poly::scale_terms(
                &other.terms(),
                Ratio::int(i128::from(*c)),
            )?),
            (_, Repr::Const(c)) => Size::from_terms(poly::scale_terms(
                &self.terms(),
                Ratio::int(i128::from(*c)),
            )?),
            _ => Size::from_terms(poly::mul_terms(&self.terms(), &other.terms())?),
        }
    }

    /// Exact division: by a constant that divides a constant exactly, or by
    /// any monomial (`D / H`, `N / 2`), which the program asserts divides.
    #[inline]
    pub fn div_exact(&self, divisor: &Size) -> Result<Size, SizeError> {
        match (&self.0, &divisor.0) {
            (Repr::Const(a), Repr::Const(b)) => match a.checked_rem(*b) {
                Some(0) => constant_result(a.checked_div(*b)),
                Some(_) => Err(SizeError::NotExact),
                None if *b == 0 => Err(SizeError::DivisionByZero),
                None => Err(SizeError::Overflow),
            },
            _ => self.div_symbolic(divisor),
        }
    }

    fn div_symbolic(&self, divisor: &Size) -> Result<Size, SizeError> {
        match (&self.0, &divisor.0) {
            (_, Repr::Const(0)) => Err(SizeError::DivisionByZero),
            (_, Repr::Const(1)) => Ok(self.clone()),
            (Repr::Const(0), _) => Ok(Size::zero()),
            _ => {
                let (coef, mono) = divisor.as_monomial().ok_or(SizeError::NonMonomialDivisor)?;
                Size::from_terms(poly::mul_monomial(
                    &self.terms(),
                    coef.recip()?,
                    &mono.inverse()?,
                )?)
            }
        }
    }

    /// Floor division, as Python's `//`: evaluated for constants, exact
    /// when the divisor provably divides, else an opaque `floor` term.
    pub fn floor_div(&self, divisor: &Size) -> Result<Size, SizeError> {
        opaque::floor_div(self, divisor)
    }

    pub fn min(&self, other: &Size) -> Result<Size, SizeError> {
        opaque::min(self, other)
    }

    /// The value, if the size is a constant.
    #[inline]
    pub fn as_const(&self) -> Option<i64> {
        match self.0 {
            Repr::Const(value) => Some(value),
            _ => None,
        }
    }

    #[inline]
    pub fn is_const(&self) -> bool {
        matches!(self.0, Repr::Const(_))
    }

    /// The atom, if the size is exactly one atom.
    #[inline]
    pub fn as_atom(&self) -> Option<AtomId> {
        match self.0 {
            Repr::Atom(atom) => Some(atom),
            _ => None,
        }
    }

    /// Every atom the size depends on, inside `floor` and `min` terms too,
    /// in canonical order and each once.
    pub fn atoms(&self) -> Vec<AtomId> {
        let mut atoms = Vec::new();
        self.collect_atoms(&mut atoms);
        atoms.sort_unstable();
        atoms.dedup();
        atoms
    }

    fn collect_atoms(&self, atoms: &mut Vec<AtomId>) {
        match &self.0 {
            Repr::Const(_) => {}
            Repr::Atom(atom) => atoms.push(*atom),
            Repr::Poly(poly) => {
                let factors = poly.terms.iter().flat_map(|term| &term.mono.0);
                for factor in factors {
                    match &factor.atom {
                        Atom::Id(atom) => atoms.push(*atom),
                        Atom::Floor(floor) => floor.num.collect_atoms(atoms),
                        Atom::Min(min) => min.args.iter().for_each(|arg| arg.collect_atoms(atoms)),
                    }
                }
            }
        }
    }

    fn poly(&self) -> Option<&Poly> {
        match &self.0 {
            Repr::Poly(poly) => Some(poly),
            _ => None,
        }
    }

    fn terms(&self) -> Cow<'_, [Term]> {
        match &self.0 {
            Repr::Const(0) => Cow::Borrowed(&[]),
            Repr::Const(value) => Cow::Owned(vec![Term {
                mono: Monomial::default(),
                coef: Ratio::int(i128::from(*value)),
            }]),
            Repr::Atom(atom) => Cow::Owned(vec![Term {
                mono: Monomial::of(Atom::Id(*atom)),
                coef: Ratio::ONE,
            }]),
            Repr::Poly(poly) => Cow::Borrowed(&poly.terms),
        }
    }

    /// The canonical size of canonical terms (sorted, combined, no zero).
    fn from_terms(terms: Vec<Term>) -> Result<Size, SizeError> {
        match terms.as_slice() {
            [] => return Ok(Size::zero()),
            [only] if only.mono.is_one() => return Ok(Size::constant(only.coef.to_i64()?)),
            [only] if only.coef == Ratio::ONE => {
                if let [Factor {
                    atom: Atom::Id(atom),
                    exp: 1,
                }] = only.mono.0.as_slice()
                {
                    return Ok(Size::atom(*atom));
                }
            }
            _ => {}
        }
        Ok(Size(Repr::Poly(Arc::new(Poly::new(terms)?))))
    }

    fn from_atom(atom: Atom) -> Result<Size, SizeError> {
        Size::from_terms(vec![Term {
            mono: Monomial::of(atom),
            coef: Ratio::ONE,
        }])
    }

    /// `coef * mono`, if the size is a single term (a constant included).
    fn as_monomial(&self) -> Option<(Ratio, Monomial)> {
        match &self.0 {
            Repr::Const(value) => Some((Ratio::int(i128::from(*value)), Monomial::default())),
            Repr::Atom(atom) => Some((Ratio::ONE, Monomial::of(Atom::Id(*atom)))),
            Repr::Poly(poly) => match poly.terms.as_slice() {
                [only] => Some((only.coef, only.mono.clone())),
                _ => None,
            },
        }
    }

    /// The opaque atom, if the size is exactly one `floor` or `min` term.
    fn as_opaque(&self) -> Option<&Atom> {
        match self.poly()?.terms.as_slice() {
            [only] if only.coef == Ratio::ONE => match only.mono.0.as_slice() {
                [Factor { atom, exp: 1 }] => Some(atom),
                _ => None,
            },
            _ => None,
        }
    }

    /// A total order on normal forms, to sort the arguments of `min`. It
    /// puts atoms first and constants last: `min(N, 5)`.
    fn canonical_cmp(&self, other: &Size) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// The product of several sizes, such as a shape's element count.
pub fn product<'a>(sizes: impl IntoIterator<Item = &'a Size>) -> Result<Size, SizeError> {
    sizes
        .into_iter()
        .try_fold(Size::one(), |product, size| product.mul(size))
}

fn constant_result(value: Option<i64>) -> Result<Size, SizeError> {
    value.map(Size::constant).ok_or(SizeError::Overflow)
}
