//! The syntax tree. Every node carries the span of the source it came from.
//! The tree says what was written; meaning (a bracket list as a shape or a
//! tensor literal, a name as a dim or a binding) is decided by the checker.

use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub stmts: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `dim B = 32, N, Dh = D / H`
    Dim(Vec<DimDecl>),
    /// `input x: [B, T, D]`
    Input {
        name: Ident,
        ty: TypeExpr,
    },
    /// `let p: T = e` where p is a name, `_` or a tuple pattern.
    Let {
        pattern: Pattern,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    /// `x = e`, or `x[i, a:b] = e` when `indices` is present.
    Assign {
        target: Ident,
        indices: Option<Vec<IndexItem>>,
        value: Expr,
    },
    Fn(FnDef),
    /// `for i in start..end { body }`
    For {
        var: Ident,
        start: Expr,
        end: Expr,
        body: Block,
    },
    /// `if c { } else if d { } else { }`: an `else if` is an `If` statement
    /// alone in `else_block`.
    If {
        cond: Expr,
        then_block: Block,
        else_block: Option<Block>,
    },
    Return(Expr),
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct DimDecl {
    pub name: Ident,
    pub value: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    Name(Ident),
    Wildcard(Span),
    Tuple(Vec<Pattern>, Span),
}

impl Pattern {
    pub fn span(&self) -> Span {
        match self {
            Pattern::Name(ident) => ident.span,
            Pattern::Wildcard(span) | Pattern::Tuple(_, span) => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `f64[N, D]`, `[B, T]`, `[]`
    Tensor {
        dtype: Option<Ident>,
        axes: Vec<AxisExpr>,
    },
    /// `([N], [M])`
    Tuple(Vec<TypeExpr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AxisExpr {
    pub kind: AxisExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AxisExprKind {
    /// A dim name, an integer or a size expression.
    Size(Expr),
    /// `_`
    Any,
    /// `*batch`
    Run(Ident),
    /// `...`
    Ellipsis,
}

/// Identifies an expression within one parse, for facts the checker
/// records about it (its type, resolved axes) and the evaluator reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    pub id: NodeId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    MatMul,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "**",
            BinaryOp::MatMul => "@",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer literal; `None` when it does not fit in an `i64`.
    Int(Option<i64>),
    Float(f64),
    /// A string literal with escapes decoded.
    Str(String),
    Bool(bool),
    /// Any identifier, `None` and `_` included.
    Name(String),
    /// `[a, b, c]`: a tensor literal or a shape/axes list, by slot.
    List(Vec<Expr>),
    /// `(a, b)`; a parenthesised single expression is not a tuple.
    Tuple(Vec<Expr>),
    /// `{"a": x, "b": y}` (only inside brackets).
    Dict(Vec<(Expr, Expr)>),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `f(a, k=v)`
    Call {
        callee: Ident,
        args: Vec<Arg>,
    },
    /// `x.f(a, k=v)`
    Method {
        receiver: Box<Expr>,
        name: Ident,
        args: Vec<Arg>,
    },
    /// `x.T`, `x.shape`
    Field {
        receiver: Box<Expr>,
        name: Ident,
    },
    /// `x[i, a:b, None, ...]`
    Index {
        base: Box<Expr>,
        items: Vec<IndexItem>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The keyword of a `k=v` argument.
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndexItem {
    pub kind: IndexItemKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum IndexItemKind {
    /// An integer index, or `None` written as a name.
    Expr(Expr),
    /// `a:b:c`, each part optional.
    Slice {
        start: Option<Expr>,
        stop: Option<Expr>,
        step: Option<Expr>,
    },
    /// `...`
    Ellipsis,
}
