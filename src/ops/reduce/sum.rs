//! Compensated sums and extremes over contiguous data. Each keeps several
//! independent partial results so that its loop vectorises, and long data
//! is split over the cores.

use rayon::prelude::*;

use crate::eval::parallel::{wide, PARALLEL_MIN};

/// Partial results of the compensated sums.
const LANES: usize = 8;

/// Partial results of the plain sums and the extremes: enough independent
/// chains to keep four AVX-512 registers busy, whose adds or compares
/// take several cycles each.
const WIDE_LANES: usize = 32;

/// Neumaier's compensated sum: at least as accurate as NumPy's pairwise
/// summation, whatever the order of magnitudes.
#[derive(Clone, Copy, Default)]
pub struct Compensated {
    sum: f64,
    lost: f64,
}

impl Compensated {
    #[inline]
    pub fn add(&mut self, v: f64) {
        let next = self.sum + v;
        self.lost += if self.sum.abs() >= v.abs() {
            (self.sum - next) + v
        } else {
            (v - next) + self.sum
        };
        self.sum = next;
    }

    /// Past an infinity the compensation is inf - inf: the sum alone is right.
    pub fn value(self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.lost
        } else {
            self.sum
        }
    }
}

pub fn accurate_sum(values: impl Iterator<Item = f64>) -> f64 {
    let mut total = Compensated::default();
    values.for_each(|v| total.add(v));
    total.value()
}

/// How a sum is accumulated in f64.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Accuracy {
    /// Neumaier-compensated, for results kept in f64.
    Compensated,
    /// Plain f64 lanes, for results rounded to f32: their error, below
    /// n * 2^-53 of the sum of magnitudes, is far under f32's rounding
    /// (and NumPy's f32 pairwise sums) for any n up to 2^24.
    ForF32,
}

impl Accuracy {
    /// The accuracy a reduction of elements of type T needs.
    pub fn of<T: crate::eval::value::Element>() -> Accuracy {
        if T::F32_RESULTS {
            Accuracy::ForF32
        } else {
            Accuracy::Compensated
        }
    }
}

/// The sum of `f(v)` over `values`.
pub fn lane_sum<T: Copy + Sync>(
    values: &[T],
    accuracy: Accuracy,
    f: impl Fn(T) -> f64 + Sync,
) -> f64 {
    if values.len() < 4 * PARALLEL_MIN {
        return lane_sum_here(values, accuracy, &f);
    }
    let parts: Vec<f64> = values
        .par_chunks(PARALLEL_MIN)
        .map(|part| lane_sum_here(part, accuracy, &f))
        .collect();
    accurate_sum(parts.into_iter())
}

fn lane_sum_here<T: Copy>(values: &[T], accuracy: Accuracy, f: &impl Fn(T) -> f64) -> f64 {
    match accuracy {
        Accuracy::Compensated => wide(
            #[inline(always)]
            || lanes(values, f),
        ),
        Accuracy::ForF32 => wide(
            #[inline(always)]
            || plain_lanes(values, f),
        ),
    }
}

#[inline(always)]
fn plain_lanes<T: Copy>(values: &[T], f: &impl Fn(T) -> f64) -> f64 {
    let mut sum = [0.0f64; WIDE_LANES];
    let mut chunks = values.chunks_exact(WIDE_LANES);
    for chunk in &mut chunks {
        for k in 0..WIDE_LANES {
            sum[k] += f(chunk[k]);
        }
    }
    accurate_sum(
        sum.into_iter()
            .chain(chunks.remainder().iter().map(|&v| f(v))),
    )
}

#[inline(always)]
fn lanes<T: Copy>(values: &[T], f: &impl Fn(T) -> f64) -> f64 {
    let mut sum = [0.0f64; LANES];
    let mut lost = [0.0f64; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for k in 0..LANES {
            let v = f(chunk[k]);
            let next = sum[k] + v;
            lost[k] += if sum[k].abs() >= v.abs() {
                (sum[k] - next) + v
            } else {
                (v - next) + sum[k]
            };
            sum[k] = next;
        }
    }
    let mut total = Compensated::default();
    sum.iter().for_each(|&s| total.add(s));
    chunks.remainder().iter().for_each(|&v| total.add(f(v)));
    if total.sum.is_finite() {
        total.lost += lost.iter().sum::<f64>();
    }
    total.value()
}

