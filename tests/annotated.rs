//! Inline expectations: every `tests/check/**/*.tsr` is checked through
//! `tsr::check_source`, and each line's trailing annotation comment says
//! what that line must produce:
//!
//! ```text
//! let z = x + y      # error: tsr::broadcast
//! let c = a @ k.T    # error: tsr::contraction warning: tsr::transpose-nd
//! let y = x * 2.0    # type: [B=2, T=3] f32
//! ```
//!
//! Several `error:`/`warning:` items may share a line; `type:` comes last
//! and takes the rest of the line. A diagnostic nobody annotated fails the
//! test as surely as an annotation nothing produced. Types are compared only
//! on lines that annotate one.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tsr::error::{Code, Severity};
use tsr::source::SourceFile;
use tsr::{check_source, CheckOptions, CheckOutput};

#[test]
fn annotated_programs_produce_exactly_their_annotations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("check");
    let programs = common::files_with_extension(&root, "tsr");
    assert!(!programs.is_empty(), "no programs under {}", root.display());
    let mut failures = Vec::new();
    for path in &programs {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let name = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(path)
            .display()
            .to_string();
        let file = SourceFile::new(name, text);
        let options = CheckOptions {
            dims: Vec::new(),
            base_dir: path.parent().unwrap_or(&root).to_path_buf(),
            record_types: true,
            record_facts: false,
        };
        failures.extend(mismatches(&file, &check_source(&file, &options)));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches in {} annotated programs:\n{}",
        failures.len(),
        programs.len(),
        failures.join("\n")
    );
}

/// What one line says it must produce.
#[derive(Default)]
struct Expected {
    diagnostics: Vec<(Severity, Code)>,
    types: Vec<String>,
}

/// One line per mismatch, `file:line: expected ..., got ...`, by line.
fn mismatches(file: &SourceFile, output: &CheckOutput) -> Vec<String> {
    let mut failures: Vec<(usize, String)> = Vec::new();
    let mut expected: BTreeMap<usize, Expected> = BTreeMap::new();
    for (index, text) in file.text().lines().enumerate() {
        match parse_annotation(text) {
            Ok(annotation) => {
                expected.insert(index + 1, annotation);
            }
            Err(problem) => failures.push((index + 1, problem)),
        }
    }

    // Line 0 holds the diagnostics with no place in the file.
    let mut got: BTreeMap<usize, Vec<(Severity, Code, &str)>> = BTreeMap::new();
    for diagnostic in &output.diagnostics {
        let line = diagnostic
            .span
            .map_or(0, |span| file.line_col(span.start).line);
        got.entry(line).or_default().push((
            diagnostic.severity(),
            diagnostic.code,
            &diagnostic.message,
        ));
    }
    let mut types: BTreeMap<usize, Vec<(u32, &str)>> = BTreeMap::new();
    for (span, printed) in &output.types {
        let line = file.line_col(span.start).line;
        types.entry(line).or_default().push((span.start, printed));
    }

    let annotated = expected
        .iter()
        .filter(|(_, expected)| !expected.diagnostics.is_empty())
        .map(|(line, _)| *line);
    let lines: BTreeSet<usize> = got.keys().copied().chain(annotated).collect();
    for line in lines {
        let wanted = expected
            .get(&line)
            .map_or(&[][..], |expected| &expected.diagnostics[..]);
        let produced = got.get(&line).map_or(&[][..], |got| &got[..]);
        let mut missing = wanted.to_vec();
        let mut surplus = false;
        for &(severity, code, _) in produced {
            match missing.iter().position(|&want| want == (severity, code)) {
                Some(found) => {
                    missing.remove(found);
                }
                None => surplus = true,
            }
        }
        if !missing.is_empty() || surplus {
            let wanted: Vec<String> = wanted.iter().map(|&(s, c)| describe(s, c)).collect();
            let produced: Vec<String> = produced
                .iter()
                .map(|&(s, c, message)| format!("{} ({message})", describe(s, c)))
                .collect();
            failures.push((
                line,
                format!(
                    "expected [{}], got [{}]",
                    wanted.join(", "),
                    produced.join(", ")
                ),
            ));
        }
    }

    for (&line, expected) in &expected {
        if expected.types.is_empty() {
            continue;
        }
        let mut printed = types.get(&line).cloned().unwrap_or_default();
        printed.sort_by_key(|&(start, _)| start);
        let printed: Vec<&str> = printed.into_iter().map(|(_, text)| text).collect();
        if printed != expected.types {
            failures.push((
                line,
                format!("expected type {:?}, got {:?}", expected.types, printed),
            ));
        }
    }
    failures.sort_by_key(|&(line, _)| line);
    failures
        .into_iter()
        .map(|(line, failure)| format!("{}:{line}: {failure}", file.name()))
        .collect()
}

