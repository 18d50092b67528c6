//! A listing written as its rows arrive, already in their final order (the management API
//! sorts them): TSV and `--json` rows go straight to stdout, so a listing of 10,000 queues
//! takes no more memory than one of 10; the table, whose column widths need every row, holds
//! each row as one string of its cells' text. The output is byte for byte that of
//! [`crate::output::Out::listing`].

use crate::error::{Error, Result};
use crate::output::{ListFormat, Out, cell_text, tsv_escape};
use crate::table::{Numeric, terminal_safe};
use serde_json::{Map, Value};

/// Between the cells of a held table row: a control character, which
/// [`terminal_safe`] has escaped out of every cell's text.
const SEP: char = '\0';

/// Rows of `columns` on their way to stdout.
pub struct RowWriter {
    format: ListFormat,
    columns: Vec<String>,
    out: Out,
    rows: usize,
    /// The table's rows, each its cells' text joined by [`SEP`].
    held: Vec<Box<str>>,
    numeric: Vec<Numeric>,
    /// The first write that failed (a closed pipe): later rows are dropped.
    failed: Option<Error>,
}

impl RowWriter {
    /// Rows of `columns` (the table's and TSV's, in order) in `format`. Nothing is written
    /// before the first row or [`RowWriter::finish`], so a request that fails leaves stdout
    /// empty.
    pub fn new(columns: &[String], format: ListFormat) -> RowWriter {
        RowWriter {
            format,
            columns: columns.to_vec(),
            out: Out::new(),
            rows: 0,
            held: Vec::new(),
            numeric: vec![Numeric::default(); columns.len()],
            failed: None,
        }
    }

    /// A row of the columns' values, in their order (JSON then has only these fields).
    pub fn cells(&mut self, cells: &[Value]) {
        match self.format {
            ListFormat::Json => {
                let obj: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(cells.iter().cloned())
                    .collect();
                self.json(&Value::Object(obj));
            }
            _ => self.shown(|c| cells.get(c)),
        }
    }

    /// A row as a JSON object: `--json` shows all of it, the table and TSV its columns.
    pub fn fields(&mut self, row: Map<String, Value>) {
        match self.format {
            ListFormat::Json => self.json(&Value::Object(row)),
            _ => {
                let values: Vec<Option<&Value>> = self.columns.iter().map(|c| row.get(c)).collect();
                self.shown(|c| values[c])
            }
        }
    }

    /// No row yet.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Write what is left (the TSV header of no rows, the end of the JSON array, the whole
    /// table), then flush; the first error of any write.
    pub fn finish(mut self) -> Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        match self.format {
            ListFormat::Tsv if self.rows == 0 => self.out.text(&self.columns.join("\t"))?,
            ListFormat::Tsv => {}
            ListFormat::Json => self.out.text(json_end(self.rows))?,
            ListFormat::Table => {
                let out = &mut self.out;
                write_table(&self.columns, &self.numeric, &self.held, &mut |s| {
                    out.bytes(s.as_bytes())
                })?;
            }
        }
        self.out.flush()
    }

    /// A table or TSV row, from each column's value (`value(i)`: column i's).
    fn shown<'a>(&mut self, value: impl Fn(usize) -> Option<&'a Value>) {
        let n = self.columns.len();
        match self.format {
            ListFormat::Table => {
                let mut row = String::new();
                for (i, stat) in self.numeric.iter_mut().enumerate() {
                    let v = value(i);
                    stat.see(v);
                    if i > 0 {
                        row.push(SEP);
                    }
                    row.push_str(&terminal_safe(&cell_text(v.unwrap_or(&Value::Null))));
                }
                self.held.push(row.into_boxed_str());
                self.rows += 1;
            }
            _ => {
                let mut line = if self.rows == 0 {
                    self.columns.join("\t") + "\n"
                } else {
                    String::new()
                };
                for i in 0..n {
                    if i > 0 {
                        line.push('\t');
                    }
                    line.push_str(&tsv_escape(&cell_text(value(i).unwrap_or(&Value::Null))));
                }
                self.write(|out| out.text(&line));
            }
        }
    }

    fn json(&mut self, v: &Value) {
        match json_element(self.rows == 0, v) {
            Ok(chunk) => self.write(|out| out.bytes(chunk.as_bytes())),
            Err(e) => self.fail(Error::Other(format!("cannot write JSON: {e}"))),
        }
    }

    fn write(&mut self, w: impl FnOnce(&mut Out) -> Result<()>) {
        self.rows += 1;
        if self.failed.is_none()
            && let Err(e) = w(&mut self.out)
        {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: Error) {
        self.failed.get_or_insert(e);
    }
}

