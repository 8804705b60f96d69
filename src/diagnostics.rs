//! Rendering of diagnostics from any phase: miette's graphical report for
//! people, one JSON object for tools, GitHub workflow commands for CI
//! (LANGUAGE.md section 8). The source text is attached here and only here.

use std::fmt;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde_json::{json, Value};

use crate::error::{Diagnostic, Severity};
use crate::source::{LineCol, SourceFile, Span};

/// The line width human reports are wrapped at, whatever the terminal, so
/// the golden files stay stable.
const HUMAN_WIDTH: usize = 100;

/// The version of the JSON schema of section 8.
const JSON_VERSION: u32 = 1;

/// One input of a run (a file, stdin, a snippet) and what was found in it.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub file: SourceFile,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human { color: bool },
    Json,
    Github,
}

/// Renders every diagnostic of `reports`, sorted by file, line and column.
/// Human and GitHub output is empty when there is nothing to report; JSON
/// output is always one object on one line, ending with a newline.
pub fn render(reports: &[FileReport], format: Format) -> String {
    let located = sorted(reports);
    match format {
        Format::Human { color } => render_human(&located, color),
        Format::Json => render_json(reports.len(), &located),
        Format::Github => render_github(&located),
    }
}

/// How many diagnostics of `severity` the reports hold.
pub fn count(reports: &[FileReport], severity: Severity) -> usize {
    reports
        .iter()
        .flat_map(|report| &report.diagnostics)
        .filter(|diagnostic| diagnostic.severity() == severity)
        .count()
}

/// A diagnostic with its file and its resolved position. Labels of an
/// unplaced diagnostic are dropped everywhere: without a primary location
/// there is nothing to anchor them to (section 10.12: no labels in JSON).
struct Located<'a> {
    file: &'a SourceFile,
    diagnostic: &'a Diagnostic,
    span: Option<Span>,
}

impl Located<'_> {
    fn start(&self) -> Option<LineCol> {
        self.span.map(|span| self.file.line_col(span.start))
    }

    fn end(&self) -> Option<LineCol> {
        self.span.map(|span| self.file.line_col(span.end))
    }

    fn labels(&self) -> &[crate::error::Label] {
        if self.span.is_some() {
            &self.diagnostic.labels
        } else {
            &[]
        }
    }
}

fn sorted(reports: &[FileReport]) -> Vec<Located<'_>> {
    let mut located: Vec<Located<'_>> = reports
        .iter()
        .flat_map(|report| {
            report.diagnostics.iter().map(|diagnostic| Located {
                file: &report.file,
                diagnostic,
                span: diagnostic.span.map(|span| clamp(&report.file, span)),
            })
        })
        .collect();
    located.sort_by_cached_key(|item| {
        let start = item.start().map(|at| (at.line, at.column));
        (item.file.name().to_owned(), start)
    });
    located
}

/// The span shrunk onto the text and onto character boundaries, so no
/// renderer can be handed an offset that does not exist.
fn clamp(file: &SourceFile, span: Span) -> Span {
    let text = file.text();
    let floor = |offset: u32| {
        let mut offset = (offset as usize).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    };
    Span::new(floor(span.start), floor(span.end))
}

fn render_human(located: &[Located<'_>], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(HUMAN_WIDTH)
        .with_urls(false);
    // One shared copy of each text, found by identity: two inputs may
    // share a name (`tsr check - -`).
    let mut sources: Vec<(&str, Arc<str>)> = Vec::new();
    let mut reports = Vec::with_capacity(located.len());
    for item in located {
        let original = item.file.text();
        let text = match sources
            .iter()
            .find(|(seen, _)| std::ptr::eq(*seen, original))
        {
            Some((_, text)) => Arc::clone(text),
            None => {
                let text: Arc<str> = Arc::from(original);
                sources.push((original, Arc::clone(&text)));
                text
            }
        };
        let report = HumanReport {
            item,
            source: CharacterColumns(NamedSource::new(item.file.name(), text)),
        };
        let mut rendered = String::new();
        if handler.render_report(&mut rendered, &report).is_err() {
            rendered = format!(
                "{}: {}\n",
                item.diagnostic.code.as_str(),
                item.diagnostic.message
            );
        }
        reports.push(rendered);
    }
    reports.join("\n")
}

/// The adapter through which miette sees one diagnostic with its source.
struct HumanReport<'a> {
    item: &'a Located<'a>,
    source: CharacterColumns,
}

/// miette counts the column in its `[file:line:column]` header in bytes;
/// section 8 counts characters, and every format must agree.
struct CharacterColumns(NamedSource<Arc<str>>);

impl miette::SourceCode for CharacterColumns {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .0
            .read_span(span, context_lines_before, context_lines_after)?;
        let text: &str = self.0.inner();
        let line_start = span.offset().saturating_sub(contents.column());
        let column = text
            .get(line_start..span.offset())
            .map_or(contents.column(), |before| before.chars().count());
        let name = contents.name().unwrap_or_default().to_owned();
        Ok(Box::new(miette::MietteSpanContents::new_named(
            name,
            contents.data(),
            *contents.span(),
            contents.line(),
            column,
            contents.line_count(),
        )))
    }
}

