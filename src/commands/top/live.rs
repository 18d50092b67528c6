//! `rmq top` on a terminal: the loop that takes the terminal, reads keys, takes each poll
//! from the poller, and redraws. `q`, Esc and Ctrl-C (a key in raw mode) leave, as does
//! SIGTERM; the terminal is given back in every case (terminal.rs). A failed poll is shown
//! on the status line and the next one is tried on time: the screen outlives a broker
//! restart. Only a refusal at the first poll (access refused, no such vhost: a mistake in
//! the command, not an outage) ends the run with its error.

use super::sample::{History, Poll, Row, Sort, sort};
use super::screen::{self, Status, View};
use super::terminal::{Input, Screen, wait_for_input};
use crate::error::{EXIT_ACCESS, EXIT_NOT_FOUND, EXIT_USAGE, Error, Result};
use crossbeam_channel::{Receiver, TryRecvError};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::time::{Duration, SystemTime};

/// What the screen shows that is not polled.
pub struct Settings {
    /// The vhost watched.
    pub vhost: String,
    /// The API's address, redacted.
    pub api: String,
    /// `--filter` as typed.
    pub filter: Option<String>,
    /// `--sort`.
    pub sort: Sort,
    /// `--interval`.
    pub interval: Duration,
}

/// What a key asks for.
#[derive(Debug, PartialEq)]
enum Action {
    Quit,
    NextSort,
    /// Scroll by this many rows (negative: up).
    Scroll(isize),
    /// Scroll by this many screens.
    Page(isize),
    Top,
    Bottom,
    Nothing,
}

fn action(k: KeyEvent) -> Action {
    if k.kind == KeyEventKind::Release {
        return Action::Nothing;
    }
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('s') => Action::NextSort,
        KeyCode::Up | KeyCode::Char('k') => Action::Scroll(-1),
        KeyCode::Down | KeyCode::Char('j') => Action::Scroll(1),
        KeyCode::PageUp => Action::Page(-1),
        KeyCode::PageDown | KeyCode::Char(' ') => Action::Page(1),
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        _ => Action::Nothing,
    }
}

/// The state between frames.
struct State {
    settings: Settings,
    rows: Vec<Row>,
    total: usize,
    history: History,
    status: Status,
    scroll: usize,
    /// When the rows shown were polled.
    last: Option<SystemTime>,
}

impl State {
    /// Nothing polled yet.
    fn new(settings: Settings) -> State {
        State {
            settings,
            rows: Vec::new(),
            total: 0,
            history: History::default(),
            status: Status::Waiting,
            scroll: 0,
            last: None,
        }
    }

    fn polled(&mut self, poll: Poll) {
        self.status = Status::Updated(poll.wall, poll.took);
        self.last = Some(poll.wall);
        self.total = poll.total;
        self.rows = self.history.record(poll);
        sort(&mut self.rows, self.settings.sort);
    }

    fn failed(&mut self, e: &Error) {
        self.status = Status::Failed {
            message: e.to_string(),
            hint: e.hint(),
            last: self.last,
        };
    }

    /// Apply a key; false to quit.
    fn key(&mut self, a: Action, page: usize) -> bool {
        let last = self.rows.len().saturating_sub(page);
        let by = |n: isize, s: usize| s.saturating_add_signed(n).min(last);
        match a {
            Action::Quit => return false,
            Action::NextSort => {
                self.settings.sort = self.settings.sort.next();
                sort(&mut self.rows, self.settings.sort);
            }
            Action::Scroll(n) => self.scroll = by(n, self.scroll),
            Action::Page(n) => self.scroll = by(n * page.max(1) as isize, self.scroll),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = last,
            Action::Nothing => {}
        }
        true
    }

    fn view(&self) -> View<'_> {
        View {
            vhost: &self.settings.vhost,
            api: &self.settings.api,
            filter: self.settings.filter.as_deref(),
            sort: self.settings.sort,
            interval: self.settings.interval,
            rows: &self.rows,
            total: self.total,
            history: &self.history,
            status: &self.status,
            scroll: self.scroll,
            polled: self.last.is_some(),
        }
    }
}

