//! A broker the tests did not start (`RMQ_TEST_URL`, `RMQ_TEST_API_URL`): its URL parsed
//! into a [`Broker`] without a node. Nothing here starts or stops anything.

use super::broker::{Broker, pct_decode};
use super::query::{http, parse_body};

pub(super) fn external_url() -> Option<String> {
    ["RMQ_TEST_URL", "RMQ_TEST_AMQP_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

pub(super) fn external_from_env() -> Option<Result<Broker, String>> {
    let url = external_url()?;
    Some(external(&url))
}

pub(super) fn external(url: &str) -> Result<Broker, String> {
    let bad = |why: &str| format!("RMQ_TEST_URL={url:?}: {why}");
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("not a URL"))?;
    let default_port = match scheme {
        "amqp" => 5672,
        "amqps" => 5671,
        _ => return Err(bad("expected amqp:// or amqps://")),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (userinfo, hostport) = authority
        .rsplit_once('@')
        .unwrap_or(("guest:guest", authority));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, amqp_port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| bad("bad port"))?),
        None => (hostport, default_port),
    };
    let api_url = std::env::var("RMQ_TEST_API_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("http://{host}:15672"));
    let api_url = api_url.trim_end_matches('/').to_string();
    let api_port = api_url
        .rsplit_once(':')
        .and_then(|(_, p)| p.split('/').next()?.parse().ok())
        .unwrap_or(if api_url.starts_with("https") {
            443
        } else {
            80
        });
    let (user, password) = (pct_decode(user), pct_decode(password));
    let overview = format!("{api_url}/api/overview");
    let (status, body) = http("GET", &overview, &user, &password, None)
        .map_err(|e| format!("external broker: GET {overview}: {e}"))?;
    if status != 200 {
        return Err(format!(
            "external broker: GET {overview}: HTTP {status}: {body}"
        ));
    }
    let node_name = parse_body(&body)["node"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(Broker {
        host: host.to_string(),
        amqp_port,
        api_url,
        api_port,
        user,
        password,
        node_name,
        node: None,
        shared: true,
    })
}
