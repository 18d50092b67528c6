//! How our nodes end: a graceful stop, a kill, and the guards that kill them when the test
//! process goes away (atexit handler, watchdog, stale-node cleanup at start). It starts
//! nothing and holds no configuration (`node.rs`).

use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Once, TryLockError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use super::broker::STOP_TIMEOUT;
use super::node::{Node, Running, brokers_root, file_len, log_since};

/// Logged by RabbitMQ 3.10 once the `rabbit` app has stopped (listeners closed, clients
/// told, queues and message stores flushed). What follows is a fixed ~7 s of plugin and VM
/// shutdown that tests do not need to wait for.
const STOPPED_MARKER: &str = "Management plugin: to stop collect_statistics";

static REGISTRY: Mutex<Vec<Weak<Node>>> = Mutex::new(Vec::new());
static AT_EXIT: Once = Once::new();

impl Node {
    /// SIGTERM, then SIGKILL once RabbitMQ says the broker has stopped (or after
    /// [`STOP_TIMEOUT`]).
    pub(super) fn stop_graceful(&self) {
        let mut guard = self.lock_proc();
        let Some(mut running) = guard.take() else {
            return;
        };
        let log = self.log_path();
        let offset = file_len(&log);
        let pid = running.beam.id();
        // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Ok(Some(_)) = running.beam.try_wait() {
                break;
            }
            if log_since(&log, offset).contains(STOPPED_MARKER) || Instant::now() >= deadline {
                let _ = running.beam.kill();
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        running.finish();
        self.pid.store(0, Ordering::SeqCst);
    }

    /// SIGKILL and reap; no-op when not running.
    pub(super) fn kill_now(&self) {
        let mut guard = self.lock_proc();
        if let Some(mut running) = guard.take() {
            let _ = running.beam.kill();
            running.finish();
        }
        self.pid.store(0, Ordering::SeqCst);
    }

    /// At process exit: never block on the lock (another thread might hold it).
    pub(super) fn kill_at_exit(&self) {
        let pid = self.pid.swap(0, Ordering::SeqCst);
        if pid != 0 {
            // SAFETY: kill(2) of the pid we spawned; it is not reaped yet (reaping clears it).
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
        let guard = match self.proc.try_lock() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(mut guard) = guard
            && let Some(mut running) = guard.take()
        {
            let _ = running.beam.kill();
            running.finish();
        }
    }
}

impl Running {
    /// Reaps the (dead or killed) VM and dismisses its watchdog.
    pub(super) fn finish(&mut self) {
        let _ = self.beam.wait();
        if let Some((mut child, mut stdin)) = self.watchdog.take() {
            let _ = stdin.write_all(b"done\n");
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill_now();
        // the TempDir field removes the directory after this
    }
}

/// A `sh` that kills the node if the test process dies before it could: its stdin is a pipe
/// from us (close-on-exec, so no other child holds it). A line on it means "all is well, go";
/// end of file means we died. It only kills a pid whose command line still names our dir.
pub(super) fn spawn_watchdog(pid: u32, dir: &Path) -> Option<(Child, ChildStdin)> {
    let script = r#"read line || { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2" && kill -KILL "$1"; }"#;
    let child = Command::new("/bin/sh")
        .args(["-c", script, "rmq-test-watchdog"])
        .arg(pid.to_string())
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    match child {
        Ok(mut child) => {
            let stdin = child.stdin.take()?;
            Some((child, stdin))
        }
        Err(e) => {
            eprintln!("[rmq-test] warning: no watchdog for node pid {pid}: {e}");
            None
        }
    }
}

pub(super) fn register(node: &Arc<Node>) {
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    registry.retain(|w| w.strong_count() > 0);
    registry.push(Arc::downgrade(node));
}

pub(super) fn ensure_at_exit_hook() {
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain `extern "C" fn()` that never unwinds.
        let rc = unsafe { libc::atexit(kill_all_at_exit) };
        if rc != 0 {
            eprintln!("[rmq-test] warning: atexit registration failed; the watchdog remains");
        }
    });
}

extern "C" fn kill_all_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let nodes: Vec<Weak<Node>> = match REGISTRY.try_lock() {
            Ok(g) => g.clone(),
            Err(TryLockError::Poisoned(p)) => p.into_inner().clone(),
            Err(TryLockError::WouldBlock) => return,
        };
        for node in nodes.iter().filter_map(Weak::upgrade) {
            node.kill_at_exit();
            // Statics are never dropped, so the TempDir of the shared node would stay.
            let _ = fs::remove_dir_all(node.dir.path());
        }
    });
}

/// Kills nodes left behind by test processes that died (owner pid gone), and removes their
/// directories. Runs once per process.
pub(super) fn clean_stale_nodes() {
    static CLEANED: Once = Once::new();
    CLEANED.call_once(|| {
        let Ok(entries) = fs::read_dir(brokers_root()) else {
            return;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let owner = fs::read_to_string(dir.join("owner"))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            let stale = match owner {
                Some(pid) => !pid_alive(pid),
                // a dir being created right now has no owner file yet
                None => entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(600)),
            };
            if !stale {
                continue;
            }
            if let Some(pid) = fs::read_to_string(dir.join("beam.pid"))
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
            {
                let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                if cmdline.contains(&*dir.to_string_lossy()) {
                    eprintln!(
                        "[rmq-test] killing stale test node pid {pid} ({})",
                        dir.display()
                    );
                    // SAFETY: kill(2); the command line check above makes it our old node.
                    unsafe {
                        libc::kill(pid as libc::pid_t, libc::SIGKILL);
                    }
                }
            }
            let _ = fs::remove_dir_all(&dir);
        }
    });
}

pub(super) fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
