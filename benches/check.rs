//! Throughput of `tsr::check_source` on generated, realistic, valid scripts
//! of 10k, 100k and 1M lines (counted as items: divan prints lines/s).
//!
//! ```text
//! cargo bench --bench check                  # all sizes
//! cargo bench --bench check -- check_100k    # one size (divan filter)
//! ```
//!
//! The scripts come from `bench/gen_check_script.py` (python3, standard
//! library only), the same generator used to time `tsr check` from the
//! shell; see `bench/README.md`. `parse_*` time the parser alone, so
//! `check_* - parse_*` is the checker proper.

use std::process::Command;
use std::sync::OnceLock;

use divan::counter::ItemsCount;
use divan::Bencher;
use tsr::source::SourceFile;
use tsr::{check_source, CheckOptions};

// The same allocator as the `tsr` binary (src/main.rs), so these numbers
// are what `tsr check` does; the library itself leaves the choice to its user.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

fn generate(lines: usize) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/gen_check_script.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(lines.to_string())
        .output()
        .expect("the benchmark needs python3 to run bench/gen_check_script.py");
    assert!(output.status.success(), "gen_check_script.py failed");
    String::from_utf8(output.stdout).expect("the generator writes UTF-8")
}

fn script(lines: usize) -> &'static SourceFile {
    static S10K: OnceLock<SourceFile> = OnceLock::new();
    static S100K: OnceLock<SourceFile> = OnceLock::new();
    static S1M: OnceLock<SourceFile> = OnceLock::new();
    let cell = match lines {
        10_000 => &S10K,
        100_000 => &S100K,
        1_000_000 => &S1M,
        _ => unreachable!("no cached script of {lines} lines"),
    };
    cell.get_or_init(|| {
        let file = SourceFile::new(format!("gen{lines}.tsr"), generate(lines));
        // A benchmark of a program with diagnostics would measure the wrong thing.
        let output = check_source(&file, &CheckOptions::default());
        assert!(
            output.diagnostics.is_empty(),
            "the generated {lines}-line script has {} diagnostics, first: {:?} {}",
            output.diagnostics.len(),
            output.diagnostics[0].code.as_str(),
            output.diagnostics[0].message,
        );
        file
    })
}

fn bench_check(bencher: Bencher, lines: usize) {
    let file = script(lines);
    let options = CheckOptions::default();
    bencher
        .counter(ItemsCount::new(lines))
        .bench(|| drop(check_source(divan::black_box(file), &options)));
}

fn bench_parse(bencher: Bencher, lines: usize) {
    let file = script(lines);
    bencher
        .counter(ItemsCount::new(lines))
        .bench(|| drop(tsr::syntax::parse(divan::black_box(file))));
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn check_10k(bencher: Bencher) {
    bench_check(bencher, 10_000);
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn check_100k(bencher: Bencher) {
    bench_check(bencher, 100_000);
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn check_1m(bencher: Bencher) {
    bench_check(bencher, 1_000_000);
}

#[divan::bench(sample_count = 20, sample_size = 1)]
fn parse_10k(bencher: Bencher) {
    bench_parse(bencher, 10_000);
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn parse_100k(bencher: Bencher) {
    bench_parse(bencher, 100_000);
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn parse_1m(bencher: Bencher) {
    bench_parse(bencher, 1_000_000);
}
