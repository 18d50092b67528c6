//! `rmq worker`: tutorial 2 (fair dispatch, redelivery after a crash), command mode (ack,
//! requeue, reject into a dead-letter queue, environment), concurrency, signals, and
//! reconnection.

use crate::bg::Bg;
use crate::support::{Broker, pct_encode, rmq, rmq_std, rmq_url, setup, wait_until};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// `rmq --url URL worker ARGS...`, returned once it is consuming.
pub(crate) fn worker(url: &str, args: &[&str]) -> Bg {
    let mut all = vec!["--url", url, "worker"];
    all.extend_from_slice(args);
    let w = Bg::start(&all);
    wait_until(WAIT, "worker consuming", || {
        w.stderr().contains("waiting for messages")
    });
    w
}

fn send(url: &str, queue: &str, extra: &[&str], body: &str) {
    let mut args = vec!["--url", url, "send", "-Q", queue];
    args.extend_from_slice(extra);
    args.push(body);
    rmq().args(&args).assert().success();
}

/// SIGTERM; it must exit 0. Returns its stderr.
pub(crate) fn stop(mut w: Bg) -> String {
    w.signal(libc::SIGTERM);
    let status = w.wait(WAIT);
    let err = w.stderr();
    assert!(status.success(), "{status:?} {err}");
    err
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

fn received(w: &Bg) -> Vec<String> {
    w.lines()
        .iter()
        .filter_map(|l| l.strip_prefix(" [x] Received ").map(str::to_string))
        .collect()
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display())
}

#[test]
fn worker_tutorial_prefetch_1_gives_light_tasks_to_the_idle_worker() {
    let (b, vh, url) = setup("w-fair");
    let args = ["-Q", "tasks", "--dot-delay", "0.2"];
    let w1 = worker(&url, &args);
    let w2 = worker(&url, &args);
    // One heavy task (4 s), then four light ones (0.2 s each): with prefetch 1 the worker
    // busy on the heavy one gets nothing else (round-robin would give it two of them).
    send(&url, "tasks", &[], "heavy....................");
    for i in 1..=4 {
        send(&url, "tasks", &[], &format!("light{i}."));
    }
    wait_until(WAIT, "all five done", || {
        count(&w1.stdout(), " [x] Done") + count(&w2.stdout(), " [x] Done") == 5
    });
    let (r1, r2) = (received(&w1), received(&w2));
    let (heavy, light) = if r1.iter().any(|m| m.starts_with("heavy")) {
        (r1, r2)
    } else {
        (r2, r1)
    };
    assert_eq!(heavy, vec!["heavy...................."]);
    assert_eq!(light, vec!["light1.", "light2.", "light3.", "light4."]);
    assert_eq!(b.queue_messages(&vh, "tasks"), 0);
    for w in [w1, w2] {
        let err = stop(w);
        assert!(err.contains("rejected 0, requeued 0"), "{err}");
    }
}

#[test]
fn worker_killed_mid_task_its_message_is_redelivered_to_the_other() {
    let (b, vh, url) = setup("w-kill");
    let mut slow = worker(&url, &["-Q", "tasks", "--dot-delay", "10"]);
    send(&url, "tasks", &[], "Long Time message.......");
    wait_until(WAIT, "the first worker took it", || {
        received(&slow).len() == 1
    });
    let fast = worker(&url, &["-Q", "tasks", "--dot-delay", "0"]);
    slow.signal(libc::SIGKILL);
    slow.wait(WAIT);
    wait_until(WAIT, "redelivered to the second worker", || {
        fast.stdout().contains(" [x] Done")
    });
    assert_eq!(received(&fast), vec!["Long Time message......."]);
    assert_eq!(b.queue_messages(&vh, "tasks"), 0);
    let err = stop(fast);
    assert!(err.contains("processed 1 message(s)"), "{err}");
}

