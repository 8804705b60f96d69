//! Giving atoms meaning: by other sizes (binding a fn's generics at a call)
//! or by values (at run time).

use super::opaque;
use super::poly::{self, Atom, Monomial, Term};
use super::ratio::Ratio;
use super::{AtomId, Repr, Size, SizeError};

impl Size {
    /// Replaces each atom `f` maps, inside `floor` and `min` terms too, and
    /// normalises the result. Atoms `f` leaves alone stay as they are.
    pub fn substitute(&self, f: &mut dyn FnMut(AtomId) -> Option<Size>) -> Result<Size, SizeError> {
        match &self.0 {
            Repr::Const(_) => Ok(self.clone()),
            Repr::Atom(atom) => Ok(f(*atom).unwrap_or_else(|| self.clone())),
            Repr::Poly(poly) => Size::from_terms(substitute_terms(&poly.terms, f)?),
        }
    }

    /// The value when `f` gives every atom one; `Ok(None)` when some atom
    /// has none. A value that is not a whole number (`D / H` at D = 10,
    /// H = 4) or does not fit an i64 is an error.
    pub fn eval(&self, f: &mut dyn FnMut(AtomId) -> Option<i64>) -> Result<Option<i64>, SizeError> {
        match value(self, f)? {
            Some(value) => value.to_i64().map(Some),
            None => Ok(None),
        }
    }
}

/// The substituted terms, summed before normalising: `N / 2 + 1 / 2` is
/// whole at N = 3 although neither term is, and the contents of a `floor`
/// need not be whole at all.
fn substitute_terms(
    terms: &[Term],
    f: &mut dyn FnMut(AtomId) -> Option<Size>,
) -> Result<Vec<Term>, SizeError> {
    let mut sum: Vec<Term> = Vec::new();
    for term in terms {
        let mut numerator = Size::one();
        let mut denominator = Size::one();
        for factor in &term.mono.0 {
            let base = substitute_atom(&factor.atom, f)?;
            let power = pow(&base, factor.exp.unsigned_abs())?;
            if factor.exp > 0 {
                numerator = numerator.mul(&power)?;
            } else {
                denominator = denominator.mul(&power)?;
            }
        }
        let (den_coef, den_mono) = denominator
            .as_monomial()
            .ok_or(SizeError::NonMonomialDivisor)?;
        let coef = term.coef.div(den_coef)?;
        let value = poly::mul_monomial(&numerator.terms(), coef, &den_mono.inverse()?)?;
        sum = poly::add_terms(&sum, &value)?;
    }
    Ok(sum)
}

fn substitute_atom(
    atom: &Atom,
    f: &mut dyn FnMut(AtomId) -> Option<Size>,
) -> Result<Size, SizeError> {
    match atom {
        Atom::Id(id) => Ok(f(*id).unwrap_or_else(|| Size::atom(*id))),
        Atom::Floor(floor) => {
            let num = substitute_terms(&floor.num.terms(), f)?;
            opaque::floor_of_quotient(&num, false, Ratio::int(floor.den), &Monomial::default())
        }
        Atom::Min(min) => {
            let mut least: Option<Size> = None;
            for arg in &min.args {
                let arg = arg.substitute(f)?;
                least = Some(match least {
                    Some(least) => least.min(&arg)?,
                    None => arg,
                });
            }
            // A `min` always has arguments; without any it would be itself.
            least.map_or_else(|| Size::from_atom(atom.clone()), Ok)
        }
    }
}

/// `base ** exp` by repeated squaring, so that an exponent costs its bit
/// length.
fn pow(base: &Size, exp: u32) -> Result<Size, SizeError> {
    let mut result = Size::one();
    let mut square = base.clone();
    let mut remaining = exp;
    while remaining > 0 {
        if remaining & 1 == 1 {
            result = result.mul(&square)?;
        }
        remaining >>= 1;
        if remaining > 0 {
            square = square.mul(&square)?;
        }
    }
    Ok(result)
}

/// The exact value as a rational: intermediate terms may be fractions or
/// exceed i64 as long as the whole does not.
fn value(
    size: &Size,
    f: &mut dyn FnMut(AtomId) -> Option<i64>,
) -> Result<Option<Ratio>, SizeError> {
    match &size.0 {
        Repr::Const(value) => Ok(Some(Ratio::int(i128::from(*value)))),
        Repr::Atom(atom) => Ok(f(*atom).map(|value| Ratio::int(i128::from(value)))),
        Repr::Poly(poly) => {
            let mut sum = Ratio::ZERO;
            for term in &poly.terms {
                let mut product = term.coef;
                for factor in &term.mono.0 {
                    let Some(base) = atom_value(&factor.atom, f)? else {
                        return Ok(None);
                    };
                    product = product.mul(base.pow(factor.exp)?)?;
                }
                sum = sum.add(product)?;
            }
            Ok(Some(sum))
        }
    }
}

fn atom_value(
    atom: &Atom,
    f: &mut dyn FnMut(AtomId) -> Option<i64>,
) -> Result<Option<Ratio>, SizeError> {
    match atom {
        Atom::Id(id) => Ok(f(*id).map(|value| Ratio::int(i128::from(value)))),
        Atom::Floor(floor) => {
            let Some(num) = value(&floor.num, f)? else {
                return Ok(None);
            };
            Ok(Some(Ratio::int(num.div(Ratio::int(floor.den))?.floor())))
        }
        Atom::Min(min) => {
            let mut least: Option<Ratio> = None;
            for arg in &min.args {
                let Some(arg) = value(arg, f)? else {
                    return Ok(None);
                };
                least = match least {
                    Some(current) if !arg.sub(current)?.is_negative() => Some(current),
                    _ => Some(arg),
                };
            }
            Ok(least)
        }
    }
}
