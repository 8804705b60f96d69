//! The interactive REPL of LANGUAGE.md section 9: a UI-free backend
//! (`session`), the `:` commands (`command`), and a rustyline front end
//! (`editor`, `colour`). This loop ties them together and, as a front end,
//! writes to the terminal through explicit writers.

pub mod colour;
pub mod command;
mod editor;
pub mod session;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use self::command::Command;
use self::editor::{Input, Reader};
use self::session::{Reply, Session};
use crate::diagnostics::{self, FileReport, Format};
use crate::error::{Code, Diagnostic};
use crate::eval::{cancel, RunOptions};
use crate::source::SourceFile;

pub use self::session::is_incomplete;

/// Diagnostics shown for one input at most; a pasted or loaded file full of
/// mistakes reports the first ones and how many more there were.
const MAX_SHOWN_DIAGNOSTICS: usize = 20;
/// `:time` repeats an expression for about this long.
const TIME_BUDGET: Duration = Duration::from_millis(200);
/// `:load` refuses larger files: a script this big is not typed by hand.
const MAX_LOAD_BYTES: u64 = 64 << 20;

pub struct ReplOptions {
    pub run: RunOptions,
    /// Colour the line being typed and the diagnostics.
    pub color: bool,
    /// The history file, shared by every session; `None` keeps no history.
    pub history: Option<PathBuf>,
}

/// Where history is kept: the platform's data directory (XDG on Linux).
pub fn default_history() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("tsr").join("history"))
}

/// Runs the REPL until `:quit` or Ctrl-D; the exit code.
pub fn run(options: ReplOptions) -> u8 {
    let color = options.color;
    let session = Rc::new(RefCell::new(Session::new(options.run)));
    let mut reader = match Reader::new(session.clone(), color, options.history) {
        Ok(reader) => reader,
        Err(message) => {
            write_err(&format!("tsr: {message}\n"));
            return 2;
        }
    };
    // A second handler cannot be installed in the same process (a test
    // starting two REPLs); the first one already sets the same flag.
    let _ = ctrlc::set_handler(cancel::request);
    write_err(concat!(
        "tsr ",
        env!("CARGO_PKG_VERSION"),
        " — :help for help, Ctrl-D to quit\n"
    ));
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { "tsr> " } else { "...> " };
        let line = match reader.read(prompt) {
            Ok(Input::Line(line)) => line,
            Ok(Input::Interrupted) => {
                pending.clear();
                continue;
            }
            Ok(Input::Eof) => break,
            Err(message) => {
                write_err(&format!("tsr: cannot read the line: {message}\n"));
                return 2;
            }
        };
        if pending.is_empty() && line.trim_start().starts_with(':') {
            remember(&mut reader, &line);
            match command::parse(&line) {
                Ok(Command::Quit) => break,
                Ok(command) => run_command(command, &mut session.borrow_mut(), color),
                Err(message) => write_err(&format!("{message}\n")),
            }
            continue;
        }
        pending.push_str(&line);
        pending.push('\n');
        if is_incomplete(&pending) {
            continue;
        }
        let code = std::mem::take(&mut pending);
        remember(&mut reader, &code);
        let reply = session.borrow_mut().eval(&code, &mut io::stdout().lock());
        show(&reply, color);
    }
    0
}

fn remember(reader: &mut Reader, entry: &str) {
    if let Some(problem) = reader.remember(entry) {
        write_err(&format!("tsr: {problem}\n"));
    }
}

