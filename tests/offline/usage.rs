//! Usage errors and help need no broker and never touch the network.

use crate::support;

/// `rmq ARGS` (hermetic, bounded: `support::rmq()`) with `RMQ_URL` at a port nothing listens
/// on: usage errors must come before any connect.
fn rmq(args: &[&str]) -> std::process::Output {
    support::rmq()
        .args(args)
        .env("RMQ_URL", "amqp://127.0.0.1:1/")
        .output()
        .unwrap()
}

#[test]
fn every_subcommand_is_listed_in_help_and_has_examples() {
    use clap::CommandFactory;
    let top = rmq(&["--help"]);
    assert!(top.status.success());
    let text = String::from_utf8_lossy(&top.stdout).into_owned();
    for sub in rmq::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        assert!(
            text.contains(&format!("\n  {name} ")),
            "rmq --help does not list {name} (src/cli.rs HELP_TEMPLATE)"
        );
        let h = rmq(&[name, "--help"]);
        assert!(h.status.success());
        let h = String::from_utf8_lossy(&h.stdout).into_owned();
        assert!(h.contains("Examples:"), "rmq {name} --help has no examples");
    }
    for n in 1..=6 {
        assert!(text.contains(&format!("\n  {n} ")), "tutorial {n} missing");
    }
}

/// Command lines (one a line, words split on spaces) that are usage errors: exit 2, before
/// any connect.
const USAGE_ERRORS: &str = "\
send -H =v x
send -H novalue x
send --priority 256 x
send --priority 300 x
send --expiration -5 x
send --repeat 0 x
send -Q a -e b x
send --lines body
--url amqp://u:pw@h:0/ send x
--url amqp://u:pw@h/%zz send x
--url amqp://u:pw@h/a/b send x
--url ftp://u:pw@h/ send x
--url http://localhost/ send x
--url amqp://h:70000/ send x
--url amqp://h/?frob=1 send x
--port 70000 send x
--connect-timeout -1 send x
receive --prefetch 0
receive --timeout soon
receive -n 0
peek -n 0
--json tree --dot
bogus-command";

/// [`USAGE_ERRORS`] as argument lists.
pub(crate) fn usage_errors() -> Vec<Vec<&'static str>> {
    USAGE_ERRORS
        .lines()
        .map(|line| line.split(' ').collect())
        .collect()
}

/// Runs `rmq ARGS` (see [`rmq`]), asserts exit 2 and returns its stderr.
pub(crate) fn usage_error(args: &[&str]) -> String {
    let out = rmq(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    err
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    for args in usage_errors() {
        let err = usage_error(&args);
        assert!(!err.contains("pw@"), "{args:?} printed a password: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn non_utf8_body_argument_is_accepted_as_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let arg = std::ffi::OsStr::from_bytes(b"\xff\xfe");
    // It gets as far as connecting (exit 3 on the dead port), not a usage error or panic.
    let out = support::rmq()
        .env("RMQ_URL", "amqp://127.0.0.1:1/")
        .arg("send")
        .arg(arg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
}

/// rmq first parses against a definition holding only the subcommand the command line
/// names (src/cli.rs `parse`); a subcommand's name given as an option's value must not
/// change what the command line means.
#[test]
fn a_subcommand_name_as_an_option_value_does_not_change_the_command() {
    // `send` is the vhost and `peek` the command: it gets as far as connecting (exit 3).
    let out = rmq(&["--vhost", "send", "peek", "-Q", "q"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{err}");
    // And a usage error names the command it belongs to, as before.
    let out = rmq(&["--vhost", "send", "peek", "--bogus"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Usage: rmq peek"), "{err}");
    // Help of one subcommand is the same as before (built from the full definition).
    let out = rmq(&["send", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        help.contains("Usage: rmq send [OPTIONS] [BODY]..."),
        "{help}"
    );
}
