//! Sizes as an engineer writes them: `2 * N`, `D / H`, `(N + 1) / 2`,
//! `floor((H - 3) / 2) + 1`, `min(N, 5)`. Terms follow the canonical atom
//! order (dims in declaration order) and the constant comes last.

use std::fmt::{self, Write};

use super::poly::{Atom, Factor, Term};
use super::ratio::Ratio;
use super::{AtomId, Repr, Size};

/// A size ready to print, with the names of its atoms.
pub struct SizeDisplay<'a> {
    size: &'a Size,
    names: &'a dyn Fn(AtomId) -> String,
}

impl Size {
    pub fn display<'a>(&'a self, names: &'a dyn Fn(AtomId) -> String) -> SizeDisplay<'a> {
        SizeDisplay { size: self, names }
    }
}

impl fmt::Display for SizeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_size(f, self.size, self.names)
    }
}

type Names<'a> = &'a dyn Fn(AtomId) -> String;

fn write_size(f: &mut dyn Write, size: &Size, names: Names) -> fmt::Result {
    match &size.0 {
        Repr::Const(value) => write!(f, "{value}"),
        Repr::Atom(atom) => f.write_str(&names(*atom)),
        Repr::Poly(poly) => write_sum(f, &poly.terms, names),
    }
}

/// A sum with fractional coefficients is written over their common
/// denominator, `(N + 1) / 2` rather than `N / 2 + 1 / 2`.
fn write_sum(f: &mut dyn Write, terms: &[Term], names: Names) -> fmt::Result {
    match common_denominator(terms) {
        Some((den, scaled)) if den > 1 && terms.len() > 1 => {
            f.write_char('(')?;
            write_terms(f, &scaled, names)?;
            write!(f, ") / {den}")
        }
        _ => write_terms(f, terms, names),
    }
}

/// The least common denominator and the terms multiplied by it, unless
/// that overflows (the terms are then written with their own fractions).
fn common_denominator(terms: &[Term]) -> Option<(i128, Vec<Term>)> {
    let den = terms
        .iter()
        .try_fold(1, |den, term| Ratio::lcm(den, term.coef.denom()))
        .ok()?;
    let scaled = terms
        .iter()
        .map(|term| {
            Some(Term {
                mono: term.mono.clone(),
                coef: term.coef.mul(Ratio::int(den)).ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some((den, scaled))
}

fn write_terms(f: &mut dyn Write, terms: &[Term], names: Names) -> fmt::Result {
    // The constant sorts first but reads best last.
    let (constants, others): (Vec<&Term>, Vec<&Term>) =
        terms.iter().partition(|term| term.mono.is_one());
    for (index, term) in others.iter().chain(&constants).enumerate() {
        let negative = term.coef.is_negative();
        match (index, negative) {
            (0, true) => f.write_char('-')?,
            (0, false) => {}
            (_, true) => f.write_str(" - ")?,
            (_, false) => f.write_str(" + ")?,
        }
        write_term(f, term, names)?;
    }
    Ok(())
}

/// One term without its sign: `3 * N * M`, `D / H`, `N / (2 * H)`.
fn write_term(f: &mut dyn Write, term: &Term, names: Names) -> fmt::Result {
    let numer = term.coef.numer().unsigned_abs();
    let denom = term.coef.denom();
    let (upper, lower): (Vec<&Factor>, Vec<&Factor>) =
        term.mono.0.iter().partition(|factor| factor.exp > 0);
    let mut first = true;
    if numer != 1 || upper.is_empty() {
        write!(f, "{numer}")?;
        first = false;
    }
    for factor in &upper {
        if !first {
            f.write_str(" * ")?;
        }
        write_factor(f, factor, names)?;
        first = false;
    }
    let divisors = lower.len() + usize::from(denom != 1);
    if divisors == 0 {
        return Ok(());
    }
    f.write_str(" / ")?;
    if divisors > 1 {
        f.write_char('(')?;
    }
    let mut first = true;
    if denom != 1 {
        write!(f, "{denom}")?;
        first = false;
    }
    for factor in &lower {
        if !first {
            f.write_str(" * ")?;
        }
        write_factor(f, factor, names)?;
        first = false;
    }
    if divisors > 1 {
        f.write_char(')')?;
    }
    Ok(())
}

fn write_factor(f: &mut dyn Write, factor: &Factor, names: Names) -> fmt::Result {
    write_atom(f, &factor.atom, names)?;
    match factor.exp.unsigned_abs() {
        1 => Ok(()),
        power => write!(f, "**{power}"),
    }
}

fn write_atom(f: &mut dyn Write, atom: &Atom, names: Names) -> fmt::Result {
    match atom {
        Atom::Id(id) => f.write_str(&names(*id)),
        Atom::Floor(floor) => {
            f.write_str("floor(")?;
            let terms = floor.num.terms();
            // One term reads best as one fraction: `D / (2 * H)`.
            let single = match terms.as_ref() {
                [only] => only.coef.div(Ratio::int(floor.den)).ok().map(|coef| Term {
                    mono: only.mono.clone(),
                    coef,
                }),
                _ => None,
            };
            match single {
                Some(quotient) => write_terms(f, &[quotient], names)?,
                None if floor.den == 1 => write_terms(f, &terms, names)?,
                None => {
                    f.write_char('(')?;
                    write_terms(f, &terms, names)?;
                    write!(f, ") / {}", floor.den)?;
                }
            }
            f.write_char(')')
        }
        Atom::Min(min) => {
            f.write_str("min(")?;
            for (index, arg) in min.args.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write_size(f, arg, names)?;
            }
            f.write_char(')')
        }
    }
}