#[test]
fn worker_command_exit_codes_ack_requeue_and_reject_into_a_dead_letter_queue() {
    let (b, vh, url) = setup("w-dlx");
    let v = pct_encode(&vh);
    b.api_put(&format!("/api/queues/{v}/dead"), &serde_json::json!({}));
    b.api_put(
        &format!("/api/queues/{v}/jobs"),
        &serde_json::json!({"arguments": {
            "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead"}}),
    );
    // ok: exit 0; bad: exit 3; temp: exit 75 the first time, 0 once redelivered.
    let script = r#"case "$(cat)" in
        ok) exit 0 ;;
        bad) echo "bad input" >&2; exit 3 ;;
        temp) [ "$RMQ_REDELIVERED" = true ] && exit 0; exit 75 ;;
    esac"#;
    let w = worker(&url, &["-Q", "jobs", "--exec", script]);
    send(&url, "jobs", &[], "ok");
    send(&url, "jobs", &["--message-id", "m-bad"], "bad");
    send(&url, "jobs", &[], "temp");
    wait_until(WAIT, "bad message dead-lettered", || {
        b.queue_messages(&vh, "dead") == 1
    });
    wait_until(WAIT, "jobs queue drained", || {
        b.queue_messages(&vh, "jobs") == 0
    });
    let err = stop(w);
    assert!(
        err.contains("processed 4 message(s) from queue 'jobs'")
            && err.contains("acked 2, rejected 1, requeued 1"),
        "{err}"
    );
    // The command's stderr passes through; the warning names the message and the policy.
    assert!(err.contains("bad input"), "{err}");
    let warning = err
        .lines()
        .find(|l| l.contains("exited with status 3"))
        .unwrap_or_else(|| panic!("no warning in {err}"));
    assert!(
        warning.contains("message id 'm-bad'")
            && warning.contains("routing key 'jobs'")
            && warning.contains("dead-letter exchange"),
        "{warning}"
    );
    rmq_url(&url)
        .args(["receive", "-Q", "dead", "-n", "1"])
        .assert()
        .success()
        .stdout("bad\n");
}

#[test]
fn worker_on_failure_requeue_retries_and_a_missing_program_is_no_crash() {
    let (b, vh, url) = setup("w-requeue");
    let w = worker(
        &url,
        &[
            "-Q",
            "jobs",
            "--on-failure",
            "requeue",
            "--exec",
            r#"[ "$RMQ_REDELIVERED" = true ]"#,
        ],
    );
    send(&url, "jobs", &[], "x");
    wait_until(WAIT, "retried and acked", || {
        b.queue_messages(&vh, "jobs") == 0
    });
    let err = stop(w);
    assert!(err.contains("acked 1, rejected 0, requeued 1"), "{err}");
    assert!(err.contains("requeued (--on-failure requeue)"), "{err}");

    let w = worker(
        &url,
        &["-Q", "jobs2", "--", "/nonexistent/rmq-test-program"],
    );
    send(&url, "jobs2", &[], "y");
    wait_until(WAIT, "rejected", || b.queue_messages(&vh, "jobs2") == 0);
    let err = stop(w);
    assert!(
        err.contains("cannot start '/nonexistent/rmq-test-program'"),
        "{err}"
    );
    assert!(err.contains("rejected 1"), "{err}");
}

#[test]
fn worker_command_sees_body_on_stdin_and_message_in_env() {
    let (_, _, url) = setup("w-env");
    let script = r#"printf '%s|' "$(cat)" "$RMQ_EXCHANGE" "$RMQ_ROUTING_KEY" "$RMQ_REDELIVERED" \
        "$RMQ_MESSAGE_ID" "$RMQ_CORRELATION_ID" "$RMQ_REPLY_TO" "$RMQ_HEADERS"; echo"#;
    let w = worker(&url, &["-Q", "envq", "--exec", script]);
    send(
        &url,
        "envq",
        &[
            "--message-id",
            "id-1",
            "--correlation-id",
            "c-9",
            "-H",
            "n=5",
            "-H",
            "who=me",
        ],
        "the body",
    );
    wait_until(WAIT, "command output", || !w.lines().is_empty());
    assert_eq!(
        w.lines()[0],
        r#"the body||envq|false|id-1|c-9||{"n":5,"who":"me"}|"#
    );
    stop(w);
}

