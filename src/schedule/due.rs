//! Which period is due for its report: the latest one with submissions
//! whose last deadline, plus the grace days of `[schedule]`, has passed.

use crate::config::Config;
use crate::domain::Period;
use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, Datelike, Utc};

/// The latest period (quarter, or year) with submissions whose last
/// deadline, plus the grace days of `[schedule]`, has passed at `now`.
pub(super) fn due_period(
    cfg: &Config,
    store: &Store,
    now: DateTime<Utc>,
    yearly: bool,
) -> Result<Option<Period>> {
    let today = now.with_timezone(&cfg.settings.time_zone()).date_naive();
    let latest_deadline = |p: Period| {
        cfg.settings
            .units
            .iter()
            .map(|u| cfg.settings.deadline(u, p))
            .max()
            .unwrap_or_else(|| p.window(cfg.settings.period.window).1)
    };
    let mut periods: Vec<Period> = store
        .periods_with_submissions()?
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    if yearly {
        periods = periods
            .iter()
            .map(|p| Period::Year { year: p.year() })
            .collect();
        periods.dedup();
    }
    Ok(periods
        .into_iter()
        .filter(|p| {
            let last = match p {
                Period::Year { year } => Period::quarter(*year, 4),
                q => *q,
            };
            latest_deadline(last) + chrono::Days::new(u64::from(cfg.settings.schedule.grace_days))
                < today
                && last.window(cfg.settings.period.window).1.year() <= today.year()
        })
        .max())
}
