//! I/O and output: load, save, print, assert.

use super::{Bound, Builtin, Param};
use crate::check::annot::{Annot, AnnotationUse};
use crate::check::size::Size;
use crate::check::types::{Axis, DType, Item, Type};
use crate::check::Checker;
use crate::data::header::{read_header, ElemType};

use crate::error::{Code, Diagnostic};
use crate::eval::value::Value;
use crate::eval::Interp;
use crate::syntax::ast::{Expr, ExprKind};

use Param::{Optional, Required, Rest};

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "load",
        params: &[Required("path"), Optional("key")],
        rule: load,
    },
    Builtin {
        name: "save",
        params: &[Required("x"), Required("path")],
        rule: save,
    },
    Builtin {
        name: "print",
        params: &[Rest("values")],
        rule: print,
    },
    Builtin {
        name: "assert",
        params: &[Required("cond"), Optional("message")],
        rule: assert,
    },
];

fn load(cx: &mut Checker, b: &Bound) -> Type {
    match header_type(cx, b) {
        Some(Ok(ty)) => ty,
        Some(Err(d)) => cx.fail(d),
        None => {
            let why = match b.get(0).and_then(literal) {
                Some(path) => format!("`{path}` does not exist here, so its header cannot give it"),
                None => "its path is not a string literal, so no header can give it".to_string(),
            };
            cx.fail(
                Diagnostic::new(
                    Code::Annotation,
                    b.span,
                    format!("the type of this `load` is unknown: {why}"),
                )
                .label(b.span, "no type")
                .help("add a type: `let w: [D, D] = load(...)`"),
            )
        }
    }
}

/// The type a file's header gives, when the path is a literal and the file exists.
fn header_type(cx: &mut Checker, b: &Bound) -> Option<Result<Type, Diagnostic>> {
    let path = literal(b.get(0)?)?;
    let key = match b.get(1) {
        Some(e) => Some(literal(e)?),
        None => None,
    };
    let full = cx.options.base_dir.join(path);
    if !full.exists() {
        return None;
    }
    Some(match read_header(&full, key) {
        Ok(h) => {
            let dtype = match h.elem {
                ElemType::Bool => DType::Bool,
                ElemType::I64 => DType::I64,
                ElemType::F32 => DType::F32,
                ElemType::F64 => DType::F64,
            };
            let mut shape = Vec::with_capacity(h.shape.len());
            for &n in &h.shape {
                match i64::try_from(n)
                    .ok()
                    .filter(|v| *v <= crate::check::MAX_SIZE)
                {
                    Some(v) => shape.push(Item::Axis(Axis::anon(Size::constant(v)))),
                    None => {
                        return Some(Err(crate::check::limit_error(
                            b.span,
                            "an axis of this file",
                        )))
                    }
                }
            }
            Ok(Type::tensor(dtype, shape))
        }
        Err(e) => {
            Err(Diagnostic::new(Code::Io, b.span, e.to_string()).label(b.span_of(0), "this file"))
        }
    })
}

fn literal(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Str(s) => Some(s),
        _ => None,
    }
}

impl Checker<'_> {
    /// `let w: T = load(...)`: the annotation gives the type; the header, if
    /// readable, must agree with it.
    pub fn load_with_type(&mut self, call: &Expr, declared: &Annot) -> Type {
        let ty = self.load_type(call, declared);
        if self.options.record_facts {
            self.facts.types.insert(call.id, ty.clone());
        }
        ty
    }

    fn load_type(&mut self, call: &Expr, declared: &Annot) -> Type {
        let ExprKind::Call { args, .. } = &call.kind else {
            return self.expr(call);
        };
        let refs: Vec<super::ArgRef> = args
            .iter()
            .map(|a| super::ArgRef {
                name: a.name.as_ref().map(|n| n.name.as_str()),
                value: &a.value,
                span: a.span,
            })
            .collect();
        let Some(builtin) = super::find("load") else {
            return Type::Unknown;
        };
        let bound = match super::bind(builtin, &refs, call.span, call.id) {
            Ok(bound) => bound,
            Err(d) => return self.fail(d),
        };
        for e in [bound.get(0), bound.get(1)].into_iter().flatten() {
            if !matches!(self.expr(e), Type::Str | Type::Unknown) {
                self.report(Diagnostic::new(
                    Code::Arg,
                    e.span,
                    "a path or key must be a string",
                ));
            }
        }
        let declared_ty = match declared {
            Annot::Tensor { dtype: None, items } => Annot::Tensor {
                dtype: Some(DType::F32),
                items: items.clone(),
            },
            other => other.clone(),
        };
        match header_type(self, &bound) {
            Some(Ok(found)) => {
                // The header fills in what the annotation leaves open (`_`, `...`).
                if let Some(ty) = crate::check::annot::conform(&declared_ty, &found) {
                    return ty;
                }
                let (f, w) = (self.show(&found), self.show_annot(&declared_ty));
                let path = bound.get(0).and_then(literal).unwrap_or("the file");
                self.report(
                    Diagnostic::new(
                        Code::Io,
                        call.span,
                        format!("`{path}` holds {f}, but its declared type is {w}"),
                    )
                    .label(call.span, format!("the file holds {f}"))
                    .help("fix the annotation or the file"),
                );
                self.annot_to_type(&declared_ty, AnnotationUse::Input, call.span)
            }
            Some(Err(d)) => {
                self.report(d);
                self.annot_to_type(&declared_ty, AnnotationUse::Input, call.span)
            }
            None => self.annot_to_type(&declared_ty, AnnotationUse::Input, call.span),
        }
    }
}

