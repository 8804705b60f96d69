//! The line editor: rustyline with a helper that colours the line, hints
//! its inferred type, and completes names, builtins, commands and paths.
//! The only module that knows rustyline.

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rustyline::completion::{Completer, Pair};
use rustyline::config::{ColorMode, CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hint, Hinter};
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor};

use super::colour;
use super::command::COMMANDS;
use super::session::Session;

/// Entries kept in the history file.
const HISTORY_SIZE: usize = 10_000;
/// Paths offered at most, for a directory with very many entries.
const MAX_PATHS: usize = 500;

const KEYWORDS: &[&str] = &[
    "dim", "input", "let", "fn", "return", "for", "in", "if", "else", "true", "false",
];

/// What reading a line gave.
pub enum Input {
    Line(String),
    /// Ctrl-C at the prompt: the line is dropped.
    Interrupted,
    /// Ctrl-D, or the end of piped input.
    Eof,
}

pub struct Reader {
    editor: Editor<Helper, FileHistory>,
    history: Option<PathBuf>,
}

impl Reader {
    /// An editor over the session; `history` is the file shared by every
    /// session, read now and appended to as entries come.
    pub fn new(
        session: Rc<RefCell<Session>>,
        color: bool,
        history: Option<PathBuf>,
    ) -> Result<Reader, String> {
        let config = Config::builder()
            .max_history_size(HISTORY_SIZE)
            .and_then(|c| c.history_ignore_dups(true))
            .map_err(|e| e.to_string())?
            .auto_add_history(false)
            .completion_type(CompletionType::List)
            .color_mode(if color {
                ColorMode::Enabled
            } else {
                ColorMode::Disabled
            })
            .build();
        let mut editor =
            Editor::with_config(config).map_err(|e| format!("cannot start the editor: {e}"))?;
        editor.set_helper(Some(Helper { session, color }));
        if let Some(path) = &history {
            // A first session has no history yet.
            let _ = editor.load_history(path);
        }
        Ok(Reader { editor, history })
    }

    pub fn read(&mut self, prompt: &str) -> Result<Input, String> {
        match self.editor.readline(prompt) {
            Ok(line) => Ok(Input::Line(line)),
            Err(ReadlineError::Interrupted) => Ok(Input::Interrupted),
            Err(ReadlineError::Eof) => Ok(Input::Eof),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Adds an entry to the history, and to the history file at once so a
    /// crash or a kill loses nothing. Returns why the file could not be
    /// written, once.
    pub fn remember(&mut self, entry: &str) -> Option<String> {
        let entry = entry.trim_end();
        if entry.is_empty() || !matches!(self.editor.add_history_entry(entry), Ok(true)) {
            return None;
        }
        let path = self.history.clone()?;
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match self.editor.append_history(&path) {
            Ok(()) => None,
            Err(error) => {
                self.history = None;
                Some(format!(
                    "history is not saved: cannot write {}: {error}",
                    path.display()
                ))
            }
        }
    }
}

/// The type hint: shown greyed after the cursor, never inserted.
pub struct TypeHint(String);

impl Hint for TypeHint {
    fn display(&self) -> &str {
        &self.0
    }

    fn completion(&self) -> Option<&str> {
        None
    }
}

struct Helper {
    session: Rc<RefCell<Session>>,
    color: bool,
}

impl rustyline::Helper for Helper {}

impl Validator for Helper {}

impl Hinter for Helper {
    type Hint = TypeHint;

    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<TypeHint> {
        if pos < line.len() || line.trim_start().starts_with(':') {
            return None;
        }
        let ty = self.session.try_borrow_mut().ok()?.hint(line)?;
        Some(TypeHint(format!("  → {ty}")))
    }
}

impl Highlighter for Helper {
    fn highlight<'l>(&self, line: &'l str, _: usize) -> Cow<'l, str> {
        let Ok(session) = self.session.try_borrow() else {
            return Cow::Borrowed(line);
        };
        if !self.color {
            return Cow::Borrowed(line);
        }
        Cow::Owned(colour::highlight(line, &|name| session.kind_of(name)))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(colour::dim(hint))
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _: &str, _: usize, kind: CmdKind) -> bool {
        self.color && kind != CmdKind::MoveCursor
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        if let Some(start) = path_start(before) {
            return Ok((start, paths(&before[start..])));
        }
        if before.starts_with(':') && !before.contains(char::is_whitespace) {
            let commands = COMMANDS
                .iter()
                .filter(|(name, _, _)| name.starts_with(before))
                .map(|(name, arg, summary)| Pair {
                    display: format!("{name} {arg}  {summary}"),
                    replacement: format!("{name} "),
                })
                .collect();
            return Ok((0, commands));
        }
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
            return Ok((start, Vec::new()));
        }
        Ok((start, self.names(word)))
    }
}

impl Helper {
    /// Names starting with `word`: the session's, then keywords, then
    /// builtins shown with their signatures.
    fn names(&self, word: &str) -> Vec<Pair> {
        let mut pairs: Vec<Pair> = Vec::new();
        if let Ok(session) = self.session.try_borrow() {
            for (name, _) in session.names() {
                if name.starts_with(word) {
                    pairs.push(Pair {
                        display: name.clone(),
                        replacement: name,
                    });
                }
            }
        }
        let known: Vec<String> = pairs.iter().map(|p| p.replacement.clone()).collect();
        for keyword in KEYWORDS.iter().filter(|k| k.starts_with(word)) {
            pairs.push(Pair {
                display: (*keyword).to_owned(),
                replacement: (*keyword).to_owned(),
            });
        }
        let mut builtins = crate::ops::builtin_names();
        builtins.sort_unstable();
        builtins.dedup();
        for name in builtins {
            if name.starts_with(word) && !known.iter().any(|k| k == name) {
                pairs.push(Pair {
                    display: crate::ops::signature(name).unwrap_or_else(|| name.to_owned()),
                    replacement: name.to_owned(),
                });
            }
        }
        pairs
    }
}

/// Where a path being typed starts: after `:load `, or inside a string.
fn path_start(before: &str) -> Option<usize> {
    if let Some(rest) = before.strip_prefix(":load ") {
        let skipped = rest.len() - rest.trim_start().len();
        let quoted = usize::from(rest.trim_start().starts_with('"'));
        return Some(":load ".len() + skipped + quoted);
    }
    let quotes = before.matches('"').count() - before.matches("\\\"").count();
    (quotes % 2 == 1).then(|| before.rfind('"').map_or(0, |i| i + 1))
}

/// Files and directories whose path starts with `typed`; directories end
/// with `/`.
fn paths(typed: &str) -> Vec<Pair> {
    let (dir, prefix) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let listing = if dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(dir)
    };
    let Ok(entries) = std::fs::read_dir(listing) else {
        return Vec::new();
    };
    let mut pairs: Vec<Pair> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !name.starts_with(prefix) || (prefix.is_empty() && name.starts_with('.')) {
                return None;
            }
            let slash = if entry.file_type().ok()?.is_dir() {
                "/"
            } else {
                ""
            };
            Some(Pair {
                display: format!("{name}{slash}"),
                replacement: format!("{dir}{name}{slash}"),
            })
        })
        .take(MAX_PATHS)
        .collect();
    pairs.sort_by(|a, b| a.display.cmp(&b.display));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_completed_after_load_and_inside_strings() {
        assert_eq!(path_start(":load ex"), Some(6));
        assert_eq!(path_start(":load \"ex"), Some(7));
        assert_eq!(path_start("let t = load(\"data/x"), Some(14));
        assert_eq!(path_start("let t = load(\"a.npy\") + x"), None);
    }
}
