//! The precedence table of `apply`: flag vs environment vs profile vs default, for the URL,
//! the vhost, the password and the API URL, read back through `Ctx` as a command would.

use super::*;
use crate::cli::Cli;
use crate::ctx::Ctx;
use clap::{CommandFactory, FromArgMatches};

const FLAG_URL: &str = "amqp://flag-u:flag-pw@flag-host:1111/flag-vh";
const ENV_URL: &str = "amqp://env-u:env-pw@env-host:2222/env-vh";
const PROFILE_URL: &str = "amqp://prof-u:url-pw@prof-host:3333/url-vh";

fn profile() -> Profile {
    Profile {
        urls: vec![PROFILE_URL.into()],
        api_url: Some("http://prof-api:15672".into()),
        user: Some("prof-user".into()),
        password: Some(Password::Inline("prof-pw".into())),
        vhost: Some("prof-vh".into()),
        cacert: Some("/prof/ca.pem".into()),
        ..Profile::default()
    }
}

/// Parse `args` (as if typed after `rmq`, before `overview`), apply `prof` with AMQP_URL
/// `amqp_url`, and read back what a command would use: (host, user, password, vhost,
/// api_url, cacert).
fn effective(
    args: &[&str],
    amqp_url: Option<&str>,
    prof: Option<&Profile>,
) -> (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
) {
    let argv = std::iter::once("rmq")
        .chain(args.iter().copied())
        .chain(["overview"]);
    let g = apply(parse(argv), amqp_url, prof.map(|p| ("p", p)));
    let (api, ca) = (g.api_url.clone(), g.cacert.clone());
    let ctx = Ctx::new(g);
    let ep = ctx.endpoints_with(amqp_url).unwrap().remove(0);
    (ep.host, ep.user, ep.password, ep.vhost, api, ca)
}

/// The global options of `argv`, blind to this process's RMQ_* variables (clap would read
/// RMQ_URL, RMQ_PASSWORD, RMQ_API_URL and RMQ_PROFILE into them).
fn parse<'a>(argv: impl IntoIterator<Item = &'a str>) -> GlobalOpts {
    let cmd = Cli::command().mut_args(|a| a.env(None));
    let m = cmd.try_get_matches_from(argv).unwrap();
    Cli::from_arg_matches(&m).unwrap().global
}

#[test]
fn precedence_flag_env_profile_default() {
    let p = profile();
    let api = |v: &str| Some(v.to_string());
    // (what, flags, AMQP_URL, profile, host, user, password, vhost, api_url)
    #[allow(clippy::type_complexity)]
    let table: Vec<(
        &str,
        Vec<&str>,
        Option<&str>,
        Option<&Profile>,
        &str,
        &str,
        &str,
        &str,
        Option<String>,
    )> = vec![
        (
            "default",
            vec![],
            None,
            None,
            "localhost",
            "guest",
            "guest",
            "/",
            None,
        ),
        (
            "profile",
            vec![],
            None,
            Some(&p),
            "prof-host",
            "prof-user",
            "prof-pw",
            "prof-vh",
            api("http://prof-api:15672"),
        ),
        // A URL from the environment names another broker: the profile's url, user,
        // password, vhost and api_url give way to it.
        (
            "env beats profile",
            vec![],
            Some(ENV_URL),
            Some(&p),
            "env-host",
            "env-u",
            "env-pw",
            "env-vh",
            None,
        ),
        (
            "flag beats profile",
            vec!["--url", FLAG_URL],
            None,
            Some(&p),
            "flag-host",
            "flag-u",
            "flag-pw",
            "flag-vh",
            None,
        ),
        (
            "flag beats env",
            vec!["--url", FLAG_URL],
            Some(ENV_URL),
            Some(&p),
            "flag-host",
            "flag-u",
            "flag-pw",
            "flag-vh",
            None,
        ),
        (
            "env, no profile",
            vec![],
            Some(ENV_URL),
            None,
            "env-host",
            "env-u",
            "env-pw",
            "env-vh",
            None,
        ),
        // Per-part flags beat the profile's parts on the profile's URL.
        (
            "--vhost beats profile",
            vec!["--vhost", "f-vh"],
            None,
            Some(&p),
            "prof-host",
            "prof-user",
            "prof-pw",
            "f-vh",
            api("http://prof-api:15672"),
        ),
        (
            "--user beats profile",
            vec!["--user", "f-u"],
            None,
            Some(&p),
            "prof-host",
            "f-u",
            "prof-pw",
            "prof-vh",
            api("http://prof-api:15672"),
        ),
        (
            "--password (or RMQ_PASSWORD) beats profile",
            vec!["--password", "f-pw"],
            None,
            Some(&p),
            "prof-host",
            "prof-user",
            "f-pw",
            "prof-vh",
            api("http://prof-api:15672"),
        ),
        (
            "--api-url (or RMQ_API_URL) beats profile",
            vec!["--api-url", "http://f-api:1"],
            None,
            Some(&p),
            "prof-host",
            "prof-user",
            "prof-pw",
            "prof-vh",
            api("http://f-api:1"),
        ),
    ];
    for (what, args, env, prof, host, user, pw, vhost, api_url) in table {
        let got = effective(&args, env, prof);
        assert_eq!(
            (
                got.0.as_str(),
                got.1.as_str(),
                got.2.as_str(),
                got.3.as_str(),
                got.4
            ),
            (host, user, pw, vhost, api_url),
            "{what}"
        );
    }
}

