//! How long to wait before trying a letter again, and when to stop trying.

use crate::settings::Smtp;
use std::time::Duration;

/// The longest single wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// The wait after the `n`th failed try: retry_seconds, doubled each time.
pub(super) fn wait(s: &Smtp, n: u32) -> Duration {
    Duration::from_secs(
        s.retry_seconds
            .saturating_mul(1u64 << (n.saturating_sub(1)).min(16)),
    )
    .min(MAX_WAIT)
}

/// Which overall limit a letter (or a notice) has reached.
pub(super) enum Limit {
    Attempts,
    Age,
}

/// The overall limit of `[smtp]` reached after `tries` tries in all, the
/// first at `first`, if any is.
pub(super) fn over_limit(
    s: &Smtp,
    tries: i64,
    first: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<Limit> {
    let age_hours = first.map(|t| (chrono::Utc::now() - t).num_minutes() as f64 / 60.0);
    if tries >= i64::from(s.give_up_after_attempts) {
        Some(Limit::Attempts)
    } else if age_hours.is_some_and(|h| h >= s.give_up_after_hours as f64) {
        Some(Limit::Age)
    } else {
        None
    }
}
