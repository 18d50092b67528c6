//! rmq: produce, consume and administer RabbitMQ queues from the shell. This file holds the
//! module list and the process's path (parse, run, report, exit code: ARCHITECTURE.md); no
//! command logic (that is `commands/`), and no printing except through `log` and clap's own.

pub mod amqp;
pub(crate) mod backoff;
pub(crate) mod bulk;
pub(crate) mod changes;
pub mod cli;
pub mod commands;
pub(crate) mod confirm;
pub(crate) mod ctx;
pub(crate) mod declare;
pub mod endpoint;
pub mod envelope;
pub mod error;
pub(crate) mod filter;
pub(crate) mod input;
pub mod kv;
pub(crate) mod listing;
pub(crate) mod log;
pub(crate) mod mgmt;
pub(crate) mod output;
pub(crate) mod profile;
pub(crate) mod progress;
pub(crate) mod prompt;
pub(crate) mod row_writer;
pub(crate) mod signals;
pub(crate) mod stream_offset;
pub(crate) mod table;
pub(crate) mod tls;

use error::Error;

/// Keep freed message-sized blocks in malloc's heap for the next message.
///
/// amiquip builds each message's frames in a fresh buffer of about the body's size, which its
/// I/O thread frees once written. glibc serves blocks over 128 KiB with mmap (raising that
/// threshold after each free, up to 32 MiB) and trims the heap after a free, so every 1 MiB
/// message paid page faults and an munmap. Blocks of 4 MiB and more are still mmapped and a
/// free top of over 8 MiB is trimmed, so a long-running `receive` or `worker` gives a large
/// message's memory back. The figures are in README, "Performance" (W5).
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
            let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
            if let Some(usage) = cli::negative_number_error(&args, &e) {
                return report(&usage);
            }
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
    use cli::Command as C;
    // Printing help text or the profiles themselves needs no profile (nor a valid choice).
    let global = match &cli.command {
        C::Completions(_) | C::Man(_) | C::Profiles(_) => cli.global,
        _ => profile::resolve(cli.global)?,
    };
    let ctx = ctx::Ctx::new(global);
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