#[test]
fn worker_concurrency_runs_n_commands_at_once_and_never_more() {
    let (b, vh, url) = setup("w-conc");
    let d = dir();
    let p = sh_quote(d.path());
    // Each command marks itself running, notes a violation if more than 3 run, then waits
    // (up to 20 s) until 3 commands have started: it succeeds only if 3 ran at once.
    let script = format!(
        r#"cd {p} && mkdir "run.$$" && touch "start.$$" && date +%s.%N > "t.$$"
        [ "$(ls -d run.* | wc -l)" -gt 3 ] && touch violation
        i=0; while [ "$(ls start.* | wc -l)" -lt 3 ]; do
            i=$((i + 1)); [ $i -gt 200 ] && exit 1; sleep 0.1; done
        sleep 0.2; rmdir "run.$$""#
    );
    let w = worker(
        &url,
        &["-Q", "par", "--concurrency", "3", "--exec", &script],
    );
    rmq_url(&url)
        .args(["send", "-Q", "par", "--lines"])
        .write_stdin("1\n2\n3\n4\n5\n6\n")
        .assert()
        .success();
    wait_until(WAIT, "six done", || b.queue_messages(&vh, "par") == 0);
    let err = stop(w);
    assert!(err.contains("acked 6, rejected 0"), "{err}");
    assert!(
        !d.path().join("violation").exists(),
        "more than 3 ran at once"
    );
    // The first three started together (timestamps written by the commands).
    let mut starts: Vec<f64> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("t.").then(|| {
                std::fs::read_to_string(e.path())
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap()
            })
        })
        .collect();
    starts.sort_by(f64::total_cmp);
    assert_eq!(starts.len(), 6);
    assert!(starts[2] - starts[0] < 5.0, "{starts:?}");
}

#[test]
fn worker_sigterm_lets_the_running_command_finish_and_acks_it() {
    let (b, vh, url) = setup("w-term");
    let d = dir();
    let p = sh_quote(d.path());
    let script = format!("touch {p}/started; sleep 2; touch {p}/finished");
    let w = worker(&url, &["-Q", "jobs", "--exec", &script]);
    send(&url, "jobs", &[], "first");
    send(&url, "jobs", &[], "second");
    wait_until(WAIT, "command started", || {
        d.path().join("started").exists()
    });
    let t = Instant::now();
    let err = stop(w);
    assert!(
        d.path().join("finished").exists(),
        "the command was cut short"
    );
    assert!(t.elapsed() >= Duration::from_millis(500), "did not wait");
    assert!(err.contains("acked 1,"), "{err}");
    // The second message was never taken (prefetch 1) and is still there.
    assert_eq!(b.queue_messages(&vh, "jobs"), 1);
}

