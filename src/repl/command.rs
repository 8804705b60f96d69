//! The REPL's `:` commands (LANGUAGE.md section 9): what each is called,
//! what it takes, and how a line names one.

use crate::check::suggest::closest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Help,
    Shape(&'a str),
    Vars,
    Dims,
    Load(&'a str),
    Reset,
    Time(&'a str),
    Explain(&'a str),
    Quit,
}

/// Each command's names, argument and summary, for `:help` and completion.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (":help", "", "this help"),
    (
        ":shape",
        "EXPR",
        "the type of EXPR, inferred without running it (alias :t)",
    ),
    (":t", "EXPR", "the same as :shape"),
    (":vars", "", "bindings with their types and bytes"),
    (":dims", "", "dims with their sizes"),
    (":load", "FILE", "run a script into the session"),
    (":reset", "", "forget every binding, dim and fn"),
    (":time", "EXPR", "time EXPR, repeated for a stable figure"),
    (
        ":explain",
        "EXPR",
        "an einsum's contraction plan, with FLOPs and bytes per step",
    ),
    (":quit", "", "leave (also Ctrl-D)"),
];

const EXAMPLES: &str = "\
Examples:
  tsr> dim B = 4, T = 8, D = 16
  tsr> let x = randn([B, T, D])
  x: [B=4, T=8, D=16] f32
  tsr> :t x @ transpose(x, -1, -2)
  [B=4, T=8, T=8] f32
  tsr> mean(x, axis=D)
  tsr> :explain einsum(\"btd,bsd->bts\", x, x)
  tsr> :time softmax(x, -1)

Statements run as in a file; an expression shows its value, a `let` its
type. A line that fails changes nothing. Brackets or a block left open
continue on the next line (`...> `). Tab completes names, builtins,
commands and paths in strings; Ctrl-C stops a running line or clears the
one being typed; Ctrl-D quits.";

/// The text of `:help`.
pub fn help() -> String {
    let mut text = String::from("Commands:\n");
    for (name, arg, summary) in COMMANDS {
        let usage = format!("{name} {arg}");
        text.push_str(&format!("  {usage:<16} {summary}\n"));
    }
    text.push('\n');
    text.push_str(EXAMPLES);
    text
}

/// Reads a line that starts with `:`; an unknown command is refused with
/// the closest known one.
pub fn parse(line: &str) -> Result<Command<'_>, String> {
    let line = line.trim();
    let (name, rest) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(name, rest)| (name, rest.trim()));
    let needs = |what: &str| format!("`{name}` needs {what}, as in `{name} x`");
    let command = match name {
        ":help" | ":h" | ":?" => Command::Help,
        ":shape" | ":t" | ":type" if rest.is_empty() => return Err(needs("an expression")),
        ":shape" | ":t" | ":type" => Command::Shape(rest),
        ":vars" => Command::Vars,
        ":dims" => Command::Dims,
        ":load" if rest.is_empty() => return Err(needs("a file")),
        ":load" => Command::Load(unquote(rest)),
        ":reset" => Command::Reset,
        ":time" if rest.is_empty() => return Err(needs("an expression")),
        ":time" => Command::Time(rest),
        ":explain" if rest.is_empty() => return Err(needs("an einsum call")),
        ":explain" => Command::Explain(rest),
        ":quit" | ":q" | ":exit" => Command::Quit,
        _ => {
            let names = COMMANDS.iter().map(|(name, _, _)| *name);
            let suggestion = closest(name, names)
                .map(|best| format!("; did you mean `{best}`?"))
                .unwrap_or_else(|| "; `:help` lists the commands".to_owned());
            return Err(format!("unknown command `{name}`{suggestion}"));
        }
    };
    Ok(command)
}

/// `:load "a b.tsr"` and `:load a.tsr` both name a file.
fn unquote(path: &str) -> &str {
    path.strip_prefix('"')
        .and_then(|p| p.strip_suffix('"'))
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_take_their_arguments() {
        assert_eq!(parse(":t x @ w"), Ok(Command::Shape("x @ w")));
        assert_eq!(parse("  :shape   x  "), Ok(Command::Shape("x")));
        assert_eq!(parse(":load \"a b.tsr\""), Ok(Command::Load("a b.tsr")));
        assert_eq!(parse(":q"), Ok(Command::Quit));
        assert!(parse(":time").is_err_and(|m| m.contains("needs an expression")));
    }

    #[test]
    fn an_unknown_command_gets_a_suggestion() {
        assert_eq!(
            parse(":dimz"),
            Err("unknown command `:dimz`; did you mean `:dims`?".to_owned())
        );
        assert!(parse(":zzzzzz").is_err_and(|m| m.contains(":help")));
    }
}
