//! What runs off the main thread: one task per message (the tutorial's dot-sleep, or a
//! command), on a fixed pool of threads. Tasks never touch the AMQP channel: they send a
//! [`Done`] back, and the thread that owns the channel acks, nacks or replies.
//!
//! Commands are spawned in their own process group, so a Ctrl-C on the terminal reaches rmq
//! only (rmq lets them finish); [`Pool::abort_all`] kills the groups on the second Ctrl-C.

use crate::output::Out;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Exit status with which a command asks for its message to be requeued (sysexits.h).
pub const EX_TEMPFAIL: i32 = 75;

/// Bodies up to this size are written to the command's stdin directly: an empty pipe always
/// holds one page, so the write cannot block.
const INLINE_STDIN: usize = 4096;

/// What a worker does with each message.
#[derive(Debug)]
pub enum Mode {
    /// Tutorial 2: print, sleep `dot_delay` per `.` in the body, print, ack.
    Tutorial {
        /// Sleep per dot.
        dot_delay: Duration,
    },
    /// Run a program with the body on its stdin.
    Command {
        /// Program (looked up in PATH).
        program: OsString,
        /// Its arguments.
        args: Vec<OsString>,
    },
}

impl Mode {
    /// The command as the user would write it, for messages.
    pub fn describe(&self) -> String {
        match self {
            Mode::Tutorial { .. } => "the tutorial task".into(),
            Mode::Command { program, args } => {
                let mut s = program.to_string_lossy().into_owned();
                for a in args {
                    s.push(' ');
                    s.push_str(&a.to_string_lossy());
                }
                s
            }
        }
    }
}

