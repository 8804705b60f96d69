//! Float text: Python's `repr` for scalars, and NumPy's `FloatingFormat`
//! with `precision=4, floatmode='fixed', sign=' '` for tensor items.

use std::fmt::{Display, LowerExp};
use std::ops::Div;
use std::str::FromStr;

/// Digits after the point in a tensor item.
const PRECISION: usize = 4;
/// `10^PRECISION`.
const SCALE: u64 = 10_000;

/// What the formatting needs from f32 and f64. NumPy does its magnitude
/// tests in the tensor's own type (a Python float operand is cast to it),
/// so the constants are of that type too.
pub(super) trait PrintFloat:
    Copy + PartialOrd + Div<Output = Self> + Display + LowerExp + FromStr
{
    const ZERO: Self;
    /// From this magnitude on, exponent notation:
    /// `10**min(8, np.finfo(dtype).precision)`.
    const EXPONENT_CUTOFF: Self;
    /// Below this nonzero magnitude, exponent notation.
    const SMALLEST_POSITIONAL: Self;
    /// Beyond this ratio of largest to smallest nonzero magnitude, exponent
    /// notation.
    const WIDEST_RATIO: Self;

    fn is_finite(self) -> bool;
    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
    fn abs(self) -> Self;
    /// The same value as an f64 (exact for both types).
    fn widen(self) -> f64;
}

macro_rules! print_float {
    ($float:ty, $cutoff:expr) => {
        impl PrintFloat for $float {
            const ZERO: Self = 0.0;
            const EXPONENT_CUTOFF: Self = $cutoff;
            const SMALLEST_POSITIONAL: Self = 0.0001;
            const WIDEST_RATIO: Self = 1000.0;

            fn is_finite(self) -> bool {
                <$float>::is_finite(self)
            }
            fn is_nan(self) -> bool {
                <$float>::is_nan(self)
            }
            fn is_sign_negative(self) -> bool {
                <$float>::is_sign_negative(self)
            }
            fn abs(self) -> Self {
                <$float>::abs(self)
            }
            fn widen(self) -> f64 {
                f64::from(self)
            }
        }
    };
}

print_float!(f32, 1e6);
print_float!(f64, 1e8);

/// Python's `repr(float(value))`: `3.0`, `0.1`, `1e-08`, `1e+16`, `-0.0`,
/// `inf`, `nan`.
pub fn scalar_f64(value: f64) -> String {
    python_repr(value)
}

/// An f32 in the same layout, with the shortest decimal digits that read
/// back to the same f32 (NumPy's digits for a float32 scalar): `0.1f32`
/// prints `0.1`, not the `0.10000000149011612` of its f64 widening.
pub fn scalar_f32(value: f32) -> String {
    python_repr(value)
}

fn python_repr<T: PrintFloat>(value: T) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if !value.is_finite() {
        let text = if value.is_sign_negative() {
            "-inf"
        } else {
            "inf"
        };
        return text.to_owned();
    }
    let digits = shortest_digits(value);
    let Some((mantissa, exponent)) = digits.split_once('e') else {
        return digits;
    };
    let Ok(exponent) = exponent.parse::<i32>() else {
        return digits;
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(magnitude) => ("-", magnitude),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
    format!("{sign}{}", python_layout(&digits, exponent))
}

/// The shortest digits that read back to `value` in its own type, in
/// Rust's `d.ddde-X` spelling.
///
/// Rust's `{:e}` finds how many digits are needed, but when the value lies
/// exactly halfway between the two nearest candidates of that length it
/// rounds away from even (`-1124693.25f32` becomes `-1124693.3`), where
/// Python and NumPy round to even (`-1124693.2`). Rounding the exact value
/// to that many digits rounds ties to even; it is taken when it reads back
/// to the same value, as it always does except beside a power of two,
/// where the interval that reads back is lopsided.
fn shortest_digits<T: PrintFloat>(value: T) -> String {
    let shortest = format!("{value:e}");
    let mantissa = shortest
        .split_once('e')
        .map_or(shortest.as_str(), |(m, _)| m);
    let significant = mantissa.chars().filter(char::is_ascii_digit).count();
    let nearest = format!("{value:.*e}", significant.saturating_sub(1));
    match nearest.parse::<T>() {
        Ok(parsed) if parsed == value => nearest,
        _ => shortest,
    }
}

