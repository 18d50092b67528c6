//! Management API requests about the broker's other objects: connections, channels,
//! consumers, vhosts, users, permissions, policies, nodes and the overview.
//! Only the paths and their error subjects live here; the HTTP client and the error mapping
//! are mgmt/mod.rs, the rows and columns shown are the commands' (src/listing.rs).

use super::{Api, Subject, reason_of};
use crate::endpoint::encode_vhost as enc;
use crate::error::{Error, Result};
use serde_json::Value;

/// What a listing lists: each is one API path, per vhost where the API has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Client connections (`/api/connections`).
    Connections,
    /// Channels (`/api/channels`).
    Channels,
    /// Consumers (`/api/consumers`).
    Consumers,
    /// Virtual hosts (`/api/vhosts`; not per vhost).
    Vhosts,
    /// Users (`/api/users`; not per vhost).
    Users,
    /// Permissions of users in vhosts (`/api/permissions`).
    Permissions,
    /// Policies (`/api/policies`).
    Policies,
    /// Cluster nodes (`/api/nodes`; not per vhost).
    Nodes,
}

impl Kind {
    /// The API path: of one vhost when `vhost` is given and the API has one, else global.
    pub fn path(self, vhost: Option<&str>) -> String {
        use Kind as K;
        match (self, vhost) {
            (K::Connections, Some(v)) => format!("/api/vhosts/{}/connections", enc(v)),
            (K::Channels, Some(v)) => format!("/api/vhosts/{}/channels", enc(v)),
            (K::Consumers, Some(v)) => format!("/api/consumers/{}", enc(v)),
            (K::Permissions, Some(v)) => format!("/api/vhosts/{}/permissions", enc(v)),
            (K::Policies, Some(v)) => format!("/api/policies/{}", enc(v)),
            (K::Connections, _) => "/api/connections".into(),
            (K::Channels, _) => "/api/channels".into(),
            (K::Consumers, _) => "/api/consumers".into(),
            (K::Permissions, _) => "/api/permissions".into(),
            (K::Policies, _) => "/api/policies".into(),
            (K::Vhosts, _) => "/api/vhosts".into(),
            (K::Users, _) => "/api/users".into(),
            (K::Nodes, _) => "/api/nodes".into(),
        }
    }

    /// Does the API list these per vhost?
    pub fn per_vhost(self) -> bool {
        !matches!(self, Kind::Vhosts | Kind::Users | Kind::Nodes)
    }
}

fn user_subject(user: &str) -> Subject {
    Subject::Object {
        what: format!("user '{user}'"),
        hint: "check the name: rmq list-users".into(),
    }
}

fn vhost_subject(vhost: &str) -> Subject {
    Subject::Vhost(vhost.to_string())
}

impl Api {
    /// The objects of a kind, of one vhost (where the API has per-vhost lists) or all.
    pub fn list(&self, kind: Kind, vhost: Option<&str>) -> Result<Vec<Value>> {
        let vhost = vhost.filter(|_| kind.per_vhost());
        self.get_array(&kind.path(vhost), vhost)
    }

    /// `GET /api/overview`.
    pub fn overview(&self) -> Result<Value> {
        self.get("/api/overview", Subject::Vhost(self.vhost().to_string()))
    }

    /// Does this vhost exist?
    pub fn vhost_exists(&self, vhost: &str) -> Result<bool> {
        self.exists(&format!("/api/vhosts/{}", enc(vhost)))
    }

    /// Create a vhost (nothing happens if it exists).
    pub fn vhost_put(&self, vhost: &str) -> Result<()> {
        let path = format!("/api/vhosts/{}", enc(vhost));
        self.send(
            "PUT",
            &path,
            Some(&Value::Object(Default::default())),
            vhost_subject(vhost),
        )
        .map(drop)
    }

    /// Delete a vhost and all it holds (exit 5 when it does not exist).
    pub fn vhost_delete(&self, vhost: &str) -> Result<()> {
        let path = format!("/api/vhosts/{}", enc(vhost));
        self.send("DELETE", &path, None, vhost_subject(vhost))
            .map(drop)
    }

    /// Does this user exist?
    pub fn user_exists(&self, user: &str) -> Result<bool> {
        self.exists(&format!("/api/users/{}", enc(user)))
    }

