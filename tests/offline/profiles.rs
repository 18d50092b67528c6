//! Profiles without a broker: choosing one (unknown names), reading the file (bad TOML and
//! unknown keys named by line, the 0600 rule for a `password` key, a missing $RMQ_CONFIG),
//! `rmq profiles` in its formats with no password anywhere, and no file at all. Runs that
//! get past the config file point at a dead port.

use crate::support::{rmq, stderr_of};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const SECRET: &str = "Pr0file-S3cret-plugh";

/// A local port nothing listens on.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Writes `text` as `config.toml` in `dir` with `mode`.
fn config(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// A config of three profiles; `dead` is the port of their brokers.
fn three_profiles(dead: u16) -> String {
    format!(
        r#"default_profile = "local"

[profiles.local]
url = "amqp://127.0.0.1:{dead}"

[profiles.staging]
url = ["amqp://ops:{SECRET}@127.0.0.1:{dead}/stage", "amqp://127.0.0.1:{dead}"]
api_url = "http://ops:{SECRET}@127.0.0.1:{dead}"
vhost = "orders"
user = "ops"
password = "{SECRET}"

[profiles.prod]
url = "amqps://127.0.0.1:{dead}"
password_file = "prod.pw"
"#
    )
}

/// `rmq ARGS` with RMQ_CONFIG=`cfg`: (exit code, stdout, stderr).
fn run(cfg: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = rmq();
    cmd.env("RMQ_CONFIG", cfg).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_profile_exits_2_listing_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &three_profiles(dead_port()), 0o600);
    for env in [vec![], vec![("RMQ_PROFILE", "nope")]] {
        let args: &[&str] = if env.is_empty() {
            &["--profile", "nope", "send", "x"]
        } else {
            &["send", "x"]
        };
        let (code, out, err) = run(&cfg, &env, args);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty());
        assert!(err.contains("unknown profile 'nope'"), "{err}");
        assert!(err.contains("local, prod, staging"), "{err}");
        assert!(!err.contains(SECRET), "{err}");
    }
    // A default_profile that names no profile.
    let bad = config(
        dir.path(),
        "default_profile = \"gone\"\n[profiles.a]\n",
        0o600,
    );
    let (code, _, err) = run(&bad, &[], &["send", "x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown profile 'gone' (default_profile)") && err.contains(": a"),
        "{err}"
    );
}

#[test]
fn malformed_toml_and_unknown_keys_exit_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[profiles.a]\nurl = \"amqp://h\"\nvhost = \n", 3, "quoted"),
        ("[profiles.a]\nurl = \"amqp://h\"\n\n[profiles.b\n", 4, "]"),
        (
            "[profiles.a]\nurl = \"amqp://h\"\npasword = \"x\"\n",
            3,
            "unknown field `pasword`",
        ),
        (
            "defualt_profile = \"a\"\n",
            1,
            "unknown field `defualt_profile`",
        ),
        (
            "[profiles.a]\nurl = 5\n",
            2,
            "a URL string or a list of URL strings",
        ),
        (
            "[profiles.a]\ninsecure = \"yes\"\n",
            2,
            "key insecure: invalid type, expected a boolean",
        ),
        // The value found is not echoed: it may be a password of the wrong type.
        (
            "[profiles.a]\npassword = 31337421\n",
            2,
            "key password: invalid type, expected a string",
        ),
    ];
    for (text, line, says) in cases {
        let cfg = config(dir.path(), text, 0o600);
        let (code, _, err) = run(&cfg, &[], &["send", "x"]);
        assert_eq!(code, 2, "{text}: {err}");
        let want = format!("config file '{}', line {line}", cfg.display());
        assert!(err.contains(&want), "{text}: {err}");
        assert!(!err.contains("31337421"), "{err}");
        assert!(err.contains(says), "{text}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn a_password_key_needs_a_file_only_its_owner_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = three_profiles(dead_port());
    for mode in [0o644, 0o640, 0o604] {
        let cfg = config(dir.path(), &text, mode);
        let (code, _, err) = run(&cfg, &[], &["--profile", "local", "send", "x"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("(mode {mode:04o})")), "{err}");
        assert!(
            err.contains(&format!("chmod 600 {}", cfg.display())),
            "{err}"
        );
        assert!(!err.contains(SECRET), "{err}");
    }
    // 0600 (and 0400, 0700) is accepted: the run gets as far as the dead broker.
    for mode in [0o600, 0o400, 0o700] {
        let cfg = config(dir.path(), &text, mode);
        let (code, out, err) = run(
            &cfg,
            &[],
            &[
                "-vv",
                "--profile",
                "staging",
                "--connect-timeout",
                "2",
                "send",
                "x",
            ],
        );
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("profile 'staging'"), "{err}");
        assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");
    }
    // A password_file in a readable config is fine: the secret is elsewhere.
    let cfg = config(dir.path(), "[profiles.f]\npassword_file = \"pw\"\n", 0o644);
    let (code, _, err) = run(
        &cfg,
        &[],
        &["--profile", "f", "--url", "amqp://127.0.0.1:1", "send", "x"],
    );
    assert_ne!(code, 2, "{err}");
}

