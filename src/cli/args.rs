//! The arguments of LANGUAGE.md section 8, as clap sees them.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "tsr",
    version,
    about = "A small tensor language whose shape bugs are caught before anything runs",
    args_override_self = true
)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Option<Command>,
    /// Program to run (`tsr FILE` is `tsr run FILE`; `-` reads stdin)
    pub(super) file: Option<PathBuf>,
    #[command(flatten)]
    pub(super) options: Options,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Check programs without evaluating or allocating anything
    #[command(args_override_self = true)]
    Check {
        /// Files to check (`-` reads stdin)
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        options: Options,
    },
    /// Check a program, then evaluate it
    #[command(args_override_self = true)]
    Run {
        /// The program (`-` reads stdin)
        #[arg(required_unless_present = "code", conflicts_with = "code")]
        file: Option<PathBuf>,
        /// Evaluate CODE instead of a file
        #[arg(short = 'e', long = "eval", value_name = "CODE")]
        code: Option<String>,
        #[command(flatten)]
        options: Options,
    },
    /// Start the interactive session
    #[command(args_override_self = true)]
    Repl {
        #[command(flatten)]
        options: Options,
    },
}

/// Options are accepted before and after the subcommand; clap keeps the two
/// sets apart and [`Options::then`] joins them.
#[derive(Debug, Args)]
pub(super) struct Options {
    /// Bind a dim (repeatable; overrides a declared size)
    #[arg(long = "dim", value_name = "NAME=SIZE", value_parser = parse_dim)]
    pub(super) dims: Vec<(String, i64)>,
    /// How diagnostics are printed [default: human]
    #[arg(long, value_enum)]
    pub(super) format: Option<FormatChoice>,
    /// Fail (exit 1) when there are warnings
    #[arg(long)]
    pub(super) deny_warnings: bool,
    /// Colour human diagnostics; `auto` also honours NO_COLOR [default: auto]
    #[arg(long, value_enum)]
    pub(super) color: Option<ColorChoice>,
    #[command(flatten)]
    pub(super) run: RunOptions,
}

/// Options that only evaluation uses; `check` accepts and ignores them so a
/// `run` command line can be turned into a `check` one by changing one word.
#[derive(Debug, Args)]
#[command(next_help_heading = "Run options")]
pub(super) struct RunOptions {
    /// Read an input from a .npy/.npz/.safetensors file (KEY picks an entry)
    #[arg(long = "input", value_name = "NAME=PATH[:KEY]", value_parser = parse_input)]
    pub(super) inputs: Vec<InputBinding>,
    /// Fill inputs that have no file with standard normal values
    #[arg(long)]
    pub(super) random_inputs: bool,
    /// Seed of the random number generator
    #[arg(long, value_name = "N")]
    pub(super) seed: Option<u64>,
    /// Worker threads for kernels
    #[arg(long, value_name = "N")]
    pub(super) threads: Option<NonZeroUsize>,
    /// Refuse any single allocation larger than this (tsr::limit)
    #[arg(long, value_name = "BYTES")]
    pub(super) max_memory: Option<u64>,
    /// Print a per-line table of calls, time and FLOPs to stderr after the run
    #[arg(long)]
    pub(super) profile: bool,
    /// Write the per-line profile as JSON to PATH
    #[arg(long, value_name = "PATH")]
    pub(super) profile_json: Option<PathBuf>,
}

impl Options {
    /// These options followed by `later` ones: lists add up, a later value wins.
    pub(super) fn then(self, later: Options) -> Options {
        Options {
            dims: [self.dims, later.dims].concat(),
            format: later.format.or(self.format),
            deny_warnings: self.deny_warnings || later.deny_warnings,
            color: later.color.or(self.color),
            run: self.run.then(later.run),
        }
    }

    pub(super) fn format(&self) -> FormatChoice {
        self.format.unwrap_or(FormatChoice::Human)
    }
}

