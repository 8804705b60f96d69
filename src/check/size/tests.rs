use super::{product, AtomId, Size, SizeError};

type Result = std::result::Result<(), SizeError>;

const M: Size = Size::atom(AtomId::Dim(0));
const N: Size = Size::atom(AtomId::Dim(1));
const D: Size = Size::atom(AtomId::Dim(2));
const H: Size = Size::atom(AtomId::Dim(3));
const X: Size = Size::atom(AtomId::Dim(4));
const K: Size = Size::atom(AtomId::Generic(0));

fn c(value: i64) -> Size {
    Size::constant(value)
}

fn name(atom: AtomId) -> String {
    match atom {
        AtomId::Dim(0) => "M".into(),
        AtomId::Dim(1) => "N".into(),
        AtomId::Dim(2) => "D".into(),
        AtomId::Dim(3) => "H".into(),
        AtomId::Dim(4) => "X".into(),
        AtomId::Generic(0) => "K".into(),
        AtomId::RunProduct(0) => "|b|".into(),
        other => format!("{other:?}"),
    }
}

fn show(size: &Size) -> String {
    size.display(&name).to_string()
}

/// `floor((h + 2p - d(k - 1) - 1) / s) + 1`, built as the checker would.
fn conv_out(
    h: &Size,
    k: i64,
    stride: i64,
    padding: i64,
    dilation: i64,
) -> std::result::Result<Size, SizeError> {
    let span = c(dilation).mul(&c(k - 1))?;
    let numerator = h.add(&c(2 * padding))?.sub(&span)?.sub(&c(1))?;
    numerator.floor_div(&c(stride))?.add(&c(1))
}

fn values(atom: AtomId) -> Option<i64> {
    match atom {
        AtomId::Dim(0) => Some(3),
        AtomId::Dim(1) => Some(10),
        AtomId::Dim(2) => Some(512),
        AtomId::Dim(3) => Some(8),
        _ => None,
    }
}

#[test]
fn spec_equalities_hold() -> Result {
    let dh = D.div_exact(&H)?;
    assert_eq!(dh.mul(&H)?, D);
    assert_eq!(N.mul(&X.div_exact(&N)?)?, X);
    assert_eq!(M.add(&N)?, N.add(&M)?);
    assert_ne!(N.add(&M)?, c(2).mul(&N)?);
    assert_ne!(N, M);
    assert_eq!(H.mul(&dh)?.div_exact(&H)?, dh);
    assert_eq!(N.add(&N)?, c(2).mul(&N)?);
    assert_eq!(N.sub(&N)?, Size::zero());
    Ok(())
}

#[test]
fn canonical_forms_are_inline() -> Result {
    assert_eq!(N.add(&c(1))?.sub(&c(1))?.as_atom(), Some(AtomId::Dim(1)));
    assert_eq!(N.sub(&N)?.add(&c(7))?.as_const(), Some(7));
    assert!(D.div_exact(&H)?.mul(&H)?.as_atom().is_some());
    assert!(N.mul(&N)?.div_exact(&N)?.as_atom().is_some());
    assert!(N.add(&c(1))?.as_atom().is_none());
    assert!(!N.is_const());
    assert!(c(3).is_const());
    Ok(())
}

#[test]
fn constant_division_must_be_exact() -> Result {
    assert_eq!(c(12).div_exact(&c(4))?, c(3));
    assert_eq!(c(10).div_exact(&c(4)), Err(SizeError::NotExact));
    assert_eq!(c(10).div_exact(&c(0)), Err(SizeError::DivisionByZero));
    assert_eq!(N.div_exact(&c(0)), Err(SizeError::DivisionByZero));
    assert_eq!(
        X.div_exact(&N.add(&c(1))?),
        Err(SizeError::NonMonomialDivisor)
    );
    assert_eq!(N.div_exact(&c(2).mul(&N)?), Err(SizeError::NotExact));
    assert_eq!(c(2).mul(&N)?.div_exact(&c(2))?, N);
    assert_eq!(N.div_exact(&c(2))?.mul(&c(2))?, N);
    Ok(())
}

