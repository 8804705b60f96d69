//! Scalar math of the elementwise builtins, shared by their kernels and by
//! fused chains (`crate::eval::fuse`): each function computes in f64, and
//! an f32 result is the f64 one rounded once.

/// A float function of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    Exp,
    Log,
    Sqrt,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Gelu,
    Abs,
    Relu,
    Sign,
    Floor,
}

impl Unary {
    pub fn from_name(name: &str) -> Option<Unary> {
        Some(match name {
            "exp" => Unary::Exp,
            "log" => Unary::Log,
            "sqrt" => Unary::Sqrt,
            "sin" => Unary::Sin,
            "cos" => Unary::Cos,
            "tanh" => Unary::Tanh,
            "sigmoid" => Unary::Sigmoid,
            "gelu" => Unary::Gelu,
            "abs" => Unary::Abs,
            "relu" => Unary::Relu,
            "sign" => Unary::Sign,
            "floor" => Unary::Floor,
            _ => return None,
        })
    }
}

/// Binds `$f` to the function item of a `Unary` (not a pointer, so that a
/// loop over `$f` is compiled for that one function and can vectorise).
/// `f32` selects the variants whose result is rounded to f32.
#[macro_export]
macro_rules! with_unary {
    ($op:expr, $f32:expr, $f:ident => $body:expr) => {{
        use $crate::ops::math::{self, Unary};
        match $op {
            Unary::Exp if $f32 => {
                let $f = math::exp_rounded_to_f32;
                $body
            }
            Unary::Exp => {
                let $f = f64::exp;
                $body
            }
            Unary::Log => {
                let $f = f64::ln;
                $body
            }
            Unary::Sqrt => {
                let $f = f64::sqrt;
                $body
            }
            Unary::Sin => {
                let $f = f64::sin;
                $body
            }
            Unary::Cos => {
                let $f = f64::cos;
                $body
            }
            Unary::Tanh => {
                let $f = f64::tanh;
                $body
            }
            Unary::Sigmoid => {
                let $f = math::sigmoid;
                $body
            }
            Unary::Gelu => {
                let $f = math::gelu;
                $body
            }
            Unary::Abs => {
                let $f = f64::abs;
                $body
            }
            Unary::Relu => {
                let $f = math::relu;
                $body
            }
            Unary::Sign => {
                let $f = math::sign;
                $body
            }
            Unary::Floor => {
                let $f = f64::floor;
                $body
            }
        }
    }};
}

/// A float function of two arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

impl Binary {
    #[inline]
    pub fn apply(self, x: f64, y: f64) -> f64 {
        match self {
            Binary::Add => x + y,
            Binary::Sub => x - y,
            Binary::Mul => x * y,
            Binary::Div => x / y,
            Binary::Pow => x.powf(y),
            Binary::Maximum => maximum(x, y),
            Binary::Minimum => minimum(x, y),
        }
    }
}

/// NumPy's `maximum`/`minimum` propagate nan rather than ignore it.
#[inline]
pub fn maximum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.max(y)
    }
}

#[inline]
pub fn minimum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.min(y)
    }
}

/// `exp(x)` for a result that is rounded to f32 next: branch-free, so
/// that loops over it vectorise, and within 6e-11 relative of the exact
/// value, so that once rounded to f32 it is within 0.50070 ulp of it:
/// measured over every f32 in [-104, 89] (`exp_over_every_f32`), where
/// one result in 8900 differs from the correctly rounded one (glibc's),
/// those whose exact value lies that close to a midpoint between f32s.
/// Inputs are clamped to [-160, 100], whose exps are already 0 and inf in
/// f32.
#[inline(always)]
pub fn exp_rounded_to_f32(x: f64) -> f64 {
    // Adding 1.5 * 2^52 rounds to an integer, which lands in the low bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-160.0, 100.0);
    let shifted = x.mul_add(std::f64::consts::LOG2_E, SHIFT);
    let n = shifted - SHIFT;
    // |n| <= 231, so one rounding of ln 2 costs below 1e-14 relative.
    let r = (-n).mul_add(std::f64::consts::LN_2, x);
    let mut p = EXP_POLYNOMIAL[7];
    for &c in EXP_POLYNOMIAL[..7].iter().rev() {
        p = p.mul_add(r, c);
    }
    let exponent = shifted
        .to_bits()
        .wrapping_sub(SHIFT.to_bits())
        .wrapping_add(1023);
    p * f64::from_bits(exponent << 52)
}