    /// Create or update a user with a password and tags.
    pub fn user_put(&self, user: &str, password: &str, tags: &[String]) -> Result<()> {
        let body = serde_json::json!({"password": password, "tags": tags.join(",")});
        let path = format!("/api/users/{}", enc(user));
        self.send("PUT", &path, Some(&body), user_subject(user))
            .map(drop)
    }

    /// Delete a user (exit 5 when it does not exist).
    pub fn user_delete(&self, user: &str) -> Result<()> {
        let path = format!("/api/users/{}", enc(user));
        self.send("DELETE", &path, None, user_subject(user))
            .map(drop)
    }

    /// Set a user's permissions in a vhost (both must exist: exit 5 naming the missing one).
    pub fn permissions_put(&self, vhost: &str, user: &str, perms: &Value) -> Result<()> {
        self.check_user_and_vhost(user, vhost)?;
        let path = format!("/api/permissions/{}/{}", enc(vhost), enc(user));
        self.send("PUT", &path, Some(perms), vhost_subject(vhost))
            .map(drop)
    }

    /// Remove a user's permissions in a vhost (exit 5 when there are none).
    pub fn permissions_delete(&self, vhost: &str, user: &str) -> Result<()> {
        self.check_user_and_vhost(user, vhost)?;
        let path = format!("/api/permissions/{}/{}", enc(vhost), enc(user));
        let subject = Subject::Object {
            what: format!("permissions of user '{user}' in vhost '{vhost}'"),
            hint: "see what is set: rmq list-permissions --all-vhosts".into(),
        };
        self.send("DELETE", &path, None, subject).map(drop)
    }

    fn check_user_and_vhost(&self, user: &str, vhost: &str) -> Result<()> {
        if !self.user_exists(user)? {
            return Err(not_found(user_subject(user)));
        }
        if !self.vhost_exists(vhost)? {
            return Err(not_found(vhost_subject(vhost)));
        }
        Ok(())
    }

    /// Create or replace a policy in a vhost.
    pub fn policy_put(&self, vhost: &str, name: &str, body: &Value) -> Result<()> {
        if !self.vhost_exists(vhost)? {
            return Err(not_found(vhost_subject(vhost)));
        }
        let path = format!("/api/policies/{}/{}", enc(vhost), enc(name));
        self.send("PUT", &path, Some(body), policy_subject(vhost, name))
            .map(drop)
    }

    /// Delete a policy (exit 5 when it does not exist).
    pub fn policy_delete(&self, vhost: &str, name: &str) -> Result<()> {
        let path = format!("/api/policies/{}/{}", enc(vhost), enc(name));
        self.send("DELETE", &path, None, policy_subject(vhost, name))
            .map(drop)
    }

    /// Close a client connection by name, with a reason the client is told.
    pub fn connection_close(&self, name: &str, reason: &str) -> Result<()> {
        let path = format!("/api/connections/{}", enc(name));
        let subject = Subject::Object {
            what: format!("connection '{name}'"),
            hint: "check the name: rmq list-connections (it may have closed already)".into(),
        };
        match self.request_full("DELETE", &path, None, &[("X-Reason", reason)]) {
            Ok((code, _)) if code < 400 => Ok(()),
            Ok((404, answer)) => Err(Error::NotFound {
                what: subject.describe(),
                reason: super::with_default(reason_of(&answer), "no such connection"),
                hint: subject.hint(),
            }),
            Ok((code, answer)) => {
                Err(self.explain(super::Failure::Status(code, reason_of(&answer)), &path))
            }
            Err(f) => Err(self.explain(f, &path)),
        }
    }

    /// GET `path`: true on 2xx, false on 404 (any other failure is an error).
    fn exists(&self, path: &str) -> Result<bool> {
        match self.request_full("GET", path, None, &[]) {
            Ok((code, _)) if code < 400 => Ok(true),
            Ok((404, _)) => Ok(false),
            Ok((code, answer)) => {
                Err(self.explain(super::Failure::Status(code, reason_of(&answer)), path))
            }
            Err(f) => Err(self.explain(f, path)),
        }
    }
}

fn policy_subject(vhost: &str, name: &str) -> Subject {
    Subject::Object {
        what: format!("policy '{name}' in vhost '{vhost}'"),
        hint: "check the name: rmq list-policies".into(),
    }
}

/// Exit 5 for a missing object, nothing changed.
fn not_found(subject: Subject) -> Error {
    Error::NotFound {
        what: subject.describe(),
        reason: "it does not exist; nothing was changed".into(),
        hint: subject.hint(),
    }
}
