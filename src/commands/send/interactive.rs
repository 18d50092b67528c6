//! The interactive producer: `rmq send` with no BODY on a terminal (seed 001's loop).
//! Each line typed is published and confirmed before the next prompt; lines starting with
//! `:` are commands (`:key K`, `:queue Q`, `:exchange X`, `:help`, `:quit`).
//!
//! Lines are read in the terminal's own (cooked) mode, so line editing, Ctrl-D (end) and
//! Ctrl-C (stop at once: every message sent so far is already confirmed) work as in any shell
//! tool; dialoguer's raw-mode input ignores Ctrl-D.

use super::{Sender, Target};
use crate::declare;
use crate::error::Result;
use crate::input::Item;
use dialoguer::console::Term;
use dialoguer::theme::{SimpleTheme, Theme};
use std::io::BufRead;

const HELP: &str = "\
type a message and press Enter to send it; commands:
  :key K        routing key for the exchange (tutorials 4 and 5)
  :queue Q      send to queue Q instead (declared if missing)
  :exchange X   send to exchange X instead (it must exist)
  :help         this text
  :quit         stop (Ctrl-D too)";

/// Prompt, send and confirm until end of input.
pub(super) fn run(sender: &mut Sender) -> Result<()> {
    let term = Term::stderr();
    let _ = term.write_line("interactive mode: :help for commands, Ctrl-D or :quit to end");
    loop {
        let mut prompt = String::new();
        let _ = SimpleTheme.format_input_prompt(
            &mut prompt,
            &format!("Message to {}", sender.target.describe()),
            None,
        );
        let _ = term.write_str(&prompt);
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = term.write_line("");
                return Ok(());
            }
            Ok(_) => {}
        }
        let line = line.strip_suffix('\n').unwrap_or(&line).to_string();
        if let Some(cmd) = line.strip_prefix(':') {
            if !command(sender, cmd.trim(), &term)? {
                return Ok(());
            }
            continue;
        }
        send_one(sender, line, &term)?;
    }
}

fn send_one(sender: &mut Sender, line: String, term: &Term) -> Result<()> {
    let returned_before = sender.stats.returned;
    let (exchange, key, message) = sender.resolve(Item::Body(line.clone().into_bytes()))?;
    sender.input_arrived();
    sender.publish(&exchange, &key, message)?;
    sender.settle(None)?;
    let verdict = if sender.stats.returned > returned_before {
        "returned: no queue is bound for it"
    } else if sender.confirm {
        "confirmed"
    } else {
        "sent"
    };
    let _ = term.write_line(&format!(" [x] Sent '{line}' ({verdict})"));
    Ok(())
}

/// Run a `:command`; false means quit.
fn command(sender: &mut Sender, cmd: &str, term: &Term) -> Result<bool> {
    let (name, arg) = cmd.split_once(' ').unwrap_or((cmd, ""));
    let arg = arg.trim();
    let say = |s: &str| {
        let _ = term.write_line(s);
    };
    match (name, arg) {
        ("quit" | "exit" | "q", _) => return Ok(false),
        ("key" | "k", key) => match &mut sender.target {
            Target::Exchange { key: k, .. } => *k = key.to_string(),
            _ => say("the routing key applies to an exchange: use :exchange X first"),
        },
        ("queue", q) if !q.is_empty() => {
            match declare::ensure_queue(&mut sender.session, q, sender.args.durable) {
                Ok(_) => sender.target = Target::Queue(q.to_string()),
                Err(e) => say(&format!("cannot use queue '{q}': {e}")),
            }
        }
        ("exchange", x) if !x.is_empty() => {
            match declare::ensure_exchange(&mut sender.session, x, None, false) {
                Ok(()) => {
                    sender.target = Target::Exchange {
                        name: x.to_string(),
                        key: String::new(),
                    }
                }
                Err(e) => say(&format!("cannot use exchange '{x}': {e}")),
            }
        }
        _ => say(HELP),
    }
    Ok(true)
}
