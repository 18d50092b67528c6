//! A listing's rows on their way to stdout, in (vhost, name) order. Rows that arrive in that
//! order (the management API's own sort) go straight out as TSV or JSON, so memory does not
//! grow with their number. Rows that arrive in any order (the API asked not to sort: for a
//! large vhost its sort is a third or more of its answer time, W8 in scripts/bench), and a
//! table's (whose column widths need every row), are held as the text they will print
//! ([`held::Held`]) and sorted at the end. Either way the output is byte for byte that of
//! [`crate::output::Out::listing`] for the same rows sorted.

mod held;

use crate::error::{Error, Result};
use crate::output::{ListFormat, Out, cell_text, tsv_escape};
use crate::table::{Numeric, terminal_safe};
use held::Held;
use serde_json::{Map, Value};

/// Between the cells of a held table row: a control character, which
/// [`terminal_safe`] has escaped out of every cell's text.
const SEP: char = '\0';

/// How the rows arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Sorted by vhost, then name (a row out of that order is printed where it came, with a
    /// warning).
    InOrder,
    /// In any order: held and sorted here.
    AnyOrder,
}

/// Rows of `columns` on their way to stdout.
pub struct RowWriter {
    format: ListFormat,
    columns: Vec<String>,
    out: Out,
    rows: usize,
    /// The rows held until [`RowWriter::finish`] (None: each is written as it comes).
    held: Option<Held>,
    sort: bool,
    /// The key of the last row written, to check that rows come in order.
    last: Option<(String, String)>,
    warned: bool,
    numeric: Vec<Numeric>,
    /// The first write that failed (a closed pipe): later rows are dropped.
    failed: Option<Error>,
}

impl RowWriter {
    /// Rows of `columns` (the table's and TSV's, in order) in `format`. Nothing is written
    /// before the first row or [`RowWriter::finish`], so a request that fails leaves stdout
    /// empty.
    pub fn new(columns: &[String], format: ListFormat, arrival: Arrival) -> RowWriter {
        let sort = arrival == Arrival::AnyOrder;
        RowWriter {
            format,
            columns: columns.to_vec(),
            out: Out::new(),
            rows: 0,
            held: (sort || format == ListFormat::Table).then(Held::default),
            sort,
            last: None,
            warned: false,
            numeric: vec![Numeric::default(); columns.len()],
            failed: None,
        }
    }

    /// A row of the columns' values, in their order (JSON then has only these fields), and
    /// the vhost and name it sorts by.
    pub fn cells(&mut self, vhost: &str, name: &str, cells: &[Value]) {
        let text = match self.format {
            ListFormat::Json => {
                let obj: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(cells.iter().cloned())
                    .collect();
                json_element(&Value::Object(obj))
            }
            _ => Ok(self.shown(|c| cells.get(c))),
        };
        self.add(vhost, name, text);
    }

    /// A row as a JSON object (`--json` shows all of it, the table and TSV its columns), and
    /// the vhost and name it sorts by.
    pub fn fields(&mut self, vhost: &str, name: &str, row: Map<String, Value>) {
        let text = match self.format {
            ListFormat::Json => json_element(&Value::Object(row)),
            _ => {
                let values: Vec<Option<&Value>> = self.columns.iter().map(|c| row.get(c)).collect();
                Ok(self.shown(|c| values[c]))
            }
        };
        self.add(vhost, name, text);
    }

    /// No row yet.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Write what is left (the held rows, sorted; the TSV header of no rows; the end of the
    /// JSON array), then flush; the first error of any write.
    pub fn finish(mut self) -> Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if let Some(mut held) = self.held.take() {
            if self.sort {
                held.sort();
            }
            self.write_held(&held)?;
        } else {
            match self.format {
                ListFormat::Tsv if self.rows == 0 => self.out.text(&self.columns.join("\t"))?,
                ListFormat::Json => self.out.text(json_end(self.rows))?,
                _ => {}
            }
        }
        self.out.flush()
    }

    fn write_held(&mut self, held: &Held) -> Result<()> {
        match self.format {
            ListFormat::Table => {
                let out = &mut self.out;
                write_table(&self.columns, &self.numeric, held, &mut |s| {
                    out.bytes(s.as_bytes())
                })
            }
            ListFormat::Tsv => {
                self.out.text(&self.columns.join("\t"))?;
                held.spans()
                    .iter()
                    .try_for_each(|s| self.out.text(held.row(s)))
            }
            ListFormat::Json => {
                for (i, s) in held.spans().iter().enumerate() {
                    self.out.bytes(json_prefix(i).as_bytes())?;
                    self.out.bytes(held.row(s).as_bytes())?;
                }
                self.out.text(json_end(held.len()))
            }
        }
    }

    /// Hold a row's text, or write it.
    fn add(&mut self, vhost: &str, name: &str, text: serde_json::Result<String>) {
        let text = match text {
            Ok(t) => t,
            Err(e) => return self.fail(Error::Other(format!("cannot write JSON: {e}"))),
        };
        let first = self.rows == 0;
        self.rows += 1;
        if let Some(held) = &mut self.held {
            return held.push(vhost, name, &text);
        }
        self.check_order(vhost, name);
        if self.failed.is_some() {
            return;
        }
        let written = match self.format {
            ListFormat::Tsv if first => self.out.text(&self.columns.join("\t")),
            ListFormat::Json => self.out.bytes(json_prefix(self.rows - 1).as_bytes()),
            _ => Ok(()),
        }
        .and_then(|()| match self.format {
            ListFormat::Tsv => self.out.text(&text),
            _ => self.out.bytes(text.as_bytes()),
        });
        if let Err(e) = written {
            self.fail(e);
        }
    }

    /// Rows written as they come must come in order: should a broker ever send another, the
    /// listing says so once rather than pretend to be sorted.
    fn check_order(&mut self, vhost: &str, name: &str) {
        match &mut self.last {
            Some((v, n)) => {
                if !self.warned && (vhost, name) < (v.as_str(), n.as_str()) {
                    self.warned = true;
                    crate::log::warn(&format!(
                        "the management API sent '{name}' after '{n}': this listing is in the \
                         API's order, not sorted by vhost and name"
                    ));
                }
                v.replace_range(.., vhost);
                n.replace_range(.., name);
            }
            None => self.last = Some((vhost.to_string(), name.to_string())),
        }
    }

    /// A table row (cells' text joined by [`SEP`]) or TSV line, from each column's value
    /// (`value(i)`: column i's).
    fn shown<'a>(&mut self, value: impl Fn(usize) -> Option<&'a Value>) -> String {
        let table = self.format == ListFormat::Table;
        let mut row = String::new();
        for (i, stat) in self.numeric.iter_mut().enumerate() {
            let v = value(i);
            let text = cell_text(v.unwrap_or(&Value::Null));
            if i > 0 {
                row.push(if table { SEP } else { '\t' });
            }
            if table {
                stat.see(v);
                row.push_str(&terminal_safe(&text));
            } else {
                row.push_str(&tsv_escape(&text));
            }
        }
        row
    }

    fn fail(&mut self, e: Error) {
        self.failed.get_or_insert(e);
    }
}

