//! The one diagnostic type every phase reports with. A diagnostic carries
//! spans, never source text: the file is attached where it is rendered.

use crate::source::Span;

/// The stable codes of LANGUAGE.md section 7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    Broadcast,
    Contraction,
    EinsumSpec,
    Reshape,
    View,
    Permute,
    Rearrange,
    Axis,
    Index,
    Annotation,
    Assign,
    Call,
    Arg,
    Undefined,
    Dim,
    Dtype,
    Grad,
    Parse,
    Io,
    Runtime,
    Limit,
    NameMismatch,
    TransposeNd,
    BroadcastOuter,
    ReshapeOrder,
    /// A bug in tsr itself, never the user's mistake.
    Internal,
}

impl Code {
    pub const ALL: [Code; 26] = [
        Code::Broadcast,
        Code::Contraction,
        Code::EinsumSpec,
        Code::Reshape,
        Code::View,
        Code::Permute,
        Code::Rearrange,
        Code::Axis,
        Code::Index,
        Code::Annotation,
        Code::Assign,
        Code::Call,
        Code::Arg,
        Code::Undefined,
        Code::Dim,
        Code::Dtype,
        Code::Grad,
        Code::Parse,
        Code::Io,
        Code::Runtime,
        Code::Limit,
        Code::NameMismatch,
        Code::TransposeNd,
        Code::BroadcastOuter,
        Code::ReshapeOrder,
        Code::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Broadcast => "tsr::broadcast",
            Code::Contraction => "tsr::contraction",
            Code::EinsumSpec => "tsr::einsum-spec",
            Code::Reshape => "tsr::reshape",
            Code::View => "tsr::view",
            Code::Permute => "tsr::permute",
            Code::Rearrange => "tsr::rearrange",
            Code::Axis => "tsr::axis",
            Code::Index => "tsr::index",
            Code::Annotation => "tsr::annotation",
            Code::Assign => "tsr::assign",
            Code::Call => "tsr::call",
            Code::Arg => "tsr::arg",
            Code::Undefined => "tsr::undefined",
            Code::Dim => "tsr::dim",
            Code::Dtype => "tsr::dtype",
            Code::Grad => "tsr::grad",
            Code::Parse => "tsr::parse",
            Code::Io => "tsr::io",
            Code::Runtime => "tsr::runtime",
            Code::Limit => "tsr::limit",
            Code::NameMismatch => "tsr::name-mismatch",
            Code::TransposeNd => "tsr::transpose-nd",
            Code::BroadcastOuter => "tsr::broadcast-outer",
            Code::ReshapeOrder => "tsr::reshape-order",
            Code::Internal => "tsr::internal",
        }
    }

    /// Warnings are the codes that never stop a program.
    pub fn severity(self) -> Severity {
        match self {
            Code::NameMismatch | Code::TransposeNd | Code::BroadcastOuter | Code::ReshapeOrder => {
                Severity::Warning
            }
            _ => Severity::Error,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// The primary location; `None` for errors with no place in a file.
    pub span: Option<Span>,
    /// The first label is the primary one when `span` is set.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span: Some(span),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A diagnostic about no place in a file (a missing file on the command line).
    pub fn unplaced(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span: None,
            labels: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}
