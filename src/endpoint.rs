//! AMQP URI parsing (our own, so bad input gets a clear error and passwords never leak).

use crate::error::{Error, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use std::time::Duration;

/// Heartbeat interval (seconds) unless the URL or `--heartbeat` says otherwise: a silent
/// broker (a half-open connection) is noticed within about twice this.
pub const DEFAULT_HEARTBEAT: u16 = 30;

/// The default broker URL (README, "Connecting").
pub const DEFAULT_URL: &str = "amqp://guest:guest@localhost:5672/%2f";

/// Characters left as they are when a vhost goes into a URL path.
const VHOST_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// One broker to connect to: everything an AMQP URI says.
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    /// `amqps://`.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password (never printed).
    pub password: String,
    /// Virtual host, decoded ("/" for the default).
    pub vhost: String,
    /// Heartbeat interval in seconds.
    pub heartbeat: u16,
    /// channel_max to ask for (0: the server's).
    pub channel_max: u16,
    /// frame_max to ask for (0: the server's).
    pub frame_max: u32,
    /// SASL EXTERNAL (client certificate) instead of PLAIN.
    pub auth_external: bool,
    /// Connect timeout from the URL, if any.
    pub connect_timeout: Option<Duration>,
    /// TLS: CA file from the URL (`cacertfile`).
    pub cacertfile: Option<String>,
    /// TLS: client certificate from the URL (`certfile`).
    pub certfile: Option<String>,
    /// TLS: client key from the URL (`keyfile`).
    pub keyfile: Option<String>,
    /// TLS: `verify=verify_none` in the URL.
    pub verify_none: bool,
    /// TLS: server name to verify, when not the host (`server_name_indication`).
    pub server_name: Option<String>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Endpoint({})", self.redacted())
    }
}

impl Endpoint {
    /// Parse an `amqp://` or `amqps://` URI.
    pub fn parse(raw: &str) -> Result<Endpoint> {
        let shown = redact_url(raw);
        let bad = |why: &str| Error::Usage(format!("invalid broker URL '{shown}': {why}"));
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| bad("expected amqp://user:password@host:port/vhost"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "amqp" => false,
            "amqps" => true,
            other => {
                return Err(bad(&format!(
                    "unsupported scheme '{other}' (use amqp:// or amqps://)"
                )));
            }
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(u) => {
                let (name, pass) = u.split_once(':').unwrap_or((u, ""));
                let pass = if u.contains(':') { pass } else { "guest" };
                (
                    decode(name, "user name", &shown)?,
                    decode(pass, "password", &shown)?,
                )
            }
            None => ("guest".to_string(), "guest".to_string()),
        };
        let default_port = if tls { 5671 } else { 5672 };
        let (host, port) = split_host_port(hostport, default_port, &shown)?;
        let vhost = match path {
            None | Some("") => "/".to_string(),
            Some(p) if p.contains('/') => {
                return Err(bad("the vhost must be one path segment (write '/' as %2f)"));
            }
            Some(p) => decode(p, "vhost", &shown)?,
        };
        let mut ep = Endpoint {
            tls,
            host,
            port,
            user,
            password,
            vhost,
            heartbeat: DEFAULT_HEARTBEAT,
            channel_max: 0,
            frame_max: 0,
            auth_external: false,
            connect_timeout: None,
            cacertfile: None,
            certfile: None,
            keyfile: None,
            verify_none: false,
            server_name: None,
        };
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let v = decode(v, k, &shown)?;
                ep.apply_query(k, &v).map_err(|why| bad(&why))?;
            }
        }
        Ok(ep)
    }

    fn apply_query(&mut self, key: &str, value: &str) -> std::result::Result<(), String> {
        let num = |what: &str| -> std::result::Result<u64, String> {
            value
                .parse::<u64>()
                .map_err(|_| format!("{what} must be a whole number, got '{value}'"))
        };
        match key {
            "heartbeat" => {
                self.heartbeat = u16::try_from(num("heartbeat")?)
                    .map_err(|_| "heartbeat must be at most 65535".to_string())?
            }
            "channel_max" => {
                self.channel_max = u16::try_from(num("channel_max")?)
                    .map_err(|_| "channel_max must be at most 65535".to_string())?
            }
            "frame_max" => {
                let v = num("frame_max")?;
                if v != 0 && v < 4096 {
                    return Err("frame_max must be 0 or at least 4096".into());
                }
                self.frame_max =
                    u32::try_from(v).map_err(|_| "frame_max is too large".to_string())?
            }
            "connection_timeout" => {
                self.connect_timeout = Some(Duration::from_millis(num("connection_timeout")?))
            }
            "auth_mechanism" => match value.to_ascii_lowercase().as_str() {
                "external" => self.auth_external = true,
                "plain" => self.auth_external = false,
                other => {
                    return Err(format!(
                        "auth_mechanism '{other}' is not supported (use plain or external)"
                    ));
                }
            },
            "cacertfile" => self.cacertfile = Some(value.to_string()),
            "certfile" => self.certfile = Some(value.to_string()),
            "keyfile" => self.keyfile = Some(value.to_string()),
            "verify" => match value {
                "verify_none" => self.verify_none = true,
                "verify_peer" => self.verify_none = false,
                other => {
                    return Err(format!(
                        "verify must be verify_peer or verify_none, got '{other}'"
                    ));
                }
            },
            "server_name_indication" => {
                if value != "disable" {
                    self.server_name = Some(value.to_string())
                }
            }
            // Accepted for compatibility with other clients; rmq has its own flags for these.
            "fail_if_no_peer_cert" | "depth" | "password" | "locale" => {}
            other => {
                return Err(format!(
                    "unknown query parameter '{other}' (known: heartbeat, connection_timeout, \
                     channel_max, frame_max, auth_mechanism, cacertfile, certfile, keyfile, verify, \
                     server_name_indication)"
                ));
            }
        }
        Ok(())
    }

    /// The URL with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        format!(
            "{}://{}@{}:{}/{}",
            if self.tls { "amqps" } else { "amqp" },
            utf8_percent_encode(&self.user, VHOST_SET),
            host_for_url(&self.host),
            self.port,
            encode_vhost(&self.vhost)
        )
    }

    /// `host:port` for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", host_for_url(&self.host), self.port)
    }
}

