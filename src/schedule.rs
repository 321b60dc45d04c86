//! Jobs: each is one call into the pipeline, and every run is recorded in
//! the store (start, end, outcome, what it did), whether started by hand
//! (`tthc jobs run NAME`) or by the scheduler of `tthc serve` (see
//! `service`).

mod service;

pub use service::serve;

use crate::deliver::{
    ClaimMode, Outcome, Skip, Status, deliver_report, in_round, receipt_submission, stopping,
};
use crate::domain::Period;
use crate::pipeline::Engine;
use anyhow::{Result, anyhow};
use chrono::{DateTime, Datelike, Utc};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

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
    /// Deliveries whose retry time has come, or whose sender died.
    Retry,
}

impl Job {
    pub const ALL: [Job; 5] = [
        Job::Collect,
        Job::Remind,
        Job::Report,
        Job::Yearly,
        Job::Retry,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Collect => "collect",
            Job::Remind => "remind",
            Job::Report => "report",
            Job::Yearly => "yearly",
            Job::Retry => "retry",
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
/// deadline, plus the grace days of `[schedule]`, has passed at `now`.
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
            latest_deadline(last)
                + chrono::Days::new(u64::from(engine.settings.schedule.grace_days))
                < today
                && last.window(engine.settings.period.window).1.year() <= today.year()
        })
        .max())
}

/// Counts what a delivery did, naming whom each count is for (`name`
/// turns a recipient into the words for it: a unit's name for a receipt);
/// an error if any copy is still owed.
fn tally_named(what: &str, sent: &[Outcome], name: impl Fn(&str) -> String) -> Result<String> {
    // How many letters, and to whom: each name once, in the order met
    // (a unit that sent three workbooks gets three receipts, named once).
    let letters = |f: &dyn Fn(&Status) -> bool| -> (usize, Vec<String>) {
        let mut names: Vec<String> = Vec::new();
        let mut count = 0;
        for o in sent.iter().filter(|o| f(&o.status)) {
            count += 1;
            let n = name(&o.recipient);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        (count, names)
    };
    let list = |v: &[String]| {
        const SHOWN: usize = 10;
        let mut t = v.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > SHOWN {
            t.push_str(&format!(" và {} nơi khác", v.len() - SHOWN));
        }
        t
    };
    let (done, to) = letters(&|s| s.delivered());
    let (before, _) = letters(&|s| matches!(s, Status::Skipped(Skip::Received { .. })));
    let (owed, owed_to) = letters(&|s| !s.settled());
    let mut text = format!("{what}: gửi {done}");
    if done > 0 {
        text.push_str(&format!(" ({})", list(&to)));
    }
    if before > 0 {
        text.push_str(&format!(", {before} đã nhận từ trước"));
    }
    if owed == 0 {
        Ok(text)
    } else {
        Err(anyhow!(
            "{text}; chưa gửi được {owed}: {} (xem: tthc ledger)",
            list(&owed_to)
        ))
    }
}

fn tally(what: &str, sent: &[Outcome]) -> Result<String> {
    tally_named(what, sent, str::to_string)
}

/// The unit a receipt or reminder went to, by its address (looked up in
/// a map built once: a retry round may name thousands of receipts).
fn unit_named(engine: &Engine) -> impl Fn(&str) -> String + '_ {
    let by_address: std::collections::HashMap<&str, &str> = engine
        .settings
        .units
        .iter()
        .map(|u| (u.email.as_str(), u.code.0.as_str()))
        .collect();
    move |address: &str| {
        by_address
            .get(address)
            .map_or_else(|| address.to_string(), |c| c.to_string())
    }
}

/// Scores, writes and (with a mail server) sends a period's report. A
/// version is sent by itself only if no earlier version of the period has
/// reached every recipient: once the province has the report, a later
/// change (a late workbook) makes a new version that the office sends
/// when it decides to (`tthc send`).
fn report(engine: &Engine, period: Period) -> Result<String> {
    let (_, outcome) = engine.run(period)?;
    let mut text = format!("{} phiên bản {}", period.label_vi(), outcome.version);
    if engine.settings.smtp.is_none() {
        text.push_str(&format!("; {} thư vào hộp thư đi", outcome.emails.len()));
        return Ok(text);
    }
    let key = period.to_string();
    let recipients = &engine.settings.delivery.recipients;
    match engine.store.delivered_to_all(&key, recipients)? {
        Some(v) if v != outcome.version => {
            text.push_str(&format!(
                "; phiên bản {v} đã gửi tới mọi nơi nhận nên phiên bản này không tự gửi — gửi bằng: tthc send --period {key}"
            ));
            Ok(text)
        }
        _ => {
            let sent = deliver_report(engine, &outcome.results, &outcome.files, ClaimMode::Auto)?;
            tally(&text, &sent)
        }
    }
}

