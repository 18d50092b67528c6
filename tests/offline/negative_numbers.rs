//! A negative number given to a numeric option is one usage line naming the option, exit 2.
//! The options are found from the command definition (any option whose value parser yields
//! an integer or a float), so a new option is covered without touching this file.

use crate::support::rmq;
use clap::CommandFactory;
use std::any::TypeId;

/// A port nothing listens on: runs that get past parsing fail fast with exit 3.
const DEAD_URL: &str = "amqp://127.0.0.1:1/";

/// `(subcommand or None for a global option, how the option is written, a valid value)`.
fn numeric_options() -> Vec<(Option<String>, String, String)> {
    let numeric = [
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<i8>(),
        TypeId::of::<i16>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<isize>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
    ];
    let options = |cmd: &clap::Command| -> Vec<(String, String)> {
        cmd.get_arguments()
            .filter(|a| a.get_action().takes_values())
            .filter(|a| numeric.iter().any(|t| a.get_value_parser().type_id() == *t))
            // An option whose range takes negatives (a policy's --priority) is not a case.
            .filter(|a| !takes_negative(a))
            .map(|a| {
                let flag = match (a.get_long(), a.get_short()) {
                    (Some(l), _) => format!("--{l}"),
                    (None, Some(s)) => format!("-{s}"),
                    (None, None) => panic!("numeric positional {:?}: extend this test", a.get_id()),
                };
                let valid = a
                    .get_default_values()
                    .first()
                    .and_then(|v| v.to_str())
                    .unwrap_or("1")
                    .to_string();
                (flag, valid)
            })
            .collect()
    };
    let top = rmq::cli::Cli::command();
    let mut all: Vec<_> = options(&top)
        .into_iter()
        .map(|(f, v)| (None, f, v))
        .collect();
    for sub in top.get_subcommands() {
        for (f, v) in options(sub) {
            all.push((Some(sub.get_name().to_string()), f, v));
        }
    }
    all
}

/// Does the option's own value parser accept -3?
fn takes_negative(a: &clap::Arg) -> bool {
    let probe = clap::Arg::new("x")
        .long("x")
        .value_parser(a.get_value_parser().clone())
        .allow_negative_numbers(true);
    clap::Command::new("t")
        .no_binary_name(true)
        .arg(probe)
        .try_get_matches_from(["--x", "-3"])
        .is_ok()
}

fn args(sub: &Option<String>, option: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = option.iter().map(|s| s.to_string()).collect();
    match sub {
        Some(s) => v.insert(0, s.clone()),
        None => v.push("send".into()), // a global option before the subcommand
    }
    v
}

#[test]
fn numeric_options_are_found() {
    let found: Vec<String> = numeric_options()
        .iter()
        .map(|(s, f, _)| format!("{} {f}", s.as_deref().unwrap_or("")))
        .collect();
    for want in [
        " --connect-timeout",
        " --port",
        "receive --timeout",
        "receive --prefetch",
        "send --repeat",
        "send --priority",
        "worker --prefetch",
        "call --timeout",
        "peek --count",
    ] {
        assert!(found.contains(&want.to_string()), "{want} not in {found:?}");
    }
    assert!(!found.iter().any(|f| f.ends_with("--verbose")), "{found:?}");
}

#[test]
fn every_numeric_option_given_a_negative_number_is_one_line_exit_2() {
    for (sub, flag, _) in numeric_options() {
        let joined = format!("{flag}=-3");
        for argv in [
            args(&sub, &[&flag, "-3"]),
            args(&sub, &[&flag, "-0.5"]),
            args(&sub, &[&joined]),
        ] {
            let out = rmq().env("RMQ_URL", DEAD_URL).args(&argv).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(2), "rmq {argv:?}: {err}");
            assert!(out.stdout.is_empty(), "rmq {argv:?} wrote to stdout");
            assert!(
                err.lines().count() <= 2,
                "rmq {argv:?}: more than 2 lines:\n{err}"
            );
            assert!(
                err.starts_with(&format!("rmq: error: {flag} must be ")),
                "rmq {argv:?}: {err}"
            );
            assert!(err.contains("got '-"), "rmq {argv:?}: {err}");
        }
    }
}

#[test]
fn a_global_numeric_option_after_the_subcommand_names_itself_too() {
    let out = rmq()
        .env("RMQ_URL", DEAD_URL)
        .args(["receive", "--connect-timeout", "-1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "rmq: error: --connect-timeout must be a number of seconds ≥ 0, got '-1'\n"
    );
}

#[test]
fn the_error_states_each_options_own_range() {
    for (argv, want) in [
        (
            &["receive", "--timeout", "-3"][..],
            "--timeout must be a number of seconds ≥ 0, got '-3'",
        ),
        (
            &["call", "--timeout", "-3"],
            "--timeout must be a number of seconds > 0, got '-3'",
        ),
        (
            &["send", "--repeat", "-1"],
            "--repeat must be an integer ≥ 1, got '-1'",
        ),
        (
            &["send", "--priority", "-1"],
            "--priority must be an integer from 0 to 255, got '-1'",
        ),
        (
            &["worker", "--prefetch", "-1"],
            "--prefetch must be an integer from 1 to 65535, got '-1'",
        ),
        (
            &["peek", "-n", "-3"],
            "--count must be an integer from 1 to 100000, got '-3'",
        ),
        // A subcommand's name as an option's value does not change whose option it is.
        (
            &["--vhost", "call", "receive", "--timeout", "-3"],
            "--timeout must be a number of seconds ≥ 0, got '-3'",
        ),
    ] {
        let out = rmq().env("RMQ_URL", DEAD_URL).args(argv).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{argv:?}: {err}");
        assert_eq!(err, format!("rmq: error: {want}\n"), "{argv:?}");
    }
}

#[test]
fn every_numeric_option_still_takes_a_valid_value() {
    // The value is checked when the next argument comes; --help then ends the parse with 0.
    for (sub, flag, valid) in numeric_options() {
        let mut argv = args(&sub, &[&flag, &valid]);
        if sub.is_none() {
            argv.pop(); // `rmq --port 1 --help`: the top-level help
        }
        argv.push("--help".into());
        let out = rmq().env("RMQ_URL", DEAD_URL).args(&argv).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "rmq {argv:?}: {err}");
        assert!(!out.stdout.is_empty(), "rmq {argv:?}: no help");
    }
}

#[test]
fn other_arguments_that_look_negative_are_unaffected() {
    // BODY words and k=v values are not numeric options: they reach the (dead) broker.
    for argv in [
        &["send", "--", "-3"][..],
        &["call", "--", "-3"],
        &["send", "-H", "k=-3", "x"],
        &["send", "--header=k=-3", "x"],
        &["bind", "-Q", "q", "-e", "x", "--header", "k=-3"],
        &["send", "--repeat", "2", "--", "-3"],
    ] {
        let out = rmq().env("RMQ_URL", DEAD_URL).args(argv).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(3), "{argv:?}: {err}");
    }
    // A bare `-3` where no option takes it stays clap's "unexpected argument".
    for argv in [&["send", "-3"][..], &["send", "--repeat", "2", "-3"]] {
        let out = rmq().env("RMQ_URL", DEAD_URL).args(argv).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{argv:?}: {err}");
        assert!(err.contains("unexpected argument '-3'"), "{argv:?}: {err}");
    }
}