/// exp on |r| <= ln(2)/2 + 0.001 to within 5.7e-11 relative, lowest
/// power first: the degree-7 Chebyshev interpolant, from NumPy's
/// `chebinterpolate` and `cheb2poly` (tests/data/eval/exp_polynomial.py).
const EXP_POLYNOMIAL: [f64; 8] = [
    0.999_999_999_958_618_7,
    0.999_999_999_995_405,
    0.500_000_010_960_887,
    0.166_666_667_883_865_94,
    0.041_666_213_117_059_085,
    0.008_333_282_963_006_412,
    0.001_394_892_385_242_394_8,
    0.000_199_079_519_194_991_34,
];

/// Written in two branches so that `exp` never overflows: the result is
/// exact to rounding for every input, 0 and 1 at the extremes.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The exact form `x Φ(x)`, through erfc so that the left tail keeps its
/// relative accuracy instead of cancelling in `1 + erf`.
pub fn gelu(x: f64) -> f64 {
    0.5 * x * erfc(-x / std::f64::consts::SQRT_2)
}

pub(crate) fn erf(x: f64) -> f64 {
    let a = x.abs();
    let value = if a < 1.0 {
        erf_series(a)
    } else {
        1.0 - erfc_fraction(a)
    };
    value.copysign(x)
}

fn erfc(x: f64) -> f64 {
    if x >= 1.0 {
        erfc_fraction(x)
    } else if x <= -1.0 {
        2.0 - erfc_fraction(-x)
    } else {
        1.0 - erf(x)
    }
}

/// erf on [0, 1) by the series `2/√π e^(-x²) Σ (2x²)^n x / (1·3···(2n+1))`,
/// whose terms are all positive: no cancellation, 1e-15 relative.
fn erf_series(x: f64) -> f64 {
    let (mut term, mut sum) = (x, x);
    // On [0, 1) each term is below 2/(2n+1) of the last: 40 reach 1e-17.
    for n in 1..40 {
        term *= 2.0 * x * x / f64::from(2 * n + 1);
        sum += term;
        if term <= sum * 1e-17 {
            break;
        }
    }
    std::f64::consts::FRAC_2_SQRT_PI * exp_minus_square(x) * sum
}

/// erfc on [1, ∞) by its continued fraction
/// `e^(-x²)/√π / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))`, summed from
/// the tail; it needs fewer terms as x grows (about 330/x² for 1e-16).
fn erfc_fraction(x: f64) -> f64 {
    // Beyond 27, e^(-x²) is below the smallest subnormal.
    if x > 27.0 {
        return 0.0;
    }
    let terms = (400.0 / (x * x)) as u32 + 10;
    let mut tail = x;
    for n in (1..=terms).rev() {
        tail = x + f64::from(n) / 2.0 / tail;
    }
    exp_minus_square(x) / (std::f64::consts::PI.sqrt() * tail)
}

/// `e^(-x²)` without the error of rounding x² first: x splits into a head
/// of 26 significant bits, whose square is exact, and a small tail.
fn exp_minus_square(x: f64) -> f64 {
    let head = f64::from_bits(x.to_bits() & !((1u64 << 27) - 1));
    let tail = x - head;
    (-head * head).exp() * (-(2.0 * head + tail) * tail).exp()
}

/// `maximum(x, 0)`, which keeps nan as NumPy's does.
pub fn relu(x: f64) -> f64 {
    if x > 0.0 || x.is_nan() {
        x
    } else {
        0.0
    }
}

/// NumPy's sign: 0 for ±0 (`signum` gives ±1) and nan for nan.
pub fn sign(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x.signum()
    }
}

#[cfg(test)]
mod tests {
    use super::{erf, erfc, exp_rounded_to_f32, gelu};