/// The sums of the columns of row-major `[rows, out.len()]` data, for
/// reductions over leading axes. Each task adds a band of whole rows into
/// its own accumulators, reading memory in order; the bands' partial sums
/// are then added compensated. Rows too long for per-task accumulators
/// are split into blocks of columns instead.
pub fn column_sums<T: Copy + Sync>(
    data: &[T],
    out: &mut [f64],
    accuracy: Accuracy,
    f: impl Fn(T) -> f64 + Sync,
) {
    const BLOCK: usize = 512;
    // Accumulators of up to 256 KiB per task.
    const BAND_COLUMNS: usize = 1 << 14;
    let cols = out.len();
    let rows = data.len() / cols.max(1);
    if data.len() >= PARALLEL_MIN && cols <= BAND_COLUMNS && rows >= 2 {
        let band = rows.div_ceil(2 * rayon::current_num_threads()).max(1);
        let partials: Vec<(Vec<f64>, Vec<f64>)> = data
            .par_chunks(band * cols)
            .map(|rows| {
                let (mut sum, mut lost) = (vec![0.0; cols], vec![0.0; cols]);
                wide(
                    #[inline(always)]
                    || columns(rows, cols, 0, &mut sum, &mut lost, accuracy, &f),
                );
                (sum, lost)
            })
            .collect();
        for (j, o) in out.iter_mut().enumerate() {
            let mut total = Compensated::default();
            partials.iter().for_each(|(sum, _)| total.add(sum[j]));
            if total.sum.is_finite() {
                total.lost += partials.iter().map(|(_, lost)| lost[j]).sum::<f64>();
            }
            *o = total.value();
        }
        return;
    }
    let sum_block = |(b, block): (usize, &mut [f64])| {
        let mut lost = vec![0.0; block.len()];
        block.fill(0.0);
        wide(
            #[inline(always)]
            || columns(data, cols, b * BLOCK, block, &mut lost, accuracy, &f),
        );
        for (s, l) in block.iter_mut().zip(&lost) {
            if s.is_finite() {
                *s += l;
            }
        }
    };
    if data.len() < PARALLEL_MIN {
        out.chunks_mut(BLOCK).enumerate().for_each(sum_block);
    } else {
        out.par_chunks_mut(BLOCK).enumerate().for_each(sum_block);
    }
}

/// Adds columns `start..start + sum.len()` of every row of `data` into
/// `sum` (compensated into `lost` unless `accuracy` is `ForF32`).
#[inline(always)]
fn columns<T: Copy>(
    data: &[T],
    cols: usize,
    start: usize,
    sum: &mut [f64],
    lost: &mut [f64],
    accuracy: Accuracy,
    f: &impl Fn(T) -> f64,
) {
    let width = sum.len();
    fn columns_of<T>(row: &[T], start: usize, width: usize) -> &[T] {
        row.get(start..start + width).unwrap_or(&[])
    }
    let part = |row| columns_of(row, start, width);
    if accuracy == Accuracy::ForF32 {
        // Eight rows per pass over the accumulators, then four: an eighth
        // of their loads and stores, and the plain sum's error bound is
        // unchanged. With 4096 columns the accumulators fill L1 by
        // themselves, so each pass costs their traffic from L2.
        let mut octets = data.chunks_exact(8 * cols);
        for octet in &mut octets {
            let mut rows = octet.chunks_exact(cols).map(part);
            let mut next = || rows.next().unwrap_or(&[]);
            let (x0, x1, x2, x3) = (next(), next(), next(), next());
            let (x4, x5, x6, x7) = (next(), next(), next(), next());
            let first = x0.iter().zip(x1).zip(x2.iter().zip(x3));
            let second = x4.iter().zip(x5).zip(x6.iter().zip(x7));
            for (s, (((&a, &b), (&c, &d)), ((&e, &g), (&h, &k)))) in
                sum.iter_mut().zip(first.zip(second))
            {
                *s += ((f(a) + f(b)) + (f(c) + f(d))) + ((f(e) + f(g)) + (f(h) + f(k)));
            }
        }
        let mut quads = octets.remainder().chunks_exact(4 * cols);
        for quad in &mut quads {
            let (a, rest) = quad.split_at(cols);
            let (b, rest) = rest.split_at(cols);
            let (c, d) = rest.split_at(cols);
            let rows = part(a).iter().zip(part(b)).zip(part(c).iter().zip(part(d)));
            for (s, ((&a, &b), (&c, &d))) in sum.iter_mut().zip(rows) {
                *s += (f(a) + f(b)) + (f(c) + f(d));
            }
        }
        for row in quads.remainder().chunks_exact(cols) {
            for (s, &v) in sum.iter_mut().zip(part(row)) {
                *s += f(v);
            }
        }
        return;
    }
    for row in data.chunks_exact(cols) {
        for ((s, l), &v) in sum.iter_mut().zip(lost.iter_mut()).zip(part(row)) {
            let v = f(v);
            let next = *s + v;
            *l += if s.abs() >= v.abs() {
                (*s - next) + v
            } else {
                (v - next) + *s
            };
            *s = next;
        }
    }
}

