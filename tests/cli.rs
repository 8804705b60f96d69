//! The `tsr` binary as a user drives it: exit codes, output formats and
//! streams (LANGUAGE.md sections 8 and 10.12). The programs here mean the
//! same to any correct checker: a stray `$` is a parse error, `.T` on a 4-D
//! tensor is the `tsr::transpose-nd` warning.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const CLEAN: &str = "dim B = 2, D = 3\ninput x: [B, D]\nlet y = x * 2.0\nprint(y)\n";
/// A parse error on line 2.
const PARSE_ERROR: &str = "dim B = 2\nlet y = $\n";
/// The `tsr::transpose-nd` warning on line 3, and nothing else.
const WARNING: &str =
    "dim B = 2, H = 3, T = 4, Dh = 5\ninput k: [B, H, T, Dh]\nlet kt = k.T\nprint(kt)\n";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "not one line: {:?}",
            self.stdout
        );
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", self.stdout))
    }
}

/// A scratch directory for one test, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let path = std::env::temp_dir().join(format!("tsr-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch directory");
        Dir(path)
    }

    fn with(self, name: &str, text: &str) -> Dir {
        std::fs::write(self.0.join(name), text).expect("write a test program");
        self
    }

    fn tsr(&self, args: &[&str]) -> Run {
        self.tsr_with(args, "", &[])
    }

    fn tsr_with(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        tsr_in(&self.0, args, stdin, env)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tsr_in(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tsr"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start tsr");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("wait for tsr");
    Run {
        code: output.status.code().expect("tsr exited by a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// (code, line) of every diagnostic of a JSON report.
fn codes(report: &Value) -> Vec<(String, u64)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics is an array")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_owned(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_clean_file_exits_0_and_prints_nothing() {
    let dir = Dir::new("clean").with("a.tsr", CLEAN);
    let run = dir.tsr(&["check", "a.tsr"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn errors_exit_1_and_go_to_stderr_in_human_format() {
    let dir = Dir::new("errors").with("a.tsr", PARSE_ERROR);
    let run = dir.tsr(&["check", "a.tsr"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("tsr::parse"), "{}", run.stderr);
    assert!(run.stderr.contains("a.tsr:2:"), "{}", run.stderr);
}

#[test]
fn warnings_alone_exit_0_unless_denied() {
    let dir = Dir::new("warnings").with("a.tsr", WARNING);
    let allowed = dir.tsr(&["check", "a.tsr", "--format", "json"]);
    assert_eq!(allowed.code, 0);
    assert_eq!(
        codes(&allowed.json()),
        [("tsr::transpose-nd".to_owned(), 3)]
    );
    let denied = dir.tsr(&["check", "--deny-warnings", "a.tsr", "--format", "json"]);
    assert_eq!(denied.code, 1);
    let report = denied.json();
    assert_eq!(
        (&report["errors"], &report["warnings"]),
        (&Value::from(0), &Value::from(1))
    );
    assert_eq!(report["diagnostics"][0]["severity"], "warning");
}

#[test]
fn a_missing_file_is_an_io_error_with_exit_2() {
    let dir = Dir::new("missing");
    let run = dir.tsr(&["check", "nope.tsr"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("tsr::io"), "{}", run.stderr);
    assert!(run.stderr.contains("nope.tsr"), "{}", run.stderr);
    assert!(
        !run.stderr.contains('╭'),
        "an unplaced error has no snippet: {}",
        run.stderr
    );
}

#[test]
fn a_missing_file_is_still_one_json_object() {
    let dir = Dir::new("missing-json");
    let run = dir.tsr(&["check", "--format", "json", "nope.tsr"]);
    assert_eq!(run.code, 2);
    let report = run.json();
    assert_eq!(
        (&report["files"], &report["errors"]),
        (&Value::from(1), &Value::from(1))
    );
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["code"], "tsr::io");
    assert_eq!(diagnostic["file"], "nope.tsr");
    for key in ["line", "column", "end_line", "end_column"] {
        assert!(
            diagnostic[key].is_null(),
            "{key} of an unplaced error: {diagnostic}"
        );
    }
    assert_eq!(diagnostic["labels"], Value::Array(Vec::new()));
}

#[test]
fn an_unreadable_file_wins_over_program_errors() {
    let dir = Dir::new("missing-and-errors").with("bad.tsr", PARSE_ERROR);
    let run = dir.tsr(&["check", "bad.tsr", "nope.tsr", "--format", "json"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["errors"], 2);
}

#[test]
fn a_file_that_is_not_utf8_is_an_io_error() {
    let dir = Dir::new("not-utf8");
    std::fs::write(dir.0.join("a.tsr"), b"let x = 1 \xff\n").expect("write");
    let run = dir.tsr(&["check", "a.tsr", "--format", "json"]);
    assert_eq!(run.code, 2);
    assert_eq!(codes(&run.json()), [("tsr::io".to_owned(), 0)]);
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new("usage").with("a.tsr", CLEAN);
    for args in [
        &["check", "a.tsr", "--dim", "B"][..],
        &["check", "a.tsr", "--dim", "B=x"],
        &["check", "a.tsr", "--dim", "1B=2"],
        &["check", "a.tsr", "--dim", "B=-1"],
        &["check", "a.tsr", "--dim", "B=99999999999999999999"],
        &["check", "a.tsr", "--bogus"],
        &["check", "a.tsr", "--format", "xml"],
        &["check"],
        &["a.tsr", "check", "a.tsr"],
        &["run", "a.tsr", "-e", "1"],
    ] {
        let run = dir.tsr(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error"), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn a_well_formed_dim_is_accepted_before_or_after_the_file() {
    let dir = Dir::new("dims").with("a.tsr", CLEAN);
    assert_eq!(
        dir.tsr(&["check", "--dim", "B=4", "a.tsr", "--dim", "D=0"])
            .code,
        0
    );
    assert_eq!(dir.tsr(&["--dim", "B=4", "check", "a.tsr"]).code, 0);
}

#[test]
fn json_is_one_line_with_the_section_8_schema() {
    let dir = Dir::new("json").with("a.tsr", PARSE_ERROR);
    let run = dir.tsr(&["check", "a.tsr", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.ends_with('\n'));
    assert_eq!(run.stderr, "");
    let report = run.json();
    assert_eq!(report["version"], 1);
    assert_eq!(report["files"], 1);
    assert_eq!(report["errors"], 1);
    assert_eq!(report["warnings"], 0);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["file"], "a.tsr");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["code"], "tsr::parse");
    assert!(diagnostic["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(diagnostic["line"], 2);
    for key in ["column", "end_line", "end_column"] {
        assert!(
            diagnostic[key].as_u64().is_some_and(|n| n >= 1),
            "{key}: {diagnostic}"
        );
    }
    assert!(diagnostic["labels"].is_array());
    assert!(diagnostic["help"].is_null() || diagnostic["help"].is_string());
}

#[test]
fn columns_count_characters_not_bytes() {
    // `$` is the 15th character of the line but starts at byte 17.
    let dir = Dir::new("columns").with("a.tsr", "let s = \"αβγ\" $\n");
    let report = dir.tsr(&["check", "a.tsr", "--format", "json"]).json();
    let diagnostic = report["diagnostics"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["column"] == 15))
        .unwrap_or_else(|| panic!("no diagnostic at column 15: {report}"));
    assert_eq!(diagnostic["code"], "tsr::parse");
    assert_eq!(
        (&diagnostic["end_line"], &diagnostic["end_column"]),
        (&Value::from(1), &Value::from(16))
    );
}

#[test]
fn github_format_is_one_escaped_command_per_diagnostic() {
    let dir = Dir::new("github")
        .with("a%b:c,d.tsr", PARSE_ERROR)
        .with("w.tsr", WARNING);
    let run = dir.tsr(&["check", "--format", "github", "a%b:c,d.tsr", "w.tsr"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].starts_with("::error file=a%25b%3Ac%2Cd.tsr,line=2,col="),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(",title=tsr%3A%3Aparse::"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("::warning file=w.tsr,line=3,col="),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",title=tsr%3A%3Atranspose-nd::"),
        "{}",
        lines[1]
    );
}

#[test]
fn github_format_escapes_the_message_less_than_properties() {
    let dir = Dir::new("github-message");
    let run = dir.tsr(&["check", "--format", "github", "no%such:file,\r\n.tsr"]);
    assert_eq!(run.code, 2);
    let expected_start =
        "::error file=no%25such%3Afile%2C%0D%0A.tsr,title=tsr%3A%3Aio::cannot read `no%25such:file,%0D%0A.tsr`:";
    assert!(run.stdout.starts_with(expected_start), "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
}

#[test]
fn stdin_is_read_for_a_dash_and_named_stdin() {
    let dir = Dir::new("stdin");
    let run = dir.tsr_with(&["check", "-", "--format", "json"], PARSE_ERROR, &[]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["diagnostics"][0]["file"], "<stdin>");
    assert_eq!(codes(&report), [("tsr::parse".to_owned(), 2)]);
}

#[test]
fn several_files_are_counted_and_sorted_by_file_then_line() {
    let dir = Dir::new("several")
        .with("b.tsr", PARSE_ERROR)
        .with("c.tsr", CLEAN)
        .with("a.tsr", WARNING);
    let run = dir.tsr(&["check", "b.tsr", "c.tsr", "a.tsr", "--format", "json"]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["files"], 3);
    let files: Vec<&str> = report["diagnostics"]
        .as_array()
        .map(|all| all.iter().filter_map(|d| d["file"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(files, ["a.tsr", "b.tsr"]);

    let human = dir.tsr(&["check", "b.tsr", "c.tsr", "a.tsr", "--color", "never"]);
    let a = human.stderr.find("[a.tsr:3:");
    let b = human.stderr.find("[b.tsr:2:");
    assert!(a.is_some() && b.is_some() && a < b, "{}", human.stderr);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = Dir::new("colour").with("a.tsr", PARSE_ERROR);
    let has_escapes = |args: &[&str], env: &[(&str, &str)]| {
        let run = dir.tsr_with(args, "", env);
        assert_eq!(run.code, 1, "{}", run.stderr);
        run.stderr.contains('\u{1b}')
    };
    assert!(has_escapes(&["check", "a.tsr", "--color", "always"], &[]));
    assert!(has_escapes(
        &["check", "a.tsr", "--color", "always"],
        &[("NO_COLOR", "1")]
    ));
    assert!(!has_escapes(&["check", "a.tsr", "--color", "never"], &[]));
    assert!(!has_escapes(&["check", "a.tsr"], &[("NO_COLOR", "1")]));
    assert!(!has_escapes(&["check", "a.tsr", "--color", "auto"], &[]));
}

#[test]
fn machine_formats_are_never_coloured() {
    let dir = Dir::new("machine-colour").with("a.tsr", PARSE_ERROR);
    for format in ["json", "github"] {
        let run = dir.tsr(&["check", "a.tsr", "--color", "always", "--format", format]);
        assert!(!run.stdout.contains('\u{1b}'), "{format}: {}", run.stdout);
    }
}

#[test]
fn run_reports_check_errors_on_stderr_and_exits_1() {
    let dir = Dir::new("run-errors").with("a.tsr", PARSE_ERROR);
    for args in [
        &["run", "a.tsr"][..],
        &["a.tsr"],
        &["run", "a.tsr", "--format", "github"],
    ] {
        let run = dir.tsr(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(run.stderr.contains("tsr%3A%3Aparse") || run.stderr.contains("tsr::parse"));
    }
    let json = dir.tsr(&["run", "a.tsr", "--format", "json"]);
    assert_eq!((json.code, json.stdout.as_str()), (1, ""));
    let last = json.stderr.lines().rev().find(|line| line.starts_with('{'));
    let report: Value = last
        .and_then(|line| serde_json::from_str(line).ok())
        .expect("a JSON report on stderr");
    assert_eq!(codes(&report), [("tsr::parse".to_owned(), 2)]);
}

#[test]
fn run_with_denied_warnings_stops_before_evaluating() {
    let dir = Dir::new("run-deny").with("a.tsr", WARNING);
    let run = dir.tsr(&["run", "a.tsr", "--deny-warnings"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert!(run.stderr.contains("tsr::transpose-nd"), "{}", run.stderr);
}

#[test]
fn run_of_a_missing_file_exits_2() {
    let dir = Dir::new("run-missing");
    let run = dir.tsr(&["run", "nope.tsr"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("tsr::io"), "{}", run.stderr);
}

#[test]
fn snippets_and_piped_programs_are_checked_before_running() {
    let dir = Dir::new("run-sources");
    assert_eq!(dir.tsr(&["run", "-e", "let y = $"]).code, 1);
    let piped = dir.tsr_with(&[], PARSE_ERROR, &[]);
    assert_eq!(piped.code, 1, "{}", piped.stderr);
    assert!(piped.stderr.contains("<stdin>:2:"), "{}", piped.stderr);
}

/// Section 10.10: an input with no data is `tsr::io`, exit 2.
#[test]
fn an_input_without_data_is_a_command_line_error() {
    let dir = Dir::new("run-no-data").with("a.tsr", CLEAN);
    let run = dir.tsr(&["run", "a.tsr", "--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains("\"code\":\"tsr::io\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no data for input `x`"),
        "{}",
        run.stderr
    );
}

/// A file `--input` names that cannot be read is the command line's fault
/// (exit 2); data of another shape is the program's error (exit 1).
#[test]
fn input_files_exit_2_when_unreadable_and_1_when_their_data_disagrees() {
    let dir = Dir::new("run-input-data").with("a.tsr", CLEAN);
    let saved = dir.tsr(&["run", "-e", "save(ones([3, 2]), \"x.npy\")"]);
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    for (file, code) in [("missing.npy", 2), ("x.npy", 1)] {
        let input = format!("x={file}");
        let run = dir.tsr(&["run", "a.tsr", "--input", &input, "--format", "json"]);
        assert_eq!((run.code, run.stdout.as_str()), (code, ""), "{file}");
        assert!(
            run.stderr.contains("\"code\":\"tsr::io\""),
            "{file}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(file), "{file}: {}", run.stderr);
    }
}

#[test]
fn a_run_prints_the_program_output_with_its_types() {
    let dir = Dir::new("run-random").with("a.tsr", CLEAN);
    let run = dir.tsr(&["run", "a.tsr", "--random-inputs", "--seed", "3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("[B=2, D=3] f32\n[["),
        "{}",
        run.stdout
    );
    let again = dir.tsr(&["a.tsr", "--random-inputs", "--seed", "3"]);
    assert_eq!(
        again.stdout, run.stdout,
        "the same seed gives the same values"
    );
}

#[test]
fn a_snippet_runs_from_the_command_line() {
    let dir = Dir::new("run-e");
    let run = dir.tsr(&["run", "-e", "print(6 * 7, 1 / 4, true, \"done\")"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "42 0.25 true done\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn deeply_nested_input_does_not_crash_the_checker() {
    let depth = 10_000;
    let program = format!("let x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let dir = Dir::new("deep").with("a.tsr", &program);
    let run = dir.tsr(&["check", "a.tsr", "--format", "json"]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    run.json();
}

#[test]
fn a_dim_option_naming_no_dim_is_an_error_with_a_suggestion() {
    let dir = Dir::new("dims-unknown").with("a.tsr", CLEAN);
    let run = dir.tsr(&["check", "a.tsr", "--dim", "b=4", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("\"code\":\"tsr::dim\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("did you mean `B`?"), "{}", run.stdout);
}

#[test]
fn profile_json_reports_lines_slowest_first_with_matmul_flops() {
    let program = "let a = [[1.0, 2.0], [3.0, 4.0]]\nfor i in 0..3 {\n    a = a @ a * 0.1\n}\nprint(a.shape)\n";
    let dir = Dir::new("profile").with("a.tsr", program);
    let run = dir.tsr(&["run", "a.tsr", "--profile-json", "p.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(dir.0.join("p.json")).expect("the profile is written");
    let json: serde_json::Value = serde_json::from_str(&text).expect("the profile is JSON");
    let lines = json["lines"].as_array().expect("a list of lines");
    let line3 = lines
        .iter()
        .find(|l| l["line"] == 3)
        .expect("line 3 is profiled");
    assert_eq!(line3["calls"], 3);
    // Each of the 3 calls: a 2x2 @ 2x2 (2 * 4 * 2 = 16) and a scaling (4).
    assert_eq!(line3["flops"].as_f64(), Some(60.0));
    let seconds: Vec<f64> = lines.iter().filter_map(|l| l["seconds"].as_f64()).collect();
    assert!(
        seconds.windows(2).all(|w| w[0] >= w[1]),
        "slowest first: {seconds:?}"
    );
}

#[test]
fn max_memory_refuses_a_result_before_allocating_it() {
    let program = "dim N = 30000\nlet a = zeros([N, N])\nlet b = a + 1.0\nprint(b.shape)\n";
    let dir = Dir::new("max-memory").with("a.tsr", program);
    let run = dir.tsr(&[
        "run",
        "a.tsr",
        "--max-memory",
        "1000000",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("\"code\":\"tsr::limit\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\"line\":2"),
        "refused at the constructor: {}",
        run.stderr
    );
}