#[test]
fn tls_files_of_the_profile_apply_below_the_flags_whatever_the_url() {
    let p = profile();
    assert_eq!(
        effective(&[], None, Some(&p)).5.as_deref(),
        Some("/prof/ca.pem")
    );
    assert_eq!(
        effective(&[], Some(ENV_URL), Some(&p)).5.as_deref(),
        Some("/prof/ca.pem")
    );
    let flag = effective(&["--cacert", "/f/ca.pem"], None, Some(&p)).5;
    assert_eq!(flag.as_deref(), Some("/f/ca.pem"));
    assert_eq!(effective(&[], None, None).5, None);
}

#[test]
fn password_file_flag_beats_the_profile_and_the_profile_survives_user_declare() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "file-pw\n").unwrap();
    let f = file.to_str().unwrap();
    let p = profile();
    assert_eq!(
        effective(&["--password-file", f], None, Some(&p)).2,
        "file-pw"
    );
    // user-declare takes --password-file away (the new user's); the connection's password
    // is then still the profile's, not the file's.
    let mut g = apply(
        parse(["rmq", "--password-file", f, "overview"]),
        None,
        Some(("p", &p)),
    );
    g.password_file = None;
    let ep = Ctx::new(g).endpoints_with(None).unwrap().remove(0);
    assert_eq!(ep.password, "prof-pw");
}

#[test]
fn a_profile_password_file_is_read_when_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "from-file\r\nsecond line\n").unwrap();
    let p = Profile {
        password: Some(Password::File(file)),
        ..Profile::default()
    };
    assert_eq!(effective(&[], None, Some(&p)).2, "from-file");
    let missing = Profile {
        password: Some(Password::File(dir.path().join("nope"))),
        ..Profile::default()
    };
    let g = apply(parse(["rmq", "overview"]), None, Some(("p", &missing)));
    let e = Ctx::new(g).endpoints_with(None).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("password_file"), "{e}");
    assert!(e.to_string().contains("profile 'p'"), "{e}");
}

#[test]
fn profile_urls_are_tried_in_order() {
    let p = Profile {
        urls: vec!["amqp://a:1".into(), "amqp://b:2".into()],
        vhost: Some("v".into()),
        ..Profile::default()
    };
    let eps = Ctx::new(apply(parse(["rmq", "overview"]), None, Some(("p", &p))))
        .endpoints_with(None)
        .unwrap();
    let hosts: Vec<(&str, &str)> = eps
        .iter()
        .map(|e| (e.host.as_str(), e.vhost.as_str()))
        .collect();
    assert_eq!(hosts, [("a", "v"), ("b", "v")]);
}
