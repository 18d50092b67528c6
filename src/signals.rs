//! Ctrl-C and SIGTERM: the first asks the running command to stop cleanly, a second one
//! (for commands that have nothing to finish) exits at once. This only counts signals; what a
//! stop means (finish, settle, summarise) is each command's, and nothing here prints.

use crate::error::EXIT_INTERRUPTED;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

static COUNT: AtomicU32 = AtomicU32::new(0);
static HARD_EXIT_ON_SECOND: AtomicBool = AtomicBool::new(true);
static INSTALL: Once = Once::new();

/// Install the handler (idempotent). With `hard_exit_on_second`, a second signal exits 130
/// ([`EXIT_INTERRUPTED`]).
pub fn install(hard_exit_on_second: bool) {
    HARD_EXIT_ON_SECOND.store(hard_exit_on_second, Ordering::SeqCst);
    INSTALL.call_once(|| {
        let r = ctrlc::set_handler(|| {
            let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= 2 && HARD_EXIT_ON_SECOND.load(Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        });
        if let Err(e) = r {
            crate::log::debug(&format!("cannot install the Ctrl-C handler: {e}"));
        }
    });
}

/// Has a stop been asked for?
pub fn stop_requested() -> bool {
    COUNT.load(Ordering::SeqCst) >= 1
}

/// How many times Ctrl-C/SIGTERM arrived.
pub fn count() -> u32 {
    COUNT.load(Ordering::SeqCst)
}
