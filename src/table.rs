//! The terminal table of a listing (comfy_table): a bold header, numbers right-aligned, and
//! control characters in names escaped. Which rows and cells it shows is the caller's
//! (output.rs's [`crate::output::Listing`], row_writer.rs's held rows).

use comfy_table::{
    Attribute, Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width, presets,
};

/// Rows per piece when a long table is written piece by piece ([`write_in_pieces`]).
const PIECE: usize = 500;

/// The table of `columns` (as the header) and `rows` (each a cell's text per column, already
/// made [`terminal_safe`]); `right[i]`: column i holds numbers, so its cells are right-aligned.
pub fn render<R, C>(columns: &[String], right: &[bool], rows: R) -> String
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    filled(columns, right, rows, None).to_string()
}

/// Write the table [`render`] makes of `rows` through `write`, a line at a time (each line
/// ends in a newline), building at most [`PIECE`] rows' cells at a time: comfy_table's cells
/// take about 20 times the memory of their text, so 10,000 rows would take 20 MB at once.
/// `cells` gives a row's cells; `width` stands in for the terminal's (tests).
///
/// Piece by piece is the same table only when no cell needs wrapping: then every column is as
/// wide as its widest cell (which a first pass finds) and each row one line. Otherwise (a
/// terminal too narrow for the rows), and for a short table, the table is built whole.
pub fn write_in_pieces<T>(
    columns: &[String],
    right: &[bool],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<String>,
    width: Option<u16>,
    write: &mut dyn FnMut(&str) -> crate::error::Result<()>,
) -> crate::error::Result<()> {
    let whole = |write: &mut dyn FnMut(&str) -> crate::error::Result<()>| {
        let table = filled(columns, right, rows.iter().map(&cells), width);
        write(&format!("{table}\n"))
    };
    if rows.len() <= PIECE {
        return whole(write);
    }
    let widths = rows
        .chunks(PIECE)
        .fold(vec![0; columns.len()], |mut acc, piece| {
            let t = filled(columns, right, piece.iter().map(&cells), width);
            for (a, w) in acc.iter_mut().zip(t.column_max_content_widths()) {
                *a = (*a).max(w);
            }
            acc
        });
    // A row of each column's widest cell: if it fits on one line, every row does.
    let widest = widths.iter().map(|&w| "x".repeat(usize::from(w)));
    let fits = filled(columns, right, [widest], width).lines().count() == 5;
    if !fits {
        return whole(write);
    }
    let last = rows.len().div_ceil(PIECE) - 1;
    for (i, piece) in rows.chunks(PIECE).enumerate() {
        let mut t = filled(columns, right, piece.iter().map(&cells), width);
        t.set_constraints(
            widths
                .iter()
                .map(|&w| ColumnConstraint::Absolute(Width::Fixed(w.saturating_add(2)))),
        );
        // Lines: the top border, the header, its rule, the rows, the bottom border. The
        // first piece keeps the top three, the last the bottom border.
        let lines: Vec<String> = t.lines().collect();
        let from = if i == 0 { 0 } else { 3 };
        let to = if i == last {
            lines.len()
        } else {
            lines.len() - 1
        };
        let mut text = String::new();
        for line in &lines[from..to] {
            text.push_str(line);
            text.push('\n');
        }
        write(&text)?;
    }
    Ok(())
}

/// A comfy_table of `columns` and `rows` in rmq's style.
fn filled<R, C>(columns: &[String], right: &[bool], rows: R, width: Option<u16>) -> Table
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = width {
        table.set_width(w);
    }
    table.set_header(columns.iter().map(|c| {
        let cell = Cell::new(c);
        if color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    }));
    for row in rows {
        table.add_row(row.into_iter().zip(right).map(|(text, &r)| {
            let cell = Cell::new(text);
            if r {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    table
}

/// Names may hold control characters: never send them raw to a terminal.
pub fn terminal_safe(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Does a column show numbers (right-aligned)? Some cell is a number and every other one
/// is a number or empty. Fed one cell at a time, so the cells need not be held.
#[derive(Clone, Copy, Debug)]
pub struct Numeric {
    any: bool,
    only: bool,
}

impl Default for Numeric {
    fn default() -> Self {
        Numeric {
            any: false,
            only: true,
        }
    }
}

impl Numeric {
    /// Count one cell (None: the row has no such field).
    pub fn see(&mut self, v: Option<&serde_json::Value>) {
        match v {
            Some(serde_json::Value::Number(_)) => self.any = true,
            None | Some(serde_json::Value::Null) => {}
            Some(_) => self.only = false,
        }
    }

    /// The verdict over every cell seen.
    pub fn is_numeric(&self) -> bool {
        self.any && self.only
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_column_is_numeric_when_it_has_numbers_and_nothing_else_but_blanks() {
        let verdict = |cells: &[Option<serde_json::Value>]| {
            let mut n = Numeric::default();
            cells.iter().for_each(|c| n.see(c.as_ref()));
            n.is_numeric()
        };
        assert!(verdict(&[Some(json!(1)), None, Some(json!(null))]));
        assert!(!verdict(&[Some(json!(1)), Some(json!("x"))]));
        assert!(!verdict(&[None, Some(json!(null))]));
        assert!(!verdict(&[]));
    }

    fn piecewise(rows: &[Vec<String>], width: Option<u16>) -> String {
        let cols = ["name".to_string(), "n".into()];
        let mut out = String::new();
        write_in_pieces(&cols, &[false, true], rows, Clone::clone, width, &mut |s| {
            out.push_str(s);
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn a_long_table_written_in_pieces_is_the_table_rendered_whole() {
        let cols = ["name".to_string(), "n".into()];
        // The widest cells in the middle of a piece, wide characters, and a count per row.
        let rows: Vec<Vec<String>> = (0..PIECE * 2 + 7)
            .map(|i| {
                let name = match i {
                    700 => "a-much-longer-name-than-the-rest".to_string(),
                    3 => "日本語のキュー".to_string(),
                    _ => format!("q{i}"),
                };
                vec![name, (i * 37 % 1000).to_string()]
            })
            .collect();
        for width in [None, Some(200), Some(45)] {
            let whole = filled(&cols, &[false, true], rows.clone(), width).to_string() + "\n";
            assert_eq!(piecewise(&rows, width), whole, "width {width:?}");
        }
        // Too narrow for the widest row: built whole, wrapped as ever.
        let whole = filled(&cols, &[false, true], rows.clone(), Some(20)).to_string() + "\n";
        assert!(whole.lines().count() > rows.len() + 4);
        assert_eq!(piecewise(&rows, Some(20)), whole);
    }
}