/// Tries again every delivery that is due: reports by re-running their
/// period (same inputs, same version, same files), reminders by re-running
/// today's reminders, receipts by their submission. A row that the re-run
/// no longer wants (the unit sent in the meantime, a newer version) is
/// closed as failed, with why. The whole check is one round: the office
/// gets one digest of what failed in it.
fn retry(engine: &Engine, now: DateTime<Utc>) -> Result<String> {
    let mut failed = false;
    let mut parts = Vec::new();
    let result = in_round(engine, || retry_due(engine, now, &mut parts, &mut failed));
    result?;
    // The digest went (or not) as the round ended: say which.
    let waiting = engine.store.pending_notices(false)?.len();
    if waiting > 0 && engine.settings.smtp.is_some() {
        parts.push(format!("{waiting} thông báo cho văn phòng chờ gửi"));
    }
    if parts.is_empty() {
        parts.push("không có thư nào đến hạn gửi lại".into());
    }
    let text = parts.join("; ");
    if failed { Err(anyhow!(text)) } else { Ok(text) }
}

fn retry_due(
    engine: &Engine,
    now: DateTime<Utc>,
    parts: &mut Vec<String>,
    failed: &mut bool,
) -> Result<()> {
    let due = engine.store.due_deliveries()?;
    let today = now.with_timezone(&engine.settings.time_zone()).date_naive();
    // Receipts together, so that they are counted (and named) once.
    let receipts: Vec<i64> = due
        .iter()
        .filter_map(|d| receipt_submission(&d.key))
        .collect();
    let mut handled = Vec::new();
    if !receipts.is_empty() {
        let sent = crate::deliver::send_receipts(engine, &receipts)?;
        handled.extend(due.iter().filter(|d| receipt_submission(&d.key).is_some()));
        match tally_named("biên nhận", &sent, unit_named(engine)) {
            Ok(t) => parts.push(t),
            Err(e) => {
                *failed = true;
                parts.push(format!("{e:#}"));
            }
        }
    }
    let mut reminded = false;
    for d in due.iter().filter(|d| receipt_submission(&d.key).is_none()) {
        if stopping() || *failed {
            // Stopping, or the server is failing: what is left waits for
            // the next check rather than each taking its own timeout.
            break;
        }
        let result = if d.version == 0 {
            if reminded {
                continue;
            }
            reminded = true;
            crate::deliver::remind(engine, today)
                .and_then(|s| tally_named("thư nhắc", &s, unit_named(engine)))
        } else {
            match d.key.parse::<Period>() {
                Ok(period) => engine.run(period).and_then(|(_, outcome)| {
                    if outcome.version == d.version {
                        let sent = deliver_report(
                            engine,
                            &outcome.results,
                            &outcome.files,
                            ClaimMode::Auto,
                        )?;
                        tally(
                            &format!("{} phiên bản {}", period.label_vi(), d.version),
                            &sent,
                        )
                    } else {
                        Ok(format!(
                            "{} phiên bản {} đã được thay bằng phiên bản {}",
                            period.label_vi(),
                            d.version,
                            outcome.version
                        ))
                    }
                }),
                Err(_) => Ok(format!("bỏ qua mục không rõ \"{}\"", d.key)),
            }
        };
        handled.push(d);
        match result {
            Ok(t) => parts.push(t),
            Err(e) => {
                *failed = true;
                parts.push(format!("{e:#}"));
            }
        }
    }
    if !stopping() {
        let mut closed_total = 0;
        for d in handled {
            closed_total += engine.store.abandon_due(
                &d.key,
                d.version,
                "không gửi nữa: lần gửi lại thấy thư này không còn cần (đơn vị đã nộp, hoặc đã có phiên bản mới)",
            )?;
        }
        if closed_total > 0 {
            parts.push(format!("{closed_total} thư không còn cần gửi"));
        }
    }
    Ok(())
}