fn run_command(command: Command, session: &mut Session, color: bool) {
    let mut out = io::stdout().lock();
    let text = match command {
        Command::Help => command::help(),
        Command::Shape(code) => match session.infer(code) {
            Ok(Some(ty)) => ty,
            Ok(None) => "not an expression: `:t` takes one, as in `:t x @ w`".to_owned(),
            Err(reports) => return show(&Reply::failure(reports), color),
        },
        Command::Vars => {
            let rows: Vec<[String; 3]> = session
                .vars()
                .into_iter()
                .map(|row| {
                    let bytes = row.bytes.map_or_else(String::new, human_bytes);
                    [row.name, row.ty, bytes]
                })
                .collect();
            table(&rows, "no bindings yet")
        }
        Command::Dims => {
            let rows: Vec<[String; 3]> = session
                .dims()
                .into_iter()
                .map(|row| [row.name, row.size, String::new()])
                .collect();
            table(&rows, "no dims yet")
        }
        Command::Load(path) => {
            let reply = match read_script(Path::new(path)) {
                Ok(code) => session.eval_named(path.to_owned(), &code, &mut out),
                Err(report) => Reply::failure(vec![report]),
            };
            return show(&reply, color);
        }
        Command::Reset => {
            session.reset();
            "session reset: no bindings, dims or fns".to_owned()
        }
        Command::Time(code) => match session.time(code, TIME_BUDGET) {
            Ok(t) => format!(
                "{} per run (mean of {} runs; fastest {})",
                human_duration(t.mean),
                t.runs,
                human_duration(t.min)
            ),
            Err(reports) => return show(&Reply::failure(reports), color),
        },
        Command::Explain(code) => match session.explain(code) {
            Ok(lines) => lines.join("\n"),
            Err(reports) => return show(&Reply::failure(reports), color),
        },
        Command::Quit => return,
    };
    let _ = writeln!(out, "{text}");
}

fn table(rows: &[[String; 3]], empty: &str) -> String {
    if rows.is_empty() {
        return empty.to_owned();
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (a, b) = (width(0), width(1));
    rows.iter()
        .map(|[name, ty, bytes]| {
            format!("{name:<a$}  {ty:<b$}  {bytes}")
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs_f64();
    match seconds {
        s if s >= 1.0 => format!("{s:.3} s"),
        s if s >= 1e-3 => format!("{:.3} ms", s * 1e3),
        s if s >= 1e-6 => format!("{:.3} µs", s * 1e6),
        s => format!("{:.0} ns", s * 1e9),
    }
}

/// A script for `:load`: text, not too large; anything else is `tsr::io`.
fn read_script(path: &Path) -> Result<String, FileReport> {
    let name = path.display().to_string();
    let failure = |message: String| FileReport {
        file: SourceFile::new(name.as_str(), ""),
        diagnostics: vec![Diagnostic::unplaced(Code::Io, message)],
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_LOAD_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|error| failure(format!("cannot read `{name}`: {error}")))?;
    if bytes.len() as u64 > MAX_LOAD_BYTES {
        return Err(failure(format!(
            "`{name}` is larger than {} MiB; run it with `tsr run` instead",
            MAX_LOAD_BYTES >> 20
        )));
    }
    let binary = |offset: usize| {
        failure(format!(
            "`{name}` is not a tsr script: it holds binary data (byte {offset} is not text)"
        ))
    };
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(binary(offset));
    }
    String::from_utf8(bytes).map_err(|error| binary(error.utf8_error().valid_up_to()))
}

/// Renders a reply's diagnostics to stderr, the first few of a long list.
fn show(reply: &Reply, color: bool) {
    let total: usize = reply.reports.iter().map(|r| r.diagnostics.len()).sum();
    let mut left = MAX_SHOWN_DIAGNOSTICS;
    let shown: Vec<FileReport> = reply
        .reports
        .iter()
        .map(|report| {
            let take = left.min(report.diagnostics.len());
            left -= take;
            FileReport {
                file: report.file.clone(),
                diagnostics: report.diagnostics[..take].to_vec(),
            }
        })
        .filter(|report| !report.diagnostics.is_empty())
        .collect();
    let mut text = diagnostics::render(&shown, Format::Human { color });
    if total > MAX_SHOWN_DIAGNOSTICS {
        text.push_str(&format!(
            "… and {} more diagnostics\n",
            total - MAX_SHOWN_DIAGNOSTICS
        ));
    }
    if reply.failed {
        text.push_str("(the session is unchanged)\n");
    }
    write_err(&text);
}

fn write_err(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}
