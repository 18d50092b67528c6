//! The terminal while `rmq top` owns it: raw mode, the alternate screen, the cursor hidden;
//! and the guard that gives it back as it was (raw mode off, the alternate screen left, the
//! cursor shown) however top ends: a return, an error, or a panic (a panic hook restores it
//! before the panic message is printed, so that the message is readable).
//!
//! The screen is drawn on stdout, which is a terminal whenever this runs (top's data for
//! scripts goes through `output::Out` in json.rs). [`wait_for_input`] guards against a
//! terminal that goes away (a closed window, a dropped SSH session).

use crate::error::{Error, Result};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};
use std::io::{Stdout, stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Is the terminal ours (so that the panic hook knows whether to restore it)?
static TAKEN: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// The terminal, taken; restored on drop.
pub struct Screen {
    /// What top draws with.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    /// Take the terminal: raw mode, the alternate screen, no cursor.
    pub fn take() -> Result<Screen> {
        install_panic_hook();
        terminal::enable_raw_mode()
            .map_err(|e| Error::io("setting the terminal to raw mode", e))?;
        TAKEN.store(true, Ordering::SeqCst);
        // From here on, a failure is returned after `restore` (the guard below is not made).
        let entered = execute!(stdout(), terminal::EnterAlternateScreen, cursor::Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())));
        match entered {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                restore();
                Err(Error::io("setting up the terminal", e))
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// Give the terminal back (idempotent: only the first call after [`Screen::take`] acts).
pub fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        // Nothing better to do with a failure here than to try every step.
        let _ = terminal::disable_raw_mode();
        let _ = execute!(stdout(), terminal::LeaveAlternateScreen, cursor::Show);
    }
}

fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// What the terminal had within a wait.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// Bytes to read: keys.
    Ready,
    /// Nothing came.
    Idle,
    /// The terminal hung up.
    Gone,
}

/// Wait up to `timeout` for input on the terminal.
///
/// crossterm 0.29's reader loops for ever, ignoring its timeout, on a terminal that hung up
/// (its read loop retries a read that keeps returning 0 bytes or EIO), which left a closed
/// window's `rmq top` spinning and deaf to SIGTERM. So crossterm is asked only once the
/// terminal has input, and a hang-up is seen here first.
pub fn wait_for_input(timeout: Duration) -> Input {
    // SAFETY: isatty and poll on the process's own descriptors, with a local pollfd.
    unsafe {
        // crossterm reads stdin when it is a terminal, else /dev/tty: the terminal stdout is.
        let fd = if libc::isatty(0) == 1 { 0 } else { 1 };
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        if libc::poll(&mut p, 1, ms) < 0 {
            return Input::Idle; // a signal: the caller looks at it and comes back
        }
        if p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            Input::Gone
        } else if p.revents & libc::POLLIN != 0 {
            Input::Ready
        } else {
            Input::Idle
        }
    }
}
