//! Standard output: buffered, flushed before acks, with a closed pipe reported as such.
//! Every byte of data rmq prints goes through [`Out`]; messages for people (notes, warnings,
//! errors) never come here: they go to stderr through `log.rs`.
//!
//! When stdout is a pipe, a message only counts as printed once the reader has taken it out
//! of the pipe (`rmq receive | head -1` must consume one message, not a pipe-buffer full).

use crate::error::{Error, Result};
use std::io::{self, BufWriter, Stdout, Write};
use std::time::Duration;

/// The data stream (stdout).
pub struct Out {
    w: BufWriter<Stdout>,
    pipe: bool,
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
            pipe: stdout_is_pipe(),
        }
    }

    /// Is stdout a pipe (so that [`Out::wait_read`] means something)?
    pub fn is_pipe(&self) -> bool {
        self.pipe
    }

    /// Write bytes followed by a newline.
    pub fn line(&mut self, bytes: &[u8]) -> Result<()> {
        self.w
            .write_all(bytes)
            .and_then(|()| self.w.write_all(b"\n"))
            .map_err(stdout_err)
    }

    /// Write bytes as they are (a generated file: the man page, a completion script).
    pub fn bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.w.write_all(bytes).map_err(stdout_err)
    }

    /// Write a string followed by a newline.
    pub fn text(&mut self, s: &str) -> Result<()> {
        self.line(s.as_bytes())
    }

    /// Flush to the OS.
    pub fn flush(&mut self) -> Result<()> {
        self.w.flush().map_err(stdout_err)
    }

    /// Flush, then (for a pipe) wait until the reader has read everything written, or has
    /// gone away (a broken-pipe error).
    pub fn flush_and_wait_read(&mut self) -> Result<()> {
        self.flush()?;
        if !self.pipe {
            return Ok(());
        }
        let mut spins = 0u32;
        let mut nap = Duration::from_micros(20);
        loop {
            match pipe_state() {
                PipeState::Empty => return Ok(()),
                PipeState::ReaderGone => {
                    return Err(stdout_err(io::Error::from(io::ErrorKind::BrokenPipe)));
                }
                // A fast reader takes it within microseconds: yield first, then back off.
                PipeState::Unread if spins < 200 => {
                    spins += 1;
                    std::thread::yield_now();
                }
                PipeState::Unread => {
                    std::thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_millis(5));
                }
            }
        }
    }
}

fn stdout_err(e: io::Error) -> Error {
    Error::io("writing to stdout", e)
}

enum PipeState {
    Empty,
    Unread,
    ReaderGone,
}

#[cfg(unix)]
fn stdout_is_pipe() -> bool {
    // SAFETY: fstat on fd 1 with a zeroed, properly sized stat buffer.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(1, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO
    }
}

#[cfg(unix)]
fn pipe_state() -> PipeState {
    // SAFETY: ioctl(FIONREAD) and poll on fd 1 with valid, local out-parameters.
    unsafe {
        // An empty pipe means the reader took everything, even if it has left since.
        let mut unread: libc::c_int = 0;
        if libc::ioctl(1, libc::FIONREAD, &mut unread) != 0 || unread == 0 {
            return PipeState::Empty;
        }
        let mut p = libc::pollfd {
            fd: 1,
            events: libc::POLLOUT,
            revents: 0,
        };
        if libc::poll(&mut p, 1, 0) == 1 && (p.revents & libc::POLLERR) != 0 {
            PipeState::ReaderGone
        } else {
            PipeState::Unread
        }
    }
}

#[cfg(not(unix))]
fn stdout_is_pipe() -> bool {
    false
}

#[cfg(not(unix))]
fn pipe_state() -> PipeState {
    PipeState::Empty
}

// ---------------------------------------------------------------------------------------------
// Listings (list-queues, list-exchanges, list-bindings, queue-declare)
// ---------------------------------------------------------------------------------------------

/// How a listing is shown (README, "Administration": a table, TSV or JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    /// A table for people: stdout is a terminal.
    Table,
    /// Tab-separated rows after a header line: stdout is not a terminal.
    Tsv,
    /// One JSON array (`--json`).
    Json,
}

impl ListFormat {
    /// `--json` wins; otherwise a table on a terminal, TSV elsewhere.
    pub fn detect(json: bool) -> ListFormat {
        use std::io::IsTerminal;
        if json {
            ListFormat::Json
        } else if io::stdout().is_terminal() {
            ListFormat::Table
        } else {
            ListFormat::Tsv
        }
    }
}

/// Rows of JSON objects: the table and TSV show `columns`, `--json` shows every field.
#[derive(Debug, Default)]
pub struct Listing {
    columns: Vec<String>,
    rows: Vec<Row>,
    placeholders: Vec<(String, String)>,
}

/// One row: a JSON object. (A listing too long to hold goes through
/// [`crate::row_writer::RowWriter`] instead.)
type Row = serde_json::Map<String, serde_json::Value>;

