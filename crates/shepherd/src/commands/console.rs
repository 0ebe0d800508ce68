//! What `shepherd apply` shows while it works, on standard error: each action once, each
//! wait once, and the rollouts in flight. On a terminal a rollout is one line that counts
//! its pause down (indicatif); otherwise a plain line each time it moves to a new step.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use shepherd_core::display::seconds;
use shepherd_engine::progress::{Progress, ProgressSink};
use shepherd_engine::rollouts::RolloutStatus;

use super::rollout::line;

/// A rollout's line on a terminal, and when its pause ends.
struct Live {
    bar: ProgressBar,
    text: String,
    pause_ends: Option<Instant>,
}

#[derive(Default)]
struct State {
    seen_waits: BTreeSet<(String, String)>,
    gates: BTreeSet<String>,
    /// The last line printed per function (plain output).
    printed: BTreeMap<String, String>,
    live: BTreeMap<String, Live>,
}

/// The progress of one `apply`.
pub struct Console {
    state: Arc<Mutex<State>>,
    /// Set on a terminal: the rollouts' live lines.
    bars: Option<MultiProgress>,
}

impl Console {
    pub fn new() -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let console = Self {
            state: Arc::default(),
            bars,
        };
        if console.bars.is_some() {
            // The countdowns move every second, between the passes that move rollouts.
            let state = Arc::downgrade(&console.state);
            std::thread::spawn(move || {
                while let Some(state) = state.upgrade() {
                    for live in lock(&state).live.values() {
                        live.bar.set_message(countdown(live));
                    }
                    drop(state);
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
        console
    }

    /// Prints a line above the live ones (or plainly).
    fn say(&self, text: String) {
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    fn rollout(&self, status: &RolloutStatus) {
        let text = line(status);
        let mut state = lock(&self.state);
        let Some(bars) = &self.bars else {
            // Plain: a line when the rollout moves to another step or phase, not at every
            // look (the pause left changes each time).
            let moved = without_countdown(&text);
            if state.printed.get(&status.function) != Some(&moved) {
                eprintln!("  {text}");
                state.printed.insert(status.function.clone(), moved);
            }
            return;
        };
        let pause_ends = status
            .pause_left_secs
            .map(|left| Instant::now() + Duration::from_secs(left));
        let live = state
            .live
            .entry(status.function.clone())
            .or_insert_with(|| {
                let bar = bars.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                Live {
                    bar,
                    text: String::new(),
                    pause_ends: None,
                }
            });
        live.text = without_countdown(&text);
        live.pause_ends = pause_ends;
        live.bar.set_message(countdown(live));
        if !status.in_flight() {
            live.bar.finish_with_message(text);
            state.live.remove(&status.function);
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The status line without its `, 4m left`.
fn without_countdown(text: &str) -> String {
    match text.find(" left") {
        Some(end) => match text[..end].rfind(", ") {
            Some(start) => format!("{}{}", &text[..start], &text[end + " left".len()..]),
            None => text.to_owned(),
        },
        None => text.to_owned(),
    }
}

fn countdown(live: &Live) -> String {
    match live.pause_ends {
        Some(ends) => {
            let left = ends.saturating_duration_since(Instant::now()).as_secs();
            format!("{}, {} left", live.text, seconds(left))
        }
        None => live.text.clone(),
    }
}

impl ProgressSink for Console {
    fn report(&self, event: Progress<'_>) {
        match event {
            Progress::Action { function, action } => self.say(format!("  {function}: {action}")),
            Progress::Waiting { function, what } => {
                let first = lock(&self.state)
                    .seen_waits
                    .insert((function.to_owned(), what.to_owned()));
                if first {
                    self.say(format!("  {function}: waiting for {what}"));
                }
            }
            Progress::Failed { function, error } => {
                self.say(format!("  {function}: failed: {error}"));
            }
            Progress::Rollout { status, .. } => self.rollout(status),
            Progress::Gate { function } => {
                let first = lock(&self.state).gates.insert(function.to_owned());
                if first {
                    self.say(format!(
                        "  {function}: promotion pending: `shepherd promote {function}` takes the next step, `shepherd promote {function} --full` goes to 100%"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_countdown_is_cut_from_a_status_line() {
        assert_eq!(
            without_countdown(
                "api: alias live -> 1 90%, 2 10%; Progressing, step 2/2: pause 5m, 4m12s left; alarms: api-errors=Ok"
            ),
            "api: alias live -> 1 90%, 2 10%; Progressing, step 2/2: pause 5m; alarms: api-errors=Ok"
        );
        assert_eq!(
            without_countdown("api: alias live -> 2 100%; Healthy"),
            "api: alias live -> 2 100%; Healthy"
        );
    }
}
