//! The management API's address: the default next to the AMQP host, parsing `--api-url`
//! (credentials taken out, path prefix kept), and its TLS settings. No requests here; the
//! client is mgmt/mod.rs.

use crate::ctx::Ctx;
use crate::endpoint::redact_url;
use crate::error::{Error, Result};
use std::sync::Arc;

use super::DEFAULT_API_PORT;

/// `http://<host>:15672`: the management API next to an AMQP broker on `host`.
pub fn default_url(host: &str) -> String {
    if host.contains(':') {
        format!("http://[{host}]:{DEFAULT_API_PORT}")
    } else {
        format!("http://{host}:{DEFAULT_API_PORT}")
    }
}

/// Split an API URL into a base (scheme, host, port, path prefix; no credentials, no
/// trailing `/` or `/api`) and the credentials it carried, if any.
pub(super) fn parse_base(raw: &str) -> Result<(String, Option<String>, Option<String>)> {
    if !raw.contains("://") {
        // Not echoed: without a scheme, a password in it could not be found to redact.
        return Err(Error::Usage(
            "invalid --api-url: it must start with http:// or https:// (e.g. \
             http://localhost:15672)"
                .into(),
        ));
    }
    let shown = redact_url(raw);
    let mut url = url::Url::parse(raw).map_err(|e| {
        Error::Usage(format!(
            "invalid --api-url '{shown}': {e} (expected e.g. http://localhost:15672)"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Usage(format!(
            "invalid --api-url '{shown}': the scheme must be http:// or https://"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Usage(format!(
            "invalid --api-url '{shown}': no host"
        )));
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = (!url.username().is_empty()).then(|| decode(url.username()));
    let password = url.password().map(decode);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    let mut base = url.to_string();
    while base.ends_with('/') {
        base.pop();
    }
    if let Some(b) = base.strip_suffix("/api") {
        base = b.to_string();
    }
    Ok((base, user, password))
}

/// Is the API on this machine (localhost, 127.0.0.0/8, ::1)? Then its answers are not worth
/// compressing: no network to save, and gzip costs the broker CPU (10,000 queues: ~0.2 s of
/// a ~0.9 s answer, W8 in scripts/bench).
pub(super) fn is_loopback(base: &str) -> bool {
    match url::Url::parse(base)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

pub(super) fn tls_config(ctx: &Ctx) -> Result<Arc<rustls::ClientConfig>> {
    let g = &ctx.global;
    if g.insecure {
        crate::log::warn("--insecure: the management API's certificate is not verified");
    }
    crate::tls::client_config(&ctx.tls_files())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_and_credentials_taken_out() {
        let (b, u, p) = parse_base("http://al%40ice:s%3Acret@h:15672/api/").unwrap();
        assert_eq!(b, "http://h:15672");
        assert_eq!(u.as_deref(), Some("al@ice"));
        assert_eq!(p.as_deref(), Some("s:cret"));
        let (b, u, p) = parse_base("https://h/rabbitmq/").unwrap();
        assert_eq!(b, "https://h/rabbitmq");
        assert!(u.is_none() && p.is_none());
        assert_eq!(parse_base("http://[::1]:1").unwrap().0, "http://[::1]:1");
    }

    #[test]
    fn loopback_addresses_are_told_apart() {
        for local in [
            "http://localhost:1",
            "http://LocalHost",
            "http://127.0.0.1:15672",
            "http://127.1.2.3",
            "http://[::1]:1",
        ] {
            assert!(is_loopback(local), "{local}");
        }
        for remote in [
            "http://rabbit.example:15672",
            "https://10.0.0.1",
            "http://[::2]",
            "http://localhost.example",
        ] {
            assert!(!is_loopback(remote), "{remote}");
        }
    }

    #[test]
    fn default_url_is_the_amqp_host_on_port_15672() {
        assert_eq!(default_url("rabbit.example"), "http://rabbit.example:15672");
        assert_eq!(default_url("::1"), "http://[::1]:15672");
    }

    #[test]
    fn bad_api_urls_are_usage_errors_without_password() {
        for bad in ["ftp://u:secret@h/", "u:secret@h", "http://u:secret@/"] {
            let e = parse_base(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }
}