impl Listing {
    /// A listing showing these fields (in this order) as columns.
    pub fn new(columns: &[&str]) -> Listing {
        Listing {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            ..Listing::default()
        }
    }

    /// In the table only, show `text` where `column` holds an empty string (the default
    /// exchange's name is "").
    pub fn placeholder(mut self, column: &str, text: &str) -> Listing {
        self.placeholders.push((column.into(), text.into()));
        self
    }

    /// Add a row.
    pub fn push(&mut self, row: serde_json::Map<String, serde_json::Value>) {
        self.rows.push(row);
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn cell(&self, row: &Row, col: &str) -> String {
        cell_text(row.get(col).unwrap_or(&serde_json::Value::Null))
    }

    fn numeric(&self, col: &str) -> bool {
        let mut n = crate::table::Numeric::default();
        self.rows.iter().for_each(|r| n.see(r.get(col)));
        n.is_numeric()
    }
}

impl Out {
    /// Write a JSON document (pretty-printed) and a newline.
    pub fn json(&mut self, value: &serde_json::Value) -> Result<()> {
        serde_json::to_writer_pretty(&mut self.w, value).map_err(|e| match e.io_error_kind() {
            Some(kind) => Error::io("writing to stdout", io::Error::from(kind)),
            None => Error::Other(format!("cannot write JSON: {e}")),
        })?;
        self.w
            .write_all(b"\n")
            .map_err(|e| Error::io("writing to stdout", e))
    }

    /// Write a listing in the given format, then flush.
    pub fn listing(&mut self, listing: &Listing, format: ListFormat) -> Result<()> {
        match format {
            ListFormat::Json => {
                let rows = listing
                    .rows
                    .iter()
                    .map(|r| serde_json::Value::Object(r.clone()))
                    .collect();
                self.json(&serde_json::Value::Array(rows))?;
            }
            ListFormat::Tsv => {
                self.text(&listing.columns.join("\t"))?;
                for row in &listing.rows {
                    let cells: Vec<String> = listing
                        .columns
                        .iter()
                        .map(|c| tsv_escape(&listing.cell(row, c)))
                        .collect();
                    self.text(&cells.join("\t"))?;
                }
            }
            ListFormat::Table => {
                let table = render_table(listing);
                self.text(&table)?;
            }
        }
        self.flush()
    }
}

/// A cell as text: strings as they are, `null` and `{}` empty, other JSON compact.
pub fn cell_text(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => String::new(),
        J::String(s) => s.clone(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::Object(o) if o.is_empty() => String::new(),
        J::Array(a) if a.is_empty() => String::new(),
        other => other.to_string(),
    }
}

/// TSV cells cannot hold tabs or line breaks: escape them (and `\`) as `\t`, `\n`, `\r`, `\\`.
pub fn tsv_escape(s: &str) -> String {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn render_table(listing: &Listing) -> String {
    use crate::table::terminal_safe;
    let right: Vec<bool> = listing.columns.iter().map(|c| listing.numeric(c)).collect();
    let rows = listing.rows.iter().map(|row| {
        listing.columns.iter().map(move |c| {
            let mut text = listing.cell(row, c);
            if text.is_empty()
                && let Some((_, p)) = listing.placeholders.iter().find(|(pc, _)| pc == c)
                && matches!(row.get(c), Some(serde_json::Value::String(_)))
            {
                text = p.clone();
            }
            terminal_safe(&text)
        })
    });
    crate::table::render(&listing.columns, &right, rows)
}

#[cfg(test)]
mod listing_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tsv_cells_escape_tabs_newlines_and_backslashes() {
        assert_eq!(tsv_escape("plain name"), "plain name");
        assert_eq!(tsv_escape("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
    }

    #[test]
    fn cells_show_null_and_empty_tables_as_nothing() {
        assert_eq!(cell_text(&json!(null)), "");
        assert_eq!(cell_text(&json!({})), "");
        assert_eq!(cell_text(&json!(3)), "3");
        assert_eq!(cell_text(&json!(true)), "true");
        assert_eq!(
            cell_text(&json!({"x-match": "all"})),
            "{\"x-match\":\"all\"}"
        );
    }

    #[test]
    fn table_escapes_control_characters_and_uses_placeholders() {
        let mut l = Listing::new(&["name", "n"]).placeholder("name", "(AMQP default)");
        for (name, n) in [("", json!(1)), ("evil\u{1b}[2J", json!(null))] {
            let mut row = serde_json::Map::new();
            row.insert("name".into(), json!(name));
            row.insert("n".into(), n);
            l.push(row);
        }
        assert!(l.numeric("n") && !l.numeric("name"));
        let t = render_table(&l);
        assert!(t.contains("(AMQP default)"), "{t}");
        assert!(!t.contains('\u{1b}'), "{t}");
        assert!(t.contains("evil\\u{1b}[2J"), "{t}");
    }
}