fn save(cx: &mut Checker, b: &Bound) -> Type {
    let value = b.get(0).map(|e| (cx.expr(e), e.span));
    let path = b.get(1).map(|e| (cx.expr(e), e.span));
    if let Some((ty, span)) = value {
        if !matches!(ty, Type::Tensor(_) | Type::Dict | Type::Unknown) {
            let shown = cx.show(&ty);
            cx.report(Diagnostic::new(
                Code::Arg,
                span,
                format!("`save` takes a tensor or a dict of tensors, not {shown}"),
            ));
        }
    }
    if let Some((ty, span)) = path {
        if !matches!(ty, Type::Str | Type::Unknown) {
            cx.report(Diagnostic::new(
                Code::Arg,
                span,
                "the path must be a string",
            ));
        }
    }
    Type::Nothing
}

fn print(cx: &mut Checker, b: &Bound) -> Type {
    for arg in b.rest(0) {
        cx.expr(arg.value);
    }
    Type::Nothing
}

fn assert(cx: &mut Checker, b: &Bound) -> Type {
    if let Some(cond) = b.get(0) {
        let ty = cx.expr(cond);
        cx.condition(&ty, cond.span, "an `assert` condition");
    }
    if let Some(message) = b.get(1) {
        if !matches!(cx.expr(message), Type::Str | Type::Unknown) {
            cx.report(Diagnostic::new(
                Code::Arg,
                message.span,
                "the message of `assert` must be a string",
            ));
        }
    }
    Type::Nothing
}

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("print", print_kernel),
    ("assert", assert_kernel),
    ("load", load_kernel),
    ("save", save_kernel),
];

fn string_arg<'a>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    i: usize,
) -> Result<Option<String>, Diagnostic> {
    match b.get(i) {
        None => Ok(None),
        Some(e) => match ev.expr(e)? {
            Value::Str(s) => Ok(Some(s.to_string())),
            _ => Err(Diagnostic::new(
                Code::Internal,
                e.span,
                "a path that is not a string",
            )),
        },
    }
}

fn load_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let path = string_arg(ev, b, 0)?.unwrap_or_default();
    let key = string_arg(ev, b, 1)?;
    let declared = ev.fact_of_call(b).cloned().ok_or_else(|| {
        Diagnostic::new(
            Code::Internal,
            b.span,
            "a load whose type the checker did not record",
        )
    })?;
    let full = ev.resolve_path(&path);
    let what = format!("`{path}`");
    ev.read_declared(&full, key.as_deref(), &declared, &what, b.span, |d| d)
        .map(Value::Tensor)
}

fn save_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let value = ev.arg_value(b, 0)?;
    let path = string_arg(ev, b, 1)?.unwrap_or_default();
    ev.save(&value, &path, b.span)?;
    Ok(Value::Nothing)
}

fn print_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let mut parts = Vec::with_capacity(b.rest(0).len());
    for arg in b.rest(0) {
        let value = ev.expr(arg.value)?;
        parts.push(show_value(ev, arg.value, &value));
    }
    let mut line = parts.join(" ");
    line.push('\n');
    ev.out
        .write_all(line.as_bytes())
        .map_err(|e| Diagnostic::new(Code::Io, b.span, format!("cannot write the output: {e}")))?;
    Ok(Value::Nothing)
}

/// How `print` shows one value (spec sections 6 and 9).
pub(crate) fn show_value(ev: &Interp, e: &Expr, value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::Nothing => String::new(),
        Value::Shape(shape) => match ev.fact(e) {
            Some(Type::ShapeValue(items)) => show_concrete(items, shape),
            _ => format!("{shape:?}"),
        },
        // `Interp::expr` gives `print` and the REPL broadcasts in memory.
        Value::Broadcast(view) => match view.materialise() {
            Some(t) => show_value(ev, e, &Value::Tensor(t)),
            None => format!("{:?}", view.shape),
        },
        Value::Tensor(t) if t.shape().is_empty() => crate::eval::format::scalar(t),
        Value::Tensor(t) => {
            let axes = match ev.fact(e) {
                Some(Type::Tensor(ty)) => show_concrete(&ty.shape, t.shape()),
                _ => format!("{:?}", t.shape()),
            };
            format!("{axes} {}\n{}", t.dtype(), crate::eval::format::tensor(t))
        }
        Value::Tuple(items) => {
            let shown: Vec<String> = items.iter().map(|v| show_value(ev, e, v)).collect();
            format!("({})", shown.join(", "))
        }
        Value::Dict(entries) => {
            let shown: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k:?}: {}", show_value(ev, e, v)))
                .collect();
            format!("{{{}}}", shown.join(", "))
        }
    }
}

/// A shape as section 3 prints it, with the sizes the data has.
fn show_concrete(items: &[crate::check::types::Item], sizes: &[usize]) -> String {
    let names: Vec<Option<&str>> = items
        .iter()
        .flat_map(|item| match item {
            crate::check::types::Item::Axis(a) => vec![a.name.as_deref()],
            crate::check::types::Item::Run(_) => Vec::new(),
        })
        .collect();
    let named = names.len() == sizes.len();
    let parts: Vec<String> = sizes
        .iter()
        .enumerate()
        .map(|(i, n)| match names.get(i).copied().flatten() {
            Some(name) if named => format!("{name}={n}"),
            _ => n.to_string(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn assert_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let cond = b
        .get(0)
        .ok_or_else(|| Diagnostic::unplaced(Code::Internal, "assert without a condition"))?;
    if ev.truth(cond)? {
        return Ok(Value::Nothing);
    }
    let message = match b.get(1) {
        Some(e) => match ev.expr(e)? {
            Value::Str(s) => format!("assertion failed: {s}"),
            _ => "assertion failed".to_string(),
        },
        None => "assertion failed".to_string(),
    };
    Err(Diagnostic::new(Code::Runtime, b.span, message).label(cond.span, "false"))
}