/// One message's work.
#[derive(Debug)]
pub struct Job {
    /// Our id for the message (not the delivery tag: those restart on a new channel).
    pub id: u64,
    /// Message body (the command's stdin).
    pub body: Vec<u8>,
    /// Environment for the command (`RMQ_EXCHANGE`, ...).
    pub env: Vec<(&'static str, String)>,
    /// Capture the command's stdout (for an RPC reply) instead of passing it through.
    pub capture: bool,
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: ack (and reply).
    Ok,
    /// The command exited 75: requeue.
    TempFail,
    /// The command failed (or could not start): follow `--on-failure`.
    Failed(String),
    /// Killed or interrupted by a second Ctrl-C: requeue.
    Aborted,
    /// Our stdout is gone (`| head`): requeue, and stop taking messages.
    OutputClosed,
}

/// A finished task.
#[derive(Debug)]
pub struct Done {
    /// The job's id.
    pub id: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// The command's stdout, when captured.
    pub stdout: Vec<u8>,
}

/// Running commands, and whether the second Ctrl-C came.
#[derive(Default)]
struct Procs {
    aborted: bool,
    /// Process (group) ids of running commands.
    pids: HashSet<u32>,
    /// Dropped on abort: wakes every sleeping tutorial task.
    wake: Option<Sender<()>>,
}

struct Shared {
    mode: Mode,
    procs: Mutex<Procs>,
    abort: Receiver<()>,
}

impl Shared {
    fn procs(&self) -> MutexGuard<'_, Procs> {
        // A panicking task thread cannot leave the set inconsistent: use it anyway.
        self.procs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A fixed set of threads running tasks.
pub struct Pool {
    jobs: Sender<Job>,
    done: Receiver<Done>,
    shared: Arc<Shared>,
}

impl Pool {
    /// Start `threads` task threads.
    pub fn new(threads: usize, mode: Mode) -> Pool {
        let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded::<Job>();
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(0);
        let shared = Arc::new(Shared {
            mode,
            procs: Mutex::new(Procs {
                wake: Some(wake_tx),
                ..Procs::default()
            }),
            abort: wake_rx,
        });
        for _ in 0..threads {
            let jobs = jobs_rx.clone();
            let done = done_tx.clone();
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                let mut out = Out::new();
                while let Ok(job) = jobs.recv() {
                    let id = job.id;
                    let (outcome, stdout) = run(&shared, job, &mut out);
                    if done
                        .send(Done {
                            id,
                            outcome,
                            stdout,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        Pool {
            jobs: jobs_tx,
            done: done_rx,
            shared,
        }
    }

    /// Hand a job to a free thread (the caller keeps at most `threads` running).
    pub fn start(&self, job: Job) {
        // The threads live as long as the pool: the send cannot fail.
        let _ = self.jobs.send(job);
    }

    /// Where finished tasks report.
    pub fn done(&self) -> &Receiver<Done> {
        &self.done
    }

    /// The second Ctrl-C: kill every running command's process group and wake sleeping
    /// tutorial tasks; tasks started later are aborted at once. Returns how many commands
    /// were killed.
    pub fn abort_all(&self) -> usize {
        let mut procs = self.shared.procs();
        procs.aborted = true;
        procs.wake = None;
        for &pid in &procs.pids {
            kill_group(pid);
        }
        procs.pids.len()
    }
}

fn run(shared: &Shared, job: Job, out: &mut Out) -> (Outcome, Vec<u8>) {
    match &shared.mode {
        Mode::Tutorial { dot_delay } => (tutorial(&job, *dot_delay, &shared.abort, out), vec![]),
        Mode::Command { program, args } => command(shared, job, program, args),
    }
}

/// The tutorial's worker.py: ` [x] Received <body>`, a sleep per `.`, ` [x] Done`.
fn tutorial(job: &Job, dot_delay: Duration, abort: &Receiver<()>, out: &mut Out) -> Outcome {
    let mut line = b" [x] Received ".to_vec();
    line.extend_from_slice(&job.body);
    if out.line(&line).and_then(|()| out.flush()).is_err() {
        return Outcome::OutputClosed;
    }
    let dots = job.body.iter().filter(|&&b| b == b'.').count() as f64;
    let pause =
        Duration::try_from_secs_f64(dot_delay.as_secs_f64() * dots).unwrap_or(Duration::MAX);
    if !pause.is_zero() && !matches!(abort.recv_timeout(pause), Err(RecvTimeoutError::Timeout)) {
        return Outcome::Aborted;
    }
    if out.text(" [x] Done").and_then(|()| out.flush()).is_err() {
        return Outcome::OutputClosed;
    }
    Outcome::Ok
}

fn command(shared: &Shared, job: Job, program: &OsString, args: &[OsString]) -> (Outcome, Vec<u8>) {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(if job.capture {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stderr(Stdio::inherit())
        // Out of the terminal's foreground group: the first Ctrl-C is rmq's alone.
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let what = program.to_string_lossy();
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such program (not found in PATH)".into(),
                std::io::ErrorKind::PermissionDenied => "permission denied".into(),
                _ => e.to_string(),
            };
            return (
                Outcome::Failed(format!("cannot start '{what}': {why}")),
                vec![],
            );
        }
    };
    let pid = child.id();
    {
        let mut procs = shared.procs();
        if procs.aborted {
            kill_group(pid);
        } else {
            procs.pids.insert(pid);
        }
    }
    let writer = feed_stdin(&mut child, job.body);
    let mut stdout = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        // A read error (never expected on a pipe) only shortens the reply.
        let _ = pipe.read_to_end(&mut stdout);
    }
    wait_exited(pid);
    // Forget the pid before reaping it, so an abort can never signal a reused pid.
    let aborted = {
        let mut procs = shared.procs();
        procs.pids.remove(&pid);
        procs.aborted
    };
    let status = child.wait();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let outcome = match status {
        Ok(s) if s.success() => Outcome::Ok,
        Ok(s) if s.code() == Some(EX_TEMPFAIL) => Outcome::TempFail,
        Ok(_) if aborted => Outcome::Aborted,
        Ok(s) if s.signal() == Some(libc::SIGPIPE) && !job.capture => Outcome::OutputClosed,
        Ok(s) => Outcome::Failed(match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited with status {c}"),
            (None, Some(sig)) => format!("was killed by signal {sig}"),
            (None, None) => format!("ended with {s}"),
        }),
        Err(e) => Outcome::Failed(format!("could not be waited for: {e}")),
    };
    (outcome, stdout)
}

/// Write the body to the command's stdin and close it; a command that does not read its
/// stdin is fine (the broken pipe is ignored).
fn feed_stdin(child: &mut Child, body: Vec<u8>) -> Option<std::thread::JoinHandle<()>> {
    let mut stdin = child.stdin.take()?;
    if body.len() <= INLINE_STDIN {
        let _ = stdin.write_all(&body);
        return None;
    }
    Some(std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    }))
}

/// Block until the process has exited, without reaping it.
fn wait_exited(pid: u32) {
    loop {
        // SAFETY: waitid with a zeroed siginfo_t out-parameter; WNOWAIT leaves the child
        // waitable, so `Child::wait` still reaps it.
        let r = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) on the process group this child leads (process_group(0)).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn job(id: u64, body: &[u8], capture: bool) -> Job {
        Job {
            id,
            body: body.to_vec(),
            env: vec![("RMQ_ROUTING_KEY", "rk".into())],
            capture,
        }
    }

    fn sh(script: &str) -> Mode {
        Mode::Command {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
        }
    }

    fn recv(pool: &Pool) -> Done {
        pool.done()
            .recv_timeout(Duration::from_secs(10))
            .expect("task finished")
    }

    #[test]
    fn command_gets_body_and_env_and_exit_codes_map() {
        let pool = Pool::new(
            1,
            sh("cat; printf ' %s' \"$RMQ_ROUTING_KEY\"; exit ${X:-0}"),
        );
        pool.start(job(1, b"hello", true));
        let d = recv(&pool);
        assert_eq!(
            (d.id, d.outcome, d.stdout),
            (1, Outcome::Ok, b"hello rk".to_vec())
        );

        let pool = Pool::new(1, sh("exit 75"));
        pool.start(job(2, b"", true));
        assert_eq!(recv(&pool).outcome, Outcome::TempFail);

        let pool = Pool::new(1, sh("exit 3"));
        pool.start(job(3, b"", true));
        assert_eq!(
            recv(&pool).outcome,
            Outcome::Failed("exited with status 3".into())
        );
    }

    #[test]
    fn large_body_does_not_deadlock_with_captured_output() {
        let pool = Pool::new(1, sh("cat"));
        let body = vec![b'x'; 1 << 20];
        pool.start(job(1, &body, true));
        assert_eq!(recv(&pool).stdout.len(), 1 << 20);
    }

    #[test]
    fn missing_program_is_a_failure_not_a_crash() {
        let pool = Pool::new(
            1,
            Mode::Command {
                program: "/nonexistent/rmq-no-such-program".into(),
                args: vec![],
            },
        );
        pool.start(job(1, b"", false));
        match recv(&pool).outcome {
            Outcome::Failed(why) => assert!(why.contains("cannot start"), "{why}"),
            o => panic!("unexpected {o:?}"),
        }
    }

    #[test]
    fn abort_kills_running_commands_and_wakes_sleepers() {
        let pool = Pool::new(2, sh("sleep 30"));
        pool.start(job(1, b"", false));
        let t = Instant::now();
        // Wait until the command is registered, then abort.
        while pool.shared.procs().pids.is_empty() {
            assert!(t.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(pool.abort_all(), 1);
        assert_eq!(recv(&pool).outcome, Outcome::Aborted);
        assert!(t.elapsed() < Duration::from_secs(10));

        let pool = Pool::new(
            1,
            Mode::Tutorial {
                dot_delay: Duration::from_secs(30),
            },
        );
        pool.start(job(1, b"..", false));
        std::thread::sleep(Duration::from_millis(50));
        pool.abort_all();
        assert_eq!(recv(&pool).outcome, Outcome::Aborted);
        assert!(t.elapsed() < Duration::from_secs(20));
    }
}