#[test]
fn worker_terminal_ctrl_c_does_not_reach_the_command() {
    let (b, vh, url) = setup("w-pgrp");
    let d = dir();
    let p = sh_quote(d.path());
    // A terminal's Ctrl-C signals the whole foreground process group: rmq runs in a group
    // of its own here, and the test signals that group.
    let script = format!("touch {p}/started; sleep 1; touch {p}/finished");
    let log = std::fs::File::create(d.path().join("stderr")).unwrap();
    let mut child = rmq_std()
        .args(["--url", &url, "worker", "-Q", "jobs", "--exec", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    send(&url, "jobs", &[], "x");
    wait_until(WAIT, "command started", || {
        d.path().join("started").exists()
    });
    let pgid = child.id() as i32;
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("worker did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(d.path().join("stderr")).unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert!(d.path().join("finished").exists(), "command killed: {err}");
    assert!(err.contains("acked 1,"), "{err}");
    assert_eq!(b.queue_messages(&vh, "jobs"), 0);
}

#[test]
fn worker_second_signal_kills_commands_and_requeues_their_messages() {
    let (b, vh, url) = setup("w-kill2");
    let d = dir();
    let p = sh_quote(d.path());
    let script = format!("touch {p}/started; sleep 30; touch {p}/finished");
    let mut w = worker(&url, &["-Q", "jobs", "--exec", &script]);
    send(&url, "jobs", &[], "x");
    wait_until(WAIT, "command started", || {
        d.path().join("started").exists()
    });
    w.signal(libc::SIGTERM);
    wait_until(WAIT, "first signal seen", || {
        w.stderr().contains("stopping")
    });
    w.signal(libc::SIGTERM);
    let t = Instant::now();
    let status = w.wait(WAIT);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{}", w.stderr());
    assert!(!d.path().join("finished").exists());
    assert!(w.stderr().contains("requeued 1"), "{}", w.stderr());
    assert_eq!(b.queue_messages(&vh, "jobs"), 1);
}

#[test]
fn worker_reconnects_after_connections_are_closed_and_drops_the_stale_verdict() {
    let (b, vh, url) = setup("w-reconn");
    let d = dir();
    let p = sh_quote(d.path());
    // Each run appends a line; the first run outlives the connection it came on.
    let script = format!(r#"echo "$(cat) $RMQ_REDELIVERED" >> {p}/runs; sleep 2"#);
    let w = worker(&url, &["-Q", "jobs", "--exec", &script]);
    send(&url, "jobs", &[], "m1");
    let runs = d.path().join("runs");
    wait_until(WAIT, "first run", || runs.exists());
    let out = b.rabbitmqctl(&["close_all_connections", "-p", &vh, "test"]);
    assert!(out.status.success(), "{out:?}");
    wait_until(WAIT, "reconnected", || w.stderr().contains("reconnected"));
    send(&url, "jobs", &[], "m2");
    wait_until(WAIT, "all done", || b.queue_messages(&vh, "jobs") == 0);
    let err = stop(w);
    let runs = std::fs::read_to_string(&runs).unwrap();
    // m1 ran twice: once on the lost connection (not acked), once redelivered.
    assert_eq!(runs, "m1 false\nm1 true\nm2 false\n", "{err}");
    assert!(err.contains("acked 2,"), "{err}");
    assert!(
        err.contains("1 task(s) finished after their connection was lost"),
        "{err}"
    );
}

#[test]
fn worker_no_reconnect_exits_3_when_the_connection_is_closed() {
    let (b, vh, url) = setup("w-noreconn");
    let mut w = worker(&url, &["-Q", "jobs", "--no-reconnect"]);
    let out = b.rabbitmqctl(&["close_all_connections", "-p", &vh, "test"]);
    assert!(out.status.success(), "{out:?}");
    let status = w.wait(WAIT);
    assert_eq!(status.code(), Some(3), "{}", w.stderr());
    assert!(w.stderr().contains("connection"), "{}", w.stderr());
}

#[test]
fn worker_survives_a_broker_restart_and_takes_later_messages() {
    let Some(b) = Broker::dedicated() else {
        return;
    };
    let vh = b.vhost("w-restart");
    let url = b.amqp_url(&vh);
    let w = worker(
        &url,
        &["-Q", "durable_jobs", "--durable", "--dot-delay", "0"],
    );
    send(&url, "durable_jobs", &[], "before");
    wait_until(WAIT, "first done", || w.stdout().contains(" [x] Done"));
    b.restart();
    wait_until(Duration::from_secs(60), "reconnected", || {
        w.stderr().contains("reconnected")
    });
    send(&url, "durable_jobs", &[], "after");
    wait_until(WAIT, "second done", || count(&w.stdout(), " [x] Done") == 2);
    assert_eq!(received(&w), vec!["before", "after"]);
    let err = stop(w);
    assert!(err.contains("connection"), "{err}");
}

#[test]
fn worker_no_declare_on_a_missing_queue_exits_5() {
    let (_, _, url) = setup("w-nodeclare");
    rmq_url(&url)
        .args(["worker", "-Q", "missing", "--no-declare"])
        .assert()
        .code(5)
        .stderr(predicates::str::contains("queue 'missing' in vhost"));
}
