//! What the management-API commands that change something share: asking before a
//! destructive change (prompt.rs's rules) and reporting what changed (a note on stderr, with
//! `--json` an object on stdout). The requests themselves are src/mgmt/'s.

use crate::ctx::Ctx;
use crate::error::Result;
use crate::output::Out;
use crate::prompt::Confirm;
use serde_json::Value;

/// `--yes`, or a terminal to ask `question` on (else exit 2 naming `action`).
pub fn confirm(yes: bool, action: &str, question: &str) -> Result<()> {
    Confirm::require(yes, action)?.ask(question)
}

/// Report a change: `note` on stderr; with `--json`, `json` on stdout.
pub fn done(ctx: &Ctx, note: &str, json: Value) -> Result<()> {
    crate::log::note(note);
    if ctx.json() {
        let mut out = Out::new();
        out.json(&json)?;
        out.flush()?;
    }
    Ok(())
}
