//! The command line of LANGUAGE.md section 8: `tsr check`, and the entry
//! points of `run` and the REPL. Only this module and its children print.

mod args;
mod guard;

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use self::args::{
    distinct_dims, reject_file_before_command, Cli, ColorChoice, Command, FormatChoice, Options,
};
pub(crate) use self::guard::panic_message;
use self::guard::{install_quiet_panic_hook, on_large_stack};

use crate::diagnostics::{self, FileReport, Format};
use crate::error::{Code, Diagnostic, Severity};
use crate::source::SourceFile;
use crate::{check_source, CheckOptions};

const EXIT_FAILURE: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// Spans are `u32` byte offsets, so no larger source can be reported on.
const MAX_SOURCE_BYTES: u64 = u32::MAX as u64;

const STDIN_NAME: &str = "<stdin>";
const SNIPPET_NAME: &str = "<-e>";

/// Where reports go: `check` keeps stdout for machine-readable output,
/// `run` keeps it for the program's own output.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReportingCommand {
    Check,
    Run,
}

/// What the command line asks for; a bare `tsr [FILE]` is a run.
enum Task {
    Check(Vec<PathBuf>),
    Run {
        file: Option<PathBuf>,
        code: Option<String>,
    },
    Repl,
}

/// Parses the process's arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse().and_then(reject_file_before_command) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with exit 0; usage errors exit 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(EXIT_USAGE));
        }
    };
    install_quiet_panic_hook();
    let top = cli.options;
    let (command, options) = match cli.command {
        Some(Command::Check { files, options }) => (Task::Check(files), top.then(options)),
        Some(Command::Run {
            file,
            code,
            options,
        }) => (Task::Run { file, code }, top.then(options)),
        Some(Command::Repl { options }) => (Task::Repl, top.then(options)),
        None => (
            Task::Run {
                file: cli.file,
                code: None,
            },
            top,
        ),
    };
    match command {
        Task::Check(files) => check_command(&files, &options),
        Task::Run {
            code: Some(code), ..
        } => run_source(Ok(Program::snippet(code)), &options),
        Task::Run {
            file: Some(file), ..
        } => run_source(read_source(&file), &options),
        // Only a bare `tsr` gets here: clap requires FILE or -e for `run`.
        Task::Run { .. } if io::stdin().is_terminal() => repl(&options),
        Task::Run { .. } => run_source(read_source(Path::new("-")), &options),
        Task::Repl => repl(&options),
    }
}