/// The greatest (or least) of `values`, compared in their own type; nan
/// when any is nan, as NumPy's max; `None` when there are none. Each lane
/// keeps a plain maximum and a flag for whether it met a nan, which
/// vectorises to one compare, one blend and one or per element.
#[inline(always)]
pub fn lane_extreme<T: Copy + PartialOrd>(values: &[T], greatest: bool) -> Option<T> {
    // A nan is the one value unequal to itself.
    #[allow(clippy::eq_op)]
    let unordered = |v: T| v != v;
    let &first = values.first()?;
    let mut best = [first; WIDE_LANES];
    let mut nan = [false; WIDE_LANES];
    let mut chunks = values.chunks_exact(WIDE_LANES);
    for chunk in &mut chunks {
        for k in 0..WIDE_LANES {
            let v = chunk[k];
            nan[k] |= unordered(v);
            let better = if greatest { v > best[k] } else { v < best[k] };
            best[k] = if better { v } else { best[k] };
        }
    }
    if let Some(k) = nan.iter().position(|&n| n) {
        // The lane's first nan, as NumPy returns the first it meets.
        let mut lane = values.chunks_exact(WIDE_LANES).map(|chunk| chunk[k]);
        return lane.find(|&v| unordered(v));
    }
    let mut result = first;
    for v in best.into_iter().chain(chunks.remainder().iter().copied()) {
        if unordered(v) {
            return Some(v);
        }
        if (greatest && v > result) || (!greatest && v < result) {
            result = v;
        }
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::{column_sums, lane_extreme, lane_sum, Accuracy};

    #[test]
    fn lane_sums_keep_what_naive_sums_lose() {
        // A naive sum of 1, 1e100, 1, -1e100 is 0; the exact one is 2.
        let values: Vec<f64> = [1.0, 1e100, 1.0, -1e100].repeat(1001);
        let exact = Accuracy::Compensated;
        assert_eq!(lane_sum(&values, exact, |v| v), 2002.0);
        let big: Vec<f32> = vec![0.1; 1 << 18];
        let sum = f64::from(0.1f32) * (1 << 18) as f64;
        for accuracy in [exact, Accuracy::ForF32] {
            assert!((lane_sum(&big, accuracy, f64::from) - sum).abs() <= 1e-9);
            let infinite = [f64::INFINITY, 1.0, 2.0];
            assert_eq!(lane_sum(&infinite, accuracy, |v| v), f64::INFINITY);
            let both = [f64::INFINITY, f64::NEG_INFINITY];
            assert!(lane_sum(&both, accuracy, |v| v).is_nan());
            assert_eq!(lane_sum::<f64>(&[], accuracy, |v| v), 0.0);
        }
    }

    #[test]
    fn column_sums_add_down_each_column() {
        // Few rows (column blocks), many rows (bands of rows: of 75, eight
        // at a time and three alone; of 13, eight, four and one), and
        // rows too long for per-band accumulators.
        for (rows, cols) in [(3, 600), (300, 600), (52, 700), (3, 40_000)] {
            let data: Vec<f32> = (0..rows * cols).map(|i| (i % cols) as f32).collect();
            let mut out = vec![7.0; cols];
            for accuracy in [Accuracy::Compensated, Accuracy::ForF32] {
                column_sums(&data, &mut out, accuracy, f64::from);
                let want = |j: usize| rows as f64 * j as f64;
                assert!(out.iter().enumerate().all(|(j, &s)| s == want(j)));
            }
        }
        // The compensation survives the split into bands.
        let data: Vec<f64> = [1.0, 1e100, 1.0, -1e100].repeat(20_000);
        let mut out = vec![0.0; 1];
        column_sums(&data, &mut out, Accuracy::Compensated, |v| v);
        assert_eq!(out[0], 40_000.0);
    }

    #[test]
    fn extremes_propagate_nan_anywhere() {
        let mut values: Vec<f64> = (0..37).map(f64::from).collect();
        assert_eq!(lane_extreme(&values, true), Some(36.0));
        assert_eq!(lane_extreme(&values, false), Some(0.0));
        values[30] = f64::NAN;
        assert!(lane_extreme(&values, true).is_some_and(f64::is_nan));
        values[30] = 1.0;
        values[35] = f64::NAN;
        assert!(lane_extreme(&values, false).is_some_and(f64::is_nan));
        values[35] = 2.0;
        values[0] = f64::NAN;
        assert!(lane_extreme(&values, true).is_some_and(f64::is_nan));
        // In f32 too, with the nan inside the lanes or the remainder, and
        // the extreme at either end.
        for at in [0, 5, 63, 64, 99] {
            let mut v: Vec<f32> = (0..100).map(|i| (i as f32 - 40.0).abs()).collect();
            assert_eq!(lane_extreme(&v, true), Some(59.0));
            assert_eq!(lane_extreme(&v, false), Some(0.0));
            v[at] = f32::NAN;
            assert!(lane_extreme(&v, true).is_some_and(f32::is_nan), "{at}");
            assert!(lane_extreme(&v, false).is_some_and(f32::is_nan), "{at}");
        }
        assert_eq!(lane_extreme::<f32>(&[], true), None);
        assert_eq!(lane_extreme(&[f32::NEG_INFINITY, -1.0], true), Some(-1.0));
    }
}