#[test]
fn convolution_sizes() -> Result {
    assert_eq!(conv_out(&c(32), 3, 2, 1, 1)?, c(16));
    assert_eq!(conv_out(&c(32), 5, 1, 0, 2)?, c(24));
    assert_eq!(conv_out(&H, 3, 1, 1, 1)?, H);
    assert_eq!(conv_out(&H, 3, 1, 0, 1)?, H.sub(&c(2))?);
    let strided = conv_out(&H, 3, 2, 0, 1)?;
    assert_eq!(show(&strided), "floor((H - 3) / 2) + 1");
    assert_eq!(strided, conv_out(&H, 3, 2, 0, 1)?);
    assert_ne!(strided, conv_out(&H, 3, 2, 1, 1)?);
    assert_eq!(strided.atoms(), vec![AtomId::Dim(3)]);
    Ok(())
}

#[test]
fn consecutive_pools_fold_into_one_floor() -> Result {
    let twice = conv_out(&conv_out(&H, 2, 2, 0, 1)?, 2, 2, 0, 1)?;
    let once = conv_out(&H, 4, 4, 0, 1)?;
    assert_eq!(twice, once);
    assert_eq!(show(&once), "floor((H - 4) / 4) + 1");
    let strided_twice = conv_out(&conv_out(&H, 3, 2, 1, 1)?, 3, 2, 1, 1)?;
    assert_eq!(show(&strided_twice), "floor((H - 1) / 4) + 1");
    for h in 1..40 {
        let concrete = conv_out(&conv_out(&c(h), 3, 2, 1, 1)?, 3, 2, 1, 1)?;
        let evaluated = strided_twice.eval(&mut |_| Some(h))?;
        assert_eq!(evaluated, concrete.as_const(), "H = {h}");
    }
    Ok(())
}

#[test]
fn floor_simplifies_only_when_provable() -> Result {
    assert_eq!(c(2).mul(&N)?.floor_div(&c(2))?, N);
    let even = c(4).mul(&N)?.add(&c(6))?;
    assert_eq!(even.floor_div(&c(2))?, c(2).mul(&N)?.add(&c(3))?);
    assert_eq!(c(2).mul(&N)?.floor_div(&c(4))?, N.floor_div(&c(2))?);
    assert_eq!(N.floor_div(&c(-1))?, c(0).sub(&N)?);
    assert_eq!(N.mul(&M)?.floor_div(&M)?, N);
    let dh = D.div_exact(&H)?;
    assert_eq!(dh.floor_div(&c(1))?, dh);
    let quotient = N.floor_div(&M)?;
    assert_eq!(show(&quotient), "floor(N / M)");
    assert_ne!(quotient.mul(&M)?, N);
    assert_eq!(show(&D.floor_div(&c(2).mul(&H)?)?), "floor(D / (2 * H))");
    assert_eq!(
        N.floor_div(&N.add(&c(1))?),
        Err(SizeError::NonMonomialDivisor)
    );
    assert_eq!(N.floor_div(&c(0)), Err(SizeError::DivisionByZero));
    Ok(())
}

#[test]
fn constant_floor_is_python_floor_division() -> Result {
    assert_eq!(c(7).floor_div(&c(2))?, c(3));
    assert_eq!(c(-7).floor_div(&c(2))?, c(-4));
    assert_eq!(c(7).floor_div(&c(-2))?, c(-4));
    assert_eq!(c(-7).floor_div(&c(-2))?, c(3));
    assert_eq!(c(-8).floor_div(&c(2))?, c(-4));
    assert_eq!(c(i64::MIN).floor_div(&c(-1)), Err(SizeError::Overflow));
    Ok(())
}

#[test]
fn min_normalises_its_arguments() -> Result {
    assert_eq!(c(3).min(&c(5))?, c(3));
    assert_eq!(N.min(&N)?, N);
    assert_eq!(N.min(&N.add(&c(1))?)?, N);
    assert_eq!(N.add(&c(2))?.min(&N)?, N);
    let capped = N.min(&c(5))?;
    assert_eq!(show(&capped), "min(N, 5)");
    assert_eq!(c(5).min(&N)?, capped);
    assert_eq!(N.min(&M)?.min(&c(5))?, N.min(&M.min(&c(5))?)?);
    assert_eq!(show(&N.min(&M)?.min(&c(5))?), "min(M, N, 5)");
    assert_ne!(N.min(&M)?, N);
    assert_eq!(capped.min(&N.sub(&c(1))?)?, N.sub(&c(1))?.min(&c(5))?);
    Ok(())
}

