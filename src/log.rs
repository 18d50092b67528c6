//! Messages on stderr, by verbosity: `-q` quiet, default normal, `-v` info, `-vv` debug.

use std::io::Write;
use std::sync::atomic::{AtomicI8, Ordering};

static LEVEL: AtomicI8 = AtomicI8::new(0);

/// Set the verbosity: -1 quiet, 0 normal, 1 verbose, 2 debug.
pub fn set_level(level: i8) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// True unless `-q`.
pub fn normal_enabled() -> bool {
    LEVEL.load(Ordering::Relaxed) >= 0
}

fn emit(min: i8, prefix: &str, msg: &str) {
    if LEVEL.load(Ordering::Relaxed) >= min {
        // stderr errors (a closed terminal) are not worth failing for.
        let _ = writeln!(std::io::stderr().lock(), "{prefix}{msg}");
    }
}

/// A summary or notice (hidden by `-q`).
pub fn note(msg: &str) {
    emit(0, "rmq: ", msg);
}

/// A warning (hidden by `-q`).
pub fn warn(msg: &str) {
    emit(0, "rmq: warning: ", msg);
}

/// Shown with `-v`.
pub fn info(msg: &str) {
    emit(1, "rmq: ", msg);
}

/// Shown with `-vv`.
pub fn debug(msg: &str) {
    emit(2, "rmq: debug: ", msg);
}

/// An error (always shown).
pub fn error(msg: &str) {
    emit(i8::MIN, "rmq: error: ", msg);
}

/// The second line of an error (always shown).
pub fn hint(msg: &str) {
    emit(i8::MIN, "  hint: ", msg);
}
