//! Drawing `rmq top`'s screen (ratatui): a title line, the table of queues (name, messages,
//! ready, unacked, consumers, publish/s, deliver/s, and a sparkline of the depth over the
//! last minute), a status line (when the last update came, or why it failed) and the keys.
//! Only the rows that fit are built. Nothing here reads keys or polls.

use super::sample::{History, Row, Sort};
use crate::table::terminal_safe;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table};
use std::time::{Duration, SystemTime};

/// The keys, as the footer line shows them (and `--help`).
pub const KEYS: &str = "q/Esc/Ctrl-C quit  s sort (messages, rate, name)  \
                        ↑↓ PgUp PgDn Home End scroll";

/// Widths of the numeric columns: messages, ready, unacked, consumers, publish/s, deliver/s.
const NUMBERS: [(&str, u16); 6] = [
    ("messages", 9),
    ("ready", 8),
    ("unacked", 8),
    ("consumers", 9),
    ("publish/s", 9),
    ("deliver/s", 9),
];
/// The sparkline's widest (one character per poll at the default 2 s: a minute).
const SPARK_MAX: u16 = 30;
/// The name column's narrowest before the sparkline gives way.
const NAME_MIN: u16 = 16;

/// How the last poll went.
#[derive(Debug)]
pub enum Status {
    /// No answer yet.
    Waiting,
    /// The rows are from the poll answered at this time, which took this long.
    Updated(SystemTime, Duration),
    /// The last poll failed: the error, its hint, and when the rows shown were polled.
    Failed {
        /// The error's message.
        message: String,
        /// How to fix it.
        hint: Option<String>,
        /// When the rows shown were polled (None: never).
        last: Option<SystemTime>,
    },
}

/// Everything one frame shows.
pub struct View<'a> {
    /// The vhost watched.
    pub vhost: &'a str,
    /// The management API's address (redacted).
    pub api: &'a str,
    /// `--filter`, as typed.
    pub filter: Option<&'a str>,
    /// The order of the rows.
    pub sort: Sort,
    /// `--interval`.
    pub interval: Duration,
    /// The queues `--filter` kept, sorted.
    pub rows: &'a [Row],
    /// Queues in the vhost.
    pub total: usize,
    /// The depth history, for the sparklines.
    pub history: &'a History,
    /// The last poll.
    pub status: &'a Status,
    /// Rows scrolled past.
    pub scroll: usize,
    /// Has any poll been answered (else there is nothing to count yet)?
    pub polled: bool,
}

/// How many queue rows fit on a screen of `height` lines.
pub fn table_rows(height: u16, status: &Status) -> usize {
    usize::from(height.saturating_sub(3 + status_lines(status)))
}

fn status_lines(status: &Status) -> u16 {
    match status {
        Status::Failed { hint: Some(_), .. } => 2,
        _ => 1,
    }
}

/// Draw one frame.
pub fn draw(frame: &mut Frame, view: &View) {
    let [title, table, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(status_lines(view.status)),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let bold = Style::default().add_modifier(Modifier::BOLD);
    frame.render_widget(Paragraph::new(title_line(view)).style(bold), title);
    draw_table(frame, table, view);
    let reversed = Style::default().add_modifier(Modifier::REVERSED);
    let (lines, style) = status_text(view);
    frame.render_widget(
        Paragraph::new(lines).style(style.unwrap_or(reversed)),
        status,
    );
    frame.render_widget(Paragraph::new(KEYS), keys);
}

fn title_line(view: &View) -> String {
    let shown = match view.filter {
        _ if !view.polled => String::new(),
        Some(re) => format!(
            "{} of {} queues match '{}'",
            view.rows.len(),
            view.total,
            terminal_safe(re)
        ),
        None => format!("{} queues", view.total),
    };
    format!(
        "rmq top  vhost '{}' at {}  {shown}{}sort: {}  every {} s",
        terminal_safe(view.vhost),
        view.api,
        if view.polled { "  " } else { "" },
        view.sort.name(),
        seconds(view.interval)
    )
}

fn draw_table(frame: &mut Frame, area: Rect, view: &View) {
    let numbers: u16 = NUMBERS.iter().map(|(_, w)| w + 1).sum();
    let spark = area
        .width
        .saturating_sub(numbers + 1 + NAME_MIN)
        .min(SPARK_MAX);
    let mut widths = vec![Constraint::Fill(1)];
    widths.extend(NUMBERS.iter().map(|(_, w)| Constraint::Length(*w)));
    widths.push(Constraint::Length(spark));
    let mut header: Vec<Cell> = vec![Cell::from("name")];
    header.extend(NUMBERS.iter().map(|(h, _)| Cell::from(right(h))));
    header.push(Cell::from(if spark >= 20 {
        "depth, last minute"
    } else {
        "depth"
    }));
    let height = usize::from(area.height.saturating_sub(1));
    let rows = view
        .rows
        .iter()
        .skip(view.scroll)
        .take(height)
        .map(|r| table_row(r, view.history, usize::from(spark)));
    let table = Table::new(rows, widths)
        .header(TableRow::new(header).style(Style::default().add_modifier(Modifier::BOLD)))
        .column_spacing(1);
    frame.render_widget(table, area);
    if view.rows.is_empty() && view.polled && area.height > 2 {
        let what = match view.filter {
            Some(re) => format!("no queue matches '{}'", terminal_safe(re)),
            None => format!("no queues in vhost '{}'", terminal_safe(view.vhost)),
        };
        let below = Rect {
            y: area.y + 1,
            height: 1,
            ..area
        };
        frame.render_widget(Paragraph::new(what), below);
    }
}

fn table_row<'a>(r: &'a Row, history: &History, spark: usize) -> TableRow<'a> {
    let q = &r.queue;
    let count = |v: Option<u64>| Cell::from(right(&v.map(|n| n.to_string()).unwrap_or_default()));
    let rate =
        |v: Option<f64>| Cell::from(right(&v.map(|r| format!("{r:.1}")).unwrap_or_default()));
    TableRow::new(vec![
        Cell::from(terminal_safe(&q.name)),
        count(q.messages),
        count(q.ready),
        count(q.unacked),
        count(q.consumers),
        rate(r.publish_rate),
        rate(r.deliver_rate),
        Cell::from(sparkline(&history.depths(&q.name), spark)),
    ])
}