/// Run the screen until a key (or SIGTERM) ends it.
pub fn run(polls: Receiver<Result<Poll>>, settings: Settings) -> Result<()> {
    crate::signals::install(false);
    let mut screen = Screen::take()?;
    let mut state = State::new(settings);
    let draw_err = |e| Error::io("drawing on the terminal", e);
    let mut dirty = true;
    // A new size (the window was resized) is drawn at once.
    let mut size = None;
    while !crate::signals::stop_requested() {
        if dirty {
            screen
                .terminal
                .draw(|f| screen::draw(f, &state.view()))
                .map_err(draw_err)?;
            dirty = false;
        }
        let page_size = screen.terminal.size().map_err(draw_err)?;
        let page = screen::table_rows(page_size.height, &state.status);
        if size != Some(page_size) {
            size = Some(page_size);
            dirty = true;
        }
        // Keys are waited for up to 50 ms, then the poller is asked: neither waits long.
        match wait_for_input(Duration::from_millis(50)) {
            // Nothing to draw on, nothing to restore: the terminal is gone.
            Input::Gone => return Ok(()),
            Input::Idle => {}
            Input::Ready => {
                while event::poll(Duration::ZERO).map_err(read_err)? {
                    match event::read().map_err(read_err)? {
                        Event::Key(k) => {
                            if !state.key(action(k), page) {
                                return Ok(());
                            }
                            dirty = true;
                        }
                        Event::Resize(..) => dirty = true,
                        _ => {}
                    }
                }
            }
        }
        match polls.try_recv() {
            Ok(Ok(poll)) => {
                state.polled(poll);
                state.scroll = state.scroll.min(state.rows.len().saturating_sub(page));
                dirty = true;
            }
            Ok(Err(e)) if state.last.is_none() && is_a_mistake(&e) => return Err(e),
            Ok(Err(e)) => {
                state.failed(&e);
                dirty = true;
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => {
                return Err(Error::Other("the polling thread stopped".into()));
            }
        }
    }
    Ok(())
}

/// Errors that another try will not mend: wrong credentials or permissions, no such vhost.
fn is_a_mistake(e: &Error) -> bool {
    [EXIT_ACCESS, EXIT_NOT_FOUND, EXIT_USAGE].contains(&e.exit_code())
}

fn read_err(e: std::io::Error) -> Error {
    Error::io("reading the keyboard", e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Action {
        action(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn q_esc_and_ctrl_c_quit_and_s_cycles_the_sort() {
        let none = KeyModifiers::NONE;
        assert_eq!(key(KeyCode::Char('q'), none), Action::Quit);
        assert_eq!(key(KeyCode::Esc, none), Action::Quit);
        assert_eq!(key(KeyCode::Char('c'), KeyModifiers::CONTROL), Action::Quit);
        assert_eq!(key(KeyCode::Char('c'), none), Action::Nothing);
        assert_eq!(key(KeyCode::Char('s'), none), Action::NextSort);
        assert_eq!(key(KeyCode::PageDown, none), Action::Page(1));
    }

    #[test]
    fn scrolling_stops_at_both_ends() {
        let mut s = State::new(Settings {
            vhost: "/".into(),
            api: String::new(),
            filter: None,
            sort: Sort::Messages,
            interval: Duration::from_secs(2),
        });
        s.rows = (0..25)
            .map(|i| Row {
                queue: super::super::sample::Queue {
                    name: format!("q{i:02}"),
                    ..Default::default()
                },
                publish_rate: None,
                deliver_rate: None,
            })
            .collect();
        assert!(s.key(Action::Scroll(-1), 10));
        assert_eq!(s.scroll, 0);
        s.key(Action::Page(1), 10);
        assert_eq!(s.scroll, 10);
        s.key(Action::Page(1), 10);
        assert_eq!(s.scroll, 15, "the last screen is full");
        s.key(Action::Top, 10);
        assert_eq!(s.scroll, 0);
        s.key(Action::Bottom, 10);
        assert_eq!(s.scroll, 15);
        s.key(Action::NextSort, 10);
        assert_eq!(s.settings.sort, Sort::Rate);
        assert!(!s.key(Action::Quit, 10));
    }
}