/// Lays out `d.ddd × 10^exponent` as Python does: positional for exponents
/// from -4 to 15, with at least one digit after the point; otherwise
/// `d.ddde±XX`, without a point when there is a single digit.
fn python_layout(digits: &str, exponent: i32) -> String {
    let (first, rest) = digits.split_at_checked(1).unwrap_or((digits, ""));
    if !(-4..16).contains(&exponent) {
        let point = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        let magnitude = exponent.unsigned_abs();
        return format!("{first}{point}{rest}e{exponent_sign}{magnitude:02}");
    }
    match usize::try_from(exponent) {
        Ok(integer_digits_minus_one) => {
            let integer_digits = integer_digits_minus_one + 1;
            match digits.split_at_checked(integer_digits) {
                Some((integer, fraction)) if !fraction.is_empty() => {
                    format!("{integer}.{fraction}")
                }
                _ => format!("{digits:0<integer_digits$}.0"),
            }
        }
        Err(_) => {
            let zeros = "0".repeat(exponent.unsigned_abs().saturating_sub(1) as usize);
            format!("0.{zeros}{digits}")
        }
    }
}

/// The words of the shown items of a float tensor, all one width.
pub(super) fn array_words<T: PrintFloat>(values: &[T]) -> Vec<String> {
    let exponent_form = needs_exponent_form(values);
    let rounded: Vec<Option<String>> = values
        .iter()
        .map(|&value| value.is_finite().then(|| round(value, exponent_form)))
        .collect();
    let columns = Columns::measure(values, &rounded);
    values
        .iter()
        .zip(&rounded)
        .map(|(&value, text)| match text {
            Some(text) => columns.finite(text),
            None => columns.non_finite(value),
        })
        .collect()
}

/// NumPy's switch: large numbers, small numbers or a wide spread among the
/// finite nonzero items.
fn needs_exponent_form<T: PrintFloat>(values: &[T]) -> bool {
    let mut magnitudes = values
        .iter()
        .filter(|value| value.is_finite() && **value != T::ZERO)
        .map(|value| value.abs());
    let Some(first) = magnitudes.next() else {
        return false;
    };
    let (mut smallest, mut largest) = (first, first);
    for magnitude in magnitudes {
        if magnitude < smallest {
            smallest = magnitude;
        }
        if magnitude > largest {
            largest = magnitude;
        }
    }
    largest >= T::EXPONENT_CUTOFF
        || smallest < T::SMALLEST_POSITIONAL
        || largest / smallest > T::WIDEST_RATIO
}

/// A finite value correctly rounded (ties to even, as NumPy's Dragon4) to
/// four decimals, in Rust's spelling: `-12.3457` or `-1.2346e-5`.
fn round<T: PrintFloat>(value: T, exponent_form: bool) -> String {
    if exponent_form {
        return format!("{value:.PRECISION$e}");
    }
    // Rust's `{:.4}` rounds the same way but is several times slower.
    match ten_thousandths(value.widen()) {
        Some(scaled) => {
            let sign = if value.is_sign_negative() { "-" } else { "" };
            let integer = scaled / SCALE;
            let fraction = scaled % SCALE;
            format!("{sign}{integer}.{fraction:0PRECISION$}")
        }
        None => format!("{value:.PRECISION$}"),
    }
}