impl RunOptions {
    fn then(self, later: RunOptions) -> RunOptions {
        RunOptions {
            inputs: [self.inputs, later.inputs].concat(),
            random_inputs: self.random_inputs || later.random_inputs,
            seed: later.seed.or(self.seed),
            threads: later.threads.or(self.threads),
            max_memory: later.max_memory.or(self.max_memory),
            profile: self.profile || later.profile,
            profile_json: later.profile_json.or(self.profile_json),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct InputBinding {
    pub(super) name: String,
    pub(super) path: PathBuf,
    pub(super) key: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum FormatChoice {
    Human,
    Json,
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `tsr a.tsr check b.tsr` would otherwise drop `a.tsr` silently.
pub(super) fn reject_file_before_command(cli: Cli) -> Result<Cli, clap::Error> {
    match (&cli.command, &cli.file) {
        (Some(_), Some(file)) => Err(Cli::command().error(
            ErrorKind::ArgumentConflict,
            format!(
                "`{}` comes before the subcommand; put files after it (`tsr check FILE`)",
                file.display()
            ),
        )),
        _ => Ok(cli),
    }
}

/// The last `--dim` for a name wins, like any repeated option.
pub(super) fn distinct_dims(dims: &[(String, i64)]) -> Vec<(String, i64)> {
    let mut distinct: Vec<(String, i64)> = Vec::with_capacity(dims.len());
    for (name, size) in dims {
        distinct.retain(|(seen, _)| seen != name);
        distinct.push((name.clone(), *size));
    }
    distinct
}

fn parse_dim(text: &str) -> Result<(String, i64), String> {
    let (name, size) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=SIZE, found `{text}`"))?;
    check_identifier(name)?;
    let size: i64 = size.parse().ok().filter(|size| *size >= 0).ok_or_else(|| {
        format!("the size of `{name}` must be a non-negative integer, found `{size}`")
    })?;
    Ok((name.to_owned(), size))
}

fn parse_input(text: &str) -> Result<InputBinding, String> {
    let (name, target) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=PATH[:KEY], found `{text}`"))?;
    check_identifier(name)?;
    // A KEY never holds a path separator, so `C:\x.npy` keeps its colon.
    let (path, key) = match target.rsplit_once(':') {
        Some((path, key)) if !path.is_empty() && !key.is_empty() && !key.contains(['/', '\\']) => {
            (path, Some(key.to_owned()))
        }
        _ => (target, None),
    };
    if path.is_empty() {
        return Err(format!("the input `{name}` has an empty path"));
    }
    Ok(InputBinding {
        name: name.to_owned(),
        path: PathBuf::from(path),
        key,
    })
}

fn check_identifier(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    if starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("`{name}` is not a name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tsr").chain(args.iter().copied()))
            .and_then(reject_file_before_command)
    }

    #[test]
    fn options_before_and_after_the_subcommand_are_merged() {
        let cli = parse(&[
            "--dim", "A=1", "check", "x.tsr", "--dim", "B=2", "--format", "json",
        ])
        .map_err(|error| error.to_string());
        let options = match cli {
            Ok(Cli {
                command: Some(Command::Check { options, .. }),
                options: top,
                ..
            }) => top.then(options),
            other => panic!("not a check command: {other:?}"),
        };
        assert_eq!(options.dims, [("A".to_owned(), 1), ("B".to_owned(), 2)]);
        assert_eq!(options.format(), FormatChoice::Json);
    }

    #[test]
    fn dims_must_be_a_name_and_a_non_negative_size() {
        assert_eq!(parse_dim("B=32"), Ok(("B".to_owned(), 32)));
        assert_eq!(parse_dim("_n2=0"), Ok(("_n2".to_owned(), 0)));
        for bad in [
            "B",
            "B=",
            "=3",
            "B=-1",
            "B=1.5",
            "2B=3",
            "B C=1",
            "B=99999999999999999999",
        ] {
            assert!(parse_dim(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_last_dim_of_a_name_wins() {
        let dims = [
            ("A".to_owned(), 1),
            ("B".to_owned(), 2),
            ("A".to_owned(), 3),
        ];
        assert_eq!(
            distinct_dims(&dims),
            [("B".to_owned(), 2), ("A".to_owned(), 3)]
        );
    }

    #[test]
    fn inputs_take_a_key_after_the_last_colon_of_a_path() {
        let input = |name: &str, path: &str, key: Option<&str>| InputBinding {
            name: name.to_owned(),
            path: PathBuf::from(path),
            key: key.map(str::to_owned),
        };
        assert_eq!(parse_input("x=a.npy"), Ok(input("x", "a.npy", None)));
        assert_eq!(
            parse_input("w=m.npz:layer1"),
            Ok(input("w", "m.npz", Some("layer1")))
        );
        assert_eq!(
            parse_input("w=C:\\m.npy"),
            Ok(input("w", "C:\\m.npy", None))
        );
        assert_eq!(
            parse_input("w=d:/m.npz:k"),
            Ok(input("w", "d:/m.npz", Some("k")))
        );
        for bad in ["x", "x=", "=a.npy", "1x=a.npy"] {
            assert!(parse_input(bad).is_err(), "{bad}");
        }
    }
}
