//! The opaque terms `floor(p / q)` and `min(p, q)`: simplified where that
//! is provably right, otherwise kept as atoms with normalised contents.

use std::sync::Arc;

use super::poly::{self, Atom, Factor, Floor, Min, Monomial, Term};
use super::ratio::Ratio;
use super::{Size, SizeError};

/// A `min` with more arguments than this is refused: pruning compares every
/// pair.
const MAX_MIN_ARGS: usize = 64;

pub(super) fn floor_div(dividend: &Size, divisor: &Size) -> Result<Size, SizeError> {
    if let (Some(a), Some(b)) = (dividend.as_const(), divisor.as_const()) {
        return python_floor_div(a, b).map(Size::constant);
    }
    if divisor.as_const() == Some(0) {
        return Err(SizeError::DivisionByZero);
    }
    let (coef, mono) = divisor.as_monomial().ok_or(SizeError::NonMonomialDivisor)?;
    floor_of_quotient(&dividend.terms(), true, coef, &mono)
}

/// `floor(dividend / (coef * mono))`, `coef` non-zero. The dividend is a
/// size, hence an integer, when `dividend_is_integer`; the contents of a
/// stored `floor` are not (`floor(D / H)` holds `D / H`).
pub(super) fn floor_of_quotient(
    dividend: &[Term],
    dividend_is_integer: bool,
    coef: Ratio,
    mono: &Monomial,
) -> Result<Size, SizeError> {
    let unit = coef == Ratio::ONE || coef == Ratio::int(-1);
    if dividend_is_integer && unit && mono.is_one() {
        return Size::from_terms(poly::scale_terms(dividend, coef)?);
    }
    let quotient = poly::mul_monomial(dividend, coef.recip()?, &mono.inverse()?)?;
    match quotient.as_slice() {
        [] => return Ok(Size::zero()),
        [only] if only.mono.is_one() => {
            let floor = i64::try_from(only.coef.floor()).map_err(|_| SizeError::Overflow)?;
            return Ok(Size::constant(floor));
        }
        _ => {}
    }
    if poly::is_provably_integer(&quotient) {
        return Size::from_terms(quotient);
    }
    let den = quotient
        .iter()
        .try_fold(1, |den, term| Ratio::lcm(den, term.coef.denom()))?;
    let num = Size::from_terms(poly::scale_terms(&quotient, Ratio::int(den))?)?;
    // Merging works on the normalised pair, so that substituting nothing
    // into the result gives the result back.
    let num_is_dividend = mono.is_one() && coef == Ratio::int(den);
    if let Some(merged) = merge_nested_floor(&num, dividend_is_integer && num_is_dividend, den)? {
        return Ok(merged);
    }
    Size::from_atom(Atom::Floor(Arc::new(Floor { num, den })))
}

/// `floor((floor(x / a) + y) / b) == floor((x + a * y) / (a * b))` for
/// integers `y` and `a, b > 0`: what two stride-2 convolutions in a row
/// produce, folded into one term so it compares equal to one stride-4 step.
fn merge_nested_floor(
    num: &Size,
    num_is_integer: bool,
    outer_den: i128,
) -> Result<Option<Size>, SizeError> {
    let terms = num.terms();
    for (index, term) in terms.iter().enumerate() {
        let Some(inner) = lone_floor(term) else {
            continue;
        };
        let rest: Vec<Term> = terms
            .iter()
            .enumerate()
            .filter(|&(other, _)| other != index)
            .map(|(_, term)| term.clone())
            .collect();
        // When the whole is an integer, so is the rest, whatever its terms.
        if !num_is_integer && !poly::is_provably_integer(&rest) {
            continue;
        }
        let den = inner
            .den
            .checked_mul(outer_den)
            .ok_or(SizeError::Overflow)?;
        let scaled_rest = poly::scale_terms(&rest, Ratio::int(inner.den))?;
        let num = poly::add_terms(&inner.num.terms(), &scaled_rest)?;
        return floor_of_quotient(&num, false, Ratio::int(den), &Monomial::default()).map(Some);
    }
    Ok(None)
}

fn lone_floor(term: &Term) -> Option<&Floor> {
    if term.coef != Ratio::ONE {
        return None;
    }
    match term.mono.0.as_slice() {
        [Factor {
            atom: Atom::Floor(floor),
            exp: 1,
        }] => Some(floor),
        _ => None,
    }
}

/// Python's `a // b`: the quotient rounded towards negative infinity.
fn python_floor_div(a: i64, b: i64) -> Result<i64, SizeError> {
    if b == 0 {
        return Err(SizeError::DivisionByZero);
    }
    let quotient = a.checked_div(b).ok_or(SizeError::Overflow)?;
    let inexact = a % b != 0;
    if inexact && ((a < 0) != (b < 0)) {
        Ok(quotient - 1)
    } else {
        Ok(quotient)
    }
}

/// `min(a, b)`, flattening nested `min`s and dropping an argument that
/// another undercuts by a constant: `min(N, N + 1) == N`.
pub(super) fn min(a: &Size, b: &Size) -> Result<Size, SizeError> {
    if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
        return Ok(Size::constant(x.min(y)));
    }
    if a == b {
        return Ok(a.clone());
    }
    let mut candidates = Vec::new();
    push_min_args(a, &mut candidates);
    push_min_args(b, &mut candidates);
    if candidates.len() > MAX_MIN_ARGS {
        return Err(SizeError::TooComplex);
    }
    let mut kept: Vec<Size> = Vec::with_capacity(candidates.len());
    'candidates: for candidate in candidates {
        for existing in kept.iter_mut() {
            // A difference that cannot be formed (a fractional constant, an
            // overflow) only means the pair is not comparable.
            if let Some(difference) = candidate.sub(existing).ok().and_then(|d| d.as_const()) {
                if difference < 0 {
                    *existing = candidate;
                }
                continue 'candidates;
            }
        }
        kept.push(candidate);
    }
    if let [only] = kept.as_slice() {
        return Ok(only.clone());
    }
    kept.sort_by(|x, y| x.canonical_cmp(y));
    Size::from_atom(Atom::Min(Arc::new(Min { args: kept })))
}

fn push_min_args(size: &Size, args: &mut Vec<Size>) {
    match size.as_opaque() {
        Some(Atom::Min(min)) => args.extend(min.args.iter().cloned()),
        _ => args.push(size.clone()),
    }
}
