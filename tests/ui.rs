//! Golden tests of the rendered diagnostics: every `tests/ui/<area>/<name>.tsr`
//! is checked by the binary (`tsr check --color never <name>.tsr`, human
//! format) and its stderr must equal `<name>.stderr` beside it (no file: no
//! output). `TSR_BLESS=1 cargo test --test ui` rewrites the goldens; see
//! tests/ui/README.md.

mod common;

use std::path::Path;
use std::process::Command;

const BLESS_VARIABLE: &str = "TSR_BLESS";

#[test]
fn rendered_diagnostics_match_their_goldens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("ui");
    let programs = common::files_with_extension(&root, "tsr");
    assert!(!programs.is_empty(), "no programs under {}", root.display());
    let bless = std::env::var_os(BLESS_VARIABLE).is_some_and(|value| value == "1");

    let mut failures = Vec::new();
    for program in &programs {
        let golden = program.with_extension("stderr");
        let actual = match render(program) {
            Ok(actual) => actual,
            Err(failure) => {
                failures.push(failure);
                continue;
            }
        };
        if bless {
            bless_golden(&golden, &actual);
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}: stderr differs from {}\n{}",
                shown(program),
                shown(&golden),
                line_diff(&expected, &actual)
            ));
        }
    }
    for golden in common::files_with_extension(&root, "stderr") {
        if golden.with_extension("tsr").exists() {
            continue;
        }
        if bless {
            remove_golden(&golden);
        } else {
            failures.push(format!("{}: no program beside it", shown(&golden)));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\n{} of {} UI tests failed; if the new output is right, run \
         `{BLESS_VARIABLE}=1 cargo test --test ui` and review the diff",
        failures.join("\n\n"),
        failures.len(),
        programs.len()
    );
}

/// The binary's stderr for `program`, with its directory written `$DIR`.
fn render(program: &Path) -> Result<String, String> {
    let (Some(dir), Some(name)) = (program.parent(), program.file_name()) else {
        return Err(format!("{}: not a file in a directory", shown(program)));
    };
    let output = Command::new(env!("CARGO_BIN_EXE_tsr"))
        .args(["check", "--color", "never"])
        .arg(name)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .map_err(|error| format!("{}: cannot start tsr: {error}", shown(program)))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !matches!(output.status.code(), Some(0 | 1)) || !output.stdout.is_empty() {
        return Err(format!(
            "{}: `tsr check` ended with {} and stdout {:?}\n{stderr}",
            shown(program),
            output.status,
            String::from_utf8_lossy(&output.stdout)
        ));
    }
    Ok(normalise(&stderr, dir))
}

fn normalise(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "$DIR")
        .replace("\r\n", "\n")
}

fn bless_golden(golden: &Path, actual: &str) {
    if actual.is_empty() {
        remove_golden(golden);
    } else {
        std::fs::write(golden, actual)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", shown(golden)));
    }
}

fn remove_golden(golden: &Path) {
    if golden.exists() {
        std::fs::remove_file(golden)
            .unwrap_or_else(|error| panic!("cannot remove {}: {error}", shown(golden)));
    }
}

/// The lines that differ, `-` expected and `+` actual, from the first
/// difference on (the goldens are short).
fn line_diff(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    let same = expected
        .iter()
        .zip(&actual)
        .take_while(|(left, right)| left == right)
        .count();
    let mut diff = format!("first difference at line {}:\n", same + 1);
    for line in expected.iter().skip(same) {
        diff.push_str(&format!("-{line}\n"));
    }
    for line in actual.iter().skip(same) {
        diff.push_str(&format!("+{line}\n"));
    }
    diff
}

/// A path as the test tree names it, for failure messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}
