//! Cancellation of a run in progress: the REPL's Ctrl-C handler sets one
//! process-wide flag, and the interpreter polls it at every statement and
//! loop iteration, as long kernels may between chunks of work.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Code, Diagnostic};
use crate::source::Span;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks the run in progress to stop; safe to call from a signal handler's
/// thread.
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Forgets an earlier request, before a new run starts.
pub fn clear() {
    REQUESTED.store(false, Ordering::Relaxed);
}

/// Whether a stop was asked for: one relaxed load, cheap enough for any loop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `tsr::runtime` "interrupted" at `span` once a stop was asked for.
pub fn check(span: Span) -> Result<(), Diagnostic> {
    if requested() {
        return Err(Diagnostic::new(Code::Runtime, span, "interrupted").label(span, "stopped here"));
    }
    Ok(())
}