#[test]
fn substitution_binds_generics() -> Result {
    let successor = N.add(&c(1))?;
    let mut bind = |atom| (atom == AtomId::Generic(0)).then(|| successor.clone());
    assert_eq!(
        c(2).mul(&K)?.substitute(&mut bind)?,
        c(2).mul(&N)?.add(&c(2))?
    );
    assert_eq!(M.mul(&K)?.substitute(&mut bind)?, M.mul(&N)?.add(&M)?);
    let half = K.sub(&c(1))?.floor_div(&c(2))?;
    assert_eq!(half.substitute(&mut |_| Some(c(5)))?, c(2));
    let odd = c(2).mul(&N)?.add(&c(1))?;
    assert_eq!(half.substitute(&mut |_| Some(odd.clone()))?, N);
    assert_eq!(K.min(&c(5))?.substitute(&mut |_| Some(c(3)))?, c(3));
    assert_eq!(K.min(&c(5))?.substitute(&mut |_| Some(N))?, N.min(&c(5))?);
    Ok(())
}

#[test]
fn substitution_checks_divisibility_of_the_whole() -> Result {
    let dh = D.div_exact(&H)?;
    let mut sizes = |atom| match atom {
        AtomId::Dim(2) => Some(c(10)),
        AtomId::Dim(3) => Some(c(4)),
        _ => None,
    };
    assert_eq!(dh.substitute(&mut sizes), Err(SizeError::NotExact));
    let half_up = N.add(&c(1))?.div_exact(&c(2))?;
    assert_eq!(show(&half_up), "(N + 1) / 2");
    assert_eq!(half_up.substitute(&mut |_| Some(c(3)))?, c(2));
    let successor = N.add(&c(1))?;
    let mut heads = |atom| (atom == AtomId::Dim(3)).then(|| successor.clone());
    assert_eq!(
        dh.substitute(&mut heads),
        Err(SizeError::NonMonomialDivisor)
    );
    assert_eq!(D.floor_div(&H)?.substitute(&mut sizes)?, c(2));
    Ok(())
}

#[test]
fn substituting_nothing_is_the_identity() -> Result {
    let sizes = [
        conv_out(&H, 3, 2, 1, 1)?,
        conv_out(&conv_out(&H, 3, 2, 1, 1)?, 3, 2, 1, 1)?,
        c(2).mul(&N.floor_div(&c(3))?)?
            .add(&c(2).mul(&M)?)?
            .floor_div(&c(4))?,
        N.floor_div(&M)?.add(&X)?.floor_div(&c(3))?,
        N.min(&M.add(&c(1))?)?,
        D.div_exact(&H)?.floor_div(&c(2))?,
    ];
    for size in sizes {
        assert_eq!(size.substitute(&mut |_| None)?, size, "{}", show(&size));
    }
    Ok(())
}

#[test]
fn eval_gives_concrete_values() -> Result {
    assert_eq!(N.mul(&M)?.add(&c(1))?.eval(&mut values)?, Some(31));
    assert_eq!(D.div_exact(&H)?.eval(&mut values)?, Some(64));
    assert_eq!(X.add(&N)?.eval(&mut values)?, None);
    assert_eq!(c(4).eval(&mut values)?, Some(4));
    let mut uneven = |atom| Some(if atom == AtomId::Dim(2) { 10 } else { 4 });
    assert_eq!(D.div_exact(&H)?.eval(&mut uneven), Err(SizeError::NotExact));
    assert_eq!(D.floor_div(&H)?.eval(&mut uneven)?, Some(2));
    let below = N.sub(&c(3))?.floor_div(&c(2))?;
    assert_eq!(below.eval(&mut |_| Some(0))?, Some(-2));
    assert_eq!(N.min(&M)?.eval(&mut values)?, Some(3));
    assert_eq!(
        H.div_exact(&N)?.eval(&mut |_| Some(0)),
        Err(SizeError::DivisionByZero)
    );
    Ok(())
}

#[test]
fn eval_is_exact_through_large_intermediates() -> Result {
    let square_difference = N.mul(&N)?.sub(&M.mul(&M)?)?;
    let big = 1_i64 << 32;
    let mut at = |atom| Some(if atom == AtomId::Dim(1) { big } else { big - 1 });
    assert_eq!(square_difference.eval(&mut at)?, Some(2 * big - 1));
    assert_eq!(N.mul(&M)?.eval(&mut at), Err(SizeError::Overflow));
    Ok(())
}

