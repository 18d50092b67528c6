//! Profiles against a broker: a profile's url, vhost and password (from password_file or a
//! `password` key) reach it through `--profile`, RMQ_PROFILE and default_profile; flags
//! override it; its api_url serves the listings; two URLs fail over; and the profile's
//! password shows in no output, no argv and no environment of a worker's command.

use crate::bg::Bg;
use crate::support::{Broker, pct_encode, rmq, setup, unique_name, wait_until};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const SECRET: &str = "Pr0f-S3cret-frotz";
const WAIT: Duration = Duration::from_secs(30);

/// A vhost, a user whose password is SECRET, and a config file (mode 0600) of profiles for
/// them; every output a test sees goes through `check` for the password.
struct Fixture {
    b: &'static Broker,
    vhost: String,
    url: String,
    dir: tempfile::TempDir,
    cfg: PathBuf,
}

fn fixture(prefix: &str) -> Fixture {
    let (b, vhost, url) = setup(prefix);
    let user = crate::secrets::secret_user(b, &vhost, SECRET);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), format!("{SECRET}\n")).unwrap();
    let port = b.amqp_port();
    let api = b.api_url();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text = format!(
        r#"default_profile = "inline"

[profiles.filepw]
url = "amqp://{user}@127.0.0.1:{port}"
vhost = "{vhost}"
password_file = "pw"
api_url = "{api}"

[profiles.inline]
url = "amqp://127.0.0.1:{port}"
user = "{user}"
password = "{SECRET}"
vhost = "{vhost}"

[profiles.elsewhere]
url = "amqp://{user}@127.0.0.1:{port}"
vhost = "no-such-vhost-here"
password_file = "pw"

[profiles.failover]
url = ["amqp://{user}@127.0.0.1:{dead}", "amqp://{user}@127.0.0.1:{port}"]
vhost = "{vhost}"
password_file = "pw"
"#
    );
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).unwrap();
    Fixture {
        b,
        vhost,
        url,
        dir,
        cfg,
    }
}

impl Fixture {
    /// `rmq ARGS` with RMQ_CONFIG and `env`: (exit code, stdout, stderr), checked for SECRET.
    fn run(&self, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
        let mut cmd = rmq();
        cmd.env("RMQ_CONFIG", &self.cfg).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        check(&format!("{args:?}"), &o);
        check(&format!("{args:?}"), &e);
        (out.status.code().unwrap_or(-1), o, e)
    }

    /// `rmq ARGS` must succeed; its stdout.
    fn ok(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let (code, out, err) = self.run(env, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    }

    fn messages(&self, queue: &str) -> u64 {
        self.b.queue_messages(&self.vhost, queue)
    }
}

/// No trace of the password in `text` (as it is, or percent-encoded).
fn check(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET) && !text.contains(&pct_encode(SECRET)) && !text.contains("S3cret"),
        "the profile's password leaked in {what}: {text}"
    );
}

#[test]
fn a_profile_with_url_vhost_and_password_file_sends_and_receives() {
    let f = fixture("prof-file");
    f.ok(
        &[],
        &[
            "-vv",
            "--profile",
            "filepw",
            "send",
            "-Q",
            "pq",
            "via-profile",
        ],
    );
    assert_eq!(f.messages("pq"), 1);
    let out = f.ok(
        &[],
        &[
            "--profile",
            "filepw",
            "receive",
            "-Q",
            "pq",
            "-n",
            "1",
            "--timeout",
            "10",
        ],
    );
    assert_eq!(out.trim_end(), "via-profile");
    // Its api_url serves the listings (the test broker's API is not on the default port).
    let out = f.ok(
        &[],
        &["--profile", "filepw", "list-queues", "--columns", "name"],
    );
    assert!(out.lines().any(|l| l == "pq"), "{out}");
    let out = f.ok(&[], &["--profile", "filepw", "--json", "list-queues"]);
    assert!(out.contains("\"pq\""), "{out}");
}