impl fmt::Debug for HumanReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.item.diagnostic, f)
    }
}

impl fmt::Display for HumanReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.item.diagnostic.message)
    }
}

impl std::error::Error for HumanReport<'_> {}

impl miette::Diagnostic for HumanReport<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.item.diagnostic.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.item.diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let help = self.item.diagnostic.help.as_deref()?;
        Some(Box::new(help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.item.span?;
        let text = |message: &str| (!message.is_empty()).then(|| message.to_owned());
        let file = self.item.file;
        let labels: Vec<LabeledSpan> = match self.item.labels().split_first() {
            None => vec![LabeledSpan::new_primary_with_span(None, span)],
            Some((primary, secondary)) => std::iter::once(LabeledSpan::new_primary_with_span(
                text(&primary.message),
                clamp(file, primary.span),
            ))
            .chain(secondary.iter().map(|label| {
                LabeledSpan::new_with_span(text(&label.message), clamp(file, label.span))
            }))
            .collect(),
        };
        Some(Box::new(labels.into_iter()))
    }
}

fn render_json(files: usize, located: &[Located<'_>]) -> String {
    let count = |severity| {
        located
            .iter()
            .filter(|item| item.diagnostic.severity() == severity)
            .count()
    };
    let diagnostics: Vec<Value> = located.iter().map(json_diagnostic).collect();
    let report = json!({
        "version": JSON_VERSION,
        "files": files,
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
        "diagnostics": diagnostics,
    });
    format!("{report}\n")
}

fn json_diagnostic(item: &Located<'_>) -> Value {
    let diagnostic = item.diagnostic;
    let (start, end) = (item.start(), item.end());
    let labels: Vec<Value> = item
        .labels()
        .iter()
        .map(|label| {
            let span = clamp(item.file, label.span);
            let (start, end) = (item.file.line_col(span.start), item.file.line_col(span.end));
            json!({
                "message": label.message,
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
            })
        })
        .collect();
    json!({
        "file": item.file.name(),
        "severity": diagnostic.severity().as_str(),
        "code": diagnostic.code.as_str(),
        "message": diagnostic.message,
        "line": start.map(|at| at.line),
        "column": start.map(|at| at.column),
        "end_line": end.map(|at| at.line),
        "end_column": end.map(|at| at.column),
        "labels": labels,
        "help": diagnostic.help,
    })
}

fn render_github(located: &[Located<'_>]) -> String {
    let mut out = String::new();
    for item in located {
        let diagnostic = item.diagnostic;
        let mut properties = vec![("file", item.file.name().to_owned())];
        if let (Some(start), Some(end)) = (item.start(), item.end()) {
            properties.extend([
                ("line", start.line.to_string()),
                ("col", start.column.to_string()),
                ("endLine", end.line.to_string()),
                ("endColumn", end.column.to_string()),
            ]);
        }
        properties.push(("title", diagnostic.code.as_str().to_owned()));
        let properties: Vec<String> = properties
            .iter()
            .map(|(key, value)| format!("{key}={}", escape_property(value)))
            .collect();
        out.push_str(&format!(
            "::{} {}::{}\n",
            diagnostic.severity().as_str(),
            properties.join(","),
            escape_data(&diagnostic.message)
        ));
    }
    out
}

/// `escapeData` of GitHub's actions/toolkit (packages/core/src/command.ts).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty` of GitHub's actions/toolkit.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn report(name: &str, text: &str, diagnostics: Vec<Diagnostic>) -> FileReport {
        FileReport {
            file: SourceFile::new(name, text),
            diagnostics,
        }
    }

    fn json(reports: &[FileReport]) -> Value {
        serde_json::from_str(&render(reports, Format::Json)).unwrap_or(Value::Null)
    }

    #[test]
    fn escapes_follow_the_actions_toolkit() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("50% a:b,c\r\nd"), "50%25 a%3Ab%2Cc%0D%0Ad");
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn diagnostics_are_sorted_by_file_line_and_column() {
        let text = "abc\ndef\n";
        let reports = [
            report(
                "b.tsr",
                text,
                vec![
                    Diagnostic::new(Code::Axis, Span::new(5, 6), "b 2:2"),
                    Diagnostic::new(Code::Dim, Span::new(4, 5), "b 2:1"),
                    Diagnostic::new(Code::Call, Span::new(2, 3), "b 1:3"),
                ],
            ),
            report("a.tsr", text, vec![Diagnostic::unplaced(Code::Io, "a")]),
        ];
        let report = json(&reports);
        let order: Vec<&str> = report["diagnostics"]
            .as_array()
            .map(|all| all.iter().filter_map(|d| d["message"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(order, ["a", "b 1:3", "b 2:1", "b 2:2"]);
        assert_eq!(report["files"], 2);
        assert_eq!(report["errors"], 4);
    }

    #[test]
    fn json_positions_count_characters_and_labels_keep_their_own() {
        let text = "é = ab\n";
        let diagnostic = Diagnostic::new(Code::Assign, Span::new(5, 7), "m")
            .label(Span::new(5, 6), "first")
            .label(Span::new(0, 2), "second")
            .help("h");
        let report = json(&[report("x.tsr", text, vec![diagnostic])]);
        let d = &report["diagnostics"][0];
        assert_eq!(
            (&d["line"], &d["column"]),
            (&Value::from(1), &Value::from(5))
        );
        assert_eq!(
            (&d["end_line"], &d["end_column"]),
            (&Value::from(1), &Value::from(7))
        );
        assert_eq!(d["labels"][0]["message"], "first");
        assert_eq!(d["labels"][1]["column"], 1);
        assert_eq!(d["labels"][1]["end_column"], 2);
        assert_eq!(d["help"], "h");
    }

    #[test]
    fn spans_outside_the_text_are_clamped() {
        let inside_a_character = Diagnostic::new(Code::Parse, Span::new(1, 999), "m");
        let far_label =
            Diagnostic::new(Code::Parse, Span::new(0, 1), "n").label(Span::new(500, 600), "far");
        let reports = [report("x.tsr", "é\n", vec![inside_a_character, far_label])];
        let report = json(&reports);
        let d = &report["diagnostics"][0];
        let position = |d: &Value| {
            [
                d["line"].clone(),
                d["column"].clone(),
                d["end_line"].clone(),
                d["end_column"].clone(),
            ]
        };
        assert_eq!(position(d), [1, 1, 2, 1].map(Value::from));
        assert_eq!(
            position(&report["diagnostics"][1]["labels"][0]),
            [2, 1, 2, 1].map(Value::from)
        );
        let human = render(&reports, Format::Human { color: false });
        assert!(
            human.contains("[x.tsr:1:1]") && human.contains("[x.tsr:2:1]"),
            "{human}"
        );
        assert!(!human.contains("Failed to read"), "{human}");
    }

    #[test]
    fn human_headers_count_characters() {
        let diagnostic = Diagnostic::new(Code::Parse, Span::new(16, 17), "m");
        let reports = [report("x.tsr", "x = \"é\"\n\"αβ\" $\n", vec![diagnostic])];
        let human = render(&reports, Format::Human { color: false });
        assert!(human.contains("[x.tsr:2:6]"), "{human}");
    }

    #[test]
    fn unplaced_diagnostics_have_no_position_snippet_or_labels() {
        let mut diagnostic = Diagnostic::unplaced(Code::Io, "cannot read");
        diagnostic.labels.push(crate::error::Label {
            span: Span::new(0, 1),
            message: "dropped".to_owned(),
        });
        let reports = [report("gone.tsr", "", vec![diagnostic])];
        let d = &json(&reports)["diagnostics"][0];
        assert!(d["line"].is_null() && d["end_column"].is_null());
        assert_eq!(d["labels"], Value::Array(Vec::new()));
        assert_eq!(
            render(&reports, Format::Github),
            "::error file=gone.tsr,title=tsr%3A%3Aio::cannot read\n"
        );
        let human = render(&reports, Format::Human { color: false });
        assert_eq!(human, "tsr::io\n\n  × cannot read\n");
    }

    #[test]
    fn human_reports_show_code_labels_and_help() {
        let text = "let z = x + y\n";
        let diagnostic = Diagnostic::new(Code::Broadcast, Span::new(8, 13), "cannot broadcast")
            .label(Span::new(8, 9), "[B=2, T=3]")
            .label(Span::new(12, 13), "[B=2, D=4]")
            .help("transpose y");
        let warning = Diagnostic::new(Code::TransposeNd, Span::new(0, 3), "reversed");
        let reports = [report("m.tsr", text, vec![warning, diagnostic])];
        let human = render(&reports, Format::Human { color: false });
        for needle in [
            "tsr::broadcast",
            "× cannot broadcast",
            "[m.tsr:1:9]",
            "[B=2, T=3]",
            "[B=2, D=4]",
            "help: transpose y",
            "tsr::transpose-nd",
            "⚠ reversed",
        ] {
            assert!(human.contains(needle), "{needle} missing from\n{human}");
        }
        assert!(!human.contains('\u{1b}'), "{human}");
        assert!(render(&reports, Format::Human { color: true }).contains('\u{1b}'));
    }

    #[test]
    fn nothing_to_report_is_empty_except_in_json() {
        let reports = [report("ok.tsr", "let x = 1\n", Vec::new())];
        assert_eq!(render(&reports, Format::Human { color: true }), "");
        assert_eq!(render(&reports, Format::Github), "");
        assert_eq!(
            render(&reports, Format::Json),
            "{\"diagnostics\":[],\"errors\":0,\"files\":1,\"version\":1,\"warnings\":0}\n"
        );
    }
}