fn host_for_url(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Percent-encode a vhost for a URL path segment ("/" becomes "%2F").
pub fn encode_vhost(vhost: &str) -> String {
    utf8_percent_encode(vhost, VHOST_SET).to_string()
}

fn decode(s: &str, what: &str, shown: &str) -> Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| {
            Error::Usage(format!(
                "invalid broker URL '{shown}': the {what} is not valid percent-encoded UTF-8"
            ))
        })
        .and_then(|d| {
            if s.contains('%') && has_bad_escape(s) {
                Err(Error::Usage(format!(
                    "invalid broker URL '{shown}': bad %-escape in the {what} (write '%' as %25)"
                )))
            } else {
                Ok(d)
            }
        })
}

fn has_bad_escape(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(|c| c.is_ascii_hexdigit())
                && b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit());
            if !ok {
                return true;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    false
}

fn split_host_port(hp: &str, default_port: u16, shown: &str) -> Result<(String, u16)> {
    let bad = |why: &str| Error::Usage(format!("invalid broker URL '{shown}': {why}"));
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("unclosed '[' in the host"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hp.to_string(), None),
        }
    };
    let host = percent_decode_str(&host).decode_utf8_lossy().into_owned();
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    let port = match port {
        None | Some("") => default_port,
        Some(p) => parse_port(p).map_err(|why| bad(&why))?,
    };
    Ok((host, port))
}

/// Parse a TCP port (1-65535).
pub fn parse_port(p: &str) -> std::result::Result<u16, String> {
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(format!("port must be a number from 1 to 65535, got '{p}'")),
    }
}

/// Replace the password in any URL-looking string with `***`.
pub fn redact_url(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return redact_schemeless(raw);
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => raw.to_string(),
    }
}

/// `user:pw@host` or `amqp:/user:pw@host` (no `//`): hide what follows the user's ':'.
fn redact_schemeless(raw: &str) -> String {
    let Some(at) = raw.rfind('@') else {
        return raw.to_string();
    };
    let before = &raw[..at];
    let start = before.rfind('/').map_or(0, |i| i + 1);
    match before[start..].find(':') {
        Some(colon) => format!("{}:***{}", &raw[..start + colon], &raw[at..]),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_url_parses() {
        let e = Endpoint::parse(DEFAULT_URL).unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.vhost.as_str()),
            ("localhost", 5672, "/")
        );
        assert_eq!((e.user.as_str(), e.password.as_str()), ("guest", "guest"));
        assert!(!e.tls);
    }

    #[test]
    fn url_parts_decode() {
        let e = Endpoint::parse("amqps://al%40ice:p%3Ass@[::1]:5999/my%2Fvh?heartbeat=5").unwrap();
        assert!(e.tls);
        assert_eq!(e.user, "al@ice");
        assert_eq!(e.password, "p:ss");
        assert_eq!(e.host, "::1");
        assert_eq!(e.port, 5999);
        assert_eq!(e.vhost, "my/vh");
        assert_eq!(e.heartbeat, 5);
        assert_eq!(e.redacted(), "amqps://al%40ice@[::1]:5999/my%2Fvh");
    }

    #[test]
    fn empty_vhost_path_is_default() {
        assert_eq!(Endpoint::parse("amqp://h").unwrap().vhost, "/");
        assert_eq!(Endpoint::parse("amqp://h/").unwrap().vhost, "/");
        assert_eq!(Endpoint::parse("amqp://h/prod").unwrap().vhost, "prod");
    }

    #[test]
    fn bad_urls_are_usage_errors_without_password() {
        for bad in [
            "http://u:secret@h/",
            "amqp://u:secret@h:0/",
            "amqp://u:secret@h:70000/",
            "amqp://u:secret@h/?frob=1",
            "amqp://u:secret@h/%zz",
            "amqp://u:secret@h/a/b",
            "localhost",
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn redact_hides_password() {
        assert_eq!(
            redact_url("amqp://u:pw@h:1/v?x=1"),
            "amqp://u:***@h:1/v?x=1"
        );
        assert_eq!(redact_url("http://h:15672"), "http://h:15672");
        assert_eq!(redact_url("u:p:w@h/v"), "u:***@h/v");
        assert_eq!(redact_url("amqp:/u:pw@h"), "amqp:/u:***@h");
    }
}
