//! The real `tsr` binary on a pseudo-terminal, driven as a person would:
//! multi-line input, errors, completion, Ctrl-C, history, `:load`.
//! Each test keeps its history in a fresh directory (`XDG_DATA_HOME`).

#![cfg(unix)]

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rexpect::session::{spawn_command, PtySession};

type Result = std::result::Result<(), Box<dyn Error>>;

/// Generous: a loaded CI machine may be slow to start the binary.
const TIMEOUT_MS: u64 = 30_000;

fn home(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tsr-pty-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn start(home: &Path, args: &[&str]) -> std::result::Result<PtySession, Box<dyn Error>> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tsr"));
    command
        .arg("repl")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut repl = spawn_command(command, Some(TIMEOUT_MS))?;
    repl.exp_string("tsr> ")?;
    Ok(repl)
}

/// Types a line at the prompt, waits for `expected` on a line of its own
/// (the hint on the typed line may show the same text), then for the next
/// prompt: the editor drops what is typed before it shows one.
fn enter(repl: &mut PtySession, line: &str, expected: &str) -> Result {
    repl.send_line(line)?;
    repl.exp_string(&format!("\n{expected}"))?;
    repl.exp_string("tsr> ")?;
    Ok(())
}

#[test]
fn multi_line_input_and_a_failing_line_then_a_working_one() -> Result {
    let dir = home("lines");
    let mut repl = start(&dir, &[])?;
    repl.send_line("fn twice(v: [N]) -> [N] {")?;
    repl.exp_string("...> ")?;
    repl.send_line("  v * 2")?;
    repl.exp_string("...> ")?;
    repl.send_line("}")?;
    repl.exp_string("tsr> ")?;
    enter(
        &mut repl,
        "twice(ones([2]))",
        "[2] f32\r\n[ 2.0000,  2.0000]",
    )?;
    enter(&mut repl, "let bad = twice(ones([2, 2]))", "tsr::call")?;
    enter(&mut repl, "bad", "tsr::undefined")?;
    enter(&mut repl, "6 * 7", "42")?;
    enter(
        &mut repl,
        ":vras",
        "unknown command `:vras`; did you mean `:vars`?",
    )?;
    repl.send_control('d')?;
    repl.exp_eof()?;
    Ok(())
}

#[test]
fn tab_completes_bindings_and_builtins() -> Result {
    let dir = home("complete");
    let mut repl = start(&dir, &[])?;
    enter(&mut repl, "let a_long_name = 5", "a_long_name: [] i64")?;
    repl.send("a_lo\t")?;
    enter(&mut repl, " + 1", "6")?;
    repl.send("log_sof\t")?;
    enter(&mut repl, "([1.0, 1.0], 0)", "[-0.6931, -0.6931]")?;
    repl.send_line(":quit")?;
    repl.exp_eof()?;
    Ok(())
}

#[test]
fn ctrl_c_stops_a_long_loop_and_keeps_the_session() -> Result {
    let dir = home("cancel");
    let mut repl = start(&dir, &[])?;
    enter(&mut repl, "let kept = 7", "kept: [] i64")?;
    repl.send_line("for i in 0..1000000000000 { let z = i * 2 }")?;
    std::thread::sleep(Duration::from_millis(500));
    repl.send_control('c')?;
    repl.exp_string("interrupted")?;
    repl.exp_string("tsr> ")?;
    enter(&mut repl, "kept + 1", "8")?;
    // At the prompt, Ctrl-C drops the line being typed.
    repl.send("let dropped = 1")?;
    repl.send_control('c')?;
    std::thread::sleep(Duration::from_millis(500));
    enter(&mut repl, "dropped", "tsr::undefined")?;
    repl.send_control('d')?;
    repl.exp_eof()?;
    Ok(())
}

#[test]
fn history_survives_a_restart() -> Result {
    let dir = home("history");
    let mut first = start(&dir, &[])?;
    enter(&mut first, "let remembered = 41", "remembered: [] i64")?;
    first.send_control('d')?;
    first.exp_eof()?;
    let mut second = start(&dir, &[])?;
    second.send("\x1b[A")?;
    enter(&mut second, "", "remembered: [] i64")?;
    enter(&mut second, "remembered + 1", "42")?;
    second.send_control('d')?;
    second.exp_eof()?;
    let history = std::fs::read_to_string(dir.join("data/tsr/history"))?;
    assert!(history.contains("let remembered = 41"), "{history}");
    Ok(())
}

#[test]
fn load_runs_an_example_into_the_session() -> Result {
    let dir = home("load");
    let mut repl = start(&dir, &["--random-inputs"])?;
    repl.send_line(":load examples/two_layer_forward.tsr")?;
    repl.exp_string("tsr> ")?;
    enter(&mut repl, ":t logits", "[Bt=8, Cls=3] f32")?;
    std::fs::create_dir_all(&dir)?;
    let binary = dir.join("weights.bin");
    std::fs::write(&binary, [0x93, b'N', b'U', b'M', b'P', b'Y', 0, 1, 0xff])?;
    repl.send_line(&format!(":load {}", binary.display()))?;
    repl.exp_string("holds binary data")?;
    repl.exp_string("tsr> ")?;
    enter(&mut repl, "loss > 0.0", "true")?;
    repl.send_control('d')?;
    repl.exp_eof()?;
    Ok(())
}