/// The table of the held rows, written piece by piece.
fn write_table(
    columns: &[String],
    numeric: &[Numeric],
    held: &[Box<str>],
    write: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<()> {
    let right: Vec<bool> = numeric.iter().map(Numeric::is_numeric).collect();
    crate::table::write_in_pieces(
        columns,
        &right,
        held,
        |r| r.split(SEP).map(String::from).collect(),
        None,
        write,
    )
}

/// One element of the JSON array (`first`: the array's first), laid out as
/// `serde_json::to_writer_pretty` lays out the whole array: on lines of its own, indented
/// one level.
fn json_element(first: bool, v: &Value) -> serde_json::Result<String> {
    let text = serde_json::to_string_pretty(v)?;
    let mut chunk = String::with_capacity(text.len() + text.len() / 8 + 4);
    chunk.push_str(if first { "[\n  " } else { ",\n  " });
    // JSON strings hold no raw line breaks: every '\n' starts a line of the element.
    chunk.push_str(&text.replace('\n', "\n  "));
    Ok(chunk)
}

/// What ends a JSON array of `rows` elements written by [`json_element`].
fn json_end(rows: usize) -> &'static str {
    if rows == 0 { "[]" } else { "\n]" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Value> {
        vec![
            json!({"name": "a\tb", "messages": 3, "arguments": {"x-max-length": 10, "x-q": [1, {}]}}),
            json!({"name": "é", "messages": null, "arguments": {}}),
        ]
    }

    #[test]
    fn the_streamed_json_array_is_the_pretty_printed_one() {
        for n in 0..=2 {
            let r = &rows()[..n];
            let mut streamed = String::new();
            for (i, v) in r.iter().enumerate() {
                streamed += &json_element(i == 0, v).unwrap();
            }
            streamed += json_end(r.len());
            let whole = serde_json::to_string_pretty(&Value::Array(r.to_vec())).unwrap();
            assert_eq!(streamed, whole);
        }
    }

    #[test]
    fn held_table_rows_split_back_into_their_cells() {
        let mut w = RowWriter::new(&["name".into(), "messages".into()], ListFormat::Table);
        w.cells(&[json!("evil\u{0}\u{1b}"), json!(7)]);
        w.cells(&[json!(""), json!(null)]);
        let cells: Vec<Vec<&str>> = w.held.iter().map(|r| r.split(SEP).collect()).collect();
        assert_eq!(cells, [vec!["evil\\u{0}\\u{1b}", "7"], vec!["", ""]]);
        assert!(w.numeric[1].is_numeric() && !w.numeric[0].is_numeric());
    }

    #[test]
    fn the_held_table_is_the_listing_table() {
        let columns = ["name".to_string(), "messages".into(), "arguments".into()];
        let mut w = RowWriter::new(&columns, ListFormat::Table);
        let mut l = crate::output::Listing::new(&["name", "messages", "arguments"]);
        for r in rows() {
            let Value::Object(m) = r else { unreachable!() };
            w.fields(m.clone());
            l.push(m);
        }
        let mut table = String::new();
        write_table(&w.columns, &w.numeric, &w.held, &mut |s| {
            table.push_str(s);
            Ok(())
        })
        .unwrap();
        assert_eq!(table, crate::output::render_table(&l) + "\n");
    }
}