fn describe(severity: Severity, code: Code) -> String {
    format!("{} {}", severity.as_str(), code.as_str())
}

/// The annotation in a line's trailing comment: the last `#` followed by
/// `error:`, `warning:` or `type:`. Other comments are prose.
fn parse_annotation(line: &str) -> Result<Expected, String> {
    let mut expected = Expected::default();
    let comment = line.match_indices('#').rev().find_map(|(at, _)| {
        let rest = line[at + 1..].trim_start();
        ["error:", "warning:", "type:"]
            .iter()
            .any(|keyword| rest.starts_with(keyword))
            .then_some(rest)
    });
    let Some(mut rest) = comment else {
        return Ok(expected);
    };
    while !rest.is_empty() {
        if let Some(printed) = rest.strip_prefix("type:") {
            expected.types.push(printed.trim().to_owned());
            break;
        }
        let (severity, after) = if let Some(after) = rest.strip_prefix("error:") {
            (Severity::Error, after)
        } else if let Some(after) = rest.strip_prefix("warning:") {
            (Severity::Warning, after)
        } else {
            return Err(format!("cannot read the annotation at `{rest}`"));
        };
        let after = after.trim_start();
        let word_end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (word, tail) = after.split_at(word_end);
        let code = Code::ALL
            .into_iter()
            .find(|code| code.as_str() == word)
            .ok_or_else(|| format!("`{word}` is not a diagnostic code"))?;
        if code.severity() != severity {
            return Err(format!(
                "{word} is a{} {}, not a{} {}",
                article(code.severity()),
                code.severity().as_str(),
                article(severity),
                severity.as_str()
            ));
        }
        expected.diagnostics.push((severity, code));
        rest = tail.trim_start();
    }
    Ok(expected)
}

fn article(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "n",
        Severity::Warning => "",
    }
}

/// The harness itself must catch every kind of mismatch.
#[test]
fn mismatches_are_listed_by_line() {
    let text = "let a = 1   # error: tsr::broadcast\n\
                let b = 2   # warning: tsr::transpose-nd type: [B=2] f32\n\
                let c = 3\n\
                let d = 4   # error: nonsense\n";
    let file = SourceFile::new("t.tsr", text);
    let line = |n: usize| {
        let start: usize = text.lines().take(n - 1).map(|l| l.len() + 1).sum();
        tsr::source::Span::new(start, start + 1)
    };
    let output = CheckOutput {
        diagnostics: vec![
            tsr::error::Diagnostic::new(Code::Broadcast, line(1), "ok"),
            tsr::error::Diagnostic::new(Code::Axis, line(3), "stray"),
            tsr::error::Diagnostic::unplaced(Code::Io, "lost"),
        ],
        types: vec![(line(2), "[B=3] f32".to_owned())],
        ..CheckOutput::default()
    };
    assert_eq!(
        mismatches(&file, &output),
        [
            "t.tsr:0: expected [], got [error tsr::io (lost)]",
            "t.tsr:2: expected [warning tsr::transpose-nd], got []",
            "t.tsr:2: expected type [\"[B=2] f32\"], got [\"[B=3] f32\"]",
            "t.tsr:3: expected [], got [error tsr::axis (stray)]",
            "t.tsr:4: `nonsense` is not a diagnostic code",
        ]
    );
}

#[test]
fn annotations_must_name_a_code_of_the_right_severity() {
    let parsed =
        |line| parse_annotation(line).map(|expected| (expected.diagnostics, expected.types));
    assert_eq!(parsed("let x = 1"), Ok((Vec::new(), Vec::new())));
    assert_eq!(
        parsed("# a comment: error: not an annotation"),
        Ok((Vec::new(), Vec::new()))
    );
    assert_eq!(
        parsed("let s = \"#\" # error: tsr::contraction warning: tsr::transpose-nd"),
        Ok((
            vec![
                (Severity::Error, Code::Contraction),
                (Severity::Warning, Code::TransposeNd)
            ],
            Vec::new()
        ))
    );
    assert!(parsed("x # error: tsr::transpose-nd").is_err());
    assert!(parsed("x # warning: tsr::broadcast").is_err());
    assert!(parsed("x # error: tsr::broadcast and more").is_err());
}