    /// The error of `exp_rounded_to_f32(x) as f32` in f32 ulps of the
    /// exact value (glibc's f64 exp, within 1e-16 of it) and whether it
    /// differs from that value correctly rounded, for the f32s from -104
    /// to 89 (beyond them exp is 0 or inf in f32), every `stride`th.
    fn exp_errors(stride: u32) -> (f64, u64, u64) {
        let (mut worst, mut checked, mut differ) = (0.0f64, 0u64, 0u64);
        let mut check = |x: f32| {
            let exact = f64::from(x).exp();
            if exact > f64::from(f32::MAX) {
                return;
            }
            let fast = exp_rounded_to_f32(f64::from(x)) as f32;
            let exponent = ((exact.to_bits() >> 52) as i32 - 1023).max(-126);
            let ulp = 2f64.powi(exponent - 23);
            worst = worst.max((f64::from(fast) - exact).abs() / ulp);
            checked += 1;
            differ += u64::from(fast != exact as f32);
        };
        // Positive f32s from +0 up to 89, then negative ones down to -104.
        for (from, to) in [(0u32, 89f32.to_bits()), (0x8000_0000, (-104f32).to_bits())] {
            (from..=to)
                .step_by(stride as usize)
                .for_each(|b| check(f32::from_bits(b)));
        }
        (worst, checked, differ)
    }

    /// Every 97th f32 from -104 to 89: at most 0.501 ulp from the exact
    /// value, and the correctly rounded f32 but for about one in 9000
    /// (the test allows one in 2000).
    #[test]
    fn fast_exp_is_within_half_an_ulp_and_a_little() {
        let (worst, checked, differ) = exp_errors(97);
        assert!(checked > 20_000_000, "{checked}");
        assert!(worst <= 0.501, "{worst} ulp");
        assert!(differ * 2000 <= checked, "{differ} of {checked} differ");
        assert_eq!(exp_rounded_to_f32(f64::NEG_INFINITY) as f32, 0.0);
        assert_eq!(exp_rounded_to_f32(-150.0) as f32, 0.0);
        assert_eq!(exp_rounded_to_f32(1000.0) as f32, f32::INFINITY);
        assert_eq!(exp_rounded_to_f32(f64::INFINITY) as f32, f32::INFINITY);
        assert!(exp_rounded_to_f32(f64::NAN).is_nan());
        assert_eq!(exp_rounded_to_f32(0.0) as f32, 1.0);
    }

    /// Every f32 from -104 to 89, for the figures in `exp_rounded_to_f32`'s
    /// comment: `cargo test --release --lib exp_over_every_f32 -- --ignored`.
    #[test]
    #[ignore = "2.2e9 inputs: a minute in release"]
    fn exp_over_every_f32() {
        let (worst, checked, differ) = exp_errors(1);
        assert!(checked > 2_000_000_000, "{checked}");
        assert!(worst <= 0.501, "{worst} ulp");
        assert!(differ * 2000 <= checked, "{differ} of {checked} differ");
    }

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs()
    }

    /// Reference values from Python's `math.erf`/`math.erfc` (glibc, within 1 ulp).
    #[test]
    fn erf_and_erfc_are_accurate_to_1e_15() {
        let cases = [
            (0.0, 0.0, 1.0),
            (1e-10, 1.1283791670955126e-10, 0.999999999887162),
            (0.3, 0.3286267594591274, 0.6713732405408726),
            (0.9, 0.7969082124228322, 0.20309178757716786),
            (1.0, 0.8427007929497149, 0.15729920705028513),
            (2.5, 0.999593047982555, 0.0004069520174449589),
            (-1.7, -0.9837904585907745, 1.9837904585907746),
            (5.0, 0.9999999999984626, 1.5374597944280351e-12),
            (10.0, 1.0, 2.088487583762545e-45),
            (26.5, 1.0, 2.2109076642637343e-307),
        ];
        for (x, e, c) in cases {
            assert!(close(erf(x), e, 2e-15), "erf({x}) = {}, not {e}", erf(x));
            assert!(close(erfc(x), c, 4e-15), "erfc({x}) = {}, not {c}", erfc(x));
        }
        assert_eq!(erfc(30.0), 0.0);
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert_eq!(erfc(f64::NEG_INFINITY), 2.0);
        assert!(erf(f64::NAN).is_nan() && erfc(f64::NAN).is_nan());
    }

    #[test]
    fn gelu_keeps_its_left_tail() {
        // 0.5 * x * math.erfc(-x / math.sqrt(2)) for x = -10.
        assert!(close(gelu(-10.0), -7.619853024160593e-23, 1e-13));
        assert_eq!(gelu(f64::INFINITY), f64::INFINITY);
    }
}
