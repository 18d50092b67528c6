//! Confirmation for destructive commands (`queue-purge`, `queue-delete`, `exchange-delete`).
//!
//! With `-y/--yes` nothing is asked. Otherwise rmq asks on the terminal, but only when stdin
//! and stderr are both terminals and `RMQ_NON_INTERACTIVE` is not set; anywhere else (a
//! script, CI, a pipe) it refuses at once with exit 2 and changes nothing. It never waits on
//! a stdin that is not a terminal.

use crate::error::{Error, Result};
use std::io::IsTerminal;

/// Set (to anything but "" or "0") to never ask, as if no terminal were there.
pub const NON_INTERACTIVE_ENV: &str = "RMQ_NON_INTERACTIVE";

/// Can rmq ask a question here?
pub fn interactive() -> bool {
    let opted_out =
        std::env::var_os(NON_INTERACTIVE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    !opted_out && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Permission to do something destructive, settled before anything is changed.
#[derive(Debug)]
pub struct Confirm {
    yes: bool,
}

impl Confirm {
    /// Check up front: with `yes` it is granted; without a terminal to ask on it is refused
    /// (exit 2), with `action` (e.g. "deleting queue 'q' in vhost '/'") in the message.
    pub fn require(yes: bool, action: &str) -> Result<Confirm> {
        if yes || interactive() {
            Ok(Confirm { yes })
        } else {
            Err(Error::ConfirmationRequired(action.to_string()))
        }
    }

    /// Ask `question` (default: no) unless `--yes` was given. "No" (or Esc) is exit 1 and
    /// changes nothing; Ctrl-C is exit 130.
    pub fn ask(&self, question: &str) -> Result<()> {
        if self.yes {
            return Ok(());
        }
        // Ctrl-C in the prompt's raw mode raises SIGINT: catch it so the cursor comes back.
        crate::signals::install(true);
        let term = dialoguer::console::Term::stderr();
        let answer = dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact_on_opt(&term);
        match answer {
            Ok(Some(true)) => Ok(()),
            Ok(Some(false)) | Ok(None) => Err(Error::Other(
                "not confirmed: nothing was changed".to_string(),
            )),
            Err(e) => {
                let _ = term.show_cursor();
                let _ = term.write_line("");
                let dialoguer::Error::IO(io) = &e;
                if io.kind() == std::io::ErrorKind::Interrupted || crate::signals::stop_requested()
                {
                    Err(Error::Interrupted("nothing was changed".to_string()))
                } else {
                    Err(Error::Other(format!(
                        "no answer from the terminal ({e}): nothing was changed"
                    )))
                }
            }
        }
    }
}