fn check_command(paths: &[PathBuf], options: &Options) -> ExitCode {
    let mut reports = Vec::with_capacity(paths.len());
    let mut unreadable = false;
    for path in paths {
        match read_source(path) {
            Ok(program) => reports.push(check_program(program, options)),
            Err(report) => {
                unreadable = true;
                reports.push(report);
            }
        }
    }
    emit(&reports, options, ReportingCommand::Check);
    if unreadable {
        ExitCode::from(EXIT_USAGE)
    } else if fails(&reports, options) {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_source(source: Result<Program, FileReport>, options: &Options) -> ExitCode {
    let Program { file, base_dir } = match source {
        Ok(program) => program,
        Err(report) => {
            emit(&[report], options, ReportingCommand::Run);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let run_options = run_options(options, base_dir);
    let outcome = on_large_stack(|| {
        let mut stdout = io::stdout().lock();
        crate::eval::run_source(&file, &run_options, &mut stdout)
    });
    let outcome = outcome.unwrap_or_else(|crash| crate::eval::RunOutcome {
        diagnostics: vec![Diagnostic::unplaced(
            Code::Internal,
            format!("tsr crashed running `{}`: {crash}", file.name()),
        )],
        ..crate::eval::RunOutcome::default()
    });
    if options.run.profile {
        write_stderr(&outcome.profile.table(&file));
    }
    if let Some(path) = &options.run.profile_json {
        if let Err(error) = std::fs::write(path, outcome.profile.json(&file)) {
            write_stderr(&format!(
                "tsr: cannot write the profile to {}: {error}\n",
                path.display()
            ));
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let report = FileReport {
        file,
        diagnostics: outcome.diagnostics,
    };
    let failed = fails(std::slice::from_ref(&report), options);
    emit(&[report], options, ReportingCommand::Run);
    if outcome.usage_error {
        ExitCode::from(EXIT_USAGE)
    } else if failed {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    }
}

/// What evaluation takes from the command line. `--threads` sizes rayon's
/// global pool, which every parallel kernel (and faer) runs on.
fn run_options(options: &Options, base_dir: PathBuf) -> crate::eval::RunOptions {
    if let Some(n) = options.run.threads {
        // Only the first call can size the pool; a later one changes nothing.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.get())
            .build_global();
    }
    crate::eval::RunOptions {
        dims: distinct_dims(&options.dims),
        inputs: options
            .run
            .inputs
            .iter()
            .map(|i| crate::eval::InputFile {
                name: i.name.clone(),
                path: i.path.clone(),
                key: i.key.clone(),
            })
            .collect(),
        max_memory: options
            .run
            .max_memory
            .unwrap_or_else(crate::eval::default_max_memory),
        random_inputs: options.run.random_inputs,
        seed: options.run.seed.unwrap_or(0),
        base_dir,
        deny_warnings: options.deny_warnings,
        profile: options.run.profile || options.run.profile_json.is_some(),
    }
}

fn repl(options: &Options) -> ExitCode {
    let color = use_color(options.color.unwrap_or(ColorChoice::Auto)) && io::stdout().is_terminal();
    let repl_options = crate::repl::ReplOptions {
        run: run_options(options, PathBuf::from(".")),
        color,
        history: crate::repl::default_history(),
    };
    match on_large_stack(|| crate::repl::run(repl_options)) {
        Ok(code) => ExitCode::from(code),
        Err(crash) => {
            write_stderr(&format!("tsr: the REPL crashed: {crash}\n"));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Errors fail a program, and so do warnings under `--deny-warnings`.
fn fails(reports: &[FileReport], options: &Options) -> bool {
    diagnostics::count(reports, Severity::Error) > 0
        || (options.deny_warnings && diagnostics::count(reports, Severity::Warning) > 0)
}

fn emit(reports: &[FileReport], options: &Options, command: ReportingCommand) {
    let format = match options.format() {
        FormatChoice::Human => Format::Human {
            color: use_color(options.color.unwrap_or(ColorChoice::Auto)),
        },
        FormatChoice::Json => Format::Json,
        FormatChoice::Github => Format::Github,
    };
    let text = diagnostics::render(reports, format);
    let to_stdout = command == ReportingCommand::Check && options.format() != FormatChoice::Human;
    if to_stdout {
        let mut stdout = io::stdout().lock();
        let _ = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
    } else {
        write_stderr(&text);
    }
}

fn write_stderr(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
            !no_color && io::stderr().is_terminal()
        }
    }
}

/// A program to check, and the directory its `load` paths are relative to.
struct Program {
    file: SourceFile,
    base_dir: PathBuf,
}

impl Program {
    /// Programs without a file of their own (stdin, `-e`) load from the
    /// working directory.
    fn detached(file: SourceFile) -> Program {
        Program {
            file,
            base_dir: PathBuf::from("."),
        }
    }

    fn snippet(code: String) -> Program {
        Program::detached(SourceFile::new(SNIPPET_NAME, code))
    }
}

/// Reads a command-line input; failure is a `tsr::io` report for that input.
fn read_source(path: &Path) -> Result<Program, FileReport> {
    let is_stdin = path == Path::new("-");
    let name = if is_stdin {
        STDIN_NAME.to_owned()
    } else {
        path.display().to_string()
    };
    let bytes = if is_stdin {
        read_bounded(io::stdin().lock(), 0)
    } else {
        std::fs::File::open(path).and_then(|file| {
            let length = file.metadata().map_or(0, |m| m.len());
            read_bounded(file, length)
        })
    };
    let failure = |message: String| FileReport {
        file: SourceFile::new(name.as_str(), ""),
        diagnostics: vec![Diagnostic::unplaced(Code::Io, message)],
    };
    let bytes = bytes.map_err(|error| failure(format!("cannot read `{name}`: {error}")))?;
    let text = String::from_utf8(bytes).map_err(|error| {
        failure(format!(
            "`{name}` is not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
    })?;
    let file = SourceFile::new(name, text);
    Ok(match path.parent() {
        Some(dir) if !is_stdin && !dir.as_os_str().is_empty() => Program {
            file,
            base_dir: dir.to_path_buf(),
        },
        _ => Program::detached(file),
    })
}

fn read_bounded(reader: impl Read, size_hint: u64) -> io::Result<Vec<u8>> {
    // Reserving the known size avoids growing (and re-zeroing) the buffer
    // by doubling, which showed in profiles of large files.
    let mut bytes = Vec::with_capacity(size_hint.min(MAX_SOURCE_BYTES) as usize);
    reader.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(io::Error::other("larger than 4 GiB"));
    }
    Ok(bytes)
}

fn check_program(program: Program, options: &Options) -> FileReport {
    let Program { file, base_dir } = program;
    let check_options = CheckOptions {
        dims: distinct_dims(&options.dims),
        base_dir,
        record_types: false,
        record_facts: false,
    };
    let diagnostics = match on_large_stack(|| check_source(&file, &check_options).diagnostics) {
        Ok(diagnostics) => diagnostics,
        Err(crash) => vec![Diagnostic::unplaced(
            Code::Internal,
            format!("the checker crashed on `{}`: {crash}", file.name()),
        )
        .help("this is a bug in tsr, not in the program; please report it")],
    };
    FileReport { file, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_paths_are_relative_to_the_program() {
        let dir = std::env::temp_dir().join(format!("tsr-cli-unit-{}", std::process::id()));
        let path = dir.join("a.tsr");
        let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, "x"));
        assert!(written.is_ok(), "{written:?}");
        let program = read_source(&path);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(program.ok().map(|program| program.base_dir), Some(dir));
        assert_eq!(
            Program::snippet("x".to_owned()).base_dir,
            PathBuf::from(".")
        );
    }
}
