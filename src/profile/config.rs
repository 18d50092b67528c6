//! The config file: where it is (`$RMQ_CONFIG`, else `$XDG_CONFIG_HOME/rmq/config.toml`),
//! reading it with the `toml` crate (an unknown key or bad TOML is exit 2 naming the line),
//! the rule that a `password` key needs a file only its owner can read, and choosing a
//! profile by name. How a profile merges with the flags is `profile.rs`.

use super::Password;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The config file's name under the XDG config directory.
const FILE: &str = "rmq/config.toml";

/// The config file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
}

/// One `[profiles.NAME]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    url: Option<Urls>,
    api_url: Option<String>,
    user: Option<String>,
    password_file: Option<String>,
    password: Option<String>,
    vhost: Option<String>,
    cacert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    #[serde(default)]
    insecure: bool,
}

/// `url = "amqp://..."` or `url = ["amqp://a", "amqp://b"]`.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a URL string or a list of URL strings")]
enum Urls {
    One(String),
    Many(Vec<String>),
}

/// One profile, checked, with its files' paths made absolute.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// Broker URLs, tried in order (empty: the built-in default).
    pub urls: Vec<String>,
    /// Management API URL.
    pub api_url: Option<String>,
    /// User name, overriding the URL's.
    pub user: Option<String>,
    /// Password, overriding the URL's.
    pub password: Option<Password>,
    /// Virtual host, overriding the URL's.
    pub vhost: Option<String>,
    /// CA bundle (PEM).
    pub cacert: Option<String>,
    /// Client certificate (PEM).
    pub cert: Option<String>,
    /// Client key (PEM).
    pub key: Option<String>,
    /// Skip TLS verification.
    pub insecure: bool,
}

/// The config file's profiles (none without a file).
#[derive(Debug, Default)]
pub struct Config {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// `default_profile`.
    pub default_profile: Option<String>,
    /// The profiles, by name.
    pub profiles: BTreeMap<String, Profile>,
}

/// Read the config file: `$RMQ_CONFIG` (which must exist), else the XDG one (none is fine).
pub fn load() -> Result<Config> {
    let (path, explicit) = match std::env::var_os("RMQ_CONFIG").filter(|p| !p.is_empty()) {
        // Absolute, so that messages and the paths relative to it do not depend on the cwd.
        Some(p) => (
            std::path::absolute(&p).unwrap_or_else(|_| PathBuf::from(p)),
            true,
        ),
        None => match xdg_path() {
            Some(p) => (p, false),
            None => return Ok(Config::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(Config::default());
        }
        Err(e) => {
            let why = if explicit {
                format!(
                    "RMQ_CONFIG names '{}', which cannot be read: {e}",
                    path.display()
                )
            } else {
                format!("cannot read the config file '{}': {e}", path.display())
            };
            return Err(Error::Usage(why));
        }
    };
    let config = parse(&path, &text)?;
    if config
        .profiles
        .values()
        .any(|p| matches!(p.password, Some(Password::Inline(_))))
    {
        check_private(&path)?;
    }
    Ok(config)
}

/// `$XDG_CONFIG_HOME/rmq/config.toml` (`~/.config/rmq/config.toml`); None without a home.
fn xdg_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    etcetera::base_strategy::Xdg::new()
        .ok()
        .map(|x| x.config_dir().join(FILE))
}

/// Parse and check the file's text (`path` names it in messages and anchors relative paths).
pub fn parse(path: &Path, text: &str) -> Result<Config> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| where_in(text, s.start))
            .unwrap_or_default();
        Error::Usage(format!(
            "config file '{}'{at}: {}",
            path.display(),
            without_value(e.message().trim_end())
        ))
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut profiles = BTreeMap::new();
    for (name, p) in raw.profiles {
        let checked = profile(p, dir).map_err(|why| {
            Error::Usage(format!(
                "config file '{}': profile '{name}': {why}",
                path.display()
            ))
        })?;
        profiles.insert(name, checked);
    }
    let config = Config {
        path: Some(path.to_path_buf()),
        default_profile: raw.default_profile,
        profiles,
    };
    if let Some(d) = &config.default_profile
        && !config.profiles.contains_key(d)
    {
        return Err(config.unknown(d, "default_profile"));
    }
    Ok(config)
}

