//! Syntax colouring of the line being typed, from the lexer's tokens:
//! keywords, numbers, strings and comments, and names by what they name
//! (dims, bindings, fns, builtins).

use owo_colors::OwoColorize;

use super::session::NameKind;
use crate::syntax::lexer::{tokens, Token};

/// `line` with ANSI colours; `kind_of` says what a name is in the session.
/// Every character of `line` is kept, so the display width is unchanged.
pub fn highlight(line: &str, kind_of: &dyn Fn(&str) -> Option<NameKind>) -> String {
    if line.trim_start().starts_with(':') {
        return command(line);
    }
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0;
    for (token, span) in tokens(line) {
        let range = span.range();
        out.push_str(line.get(at..range.start).unwrap_or(""));
        let text = line.get(range.clone()).unwrap_or("");
        let coloured = match token {
            Token::Keyword(_) => text.magenta().bold().to_string(),
            Token::Number(_) => text.cyan().to_string(),
            Token::Str(_) => text.green().to_string(),
            Token::Comment(_) => text.bright_black().to_string(),
            Token::Error(_) => text.red().to_string(),
            Token::Ident(name) => match kind_of(name) {
                Some(NameKind::Dim) => text.yellow().to_string(),
                Some(NameKind::Fn) => text.blue().bold().to_string(),
                Some(NameKind::Binding) => text.to_string(),
                None if crate::ops::signature(name).is_some() => text.blue().to_string(),
                None => text.to_string(),
            },
            Token::Punct(_) | Token::Newline => text.to_string(),
        };
        out.push_str(&coloured);
        at = range.end;
    }
    out.push_str(line.get(at..).unwrap_or(""));
    out
}

/// A `:` command: its name stands out, its argument is plain text.
fn command(line: &str) -> String {
    let end = line
        .trim_start()
        .find(char::is_whitespace)
        .map_or(line.len(), |i| i + line.len() - line.trim_start().len());
    let (name, rest) = line.split_at(end);
    format!("{}{rest}", name.bold())
}

/// A hint's text, greyed.
pub fn dim(text: &str) -> String {
    text.bright_black().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn colouring_keeps_every_character() {
        let kinds = |name: &str| match name {
            "B" => Some(NameKind::Dim),
            "x" => Some(NameKind::Binding),
            _ => None,
        };
        for line in [
            "let y = softmax(x / B, -1)  # scores",
            ":t  x @ x",
            "\"unclosed $ ",
            "  ",
        ] {
            assert_eq!(strip(&highlight(line, &kinds)), line);
        }
        let coloured = highlight("B x sum 3", &kinds);
        assert!(coloured.contains(&"B".yellow().to_string()), "{coloured:?}");
        assert!(coloured.contains(&"sum".blue().to_string()), "{coloured:?}");
        assert!(coloured.contains(&"3".cyan().to_string()), "{coloured:?}");
    }
}
