//! Progress a person can follow: a bar with counts and time left for long
//! work (reading hundreds of files, rendering a long report), shown only
//! when the command line asks for it and stderr is a terminal; never in CI,
//! in a pipe or under `tthc serve`, which never ask.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static SHOWN: AtomicBool = AtomicBool::new(false);

/// Work of fewer steps than this finishes before a bar would help.
const AT_LEAST: u64 = 200;

/// Shows progress from now on, if stderr is a terminal and not a CI's.
pub fn enable_on_terminal() {
    use std::io::IsTerminal;
    let ci = std::env::var_os("CI").is_some() || std::env::var("TERM").is_ok_and(|t| t == "dumb");
    SHOWN.store(std::io::stderr().is_terminal() && !ci, Ordering::Relaxed);
}

/// Whether progress is shown.
pub fn shown() -> bool {
    SHOWN.load(Ordering::Relaxed)
}

/// A bar over `len` steps, or nothing for short work or when not shown.
pub struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    pub fn inc(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// A bar "what: 1.234/3.355 [====>   ] còn 3 s".
pub fn bar(len: u64, what: &str) -> Bar {
    if !shown() || len < AT_LEAST {
        return Bar(None);
    }
    let b = indicatif::ProgressBar::new(len);
    let style =
        indicatif::ProgressStyle::with_template("{msg}: {pos}/{len} [{wide_bar}] còn {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
    b.set_style(style);
    b.set_message(what.to_string());
    Bar(Some(b))
}

/// A spinner for one long step with no count (a report of many units
/// being laid out), for work of at least `AT_LEAST` units.
pub fn spinner(units: usize, what: &str) -> Bar {
    if !shown() || (units as u64) < AT_LEAST {
        return Bar(None);
    }
    let b = indicatif::ProgressBar::new_spinner();
    b.set_message(what.to_string());
    b.enable_steady_tick(Duration::from_millis(120));
    Bar(Some(b))
}
