//! Section 2: in the REPL, declaring a dim again replaces the old one, if
//! nothing live uses it.

use crate::check::env::Entry;
use crate::check::size::{AtomId, Size};
use crate::check::types::{Item, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::syntax::ast::{DimDecl, Program, StmtKind};
use crate::syntax::lexer::{tokens, Token};

/// Frees the names of the dims that `decls` declare again, so the checker
/// declares them anew; refuses (`tsr::dim`) a dim that a binding's type, a
/// fn or another dim still uses. `programs` and `text` are the session's
/// accepted statements and text, where fn bodies are looked through.
pub(super) fn release(
    checker: &mut Checker,
    decls: &[DimDecl],
    programs: &[Program],
    text: &str,
) -> Result<(), Diagnostic> {
    for decl in decls {
        let name = decl.name.name.as_str();
        let Some(&Entry::Dim(id)) = checker.scopes.first().and_then(|s| s.names.get(name)) else {
            continue;
        };
        if let Some(user) = user_of(checker, name, id, programs, text) {
            return Err(Diagnostic::new(
                Code::Dim,
                decl.name.span,
                format!("dim `{name}` is declared again, but {user} still uses it"),
            )
            .label(decl.name.span, "declared again here")
            .help(
                "a dim can be replaced only while nothing uses it: bind those names again \
                 first, or `:reset`",
            ));
        }
    }
    for decl in decls {
        if let Some(scope) = checker.scopes.first_mut() {
            if matches!(
                scope.names.get(decl.name.name.as_str()),
                Some(Entry::Dim(_))
            ) {
                scope.names.remove(decl.name.name.as_str());
            }
        }
    }
    Ok(())
}

/// What still uses dim `name` (id `id`): a binding, a fn or a dim.
fn user_of(
    checker: &Checker,
    name: &str,
    id: u32,
    programs: &[Program],
    text: &str,
) -> Option<String> {
    let scope = checker.scopes.first()?;
    let mut users: Vec<String> = scope
        .names
        .iter()
        .filter_map(|(user, entry)| {
            let uses = match entry {
                Entry::Value { ty, .. } => mentions(ty, name, id),
                Entry::Dim(other) => {
                    *other != id
                        && checker
                            .dims
                            .get(*other as usize)
                            .is_some_and(|d| size_mentions(&d.size, id))
                }
                Entry::Fn(_) | Entry::Generic(_) => false,
            };
            uses.then(|| match entry {
                Entry::Dim(_) => format!("dim `{user}`"),
                _ => format!("`{user}`"),
            })
        })
        .collect();
    users.sort();
    let fn_user = programs
        .iter()
        .flat_map(|p| &p.stmts)
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Fn(def) => Some((def, stmt.span)),
            _ => None,
        })
        .find(|(_, span)| {
            let source = text.get(span.range()).unwrap_or("");
            tokens(source)
                .iter()
                .any(|(token, _)| *token == Token::Ident(name))
        })
        .map(|(def, _)| format!("fn `{}`", def.name.name));
    users.into_iter().next().or(fn_user)
}

fn mentions(ty: &Type, name: &str, id: u32) -> bool {
    match ty {
        Type::Tensor(t) => items_mention(&t.shape, name, id),
        Type::ShapeValue(items) => items_mention(items, name, id),
        Type::Tuple(parts) => parts.iter().any(|part| mentions(part, name, id)),
        Type::Unknown | Type::Str | Type::Dict | Type::Nothing => false,
    }
}

fn items_mention(items: &[Item], name: &str, id: u32) -> bool {
    items.iter().any(|item| match item {
        Item::Axis(axis) => axis.name.as_deref() == Some(name) || size_mentions(&axis.size, id),
        Item::Run(_) => false,
    })
}

fn size_mentions(size: &Size, id: u32) -> bool {
    size.atoms().contains(&AtomId::Dim(id))
}
