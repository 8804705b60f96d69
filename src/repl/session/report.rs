//! Diagnostics against the chunk they point into: the line just typed, an
//! earlier line (an error inside a fn it defined), or a loaded file, each
//! shown with its own line numbers.

use super::Session;
use crate::diagnostics::FileReport;
use crate::error::{Diagnostic, Label};
use crate::source::{SourceFile, Span};

/// A chunk's name and its byte range in the session text.
struct Piece<'a> {
    name: &'a str,
    start: usize,
    end: usize,
}

impl Piece<'_> {
    fn holds(&self, span: Span) -> bool {
        (self.start..=self.end).contains(&(span.start as usize)) && (span.end as usize) <= self.end
    }

    fn shift(&self, span: Span) -> Span {
        let start = span.start as usize - self.start;
        Span::new(start, start + span.len())
    }
}

impl Session {
    /// Groups `diagnostics` by the chunk each points into, spans made
    /// relative to it. `pending` is the chunk not yet accepted, at the end
    /// of the session text; unplaced diagnostics go with it.
    pub(super) fn reports(
        &self,
        diagnostics: Vec<Diagnostic>,
        pending: Option<(&str, usize)>,
    ) -> Vec<FileReport> {
        let mut pieces: Vec<Piece> = self
            .chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| Piece {
                name: &chunk.name,
                start: chunk.start,
                end: self
                    .chunks
                    .get(i + 1)
                    .map_or(self.text.len(), |next| next.start),
            })
            .collect();
        if let Some((name, start)) = pending {
            if let Some(last) = pieces.last_mut() {
                last.end = last.end.min(start);
            }
            pieces.push(Piece {
                name,
                start,
                end: self.text.len(),
            });
        }
        let mut reports: Vec<(usize, FileReport)> = Vec::new();
        for diagnostic in diagnostics {
            let at = diagnostic
                .span
                .and_then(|span| pieces.iter().rposition(|p| p.holds(span)))
                .unwrap_or(pieces.len().saturating_sub(1));
            let diagnostic = match pieces.get(at) {
                Some(piece) => relocate(diagnostic, piece, &pieces, &self.text),
                None => diagnostic,
            };
            match reports.iter_mut().find(|(i, _)| *i == at) {
                Some((_, report)) => report.diagnostics.push(diagnostic),
                None => {
                    let file = pieces.get(at).map_or_else(
                        || SourceFile::new("<repl>", ""),
                        |p| SourceFile::new(p.name, self.text.get(p.start..p.end).unwrap_or("")),
                    );
                    let diagnostics = vec![diagnostic];
                    reports.push((at, FileReport { file, diagnostics }));
                }
            }
        }
        reports.into_iter().map(|(_, report)| report).collect()
    }
}

/// Makes a diagnostic's spans relative to `piece`. A label in another chunk
/// cannot be drawn there, so it becomes a line of the help naming its place.
fn relocate(mut d: Diagnostic, piece: &Piece, pieces: &[Piece], text: &str) -> Diagnostic {
    d.span = d.span.map(|span| piece.shift(span));
    let mut notes = Vec::new();
    let mut labels = Vec::with_capacity(d.labels.len());
    for label in d.labels {
        if piece.holds(label.span) {
            labels.push(Label {
                span: piece.shift(label.span),
                message: label.message,
            });
        } else if let Some(other) = pieces.iter().rev().find(|p| p.holds(label.span)) {
            let local = SourceFile::new(other.name, text.get(other.start..other.end).unwrap_or(""));
            let at = local.line_col(other.shift(label.span).start);
            notes.push(format!(
                "{}:{}:{}: {}",
                other.name, at.line, at.column, label.message
            ));
        }
    }
    d.labels = labels;
    if !notes.is_empty() {
        let mut help = d.help.take().map(|h| vec![h]).unwrap_or_default();
        help.extend(notes);
        d.help = Some(help.join("\n"));
    }
    d
}
