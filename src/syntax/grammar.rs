//! The parser lalrpop generates from grammar/tsr.lalrpop.

#![allow(clippy::all)]

lalrpop_util::lalrpop_mod!(
    #[allow(unused_parens, unused_qualifications)]
    pub(crate) tsr
);

pub(crate) use tsr::StmtParser;