#[test]
fn rmq_profile_selects_and_default_profile_applies() {
    let f = fixture("prof-select");
    // No --profile: default_profile (inline, whose password is a key of the 0600 file).
    f.ok(&[], &["-v", "send", "-Q", "dq", "by-default"]);
    f.ok(
        &[("RMQ_PROFILE", "filepw")],
        &["send", "-Q", "dq", "by-env"],
    );
    assert_eq!(f.messages("dq"), 2);
    // --profile beats RMQ_PROFILE.
    let (code, _, err) = f.run(
        &[("RMQ_PROFILE", "elsewhere")],
        &["--profile", "inline", "send", "-Q", "dq", "flag-wins"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(f.messages("dq"), 3);
}

#[test]
fn flags_and_environment_override_the_profile() {
    let f = fixture("prof-override");
    // The profile's vhost does not exist; --vhost names the right one.
    let (code, _, err) = f.run(&[], &["--profile", "elsewhere", "send", "-Q", "oq", "x"]);
    assert_ne!(code, 0);
    assert!(err.contains("no-such-vhost-here"), "{err}");
    f.ok(
        &[],
        &[
            "--profile",
            "elsewhere",
            "--vhost",
            &f.vhost,
            "send",
            "-Q",
            "oq",
            "a",
        ],
    );
    // --url names another broker (the same node, as guest): the profile's vhost, user and
    // password give way to the URL's.
    f.ok(
        &[],
        &[
            "--profile",
            "elsewhere",
            "--url",
            &f.url,
            "send",
            "-Q",
            "oq",
            "b",
        ],
    );
    // So does RMQ_URL, and AMQP_URL.
    f.ok(
        &[("RMQ_URL", &f.url)],
        &["--profile", "elsewhere", "send", "-Q", "oq", "c"],
    );
    f.ok(
        &[("AMQP_URL", &f.url)],
        &["--profile", "elsewhere", "send", "-Q", "oq", "d"],
    );
    assert_eq!(f.messages("oq"), 4);
    // RMQ_PASSWORD beats the profile's password: a wrong one is refused.
    let (code, _, err) = f.run(
        &[("RMQ_PASSWORD", "not-the-password")],
        &["--profile", "filepw", "send", "-Q", "oq", "e"],
    );
    assert_eq!(code, 4, "{err}");
    // --api-url beats the profile's: a dead one is exit 3.
    let (code, _, err) = f.run(
        &[],
        &[
            "--profile",
            "filepw",
            "--api-url",
            "http://127.0.0.1:1",
            "list-queues",
        ],
    );
    assert_eq!(code, 3, "{err}");
}

#[test]
fn a_profile_of_two_urls_fails_over_to_the_second() {
    let f = fixture("prof-failover");
    let (code, _, err) = f.run(
        &[],
        &[
            "-v",
            "--profile",
            "failover",
            "--connect-timeout",
            "3",
            "send",
            "-Q",
            "fq",
            "over",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let live = format!("127.0.0.1:{}/", f.b.amqp_port());
    assert!(
        err.lines()
            .any(|l| l.contains("connected to") && l.contains(&live)),
        "{err}"
    );
    assert_eq!(f.messages("fq"), 1);
    let out = f.ok(
        &[],
        &[
            "--profile",
            "failover",
            "receive",
            "-Q",
            "fq",
            "-n",
            "1",
            "--timeout",
            "10",
        ],
    );
    assert_eq!(out.trim_end(), "over");
}

#[test]
fn the_profile_password_is_in_no_argv_and_no_environment_of_children() {
    let f = fixture("prof-argv");
    let probe = f.dir.path().join("probe");
    std::fs::create_dir(&probe).unwrap();
    // The worker's command records its environment and its parent's (rmq's) argv and
    // environment.
    let exec = format!(
        "env > {d}/env; tr '\\0' ' ' < /proc/$PPID/cmdline > {d}/argv; \
         tr '\\0' '\\n' < /proc/$PPID/environ > {d}/parent-env; touch {d}/done",
        d = sh_quote(&probe)
    );
    let cfg = f.cfg.to_string_lossy().into_owned();
    let mut w = Bg::start_with_env(
        &["--profile", "inline", "worker", "-Q", "wq", "--exec", &exec],
        Stdio::null(),
        &[("RMQ_CONFIG", &cfg)],
    );
    wait_until(WAIT, "worker consuming", || {
        w.stderr().contains("waiting for messages")
    });
    f.ok(&[], &["--profile", "inline", "send", "-Q", "wq", "job"]);
    wait_until(WAIT, "the worker's command ran", || {
        probe.join("done").exists()
    });
    w.signal(libc::SIGTERM);
    let status = w.wait(WAIT);
    assert!(status.success(), "{status:?} {}", w.stderr());
    check("the worker's stdout", &w.stdout());
    check("the worker's stderr", &w.stderr());
    for file in ["env", "argv", "parent-env"] {
        let text = std::fs::read_to_string(probe.join(file)).unwrap();
        assert!(!text.is_empty(), "{file} is empty");
        check(file, &text);
    }
    let argv = std::fs::read_to_string(probe.join("argv")).unwrap();
    assert!(argv.contains("--profile inline worker"), "{argv}");
}

#[test]
fn user_declare_takes_password_file_as_the_new_users_and_connects_with_the_profiles() {
    let f = fixture("prof-userdecl");
    let new_user = unique_name("prof-new");
    let new_pw = f.dir.path().join("new.pw");
    std::fs::write(&new_pw, "new-user-pw\n").unwrap();
    let new_pw = new_pw.to_string_lossy().into_owned();
    // filepw's password authenticates the API call; --password-file is the new user's.
    f.ok(
        &[],
        &[
            "--profile",
            "filepw",
            "user-declare",
            &new_user,
            "--password-file",
            &new_pw,
        ],
    );
    f.b.api_put(
        &format!(
            "permissions/{}/{}",
            pct_encode(&f.vhost),
            pct_encode(&new_user)
        ),
        &json!({"configure": ".*", "write": ".*", "read": ".*"}),
    );
    let url = format!(
        "amqp://{new_user}:new-user-pw@127.0.0.1:{}/{}",
        f.b.amqp_port(),
        pct_encode(&f.vhost)
    );
    f.ok(&[], &["--url", &url, "send", "-Q", "uq", "as-new-user"]);
    assert_eq!(f.messages("uq"), 1);
    f.b.api_delete(&format!("users/{}", pct_encode(&new_user)));
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display())
}
