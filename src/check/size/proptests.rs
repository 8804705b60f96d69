use proptest::prelude::*;

use super::{AtomId, Size, SizeError};

const ATOMS: u32 = 4;

/// A size expression as a program writes it. Divisors are monomials, the
/// only divisors the normal form accepts.
#[derive(Clone, Debug)]
enum Expr {
    Atom(u32),
    Const(i64),
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Floor(Box<Expr>, Box<Expr>),
    Min(Box<Expr>, Box<Expr>),
}

fn monomial() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0..ATOMS).prop_map(Expr::Atom),
        prop_oneof![-4_i64..=-1, 1_i64..=6].prop_map(Expr::Const),
    ];
    leaf.prop_recursive(2, 4, 2, |inner| {
        (inner.clone(), inner).prop_map(|(a, b)| Expr::Mul(Box::new(a), Box::new(b)))
    })
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (0..ATOMS).prop_map(Expr::Atom),
        (-6_i64..=6).prop_map(Expr::Const)
    ]
}

/// Sums, products and exact quotients: the ring the laws speak of.
fn polynomial() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Add(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Sub(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Mul(Box::new(a), Box::new(b))),
            (inner, monomial()).prop_map(|(a, b)| Expr::Div(Box::new(a), Box::new(b))),
        ]
    })
}

/// Everything, opaque terms included.
fn expression() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Add(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Sub(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Mul(Box::new(a), Box::new(b))),
            (inner.clone(), monomial()).prop_map(|(a, b)| Expr::Div(Box::new(a), Box::new(b))),
            (inner.clone(), monomial()).prop_map(|(a, b)| Expr::Floor(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Expr::Min(Box::new(a), Box::new(b))),
        ]
    })
}

fn build(expr: &Expr) -> Result<Size, SizeError> {
    match expr {
        Expr::Atom(index) => Ok(Size::atom(AtomId::Dim(*index))),
        Expr::Const(value) => Ok(Size::constant(*value)),
        Expr::Add(a, b) => build(a)?.add(&build(b)?),
        Expr::Sub(a, b) => build(a)?.sub(&build(b)?),
        Expr::Mul(a, b) => build(a)?.mul(&build(b)?),
        Expr::Div(a, b) => build(a)?.div_exact(&build(b)?),
        Expr::Floor(a, b) => build(a)?.floor_div(&build(b)?),
        Expr::Min(a, b) => build(a)?.min(&build(b)?),
    }
}

/// The value computed step by step on integers, as the evaluator would;
/// `None` where a division is inexact or by zero, or a step overflows.
fn direct(expr: &Expr, values: &[i64]) -> Option<i128> {
    match expr {
        Expr::Atom(index) => values.get(*index as usize).copied().map(i128::from),
        Expr::Const(value) => Some(i128::from(*value)),
        Expr::Add(a, b) => direct(a, values)?.checked_add(direct(b, values)?),
        Expr::Sub(a, b) => direct(a, values)?.checked_sub(direct(b, values)?),
        Expr::Mul(a, b) => direct(a, values)?.checked_mul(direct(b, values)?),
        Expr::Div(a, b) => {
            let (a, b) = (direct(a, values)?, direct(b, values)?);
            (b != 0 && a % b == 0).then(|| a / b)
        }
        Expr::Floor(a, b) => {
            let (a, b) = (direct(a, values)?, direct(b, values)?);
            (b != 0).then(|| a.div_euclid(b) - i128::from(b < 0 && a.rem_euclid(b) != 0))
        }
        Expr::Min(a, b) => Some(direct(a, values)?.min(direct(b, values)?)),
    }
}

/// Two routes to the same size agree, unless one of them meets a limit or a
/// provably fractional intermediate that the other avoids.
fn agree(
    left: Result<Size, SizeError>,
    right: Result<Size, SizeError>,
) -> Result<(), TestCaseError> {
    match (left, right) {
        (Ok(left), Ok(right)) => prop_assert_eq!(left, right),
        (Err(error), _) | (_, Err(error)) => prop_assert!(
            matches!(error, SizeError::NotExact | SizeError::TooComplex),
            "unexpected {error:?}"
        ),
    }
    Ok(())
}

