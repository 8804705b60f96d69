//! The checker runs on its own thread with a large stack, and its panics
//! are caught there: a bug in tsr must surface as a `tsr::internal`
//! diagnostic, never as a stack overflow or an abort.

use std::any::Any;
use std::sync::Mutex;
use std::thread;

/// The checker recurses over the syntax tree; a generous stack keeps
/// deeply nested input from overflowing it.
const CHECK_STACK_BYTES: usize = 256 << 20;
const CHECK_THREAD_NAME: &str = "tsr-check";

static PANIC_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Panics on the checker thread are reported as `tsr::internal`
/// diagnostics, so the default hook's message would only duplicate them;
/// the hook keeps the location for that diagnostic instead.
pub(super) fn install_quiet_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if thread::current().name() == Some(CHECK_THREAD_NAME) {
            let location = info.location().map(ToString::to_string);
            if let Ok(mut slot) = PANIC_LOCATION.lock() {
                *slot = location;
            }
        } else {
            default_hook(info);
        }
    }));
}

/// Runs `work` on a thread with a large stack; a panic becomes its message.
pub(super) fn on_large_stack<T: Send>(work: impl FnOnce() -> T + Send) -> Result<T, String> {
    thread::scope(|scope| {
        let handle = thread::Builder::new()
            .name(CHECK_THREAD_NAME.to_owned())
            .stack_size(CHECK_STACK_BYTES)
            .spawn_scoped(scope, work)
            .map_err(|error| format!("cannot start the checker thread: {error}"))?;
        handle
            .join()
            .map_err(|payload| panic_message(payload.as_ref()))
    })
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "an unknown panic".to_owned());
    let location = PANIC_LOCATION.lock().ok().and_then(|mut slot| slot.take());
    match location {
        Some(location) => format!("panicked at {location}: {message}"),
        None => format!("panicked: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_on_the_large_stack_becomes_its_message() {
        assert_eq!(on_large_stack(|| 6 * 7), Ok(42));
        let crash = on_large_stack(|| -> u8 { panic!("boom {}", 7) });
        assert!(
            crash
                .as_ref()
                .is_err_and(|message| message.contains("boom 7")),
            "{crash:?}"
        );
    }

    #[test]
    fn the_large_stack_holds_deep_recursion() {
        fn depth(n: u64) -> u64 {
            let frame = [n; 64];
            if n == 0 {
                0
            } else {
                1 + depth(std::hint::black_box(frame)[0] - 1)
            }
        }
        assert_eq!(on_large_stack(|| depth(100_000)), Ok(100_000));
    }
}
