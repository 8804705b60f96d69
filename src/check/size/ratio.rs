//! Exact rational coefficients: i128 numerator and denominator in lowest
//! terms, every operation checked so that overflow is an error.

use super::SizeError;

/// `num / den` with `den > 0` and `gcd(num, den) == 1`, so derived equality
/// and hashing are equality of values. The derived order is not numeric; it
/// only has to be total and consistent with equality.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(super) struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    pub(super) const ZERO: Ratio = Ratio { num: 0, den: 1 };
    pub(super) const ONE: Ratio = Ratio { num: 1, den: 1 };

    pub(super) const fn int(value: i128) -> Ratio {
        Ratio { num: value, den: 1 }
    }

    pub(super) fn new(num: i128, den: i128) -> Result<Ratio, SizeError> {
        if den == 0 {
            return Err(SizeError::DivisionByZero);
        }
        let divisor = gcd(num.unsigned_abs(), den.unsigned_abs());
        let num_abs = to_i128(num.unsigned_abs() / divisor)?;
        let den_abs = to_i128(den.unsigned_abs() / divisor)?;
        let num = if (num < 0) != (den < 0) {
            -num_abs
        } else {
            num_abs
        };
        Ok(Ratio { num, den: den_abs })
    }

    pub(super) fn numer(self) -> i128 {
        self.num
    }

    pub(super) fn denom(self) -> i128 {
        self.den
    }

    pub(super) fn is_zero(self) -> bool {
        self.num == 0
    }

    pub(super) fn is_integer(self) -> bool {
        self.den == 1
    }

    pub(super) fn is_negative(self) -> bool {
        self.num < 0
    }

    /// The value as an i64, for sizes that must be concrete integers.
    pub(super) fn to_i64(self) -> Result<i64, SizeError> {
        if self.den != 1 {
            return Err(SizeError::NotExact);
        }
        i64::try_from(self.num).map_err(|_| SizeError::Overflow)
    }

    pub(super) fn floor(self) -> i128 {
        // `den > 0`, so Euclidean division rounds towards negative infinity.
        self.num.div_euclid(self.den)
    }

    pub(super) fn neg(self) -> Result<Ratio, SizeError> {
        let num = self.num.checked_neg().ok_or(SizeError::Overflow)?;
        Ok(Ratio { num, den: self.den })
    }

    pub(super) fn add(self, other: Ratio) -> Result<Ratio, SizeError> {
        if self.den == 1 && other.den == 1 {
            return checked(self.num.checked_add(other.num)).map(Ratio::int);
        }
        let divisor = to_i128(gcd(self.den.unsigned_abs(), other.den.unsigned_abs()))?;
        let self_scale = other.den / divisor;
        let other_scale = self.den / divisor;
        let num = checked(
            checked(self.num.checked_mul(self_scale))?
                .checked_add(checked(other.num.checked_mul(other_scale))?),
        )?;
        let den = checked(self.den.checked_mul(self_scale))?;
        Ratio::new(num, den)
    }

    pub(super) fn sub(self, other: Ratio) -> Result<Ratio, SizeError> {
        self.add(other.neg()?)
    }

    pub(super) fn mul(self, other: Ratio) -> Result<Ratio, SizeError> {
        if self.den == 1 && other.den == 1 {
            return checked(self.num.checked_mul(other.num)).map(Ratio::int);
        }
        // Cancelling across first keeps the intermediate products small.
        let left = to_i128(gcd(self.num.unsigned_abs(), other.den.unsigned_abs()))?;
        let right = to_i128(gcd(other.num.unsigned_abs(), self.den.unsigned_abs()))?;
        let num = checked((self.num / left).checked_mul(other.num / right))?;
        let den = checked((self.den / right).checked_mul(other.den / left))?;
        Ratio::new(num, den)
    }

    pub(super) fn recip(self) -> Result<Ratio, SizeError> {
        Ratio::new(self.den, self.num)
    }

    pub(super) fn div(self, other: Ratio) -> Result<Ratio, SizeError> {
        self.mul(other.recip()?)
    }

    /// `self ** exp` by repeated squaring, so a huge exponent costs only
    /// its bit length (or overflows quickly).
    pub(super) fn pow(self, exp: i32) -> Result<Ratio, SizeError> {
        let mut base = self;
        let mut remaining = exp.unsigned_abs();
        let mut result = Ratio::ONE;
        while remaining > 0 {
            if remaining & 1 == 1 {
                result = result.mul(base)?;
            }
            remaining >>= 1;
            if remaining > 0 {
                base = base.mul(base)?;
            }
        }
        if exp < 0 {
            result.recip()
        } else {
            Ok(result)
        }
    }

    /// Least common multiple of two positive denominators.
    pub(super) fn lcm(a: i128, b: i128) -> Result<i128, SizeError> {
        let divisor = to_i128(gcd(a.unsigned_abs(), b.unsigned_abs()))?;
        checked((a / divisor).checked_mul(b))
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn to_i128(value: u128) -> Result<i128, SizeError> {
    i128::try_from(value).map_err(|_| SizeError::Overflow)
}

fn checked(value: Option<i128>) -> Result<i128, SizeError> {
    value.ok_or(SizeError::Overflow)
}