proptest! {
    #[test]
    fn ring_laws_hold(a in polynomial(), b in polynomial(), c in polynomial(), m in monomial()) {
        // An operand with a provably fractional part (`(N + 1) / 2 - N / 2`)
        // is refused when built; there is no law to check then.
        let (Ok(a), Ok(b), Ok(c), Ok(m)) = (build(&a), build(&b), build(&c), build(&m)) else {
            return Ok(());
        };
        prop_assert_eq!(a.add(&b), b.add(&a));
        prop_assert_eq!(a.mul(&b), b.mul(&a));
        agree(a.add(&b).and_then(|ab| ab.add(&c)), b.add(&c).and_then(|bc| a.add(&bc)))?;
        agree(a.mul(&b).and_then(|ab| ab.mul(&c)), b.mul(&c).and_then(|bc| a.mul(&bc)))?;
        agree(
            b.add(&c).and_then(|bc| a.mul(&bc)),
            a.mul(&b).and_then(|ab| ab.add(&a.mul(&c)?)),
        )?;
        prop_assert_eq!(a.sub(&a), Ok(Size::zero()));
        agree(a.add(&b).and_then(|ab| ab.sub(&b)), Ok(a.clone()))?;
        agree(a.mul(&m).and_then(|am| am.div_exact(&m)), Ok(a.clone()))?;
        agree(a.div_exact(&m).and_then(|quotient| quotient.mul(&m)), Ok(a.clone()))?;
    }

    #[test]
    fn eval_agrees_with_integer_arithmetic(
        expr in expression(),
        values in prop::collection::vec(0_i64..=9, ATOMS as usize),
    ) {
        let expected = direct(&expr, &values).and_then(|value| i64::try_from(value).ok());
        let size = build(&expr);
        let mut value_of = |atom| match atom {
            AtomId::Dim(index) => values.get(index as usize).copied(),
            _ => None,
        };
        // Where the program itself is undefined (an inexact division) the
        // normal form may still have a value: it forgets which divisions
        // were written. Only the absence of a panic is checked then.
        let (Some(expected), Ok(size)) = (expected, &size) else {
            prop_assert!(expected.is_none() || size == Err(SizeError::TooComplex), "{:?}", size);
            if let Ok(size) = size {
                let _ = size.eval(&mut value_of);
            }
            return Ok(());
        };
        prop_assert_eq!(size.eval(&mut value_of), Ok(Some(expected)));
        let mut constant_of = |atom| value_of(atom).map(Size::constant);
        prop_assert_eq!(size.substitute(&mut constant_of), Ok(Size::constant(expected)));
        prop_assert_eq!(size.substitute(&mut |_| None), Ok(size.clone()));
    }
}

/// One layer `floor((x + 2p - (k - 1) - 1) / s) + 1`, then `* scale + shift`:
/// chains of these exercise the folding of nested floors.
fn layer(x: &Size, (k, s, p, scale, shift): (i64, i64, i64, i64, i64)) -> Result<Size, SizeError> {
    let numerator = x.add(&Size::constant(2 * p - k))?;
    let out = numerator.floor_div(&Size::constant(s))?.add(&Size::one())?;
    out.mul(&Size::constant(scale))?.add(&Size::constant(shift))
}

proptest! {
    #[test]
    fn layered_floors_match_concrete_sizes(
        layers in prop::collection::vec((1_i64..=5, 1_i64..=4, 0_i64..=2, 1_i64..=2, -2_i64..=2), 1..5),
        h in 0_i64..=80,
    ) {
        let mut symbolic = Size::atom(AtomId::Dim(0));
        let mut concrete = Size::constant(h);
        for &params in &layers {
            symbolic = layer(&symbolic, params)?;
            concrete = layer(&concrete, params)?;
        }
        prop_assert_eq!(symbolic.eval(&mut |_| Some(h))?, concrete.as_const());
        prop_assert_eq!(symbolic.substitute(&mut |_| Some(Size::constant(h)))?, concrete);
    }
}