/// `|value| × 10^4` rounded to an integer, ties to even, computed exactly
/// from the value's bits; None when that does not fit in a u64, which
/// positional items (below 1e8) never reach.
fn ten_thousandths(value: f64) -> Option<u64> {
    const FRACTION_BITS: u32 = 52;
    let bits = value.to_bits();
    let fraction = bits & ((1 << FRACTION_BITS) - 1);
    let biased_exponent = i32::try_from((bits >> FRACTION_BITS) & 0x7ff).ok()?;
    // value = mantissa × 2^exponent, subnormals included.
    let (mantissa, exponent) = if biased_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << FRACTION_BITS, biased_exponent - 1075)
    };
    let scaled = u128::from(mantissa) * u128::from(SCALE);
    let Ok(shift) = u32::try_from(-exponent) else {
        // Integers of 2^53 and more: far beyond any positional item.
        return None;
    };
    if shift == 0 {
        return u64::try_from(scaled).ok();
    }
    if shift >= u128::BITS {
        return Some(0);
    }
    let quotient = scaled >> shift;
    let remainder = scaled - (quotient << shift);
    let half = 1u128 << (shift - 1);
    let round_up = remainder > half || (remainder == half && quotient & 1 == 1);
    u64::try_from(quotient + u128::from(round_up)).ok()
}

/// Rust's rounded text cut into signed integer part, fraction and exponent
/// (an optional `-` and its digits).
fn parts(text: &str) -> (&str, &str, Option<&str>) {
    let (mantissa, exponent) = match text.split_once('e') {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (text, None),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    (integer, fraction, exponent)
}

/// Column widths shared by every item, as NumPy's `fillFormat` sets them.
struct Columns {
    /// Width of the integer part, sign and padding included.
    pad_left: usize,
    /// Width after the point: the fraction, plus `e±XX` in exponent form.
    pad_right: usize,
    /// Exponent digits, zero-padded to the most any item needs (at least 2).
    exponent_digits: usize,
}

impl Columns {
    fn measure<T: PrintFloat>(values: &[T], rounded: &[Option<String>]) -> Columns {
        let mut pad_left = 0;
        let mut fraction_len = 0;
        let mut exponent_digits = None;
        for (integer, fraction, exponent) in rounded.iter().flatten().map(|text| parts(text)) {
            pad_left = pad_left.max(integer.len());
            fraction_len = fraction_len.max(fraction.len());
            if let Some(exponent) = exponent {
                let digits = exponent.trim_start_matches('-').len().max(2);
                exponent_digits = Some(exponent_digits.unwrap_or(0).max(digits));
            }
        }
        let pad_right = match exponent_digits {
            Some(digits) => digits + 2 + fraction_len,
            None => fraction_len,
        };
        // sign=' ' reserves a column for a minus sign that no item has.
        let any_negative = values
            .iter()
            .any(|value| value.is_finite() && value.is_sign_negative());
        if !any_negative {
            pad_left += 1;
        }
        // `-inf` must fit in the width of the finite items (`nan` is shorter).
        if values.iter().any(|value| !value.is_finite()) {
            pad_left = pad_left.max(4usize.saturating_sub(pad_right + 1));
        }
        Columns {
            pad_left,
            pad_right,
            exponent_digits: exponent_digits.unwrap_or(2),
        }
    }

    /// Built by hand: `format!` with computed widths is the slowest part of
    /// printing a large tensor.
    fn finite(&self, text: &str) -> String {
        let (integer, fraction, exponent) = parts(text);
        let mut word = String::with_capacity(self.pad_left + self.pad_right + 1);
        pad(&mut word, ' ', self.pad_left.saturating_sub(integer.len()));
        word.push_str(integer);
        word.push('.');
        word.push_str(fraction);
        match exponent {
            Some(exponent) => {
                let (sign, digits) = match exponent.strip_prefix('-') {
                    Some(digits) => ('-', digits),
                    None => ('+', exponent),
                };
                word.push('e');
                word.push(sign);
                pad(
                    &mut word,
                    '0',
                    self.exponent_digits.saturating_sub(digits.len()),
                );
                word.push_str(digits);
            }
            None => pad(
                &mut word,
                ' ',
                self.pad_right.saturating_sub(fraction.len()),
            ),
        }
        word
    }

    fn non_finite<T: PrintFloat>(&self, value: T) -> String {
        let text = if value.is_nan() {
            "nan"
        } else if value.is_sign_negative() {
            "-inf"
        } else {
            "inf"
        };
        let width = self.pad_left + self.pad_right + 1;
        format!("{text:>width$}")
    }
}

fn pad(word: &mut String, fill: char, count: usize) {
    word.extend(std::iter::repeat_n(fill, count));
}