fn run(engine: &Engine, job: Job, now: DateTime<Utc>) -> Result<String> {
    match job {
        Job::Collect => {
            let s = engine.ingest()?;
            engine.send_receipts(&s.recorded);
            let mut text = format!(
                "{} tệp mới: {} hợp lệ, {} bị từ chối",
                s.new,
                s.accepted,
                s.rejected.len()
            );
            for w in &s.warnings {
                tracing::warn!("{w}");
            }
            if !s.warnings.is_empty() {
                text.push_str(&format!("; {} cảnh báo sổ nhận", s.warnings.len()));
            }
            Ok(text)
        }
        Job::Remind => {
            let s = engine.ingest()?;
            engine.send_receipts(&s.recorded);
            let today = now.with_timezone(&engine.settings.time_zone()).date_naive();
            let sent = crate::deliver::remind(engine, today)?;
            let new: Vec<&str> = sent
                .iter()
                .filter(|o| !matches!(o.status, Status::Skipped(_)))
                .map(|o| o.recipient.as_str())
                .collect();
            let text = format!(
                "{} thư nhắc{}",
                new.len(),
                if new.is_empty() {
                    String::new()
                } else {
                    format!(": {}", new.join(", "))
                }
            );
            tally(&text, &sent)
        }
        Job::Report | Job::Yearly => {
            let s = engine.ingest()?;
            engine.send_receipts(&s.recorded);
            match due_period(engine, now, job == Job::Yearly)? {
                Some(period) => report(engine, period),
                None => Ok("chưa có kỳ nào đến hạn lập báo cáo".into()),
            }
        }
        Job::Retry => retry(engine, now),
    }
}

static HOLDER: OnceLock<String> = OnceLock::new();

/// This process's name in leases and job runs:
/// `KIND:HOST:PID:START`, where KIND is `serve` or `cli`.
pub fn holder() -> &'static str {
    HOLDER.get_or_init(|| name_process("cli"))
}

fn name_process(kind: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let start = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{kind}:{host}:{}:{start}", std::process::id())
}

/// Whether a holder's process is known to be gone: same machine, and no
/// such process any more. Elsewhere (or without /proc) it is not known,
/// and only the lease's end frees what it held.
pub fn holder_is_dead(holder: &str) -> bool {
    let mut parts = holder.split(':');
    let (_, Some(host), Some(pid)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ours = self::holder().split(':').nth(1).unwrap_or_default();
    host == ours
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Runs a job now and records the run; the error, if any, is recorded too.
/// A run that left work undone because the service was shutting down is
/// recorded as `stopped` and made up at the next start.
pub fn run_job(engine: &Engine, job: Job, trigger: &str, now: DateTime<Utc>) -> Result<String> {
    let id = engine.store.start_job(job.name(), trigger, holder())?;
    let result = run(engine, job, now);
    match &result {
        Ok(summary) => engine.store.finish_job(id, "ok", summary)?,
        Err(e) if stopping() => engine.store.finish_job(id, "stopped", &format!("{e:#}"))?,
        Err(e) => {
            tracing::error!(job = job.name(), error = %format!("{e:#}"), "job failed");
            engine.store.finish_job(id, "failed", &format!("{e:#}"))?
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(to: &str, status: Status) -> Outcome {
        Outcome {
            recipient: to.into(),
            status,
            detail: String::new(),
            uncertain: false,
            file: None,
        }
    }

    #[test]
    fn a_tally_counts_letters_and_names_each_recipient_once() {
        let sent = [
            outcome("a@x.vn", Status::Sent),
            outcome("a@x.vn", Status::Sent),
            outcome("b@x.vn", Status::Sent),
            outcome("a@x.vn", Status::Sent),
            outcome("c@x.vn", Status::Retry),
            outcome("c@x.vn", Status::Retry),
        ];
        let name = |to: &str| to.split('@').next().unwrap().to_uppercase();
        let err = tally_named("biên nhận", &sent, name)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "biên nhận: gửi 4 (A, B); chưa gửi được 2: C (xem: tthc ledger)"
        );
    }
}
