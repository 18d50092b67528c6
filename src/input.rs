//! Where `send` gets its messages: argv words, all of stdin, or stdin line by line (streamed,
//! so memory stays flat however much comes in).

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Stdin, Write};

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
                reader: BufReader::with_capacity(256 * 1024, io::stdin()),
                ndjson,
                prompt,
                line: 0,
            },
        }
    }

    /// The next item, or None at the end.
    pub fn next_item(&mut self) -> Result<Option<Item>> {
        match &mut self.kind {
            Kind::Words(w) => Ok(w.take().map(Item::Body)),
            Kind::Whole(stdin) => {
                let Some(mut s) = stdin.take() else {
                    return Ok(None);
                };
                let mut body = Vec::new();
                s.read_to_end(&mut body)
                    .map_err(|e| Error::io("reading stdin", e))?;
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
                let n = reader
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| Error::io("reading stdin", e))?;
                if n == 0 {
                    return Ok(None);
                }
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                *line += 1;
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

#[cfg(unix)]
fn os_bytes(s: &OsString) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    s.as_os_str().as_bytes()
}

#[cfg(not(unix))]
fn os_bytes(s: &OsString) -> &[u8] {
    s.as_os_str().as_encoded_bytes()
}