#[test]
fn rmq_profiles_lists_them_redacted_in_tsv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dead_port();
    let cfg = config(dir.path(), &three_profiles(dead), 0o600);
    let (code, out, err) = run(&cfg, &[], &["-vv", "profiles"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "name\turl\tapi_url\tvhost\tuser\tdefault");
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[1],
        format!("local\tamqp://127.0.0.1:{dead}\t\t\t\ttrue")
    );
    assert!(lines[2].starts_with("prod\tamqps://"), "{out}");
    assert_eq!(
        lines[3],
        format!(
            "staging\tamqp://ops:***@127.0.0.1:{dead}/stage,amqp://127.0.0.1:{dead}\t\
             http://ops:***@127.0.0.1:{dead}\torders\tops\tfalse"
        )
    );

    let (code, out, err) = run(&cfg, &[], &["profiles", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let staging = &rows[2];
    assert_eq!(staging["name"], "staging");
    assert_eq!(staging["urls"].as_array().unwrap().len(), 2);
    assert_eq!(staging["password_from"], "config");
    assert_eq!(staging["default"], false);
    assert_eq!(rows[0]["default"], true);
    let pw_file = dir.path().join("prod.pw");
    assert_eq!(
        rows[1]["password_from"],
        format!("file {}", pw_file.display())
    );

    let (code, out, _) = run(&cfg, &[], &["profiles", "--columns", "name,vhost"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().nth(3), Some("staging\torders"));
    let (code, _, err) = run(&cfg, &[], &["profiles", "--columns", "name,password"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown column 'password'"), "{err}");
}

#[test]
fn rmq_profiles_lists_even_when_the_chosen_profile_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &three_profiles(dead_port()), 0o600);
    let (code, out, err) = run(&cfg, &[("RMQ_PROFILE", "typo")], &["profiles"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 4, "{out}");
}

#[test]
fn no_config_file_changes_nothing() {
    let xdg = tempfile::tempdir().unwrap(); // an empty config dir
    let dead = dead_port();
    let url = format!("amqp://guest:{SECRET}@127.0.0.1:{dead}/%2f");
    let a = rmq()
        .env("XDG_CONFIG_HOME", xdg.path())
        .args(["--url", &url, "--connect-timeout", "2", "send", "hi"])
        .assert()
        .code(3);
    let err = stderr_of(&a);
    assert!(
        err.contains(&format!("127.0.0.1:{dead}")) && !err.contains(SECRET),
        "{err}"
    );
    assert!(!err.contains("profile"), "{err}");
    // `rmq profiles` lists none: a header on a pipe, `[]` in JSON.
    let a = rmq()
        .env("XDG_CONFIG_HOME", xdg.path())
        .arg("profiles")
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&a.get_output().stdout)
            .lines()
            .count(),
        1
    );
    let a = rmq()
        .env("XDG_CONFIG_HOME", xdg.path())
        .args(["profiles", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(v, serde_json::json!([]));
    // Asking for a profile then is exit 2, saying where the file was looked for.
    let a = rmq()
        .env("XDG_CONFIG_HOME", xdg.path())
        .args(["--profile", "prod", "send", "x"])
        .assert()
        .code(2);
    let err = stderr_of(&a);
    assert!(
        err.contains("unknown profile 'prod'") && err.contains("no config file"),
        "{err}"
    );
    assert!(
        err.contains(&xdg.path().join("rmq/config.toml").display().to_string()),
        "{err}"
    );
}

#[test]
fn the_xdg_file_is_read_and_rmq_config_replaces_it() {
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(xdg.path().join("rmq")).unwrap();
    std::fs::write(xdg.path().join("rmq/config.toml"), "[profiles.from-xdg]\n").unwrap();
    let list = |cmd: &mut assert_cmd::Command| {
        let a = cmd
            .env("XDG_CONFIG_HOME", xdg.path())
            .arg("profiles")
            .assert()
            .success();
        String::from_utf8_lossy(&a.get_output().stdout).into_owned()
    };
    assert!(list(&mut rmq()).contains("from-xdg"));
    let other = tempfile::tempdir().unwrap();
    let cfg = config(other.path(), "[profiles.from-env]\n", 0o600);
    let out = list(rmq().env("RMQ_CONFIG", &cfg));
    assert!(
        out.contains("from-env") && !out.contains("from-xdg"),
        "{out}"
    );
}

#[test]
fn an_explicit_rmq_config_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let (code, _, err) = run(&missing, &[], &["send", "x"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("RMQ_CONFIG") && err.contains("nope.toml"),
        "{err}"
    );
}

#[test]
fn the_profile_tls_files_reach_amqp_and_the_management_api() {
    let dir = tempfile::tempdir().unwrap();
    // Takes the TCP connection (into its backlog), so that rmq gets as far as TLS.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let text = format!(
        "[profiles.t]\nurl = \"amqps://127.0.0.1:{port}\"\napi_url = \"https://127.0.0.1:{port}\"\n\
         cacert = \"missing-ca.pem\"\n"
    );
    let cfg = config(dir.path(), &text, 0o644);
    let ca = dir.path().join("missing-ca.pem"); // relative to the config file's directory
    for args in [&["send", "x"][..], &["list-queues"][..]] {
        let mut all = vec!["--profile", "t", "--connect-timeout", "2"];
        all.extend_from_slice(args);
        let (code, _, err) = run(&cfg, &[], &all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(&format!("'{}'", ca.display())),
            "{args:?}: {err}"
        );
        // --cacert beats the profile's.
        all.splice(0..0, ["--cacert", "/flag-ca.pem"]);
        let (code, _, err) = run(&cfg, &[], &all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("'/flag-ca.pem'"), "{args:?}: {err}");
    }
    drop(listener);
}
