//! Running a child process with a deadline (`rabbitmqctl`, `openssl`, fixtures), its output
//! captured. Nothing broker-specific lives here.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Asserts that a finished command exited 0; else panics with `what`, its exit status and
/// its stderr.
pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command to completion with its stdout and stderr captured, killing it (and
/// reporting so on stderr) when it takes longer than `timeout`. Stdin is `/dev/null`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {cmd:?}: {e}"));
    wait_output(child, timeout, &format!("{cmd:?}"))
}

/// Waits for a spawned child for at most `timeout`, collecting what it writes to the stdout
/// and stderr pipes still attached to it (empty for the ones not piped or taken); kills it
/// when it takes longer, with `[killed after …: what]` added to its stderr.
pub fn wait_output(mut child: Child, timeout: Duration, what: &str) -> Output {
    let out_reader = child.stdout.take().map(|mut pipe| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    });
    let err_reader = child.stderr.take().map(|mut pipe| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("reaping a killed child");
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    };
    // A grandchild may keep the pipes open after a kill: don't wait for it forever.
    let stdout = join_reader(out_reader, Duration::from_secs(5));
    let mut stderr = join_reader(err_reader, Duration::from_secs(5));
    if timed_out {
        stderr.extend_from_slice(format!("\n[killed after {timeout:?}: {what}]\n").as_bytes());
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

fn join_reader(handle: Option<thread::JoinHandle<Vec<u8>>>, timeout: Duration) -> Vec<u8> {
    let Some(handle) = handle else {
        return Vec::new();
    };
    let deadline = Instant::now() + timeout;
    while !handle.is_finished() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    if handle.is_finished() {
        handle.join().unwrap_or_default()
    } else {
        Vec::new()
    }
}
