//! What the grammar's actions call. Every expression is built here, through
//! `Context::wrap`, which keeps each tree at most `max_depth` deep: a node
//! that would go deeper becomes a childless placeholder and the statement is
//! marked too deep. Trees therefore never get deep enough for a recursive
//! drop, or a later recursive pass, to overflow the stack.

use std::cell::{Cell, RefCell};

use lalrpop_util::ParseError;

use super::ast::{
    Arg, AxisExpr, AxisExprKind, BinaryOp, Block, DimDecl, Expr, ExprKind, Ident, IndexItem,
    IndexItemKind, NodeId, Stmt, StmtKind, UnaryOp,
};
use super::lexer::Tok;
use crate::source::Span;

/// An expression with the depth of its tree (a leaf is 0). Boxed, because
/// the parser moves its stack entries around and most expressions end up
/// boxed in their parent anyway.
pub(crate) struct Node {
    pub expr: Box<Expr>,
    pub depth: u32,
}

/// The error an action raises: the left side of `=` is not assignable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TargetError {
    pub span: Span,
}

pub(crate) type GrammarError<'a> = ParseError<usize, Tok<'a>, TargetError>;

/// State shared between the statement splitter and the grammar's actions.
#[derive(Default)]
pub(crate) struct Context {
    blocks: RefCell<Vec<Option<Block>>>,
    max_depth: Cell<u32>,
    too_deep: Cell<Option<Span>>,
    /// The next expression's id: ids are unique within one parse.
    next_id: Cell<u32>,
}

impl Context {
    /// A context whose first expression id is `first_id`, so that trees
    /// parsed one after another (the REPL's lines) never share an id.
    pub fn starting_at(first_id: u32) -> Context {
        let ctx = Context::default();
        ctx.next_id.set(first_id);
        ctx
    }

    /// The id the next expression would get.
    pub fn next_id(&self) -> u32 {
        self.next_id.get()
    }

    /// Prepares for one statement whose trees may be `max_depth` deep.
    pub fn begin_statement(&self, max_depth: u32) {
        self.max_depth.set(max_depth);
        self.too_deep.set(None);
    }

    pub fn max_depth(&self) -> u32 {
        self.max_depth.get()
    }

    /// Where the statement just parsed first went over its depth.
    pub fn too_deep(&self) -> Option<Span> {
        self.too_deep.get()
    }

    fn exceeded(&self, span: Span) {
        if self.too_deep.get().is_none() {
            self.too_deep.set(Some(span));
        }
    }

    /// Collects the parts of a chain that nests one level per part: past
    /// the depth limit the statement is too deep, and the list stops
    /// growing.
    pub fn push_capped<T>(&self, items: &mut Vec<T>, item: T, span: Span) {
        if items.len() < self.max_depth.get() as usize {
            items.push(item);
        } else {
            self.exceeded(span);
        }
    }

    /// Keeps a parsed block until the statement holding it is parsed.
    pub fn store_block(&self, block: Block) -> usize {
        let mut blocks = self.blocks.borrow_mut();
        blocks.push(Some(block));
        blocks.len() - 1
    }

    pub fn clear_blocks(&self) {
        self.blocks.borrow_mut().clear();
    }

    pub fn take_block(&self, index: usize, l: usize, r: usize) -> Block {
        self.blocks
            .borrow_mut()
            .get_mut(index)
            .and_then(Option::take)
            .unwrap_or_else(|| Block {
                stmts: Vec::new(),
                span: Span::new(l, r),
            })
    }

    fn new_id(&self) -> NodeId {
        let id = self.next_id.get();
        self.next_id.set(id.saturating_add(1));
        NodeId(id)
    }

    fn wrap(&self, kind: ExprKind, span: Span, depth: u32) -> Node {
        let id = self.new_id();
        if depth <= self.max_depth.get() {
            return Node {
                expr: Box::new(Expr { kind, span, id }),
                depth,
            };
        }
        self.exceeded(span);
        Node {
            expr: Box::new(Expr {
                kind: ExprKind::Name(String::new()),
                span,
                id,
            }),
            depth,
        }
    }

    pub fn leaf(&self, kind: ExprKind, l: usize, r: usize) -> Node {
        self.wrap(kind, Span::new(l, r), 0)
    }

    pub fn binary(&self, lhs: Node, op: BinaryOp, rhs: Node) -> Node {
        let span = lhs.expr.span.to(rhs.expr.span);
        let depth = lhs.depth.max(rhs.depth).saturating_add(1);
        let kind = ExprKind::Binary {
            op,
            lhs: lhs.expr,
            rhs: rhs.expr,
        };
        self.wrap(kind, span, depth)
    }

