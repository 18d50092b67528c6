//! The broker's definitions (`GET`/`POST /api/definitions[/vhost]`), in the management API's
//! own JSON format, passed through untouched. Comparing a file with the broker (for
//! `--dry-run`) is commands/definitions_import.rs's; nothing here reads or writes files.

use super::{Api, Subject};
use crate::endpoint::encode_vhost;
use crate::error::Result;
use serde_json::Value;

fn path(vhost: Option<&str>) -> String {
    match vhost {
        Some(v) => format!("/api/definitions/{}", encode_vhost(v)),
        None => "/api/definitions".into(),
    }
}

fn subject(api: &Api, vhost: Option<&str>) -> Subject {
    Subject::Vhost(vhost.unwrap_or(api.vhost()).to_string())
}

impl Api {
    /// The definitions of the whole broker, or of one vhost.
    pub fn definitions(&self, vhost: Option<&str>) -> Result<Value> {
        self.get(&path(vhost), subject(self, vhost))
    }

    /// Import definitions (the broker creates or updates what they name; it deletes nothing).
    pub fn definitions_import(&self, vhost: Option<&str>, defs: &Value) -> Result<()> {
        self.send("POST", &path(vhost), Some(defs), subject(self, vhost))
            .map(drop)
    }
}
