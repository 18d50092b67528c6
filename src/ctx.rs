//! What every command gets: the global options, and lazy ways to reach the broker (AMQP
//! through `amqp`, HTTP through `mgmt.rs`). Nothing connects until a command asks; no
//! command logic or printing lives here.

use crate::amqp::{ConnectOptions, Session};
use crate::cli::GlobalOpts;
use crate::endpoint::{DEFAULT_URL, Endpoint};
use crate::error::{Error, Result};
use std::time::Duration;

/// The queue `send`, `receive`, `worker` and `peek` use without `-Q`/`-e` (README,
/// "Connecting": "Default queue").
pub const DEFAULT_QUEUE: &str = "task_queue";

/// Shared state for a command run. Nothing here touches the network until asked.
pub struct Ctx {
    /// Global options as parsed.
    pub global: GlobalOpts,
}

impl Ctx {
    /// Wrap the global options.
    pub fn new(global: GlobalOpts) -> Ctx {
        Ctx { global }
    }

    /// `--json` given.
    pub fn json(&self) -> bool {
        self.global.json
    }

    /// The default queue: `RMQ_QUEUE`, else `task_queue`.
    pub fn default_queue(&self) -> String {
        std::env::var("RMQ_QUEUE")
            .ok()
            .filter(|q| !q.is_empty())
            .unwrap_or_else(|| DEFAULT_QUEUE.to_string())
    }

    /// The vhost commands work in (the first broker URL's, after `--vhost`).
    pub fn vhost(&self) -> Result<String> {
        Ok(self
            .endpoints()?
            .first()
            .map(|e| e.vhost.clone())
            .unwrap_or_default())
    }

    /// The brokers to try, with the per-part overrides applied.
    pub fn endpoints(&self) -> Result<Vec<Endpoint>> {
        self.endpoints_with(std::env::var("AMQP_URL").ok().as_deref())
    }

    /// [`Ctx::endpoints`], with AMQP_URL's value given (tests pass their own).
    pub fn endpoints_with(&self, amqp_url: Option<&str>) -> Result<Vec<Endpoint>> {
        let g = &self.global;
        let mut urls: Vec<String> = g
            .url
            .iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            urls = match amqp_url {
                Some(u) if !u.trim().is_empty() => vec![u.trim().to_string()],
                _ => vec![DEFAULT_URL.to_string()],
            };
        }
        let password = self.password()?;
        urls.iter()
            .map(|u| {
                let mut ep = Endpoint::parse(u)?;
                // The profile's parts (see profile.rs), then the flags.
                let p = &g.from_profile;
                if let Some(u) = &p.user {
                    ep.user = u.clone();
                }
                if let Some(v) = &p.vhost {
                    ep.vhost = v.clone();
                }
                if let Some(h) = &g.host {
                    ep.host = h.clone();
                }
                if let Some(p) = g.port {
                    ep.port = p;
                }
                if let Some(u) = &g.user {
                    ep.user = u.clone();
                }
                if let Some(v) = &g.vhost {
                    ep.vhost = v.clone();
                }
                if let Some(h) = g.heartbeat {
                    ep.heartbeat = h;
                }
                if let Some(p) = &password {
                    ep.password = p.clone();
                }
                Ok(ep)
            })
            .collect()
    }

    /// --password or RMQ_PASSWORD, else --password-file, else the profile's.
    fn password(&self) -> Result<Option<String>> {
        if let Some(p) = &self.global.password {
            return Ok(Some(p.clone()));
        }
        let Some(path) = &self.global.password_file else {
            return self.global.from_profile.read_password();
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Usage(format!(
                "cannot read --password-file '{}': {e}",
                path.display()
            ))
        })?;
        Ok(Some(first_line(&text)))
    }

    /// Connection options for an AMQP session named `name` in the management UI.
    pub fn connect_options(&self, name: &str) -> Result<ConnectOptions> {
        let endpoints = self.endpoints()?;
        if self.global.insecure && endpoints.iter().any(|e| e.tls) {
            crate::log::warn("--insecure: TLS certificates are not verified");
        } else if endpoints.iter().any(|e| e.tls && e.verify_none) {
            crate::log::warn("verify=verify_none in the URL: TLS certificates are not verified");
        }
        Ok(ConnectOptions {
            endpoints,
            timeout: Duration::from_secs_f64(self.global.connect_timeout.max(0.001)),
            tls: self.tls_files(),
            name: name.to_string(),
            large_messages: false,
        })
    }

    /// The TLS options of the command line (--cacert, --cert, --key, --insecure).
    pub fn tls_files(&self) -> crate::tls::TlsFiles {
        crate::tls::TlsFiles {
            cacert: self.global.cacert.clone(),
            cert: self.global.cert.clone(),
            key: self.global.key.clone(),
            insecure: self.global.insecure,
        }
    }

    /// Open an AMQP session.
    pub fn connect(&self, name: &str) -> Result<Session> {
        Session::open(&self.connect_options(name)?)
    }
}

/// A password file's password: its first line, without the line end.
pub fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string()
}
