//! The parser lalrpop generates from grammar/tsr.lalrpop.

#![allow(clippy::all)]

lalrpop_util::lalrpop_mod!(generated, "/tsr.rs");

pub(crate) use self::generated::StmtParser;
