//! rmq: produce, consume and administer RabbitMQ queues from the shell.

pub mod amqp;
pub mod bulk;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod ctx;
pub mod declare;
pub mod endpoint;
pub mod envelope;
pub mod error;
pub mod input;
pub mod kv;
pub mod listing;
pub mod log;
pub mod mgmt;
pub mod output;
pub mod progress;
pub mod prompt;
pub mod signals;
pub mod tls;

use error::Error;

/// Keep freed message-sized blocks in malloc's heap for the next message.
///
/// amiquip builds each message's frames in a fresh buffer of about the body's size, which its
/// I/O thread frees once written. glibc serves blocks over 128 KiB with mmap (raising that
/// threshold after each free, up to 32 MiB) and trims the heap after a free, so every 1 MiB
/// message paid ~110 page faults and an munmap: 300 persistent 1 MiB messages took
/// 0.30-0.38 s CPU (two thirds in the kernel, 34-36k page faults) against 0.16-0.24 s and
/// 2.4-2.8k faults with these fixed thresholds, at 3-4 MB more peak RSS (13 against 9.4 MB).
/// Blocks of 4 MiB and more are still mmapped and a free top of over 8 MiB is trimmed, so a
/// long-running `receive` or `worker` gives a large message's memory back: idle after a
/// 20 MB message and fifty of 1 MiB, 6.5 MB resident against glibc's default 11.7 MB.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets two of malloc's thresholds; it is called before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
    }
}

/// Run rmq with the process's arguments; returns the exit code.
pub fn main() -> u8 {
    keep_freed_memory();
    let cli = match cli::parse() {
        Ok(c) => c,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            log::error(&non_utf8_argument());
            log::hint(
                "names, URLs and option values must be UTF-8; only BODY words may be any bytes",
            );
            return error::EXIT_USAGE;
        }
        Err(e) => {
            let code = if e.use_stderr() {
                error::EXIT_USAGE
            } else {
                error::EXIT_OK
            };
            // clap prints help/version to stdout and errors to stderr; a closed pipe is fine.
            let _ = e.print();
            return code;
        }
    };
    log::set_level(if cli.global.quiet {
        -1
    } else {
        cli.global.verbose.min(3) as i8
    });
    match run(cli) {
        Ok(()) => error::EXIT_OK,
        Err(e) => report(&e),
    }
}

fn run(cli: cli::Cli) -> Result<(), Error> {
    let ctx = ctx::Ctx::new(cli.global);
    commands::dispatch(cli.command, &ctx)
}

/// Which argument clap found not to be UTF-8, shown with its bad bytes escaped.
fn non_utf8_argument() -> String {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    for (i, a) in args.iter().enumerate().skip(1) {
        if a.to_str().is_none() {
            let shown = a.to_string_lossy().replace('\u{fffd}', "\\x??");
            let after = match args.get(i - 1).and_then(|p| p.to_str()) {
                Some(p) if p.starts_with('-') && i > 1 => format!(" (the value of {p})"),
                _ => String::new(),
            };
            return format!("argument {i} '{shown}'{after} is not valid UTF-8");
        }
    }
    "an argument is not valid UTF-8".into()
}

/// Print an error (one line, plus a hint line) and return its exit code.
pub fn report(e: &Error) -> u8 {
    if e.is_broken_pipe() {
        return error::EXIT_OK;
    }
    log::error(&e.to_string());
    if let Some(h) = e.hint() {
        log::hint(&h);
    }
    e.exit_code()
}
