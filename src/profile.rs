//! Connection profiles: which profile a run uses, and how its keys merge with the flags and
//! the environment (`apply`, a pure function). Finding, reading and checking the config file
//! is `profile/config.rs`; listing the profiles is `commands/profiles.rs`.
//!
//! Precedence, per setting: flags, then the environment, then the profile, then the built-in
//! defaults. A profile's user, password and vhost belong to its broker: when --url, RMQ_URL
//! or AMQP_URL names another one, the profile's url, user, password, vhost and api_url are
//! all left out (its TLS files still apply), so that a default_profile never sends one
//! broker's credentials to another.

mod config;

use crate::cli::GlobalOpts;
use crate::error::{Error, Result};
pub use config::{Config, Profile, load};
use std::path::PathBuf;

/// Where a profile's password comes from: read only when a connection needs it.
#[derive(Clone)]
pub enum Password {
    /// The profile's `password` key (allowed only in a file group/others cannot read).
    Inline(String),
    /// The profile's `password_file` key: the first line of that file.
    File(PathBuf),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Password::Inline(_) => write!(f, "Inline(***)"),
            Password::File(p) => write!(f, "File({})", p.display()),
        }
    }
}

/// What the chosen profile says about the connection's user, vhost and password: these sit
/// below --user, --vhost, --password(-file) and RMQ_PASSWORD, and above the URL's own parts.
/// They are kept apart from the flags so that no command mistakes them for flags given
/// (`user-declare` takes --password-file as the new user's password, `definitions-export`
/// takes --vhost as "only this vhost").
#[derive(Clone, Debug, Default)]
pub struct Parts {
    /// The profile's name, for messages.
    pub name: Option<String>,
    /// `user`.
    pub user: Option<String>,
    /// `vhost`.
    pub vhost: Option<String>,
    /// `password` or `password_file`.
    pub password: Option<Password>,
}

impl Parts {
    /// The profile's password, read now (from its file, first line).
    pub fn read_password(&self) -> Result<Option<String>> {
        match &self.password {
            None => Ok(None),
            Some(Password::Inline(p)) => Ok(Some(p.clone())),
            Some(Password::File(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Usage(format!(
                        "cannot read the password_file '{}' of profile '{}': {e}",
                        path.display(),
                        self.name.as_deref().unwrap_or("?")
                    ))
                })?;
                Ok(Some(crate::ctx::first_line(&text)))
            }
        }
    }
}

/// The global options with the chosen profile merged in: reads `$RMQ_CONFIG` (or the XDG
/// config file) and the environment, then [`apply`]. No config file: nothing changes.
pub fn resolve(global: GlobalOpts) -> Result<GlobalOpts> {
    let config = load()?;
    let chosen = config.choose(global.profile.as_deref())?;
    if let Some((name, _)) = &chosen {
        crate::log::info(&format!("profile '{name}' from {}", config.path_shown()));
    }
    let amqp_url = std::env::var("AMQP_URL").ok();
    Ok(apply(
        global,
        amqp_url.as_deref(),
        chosen.as_ref().map(|(n, p)| (n.as_str(), *p)),
    ))
}

/// Merge a profile into the parsed global options (which already hold RMQ_URL, RMQ_PASSWORD
/// and RMQ_API_URL: clap reads those into the flags' fields). `amqp_url` is AMQP_URL's
/// value, which `Ctx::endpoints` reads when no --url or RMQ_URL is given.
pub fn apply(
    mut g: GlobalOpts,
    amqp_url: Option<&str>,
    chosen: Option<(&str, &Profile)>,
) -> GlobalOpts {
    let Some((name, p)) = chosen else {
        return g;
    };
    let url_above = g.url.iter().any(|u| !u.trim().is_empty())
        || amqp_url.is_some_and(|u| !u.trim().is_empty());
    if !url_above {
        g.url = p.urls.clone();
        g.api_url = g.api_url.or_else(|| p.api_url.clone());
        g.from_profile = Parts {
            name: Some(name.to_string()),
            user: p.user.clone(),
            vhost: p.vhost.clone(),
            password: p.password.clone(),
        };
    }
    g.cacert = g.cacert.or_else(|| p.cacert.clone());
    g.cert = g.cert.or_else(|| p.cert.clone());
    g.key = g.key.or_else(|| p.key.clone());
    g.insecure |= p.insecure;
    g
}

#[cfg(test)]
mod tests;
