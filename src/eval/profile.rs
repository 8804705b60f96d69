//! `--profile`: per source line, how often its statement ran, the wall
//! time it took (inclusive of the fns it calls) and the FLOPs its kernels
//! counted. Slowest first.

use std::fmt::Write as _;

use rustc_hash::FxHashMap;

use crate::source::SourceFile;

#[derive(Clone, Copy, Debug, Default)]
pub struct LineCost {
    pub calls: u64,
    pub seconds: f64,
    pub flops: f64,
}

/// Costs by the byte offset where each statement starts.
#[derive(Debug, Default)]
pub struct Profile {
    pub by_offset: FxHashMap<u32, LineCost>,
}

impl Profile {
    /// Costs by 1-based line, slowest first.
    pub fn lines(&self, file: &SourceFile) -> Vec<(usize, LineCost)> {
        let mut by_line: FxHashMap<usize, LineCost> = FxHashMap::default();
        for (&offset, cost) in &self.by_offset {
            let entry = by_line.entry(file.line_col(offset).line).or_default();
            entry.calls += cost.calls;
            entry.seconds += cost.seconds;
            entry.flops += cost.flops;
        }
        let mut lines: Vec<(usize, LineCost)> = by_line.into_iter().collect();
        lines.sort_by(|a, b| b.1.seconds.total_cmp(&a.1.seconds).then(a.0.cmp(&b.0)));
        lines
    }

    /// The table `--profile` prints to stderr.
    pub fn table(&self, file: &SourceFile) -> String {
        let mut out = format!(
            "{:>6}  {:>8}  {:>12}  {:>12}\n",
            "line", "calls", "seconds", "flops"
        );
        for (line, cost) in self.lines(file) {
            let _ = writeln!(
                out,
                "{line:>6}  {:>8}  {:>12.6}  {:>12.3e}",
                cost.calls, cost.seconds, cost.flops
            );
        }
        out
    }

    /// The JSON of `--profile-json`.
    pub fn json(&self, file: &SourceFile) -> String {
        let lines: Vec<serde_json::Value> = self
            .lines(file)
            .into_iter()
            .map(|(line, c)| serde_json::json!({"line": line, "calls": c.calls, "seconds": c.seconds, "flops": c.flops}))
            .collect();
        serde_json::json!({ "lines": lines }).to_string()
    }
}