    /// Applies the minus signs at `signs` (source order) to `operand`.
    pub fn negate(&self, signs: Vec<usize>, mut operand: Node) -> Node {
        let end = operand.expr.span.end as usize;
        for start in signs.into_iter().rev() {
            let depth = operand.depth.saturating_add(1);
            let kind = ExprKind::Unary {
                op: UnaryOp::Neg,
                operand: operand.expr,
            };
            operand = self.wrap(kind, Span::new(start, end), depth);
        }
        operand
    }

    /// `base ** -a ** b`: each `**` operand comes with the minus signs
    /// before it, and the chain groups from the right.
    pub fn power(&self, base: Node, mut tail: Vec<(Vec<usize>, Node)>) -> Node {
        let Some((mut signs, mut acc)) = tail.pop() else {
            return base;
        };
        loop {
            acc = self.negate(signs, acc);
            match tail.pop() {
                Some((prev_signs, prev)) => {
                    acc = self.binary(prev, BinaryOp::Pow, acc);
                    signs = prev_signs;
                }
                None => return self.binary(base, BinaryOp::Pow, acc),
            }
        }
    }

    /// A parenthesised expression: the same node, its span widened to the
    /// parentheses so enclosing spans cover them.
    pub fn parens(&self, mut inner: Node, l: usize, r: usize) -> Node {
        inner.expr.span = Span::new(l, r);
        inner
    }

    pub fn list(&self, items: Vec<Node>, l: usize, r: usize) -> Node {
        let (items, depth) = unzip(items);
        self.wrap(ExprKind::List(items), Span::new(l, r), depth)
    }

    pub fn tuple(&self, items: Vec<Node>, l: usize, r: usize) -> Node {
        let (items, depth) = unzip(items);
        self.wrap(ExprKind::Tuple(items), Span::new(l, r), depth)
    }

    pub fn dict(&self, entries: Vec<(Node, Node)>, l: usize, r: usize) -> Node {
        let mut depth = 0;
        let entries = entries
            .into_iter()
            .map(|(key, value)| {
                depth = depth.max(key.depth).max(value.depth);
                (*key.expr, *value.expr)
            })
            .collect();
        self.wrap(
            ExprKind::Dict(entries),
            Span::new(l, r),
            depth.saturating_add(1),
        )
    }

    pub fn call(&self, callee: Ident, args: Vec<(Arg, u32)>, r: usize) -> Node {
        let span = Span::new(callee.span.start as usize, r);
        let (args, depth) = unzip(args);
        self.wrap(ExprKind::Call { callee, args }, span, depth)
    }

    pub fn method(&self, receiver: Node, name: Ident, args: Vec<(Arg, u32)>, r: usize) -> Node {
        let span = Span::new(receiver.expr.span.start as usize, r);
        let (args, depth) = unzip(args);
        let kind = ExprKind::Method {
            receiver: receiver.expr,
            name,
            args,
        };
        self.wrap(kind, span, depth.max(receiver.depth.saturating_add(1)))
    }

    pub fn field(&self, receiver: Node, name: Ident) -> Node {
        let span = receiver.expr.span.to(name.span);
        let depth = receiver.depth.saturating_add(1);
        let kind = ExprKind::Field {
            receiver: receiver.expr,
            name,
        };
        self.wrap(kind, span, depth)
    }

    pub fn index(&self, base: Node, items: Vec<(IndexItem, u32)>, r: usize) -> Node {
        let span = Span::new(base.expr.span.start as usize, r);
        let (items, depth) = unzip(items);
        let kind = ExprKind::Index {
            base: base.expr,
            items,
        };
        self.wrap(kind, span, depth.max(base.depth.saturating_add(1)))
    }

    /// An `if` with its `else if` links (each with the offset of its `if`)
    /// and final `else`; each link nests the rest of the chain one block
    /// deeper.
    pub fn if_chain(
        &self,
        head: (Node, Block),
        links: Vec<(usize, Node, Block)>,
        last: Option<Block>,
        span: Span,
    ) -> Stmt {
        let (cond, then_block) = head;
        let mut else_block = last;
        for (start, cond, then_block) in links.into_iter().rev() {
            let span = Span::new(start, span.end as usize);
            let stmt = Stmt {
                kind: StmtKind::If {
                    cond: *cond.expr,
                    then_block,
                    else_block,
                },
                span,
            };
            else_block = Some(Block {
                stmts: vec![stmt],
                span,
            });
        }
        Stmt {
            kind: StmtKind::If {
                cond: *cond.expr,
                then_block,
                else_block,
            },
            span,
        }
    }
}

