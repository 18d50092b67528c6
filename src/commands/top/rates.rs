//! The publish and deliver rates `rmq top` shows, from the broker's message statistics.
//!
//! The broker's own rate (`message_stats.<counter>_details.rate`) is exact when it is there,
//! but the plain API reports it only for a moment: it is the growth between the broker's two
//! last samples, and between the updates of a queue's counters (every 5 s here, even with a
//! shorter `collect_statistics_interval`) it reads 0. So a rate is the broker's when it is
//! above 0; else, when the counter grew since the previous poll, the growth since the counter
//! last changed (`rates_mode = none` sends no rate at all); and a rate seen is shown on for
//! up to [`HOLD`] while the counter stands still and the broker says 0. Asking the broker
//! for rates over a window instead (`msg_rates_age`) doubles its cost per poll (README,
//! "Watching a broker").

use super::sample::{Counter, Point};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a rate is shown on while its counter stands still: two of the broker's 5 s
/// samples. A queue that went quiet shows 0 after this.
pub const HOLD: Duration = Duration::from_secs(10);

/// One counter's rate, as last shown.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rate {
    /// The last rate above 0 and the poll it came from.
    held: Option<(f64, Instant)>,
}

impl Rate {
    /// The rate to show for the poll at the end of `points`, whose counter is `c` (`value`
    /// picks the counter from a point). None: not known yet (no broker rate, first poll).
    pub fn next(
        &mut self,
        c: Counter,
        points: &VecDeque<Point>,
        value: fn(&Point) -> Option<u64>,
    ) -> Option<f64> {
        let now = points.back()?.at;
        // `counted` is None unless the counter grew: either way a fresh rate is above 0.
        let fresh = match c.rate {
            Some(r) if r > 0.0 => Some(r),
            _ => counted(points, value),
        };
        if let Some(r) = fresh {
            self.held = Some((r, now));
            return Some(r);
        }
        match self.held {
            Some((r, at)) if now.duration_since(at) <= HOLD => Some(r),
            _ => {
                self.held = None;
                match (c.rate, c.total) {
                    // No rate from the broker and one poll of the counter: nothing to go by.
                    (None, Some(_)) if points.len() < 2 => None,
                    _ => Some(0.0),
                }
            }
        }
    }
}

/// The counter's last step per second: its growth at the last poll, over the time since the
/// first poll that saw the value before (when the broker updated it, to within a poll).
fn counted(points: &VecDeque<Point>, value: fn(&Point) -> Option<u64>) -> Option<f64> {
    let n = points.len();
    let now = value(points.back()?)?;
    let before = value(points.get(n.checked_sub(2)?)?)?;
    let first = (0..n - 1)
        .rev()
        .take_while(|&i| points.get(i).and_then(value) == Some(before))
        .last()?;
    let secs = points[n - 1]
        .at
        .duration_since(points[first].at)
        .as_secs_f64();
    (now > before && secs > 0.0).then(|| (now - before) as f64 / secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls every 2 s from `t0` with these counter values; the rates each one gets.
    fn rates(t0: Instant, polls: &[(u64, Option<f64>)]) -> Vec<Option<f64>> {
        let mut rate = Rate::default();
        let mut points = VecDeque::new();
        polls
            .iter()
            .enumerate()
            .map(|(i, &(total, r))| {
                points.push_back(Point {
                    at: t0 + Duration::from_secs(2 * i as u64),
                    messages: None,
                    publish: Some(total),
                    deliver: None,
                });
                let c = Counter {
                    total: Some(total),
                    rate: r,
                };
                rate.next(c, &points, |p| p.publish)
            })
            .collect()
    }

    #[test]
    fn the_brokers_rate_is_shown_and_held_while_it_reads_0_between_updates() {
        let t0 = Instant::now();
        // The counter steps every 6 s; the broker's rate shows at the step only.
        let got = rates(
            t0,
            &[
                (100, Some(0.0)),
                (220, Some(20.0)),
                (220, Some(0.0)),
                (220, Some(0.0)),
                (340, Some(20.0)),
                (340, Some(0.0)),
            ],
        );
        assert_eq!(
            got,
            [
                Some(0.0),
                Some(20.0),
                Some(20.0),
                Some(20.0),
                Some(20.0),
                Some(20.0)
            ]
        );
        // A queue gone quiet: 0 once the last rate is more than 10 s old.
        let mut quiet = vec![(100, Some(0.0)), (200, Some(50.0))];
        quiet.extend([(200, Some(0.0)); 6]);
        let got = rates(t0, &quiet);
        assert_eq!(got[2..7], [Some(50.0); 5], "held for 10 s");
        assert_eq!(got[7], Some(0.0));
    }

    #[test]
    fn without_a_broker_rate_the_counters_steps_are_timed() {
        let t0 = Instant::now();
        // rates_mode = none: no rate at all. Steps of 60 every 6 s (3 polls) are 10/s.
        let got = rates(
            t0,
            &[
                (100, None),
                (100, None),
                (160, None),
                (160, None),
                (160, None),
                (220, None),
            ],
        );
        assert_eq!(got[0], None, "one poll: not known yet");
        assert_eq!(got[1], Some(0.0));
        assert_eq!(
            got[2],
            Some(15.0),
            "60 since the first poll of 100, 4 s before"
        );
        assert_eq!(got[3..5], [Some(15.0), Some(15.0)], "held");
        assert_eq!(got[5], Some(10.0), "60 in the 6 s since 160 was first seen");
        // A broker's 0 that the counter belies is timed the same way.
        let got = rates(t0, &[(10, Some(0.0)), (30, Some(0.0)), (30, Some(0.0))]);
        assert_eq!(got, [Some(0.0), Some(10.0), Some(10.0)]);
    }

    #[test]
    fn a_counter_that_went_back_gives_no_step() {
        let t0 = Instant::now();
        // The queue was deleted and declared again between two polls.
        let got = rates(t0, &[(500, None), (3, None), (9, None)]);
        assert_eq!(got, [None, Some(0.0), Some(3.0)]);
    }
}
