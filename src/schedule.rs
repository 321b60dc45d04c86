//! Jobs: each is one call into the pipeline, and every run is recorded in
//! the store (start, end, outcome, what it did), whether started by hand
//! (`tthc jobs run NAME`) or, later, by the scheduler of `tthc serve`.

use crate::domain::Period;
use crate::pipeline::Engine;
use anyhow::{Result, anyhow};
use chrono::{DateTime, Datelike, Utc};
use std::fmt;
use std::str::FromStr;

/// The jobs there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Read new workbooks from the inbox folder.
    Collect,
    /// Remind the units that have not sent, before the deadline.
    Remind,
    /// The latest quarter whose deadline has passed: score, write, send.
    Report,
    /// The latest year whose last deadline has passed.
    Yearly,
}

impl Job {
    pub const ALL: [Job; 4] = [Job::Collect, Job::Remind, Job::Report, Job::Yearly];

    pub fn name(self) -> &'static str {
        match self {
            Job::Collect => "collect",
            Job::Remind => "remind",
            Job::Report => "report",
            Job::Yearly => "yearly",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Job::ALL.into_iter().find(|j| j.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Job::ALL.iter().map(|j| j.name()).collect();
            format!(
                "không có việc \"{s}\" — chọn một trong: {}",
                names.join(", ")
            )
        })
    }
}

/// The latest period (quarter, or year) with submissions whose last
/// deadline has passed at `now`.
fn due_period(engine: &Engine, now: DateTime<Utc>, yearly: bool) -> Result<Option<Period>> {
    let today = now.with_timezone(&engine.settings.time_zone()).date_naive();
    let latest_deadline = |p: Period| {
        engine
            .settings
            .units
            .iter()
            .map(|u| engine.deadline(u, p))
            .max()
            .unwrap_or_else(|| p.window(engine.settings.period.window).1)
    };
    let mut periods: Vec<Period> = engine
        .store
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
            latest_deadline(last) < today
                && last.window(engine.settings.period.window).1.year() <= today.year()
        })
        .max())
}

fn run(engine: &Engine, job: Job, now: DateTime<Utc>) -> Result<String> {
    match job {
        Job::Collect => {
            let s = engine.ingest()?;
            Ok(format!(
                "{} tệp mới: {} hợp lệ, {} bị từ chối",
                s.new,
                s.accepted,
                s.rejected.len()
            ))
        }
        Job::Remind => {
            engine.ingest()?;
            let today = now.with_timezone(&engine.settings.time_zone()).date_naive();
            let sent = crate::deliver::remind(engine, today)?;
            let new: Vec<&str> = sent
                .iter()
                .filter(|o| o.status != "skipped")
                .map(|o| o.recipient.as_str())
                .collect();
            let failed = sent
                .iter()
                .filter(|o| !matches!(o.status.as_str(), "sent" | "written" | "skipped"))
                .count();
            let text = format!(
                "{} thư nhắc{}",
                new.len(),
                if new.is_empty() {
                    String::new()
                } else {
                    format!(": {}", new.join(", "))
                }
            );
            if failed > 0 {
                return Err(anyhow!("{text}; {failed} chưa gửi được"));
            }
            Ok(text)
        }
        Job::Report | Job::Yearly => {
            engine.ingest()?;
            let Some(period) = due_period(engine, now, job == Job::Yearly)? else {
                return Ok("chưa có kỳ nào đến hạn lập báo cáo".into());
            };
            let (_, outcome) = engine.run(period)?;
            let mut text = format!("{} phiên bản {}", period.label_vi(), outcome.version);
            if engine.settings.smtp.is_some() {
                let sent = crate::deliver::deliver_report(
                    engine,
                    &outcome.results,
                    &outcome.files,
                    false,
                )?;
                let failed = sent
                    .iter()
                    .filter(|o| !matches!(o.status.as_str(), "sent" | "skipped"))
                    .count();
                text.push_str(&format!(
                    "; gửi: {} thư, {failed} chưa gửi được",
                    sent.len()
                ));
                if failed > 0 {
                    return Err(anyhow!("{text}"));
                }
            } else {
                text.push_str(&format!("; {} thư vào hộp thư đi", outcome.emails.len()));
            }
            Ok(text)
        }
    }
}

/// Runs a job now and records the run; the error, if any, is recorded too.
pub fn run_job(engine: &Engine, job: Job, trigger: &str, now: DateTime<Utc>) -> Result<String> {
    let id = engine.store.start_job(job.name(), trigger)?;
    let result = run(engine, job, now);
    match &result {
        Ok(summary) => engine.store.finish_job(id, "ok", summary)?,
        Err(e) => {
            tracing::error!(job = job.name(), error = %format!("{e:#}"), "job failed");
            engine.store.finish_job(id, "failed", &format!("{e:#}"))?
        }
    }
    result
}
