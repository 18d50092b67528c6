//! Progress on stderr: a counter with rate, only when stderr is a terminal and not `-q`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// A progress display (hidden when not wanted).
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `total` known or not; `wanted` when the job may be long.
    pub fn new(total: Option<u64>, wanted: bool) -> Progress {
        let show = wanted && std::io::stderr().is_terminal() && crate::log::normal_enabled();
        if !show {
            return Progress { bar: None };
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {pos} messages {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        Progress { bar: Some(bar) }
    }

    /// One more done.
    pub fn inc(&self) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// `n` more done.
    pub fn add(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Print something without tearing the bar.
    pub fn suspend<F: FnOnce()>(&self, f: F) {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
