//! Where `send` gets its messages: argv words, all of stdin, or stdin line by line (streamed,
//! so memory stays flat however much comes in).

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Stdin, Write};
use std::time::Duration;

/// One unit of input.
#[derive(Debug)]
pub enum Item {
    /// A message body.
    Body(Vec<u8>),
    /// An NDJSON envelope, still to be parsed (with its 1-based line number).
    Envelope {
        /// Line number.
        line: u64,
        /// The line, without its newline.
        bytes: Vec<u8>,
    },
}

/// A source of items.
pub struct Input {
    kind: Kind,
}

enum Kind {
    Words(Option<Vec<u8>>),
    Whole(Option<Stdin>),
    Lines {
        reader: BufReader<Stdin>,
        ndjson: bool,
        prompt: bool,
        line: u64,
    },
}

impl Input {
    /// BODY words, joined with single spaces (bytes as given, even if not UTF-8).
    pub fn words(words: &[OsString]) -> Input {
        let mut body = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                body.push(b' ');
            }
            body.extend_from_slice(os_bytes(w));
        }
        Input {
            kind: Kind::Words(Some(body)),
        }
    }

    /// All of stdin as one message.
    pub fn whole_stdin() -> Input {
        Input {
            kind: Kind::Whole(Some(io::stdin())),
        }
    }

    /// One message per stdin line; `ndjson` parses envelopes; `prompt` shows a prompt.
    pub fn lines(ndjson: bool, prompt: bool) -> Input {
        if prompt {
            crate::log::note("type one message per line; Ctrl-D to end");
        }
        Input {
            kind: Kind::Lines {
                // 64 KiB: one read per ~600 lines of 100 bytes; a larger buffer is only
                // more resident memory.
                reader: BufReader::with_capacity(64 * 1024, io::stdin()),
                ndjson,
                prompt,
                line: 0,
            },
        }
    }

    /// Whether [`Input::next_item`] would return without waiting for more input (something
    /// to read, or the end of it), waiting up to `wait` for that. Only stdin lines wait:
    /// words are there, and the whole of stdin is read at once.
    pub fn ready(&self, wait: Duration) -> bool {
        match &self.kind {
            Kind::Lines { reader, .. } if reader.buffer().is_empty() => stdin_readable(wait),
            _ => true,
        }
    }

    /// The next item, or None at the end.
    pub fn next_item(&mut self) -> Result<Option<Item>> {
        match &mut self.kind {
            Kind::Words(w) => Ok(w.take().map(Item::Body)),
            Kind::Whole(stdin) => {
                let Some(s) = stdin.take() else {
                    return Ok(None);
                };
                let mut body = Vec::new();
                let limit = u64::try_from(MAX_LINE).unwrap_or(u64::MAX) + 1;
                s.take(limit)
                    .read_to_end(&mut body)
                    .map_err(|e| Error::io("reading stdin", e))?;
                if body.len() > MAX_LINE {
                    return Err(Error::Input(format!(
                        "stdin is longer than {} MiB, the largest message RabbitMQ accepts by \
                         default (max_message_size); nothing was sent",
                        MAX_LINE >> 20
                    )));
                }
                Ok(Some(Item::Body(body)))
            }
            Kind::Lines {
                reader,
                ndjson,
                prompt,
                line,
            } => {
                if *prompt {
                    let _ = write!(io::stderr(), "Message: ");
                }
                let mut buf = Vec::new();
                let n = read_line_capped(reader, &mut buf, MAX_LINE)
                    .map_err(|e| Error::io("reading stdin", e))?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                } else if n > MAX_LINE {
                    return Err(Error::Input(format!(
                        "stdin line {line} is longer than {} MiB, the largest message RabbitMQ \
                         accepts by default (max_message_size); nothing from it on was sent",
                        MAX_LINE >> 20
                    )));
                }
                Ok(Some(if *ndjson {
                    Item::Envelope {
                        line: *line,
                        bytes: buf,
                    }
                } else {
                    Item::Body(buf)
                }))
            }
        }
    }
}

/// The longest stdin line `--lines`/`--ndjson` take: RabbitMQ's default max_message_size
/// (128 MiB). Reading stops there, so a runaway line cannot exhaust memory.
pub const MAX_LINE: usize = 128 << 20;

/// `read_until(b'\n')` that stops after `cap + 1` bytes: returns how many bytes were read
/// (more than `cap` only when the line is too long; then it does not end in `\n`).
pub fn read_line_capped(r: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<usize> {
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    r.by_ref().take(limit).read_until(b'\n', buf)
}

/// Whether stdin has bytes to read (or is at its end, or failed) within `wait`.
#[cfg(unix)]
fn stdin_readable(wait: Duration) -> bool {
    let ms = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    let mut p = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on one valid, local pollfd; fd 0 stays open for the whole run.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    // An interrupted poll (a signal) is not readable: the caller checks its stop flag and asks
    // again. A poll that fails otherwise lets the read itself report the error.
    n > 0 || (n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted)
}

#[cfg(not(unix))]
fn stdin_readable(_wait: Duration) -> bool {
    true
}

#[cfg(unix)]
fn os_bytes(s: &OsString) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    s.as_os_str().as_bytes()
}

#[cfg(not(unix))]
fn os_bytes(s: &OsString) -> &[u8] {
    s.as_os_str().as_encoded_bytes()
}

/// The size of stdin when it is a regular file (`rmq send < file`), else None.
pub fn stdin_file_size() -> Option<u64> {
    use std::os::fd::AsFd;
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    meta.is_file().then_some(meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_capped() {
        let mut r = io::Cursor::new(b"abc\n0123456789\nx".to_vec());
        let mut buf = Vec::new();
        assert_eq!(read_line_capped(&mut r, &mut buf, 5).unwrap(), 4);
        assert_eq!(buf, b"abc\n");
        buf.clear();
        // Too long: stops after cap + 1 bytes, without a newline.
        assert_eq!(read_line_capped(&mut r, &mut buf, 5).unwrap(), 6);
        assert_eq!(buf, b"012345");
        let mut r = io::Cursor::new(b"12345".to_vec());
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 5).unwrap(), 5);
    }
}