/// Things that carry a depth: the parts of a node, with their deepest
/// depth plus one for the node holding them.
fn unzip<T: Into<(U, u32)>, U>(items: Vec<T>) -> (Vec<U>, u32) {
    let mut depth = 0;
    let items = items
        .into_iter()
        .map(|item| {
            let (item, item_depth) = item.into();
            depth = depth.max(item_depth);
            item
        })
        .collect();
    (items, depth.saturating_add(1))
}

impl From<Node> for (Expr, u32) {
    fn from(node: Node) -> (Expr, u32) {
        (*node.expr, node.depth)
    }
}

/// The first item of a comma-separated list (arguments, axes, indices).
/// Most lists have two to four items: room for four up front saves the
/// two reallocations of growing from one, on the parser's hottest path.
pub(crate) fn first<T>(item: T) -> Vec<T> {
    let mut items = Vec::with_capacity(4);
    items.push(item);
    items
}

pub(crate) fn ident(name: &str, l: usize, r: usize) -> Ident {
    Ident {
        name: name.to_owned(),
        span: Span::new(l, r),
    }
}

pub(crate) fn arg(name: Option<Ident>, value: Node, l: usize, r: usize) -> (Arg, u32) {
    let arg = Arg {
        name,
        value: *value.expr,
        span: Span::new(l, r),
    };
    (arg, value.depth)
}

fn index_item(kind: IndexItemKind, depth: u32, l: usize, r: usize) -> (IndexItem, u32) {
    let item = IndexItem {
        kind,
        span: Span::new(l, r),
    };
    (item, depth)
}

pub(crate) fn index_expr(value: Node, l: usize, r: usize) -> (IndexItem, u32) {
    index_item(IndexItemKind::Expr(*value.expr), value.depth, l, r)
}

pub(crate) fn index_ellipsis(l: usize, r: usize) -> (IndexItem, u32) {
    index_item(IndexItemKind::Ellipsis, 0, l, r)
}

/// `start:stop:step`, each part optional.
pub(crate) fn slice(
    start: Option<Node>,
    stop: Option<Node>,
    step: Option<Node>,
    l: usize,
    r: usize,
) -> (IndexItem, u32) {
    let depth = [&start, &stop, &step]
        .into_iter()
        .flatten()
        .map(|node| node.depth)
        .max()
        .unwrap_or(0);
    let kind = IndexItemKind::Slice {
        start: start.map(|node| *node.expr),
        stop: stop.map(|node| *node.expr),
        step: step.map(|node| *node.expr),
    };
    index_item(kind, depth, l, r)
}

pub(crate) fn dim_decl(name: Ident, value: Option<Node>, l: usize, r: usize) -> DimDecl {
    DimDecl {
        name,
        value: value.map(|node| *node.expr),
        span: Span::new(l, r),
    }
}

pub(crate) fn run_axis(name: Ident, l: usize, r: usize) -> AxisExpr {
    AxisExpr {
        kind: AxisExprKind::Run(name),
        span: Span::new(l, r),
    }
}

pub(crate) fn ellipsis_axis(l: usize, r: usize) -> AxisExpr {
    AxisExpr {
        kind: AxisExprKind::Ellipsis,
        span: Span::new(l, r),
    }
}

/// An axis of a shape: `_` alone is "any size", anything else a size.
pub(crate) fn axis(node: Node) -> AxisExpr {
    let Expr { kind, span, id } = *node.expr;
    let kind = match kind {
        ExprKind::Name(name) if name == "_" => AxisExprKind::Any,
        kind => AxisExprKind::Size(Expr { kind, span, id }),
    };
    AxisExpr { kind, span }
}

/// `target = value`, where only a name or an indexed name can be assigned.
pub(crate) fn assign<'a>(
    target: Node,
    value: Node,
    span: Span,
) -> Result<Box<Stmt>, GrammarError<'a>> {
    let target = *target.expr;
    let value = *value.expr;
    let not_assignable = ParseError::User {
        error: TargetError { span: target.span },
    };
    let kind = match target.kind {
        ExprKind::Name(name) if name != "_" => StmtKind::Assign {
            target: Ident {
                name,
                span: target.span,
            },
            indices: None,
            value,
        },
        ExprKind::Index { base, items } => match base.kind {
            ExprKind::Name(name) if name != "_" => StmtKind::Assign {
                target: Ident {
                    name,
                    span: base.span,
                },
                indices: Some(items),
                value,
            },
            _ => return Err(not_assignable),
        },
        _ => return Err(not_assignable),
    };
    Ok(Box::new(Stmt { kind, span }))
}
