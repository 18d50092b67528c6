//! Standard output: buffered, flushed before acks, with a closed pipe reported as such.

use crate::error::{Error, Result};
use std::io::{self, BufWriter, Stdout, Write};

/// The data stream (stdout).
pub struct Out {
    w: BufWriter<Stdout>,
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

impl Out {
    /// Buffered stdout.
    pub fn new() -> Out {
        Out {
            w: BufWriter::with_capacity(64 * 1024, io::stdout()),
        }
    }

    /// Write bytes followed by a newline.
    pub fn line(&mut self, bytes: &[u8]) -> Result<()> {
        self.w
            .write_all(bytes)
            .and_then(|()| self.w.write_all(b"\n"))
            .map_err(|e| Error::io("writing to stdout", e))
    }

    /// Write a string followed by a newline.
    pub fn text(&mut self, s: &str) -> Result<()> {
        self.line(s.as_bytes())
    }

    /// Flush to the OS.
    pub fn flush(&mut self) -> Result<()> {
        self.w
            .flush()
            .map_err(|e| Error::io("writing to stdout", e))
    }
}
