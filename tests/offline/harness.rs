//! The test support itself, where no broker is needed: the hermetic `rmq` command, unique
//! names, and the encodings the broker harness uses in URLs and API requests.

use crate::support;
use crate::support::broker::pct_decode;
use crate::support::query::{api_path, base64};
use crate::support::{pct_encode, unique_name};

#[test]
fn rmq_command_environment_is_hermetic() {
    let cmd = support::rmq_std();
    let envs: Vec<_> = cmd.get_envs().collect();
    let get = |k: &str| {
        envs.iter()
            .find(|(key, _)| *key == k)
            .and_then(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
    };
    assert_eq!(get("NO_COLOR").as_deref(), Some("1"));
    assert_eq!(get("RMQ_NON_INTERACTIVE").as_deref(), Some("1"));
    assert_eq!(get("RUST_BACKTRACE").as_deref(), Some("0"));
    assert!(get("HOME").is_some_and(|h| h.contains("rmq-test-home")));
    let a = unique_name("q");
    assert_ne!(a, unique_name("q"));
    assert!(a.starts_with("q-"));
}

#[test]
fn encodes_vhosts_and_credentials() {
    assert_eq!(pct_encode("/"), "%2f");
    assert_eq!(pct_encode("a b/c~d"), "a%20b%2fc~d");
    assert_eq!(pct_decode("%2F%2fx%zz"), "//x%zz");
    assert_eq!(base64(b"guest:guest"), "Z3Vlc3Q6Z3Vlc3Q=");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b""), "");
    assert_eq!(api_path("overview"), "/api/overview");
    assert_eq!(api_path("/api/overview"), "/api/overview");
}