/// The table of the held rows (each its cells' text joined by [`SEP`]), written piece by
/// piece.
fn write_table(
    columns: &[String],
    numeric: &[Numeric],
    held: &Held,
    write: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<()> {
    let right: Vec<bool> = numeric.iter().map(Numeric::is_numeric).collect();
    let cells = |s: &held::Span| held.row(s).split(SEP).map(String::from).collect();
    crate::table::write_in_pieces(columns, &right, held.spans(), cells, None, write)
}

/// One element of a JSON array, laid out as `serde_json::to_writer_pretty` lays out the
/// whole array: on lines of its own, indented one level (after [`json_prefix`]).
fn json_element(v: &Value) -> serde_json::Result<String> {
    // JSON strings hold no raw line breaks: every '\n' starts a line of the element.
    Ok(serde_json::to_string_pretty(v)?.replace('\n', "\n  "))
}

/// What comes before element `i` of the array.
fn json_prefix(i: usize) -> &'static str {
    if i == 0 { "[\n  " } else { ",\n  " }
}

/// What ends a JSON array of `rows` elements.
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
    fn the_json_array_written_element_by_element_is_the_pretty_printed_one() {
        for n in 0..=2 {
            let r = &rows()[..n];
            let mut streamed = String::new();
            for (i, v) in r.iter().enumerate() {
                streamed += json_prefix(i);
                streamed += &json_element(v).unwrap();
            }
            streamed += json_end(r.len());
            let whole = serde_json::to_string_pretty(&Value::Array(r.to_vec())).unwrap();
            assert_eq!(streamed, whole);
        }
    }

    #[test]
    fn held_table_rows_split_back_into_their_cells() {
        let cols = ["name".to_string(), "messages".into()];
        let mut w = RowWriter::new(&cols, ListFormat::Table, Arrival::InOrder);
        w.cells("", "x", &[json!("evil\u{0}\u{1b}"), json!(7)]);
        w.cells("", "y", &[json!(""), json!(null)]);
        let held = w.held.as_ref().unwrap();
        let cells: Vec<Vec<&str>> = held
            .spans()
            .iter()
            .map(|s| held.row(s).split(SEP).collect())
            .collect();
        assert_eq!(cells, [vec!["evil\\u{0}\\u{1b}", "7"], vec!["", ""]]);
        assert!(w.numeric[1].is_numeric() && !w.numeric[0].is_numeric());
    }

    #[test]
    fn the_held_table_is_the_listing_table_of_the_sorted_rows() {
        let columns = ["name".to_string(), "messages".into(), "arguments".into()];
        let mut w = RowWriter::new(&columns, ListFormat::Table, Arrival::AnyOrder);
        let mut l = crate::output::Listing::new(&["name", "messages", "arguments"]);
        let mut sorted = rows();
        sorted.reverse();
        for r in &sorted {
            let Value::Object(m) = r.clone() else {
                unreachable!()
            };
            let name = m["name"].as_str().unwrap().to_string();
            w.fields("", &name, m);
        }
        for r in rows() {
            let Value::Object(m) = r else { unreachable!() };
            l.push(m);
        }
        let mut held = w.held.take().unwrap();
        held.sort();
        let mut table = String::new();
        write_table(&w.columns, &w.numeric, &held, &mut |s| {
            table.push_str(s);
            Ok(())
        })
        .unwrap();
        assert_eq!(table, crate::output::render_table(&l) + "\n");
    }
}