#[test]
fn overflow_is_an_error() -> Result {
    let dims = [c(10_000_000_000), c(10_000_000_000), c(10_000_000_000)];
    assert_eq!(product(&dims), Err(SizeError::Overflow));
    assert_eq!(product(&dims[..1])?, c(10_000_000_000));
    assert_eq!(c(i64::MAX).add(&c(1)), Err(SizeError::Overflow));
    assert_eq!(c(i64::MIN).sub(&c(1)), Err(SizeError::Overflow));
    assert_eq!(c(i64::MIN).div_exact(&c(-1)), Err(SizeError::Overflow));
    let huge = c(10_i64.pow(18));
    let coefficient = huge.mul(&N)?.mul(&huge)?;
    assert_eq!(coefficient.mul(&huge), Err(SizeError::Overflow));
    let mut at_big = |_| Some(1_000_000_000_000_000);
    assert_eq!(N.mul(&M)?.eval(&mut at_big), Err(SizeError::Overflow));
    assert_eq!(
        coefficient.substitute(&mut |_| Some(c(2))),
        Err(SizeError::Overflow)
    );
    Ok(())
}

#[test]
fn growth_is_refused_not_unbounded() -> Result {
    let sum = M.add(&N)?.add(&D)?.add(&H)?.add(&X)?.add(&c(1))?;
    let mut power = sum.clone();
    let mut refused = None;
    for _ in 0..40 {
        match power.mul(&sum) {
            Ok(next) => power = next,
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    assert_eq!(refused, Some(SizeError::TooComplex));

    let mut nested = N.clone();
    let mut refused = None;
    for step in 0..200 {
        let next = nested
            .min(&M.add(&c(step))?)
            .and_then(|m| m.add(&X)?.floor_div(&c(3)));
        match next {
            Ok(next) => nested = next,
            Err(error) => {
                refused = Some(error);
                break;
            }
        }
    }
    assert_eq!(refused, Some(SizeError::TooComplex));
    Ok(())
}

#[test]
fn display_reads_like_source() -> Result {
    assert_eq!(show(&c(-3)), "-3");
    assert_eq!(show(&N), "N");
    assert_eq!(show(&c(2).mul(&N)?), "2 * N");
    assert_eq!(show(&N.add(&c(1))?), "N + 1");
    assert_eq!(show(&N.sub(&c(1))?), "N - 1");
    assert_eq!(show(&N.add(&M)?), "M + N");
    assert_eq!(show(&H.mul(&X)?), "H * X");
    assert_eq!(show(&D.div_exact(&H)?), "D / H");
    assert_eq!(show(&N.div_exact(&c(2))?), "N / 2");
    assert_eq!(show(&c(3).mul(&N)?.div_exact(&c(2))?), "3 * N / 2");
    assert_eq!(show(&D.div_exact(&c(2).mul(&H)?)?), "D / (2 * H)");
    assert_eq!(show(&c(5).sub(&N)?), "-N + 5");
    assert_eq!(show(&M.sub(&N)?), "M - N");
    assert_eq!(show(&N.mul(&N)?.add(&N)?), "N**2 + N");
    assert_eq!(show(&c(1).div_exact(&N)?), "1 / N");
    assert_eq!(show(&K.mul(&Size::atom(AtomId::RunProduct(0)))?), "K * |b|");
    assert_eq!(show(&N.floor_div(&c(2))?.mul(&c(2))?), "2 * floor(N / 2)");
    assert_eq!(show(&c(0).sub(&N)?.floor_div(&c(2))?), "floor(-N / 2)");
    let mixed = N.add(&X.mul(&M)?)?.floor_div(&M)?;
    assert_eq!(show(&mixed), "floor(N / M + X)");
    assert_eq!(show(&N.min(&M.add(&c(1))?)?), "min(N, M + 1)");
    Ok(())
}

#[test]
fn atoms_are_listed_once_in_canonical_order() -> Result {
    let size = K.mul(&N)?.add(&M.min(&X)?)?.add(&N.floor_div(&c(2))?)?;
    let expected = [
        AtomId::Dim(0),
        AtomId::Dim(1),
        AtomId::Dim(4),
        AtomId::Generic(0),
    ];
    assert_eq!(size.atoms(), expected);
    assert!(c(3).atoms().is_empty());
    Ok(())
}

#[test]
fn errors_explain_themselves() {
    assert_eq!(
        SizeError::NotExact.to_string(),
        "size does not divide exactly"
    );
    assert_eq!(
        SizeError::NonMonomialDivisor.to_string(),
        "a size can only be divided by a product of dims, not by a sum"
    );
}