fn right(s: &str) -> Line<'static> {
    Line::from(s.to_string()).alignment(Alignment::Right)
}

/// The status line(s), and their style when not the default (reversed).
fn status_text(view: &View) -> (Vec<Line<'static>>, Option<Style>) {
    match view.status {
        Status::Waiting => (vec![Line::from(format!("asking {} ...", view.api))], None),
        Status::Updated(at, took) => (
            vec![Line::from(format!(
                "updated {} ({} ms)",
                clock(*at),
                took.as_millis()
            ))],
            Some(Style::default()),
        ),
        Status::Failed {
            message,
            hint,
            last,
        } => {
            let since = match last {
                Some(t) => format!("; the rows are from {}", clock(*t)),
                None => String::new(),
            };
            let mut lines = vec![Line::from(format!(
                "{message} (retrying every {} s{since})",
                seconds(view.interval)
            ))];
            if let Some(h) = hint {
                lines.push(Line::from(format!("hint: {h}")));
            }
            (lines, None)
        }
    }
}

/// A depth history as block characters, newest on the right, scaled to its own maximum:
/// blank for an empty queue (or no poll), `▁`..`█` otherwise. More polls than `width` are
/// merged (the largest of each group), fewer leave the left blank.
pub fn sparkline(values: &[Option<u64>], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if width == 0 {
        return String::new();
    }
    let per = values.len().div_ceil(width).max(1);
    // Groups counted from the newest, so that the last poll is always the last character.
    let mut groups: Vec<Option<u64>> = values
        .rchunks(per)
        .map(|g| g.iter().flatten().copied().max())
        .collect();
    groups.reverse();
    let top = groups.iter().flatten().copied().max().unwrap_or(0);
    let mut s = " ".repeat(width - groups.len());
    for g in groups {
        s.push(match g {
            Some(0) | None => ' ',
            Some(v) => {
                let level = (v as f64 / top as f64 * 8.0).ceil() as usize;
                BARS[level.clamp(1, 8) - 1]
            }
        });
    }
    s
}

/// `hh:mm:ss UTC`.
fn clock(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `2`, `0.5`, `1.25`.
fn seconds(d: Duration) -> String {
    let s = format!("{:.3}", d.as_secs_f64());
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_their_maximum_newest_on_the_right() {
        let v = |xs: &[u64]| xs.iter().map(|x| Some(*x)).collect::<Vec<_>>();
        assert_eq!(sparkline(&v(&[0, 1, 2, 4, 8]), 5), " ▁▂▄█");
        assert_eq!(sparkline(&v(&[3, 3]), 5), "   ██");
        assert_eq!(sparkline(&v(&[0, 0]), 3), "   ");
        assert_eq!(sparkline(&[None, Some(5)], 2), " █");
        // Six polls in three characters: the largest of each pair.
        assert_eq!(sparkline(&v(&[8, 0, 0, 0, 0, 4]), 3), "█ ▄");
        // Seven in three: groups of three from the newest, the oldest group shorter.
        assert_eq!(sparkline(&v(&[8, 0, 0, 0, 0, 0, 4]), 3), "█ ▄");
        assert_eq!(sparkline(&v(&[1]), 0), "");
        assert_eq!(sparkline(&v(&[1, 100]), 2).chars().next(), Some('▁'));
    }

    #[test]
    fn clock_and_seconds_read_as_people_write_them() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_243_504);
        assert_eq!(clock(t), "20:31:44 UTC");
        assert_eq!(seconds(Duration::from_secs(2)), "2");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(seconds(Duration::from_millis(1250)), "1.25");
    }
}