/// serde's "invalid type: integer `123`, expected a string" without the value found, which
/// may be a password given the wrong type.
fn without_value(message: &str) -> String {
    for kind in ["invalid type", "invalid value"] {
        if let Some(rest) = message.strip_prefix(kind)
            && let Some((_, expected)) = rest.split_once(", expected ")
        {
            return format!("{kind}, expected {expected}");
        }
    }
    message.to_string()
}

/// ", line N" of byte offset `at` in `text`, with ", key K" when `at` is in the value of
/// `K = ...` (the key only: the value may be a password).
fn where_in(text: &str, at: usize) -> String {
    let before = text.get(..at.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    match before[start..].split_once('=') {
        Some((key, _)) if !key.trim().is_empty() => format!(", line {line}, key {}", key.trim()),
        _ => format!(", line {line}"),
    }
}

fn profile(p: RawProfile, dir: &Path) -> std::result::Result<Profile, String> {
    let urls = match p.url {
        None => Vec::new(),
        Some(Urls::One(u)) => vec![u],
        Some(Urls::Many(v)) if v.is_empty() => return Err("url is an empty list".into()),
        Some(Urls::Many(v)) => v,
    };
    let password = match (p.password, p.password_file) {
        (Some(_), Some(_)) => return Err("give password or password_file, not both".into()),
        (Some(pw), None) => Some(Password::Inline(pw)),
        (None, Some(f)) => Some(Password::File(PathBuf::from(file_path(&f, dir)))),
        (None, None) => None,
    };
    let file = |f: Option<String>| f.map(|f| file_path(&f, dir));
    Ok(Profile {
        urls,
        api_url: p.api_url,
        user: p.user,
        password,
        vhost: p.vhost,
        cacert: file(p.cacert),
        cert: file(p.cert),
        key: file(p.key),
        insecure: p.insecure,
    })
}

/// A file named in the config: `~/` is the home directory, a relative path is relative to
/// the config file's directory.
fn file_path(f: &str, dir: &Path) -> String {
    let path = match f.strip_prefix("~/") {
        Some(rest) => match etcetera::home_dir() {
            Ok(home) => home.join(rest),
            Err(_) => PathBuf::from(f),
        },
        None => dir.join(f), // an absolute `f` replaces `dir`
    };
    path.to_string_lossy().into_owned()
}

/// A `password` key is allowed only in a file that group and others cannot read.
#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::Usage(format!("cannot stat '{}': {e}", path.display())))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o044 != 0 {
        return Err(Error::Usage(format!(
            "config file '{p}' holds a password but group/others can read it (mode {mode:04o}): \
             run `chmod 600 {p}`, or use password_file instead",
            p = path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

impl Config {
    /// The profile to use: `asked` (--profile, RMQ_PROFILE), else `default_profile`, else
    /// none. An unknown name is exit 2 listing the known ones.
    pub fn choose(&self, asked: Option<&str>) -> Result<Option<(String, &Profile)>> {
        let Some(name) = asked
            .filter(|n| !n.is_empty())
            .or(self.default_profile.as_deref())
        else {
            return Ok(None);
        };
        match self.profiles.get(name) {
            Some(p) => Ok(Some((name.to_string(), p))),
            None => Err(self.unknown(name, "--profile/RMQ_PROFILE")),
        }
    }

    /// The file, for messages ("no config file" when there is none).
    pub fn path_shown(&self) -> String {
        match &self.path {
            Some(p) => format!("'{}'", p.display()),
            None => match xdg_path() {
                Some(x) => format!("no config file (RMQ_CONFIG unset, no '{}')", x.display()),
                None => "no config file (RMQ_CONFIG unset, no home directory)".into(),
            },
        }
    }

    fn unknown(&self, name: &str, from: &str) -> Error {
        let known = if self.profiles.is_empty() {
            "none".to_string()
        } else {
            self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
        };
        Error::Usage(format!(
            "unknown profile '{name}' ({from}); profiles in {}: {known}",
            self.path_shown()
        ))
    }
}
