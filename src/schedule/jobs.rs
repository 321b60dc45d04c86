//! What each job does, one call into the pipeline and delivery, and the
//! record of every run (start, end, outcome, what it did) in the store,
//! whether started by hand (`tthc jobs run NAME`), by the scheduler of
//! `tthc serve`, or by the office from the portal.

use super::Job;
use super::due::due_period;
use super::process::{holder, holder_is_dead};
use crate::config::Config;
use crate::deliver::{ClaimMode, Outcome, Skip, Status, deliver_report, in_round, stopping};
use crate::domain::{Channel, LedgerKey, Period};
use crate::pipeline::{IngestSummary, Publication};
use crate::settings::Settings;
use crate::store::{DueDelivery, JobOutcome, JobRun, PORTAL_TRIGGER, Store};
use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};

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
fn unit_named(settings: &Settings) -> impl Fn(&str) -> String + '_ {
    let by_address: std::collections::HashMap<&str, &str> = settings
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
fn report(cfg: &Config, store: &Store, period: Period) -> Result<String> {
    let (_, ran) = run_period(cfg, store, period)?;
    let mut text = format!("{} phiên bản {}", period.label_vi(), ran.version);
    if cfg.settings.channel() == Channel::Outbox {
        text.push_str(&format!("; {} thư vào hộp thư đi", ran.emails.len()));
        return Ok(text);
    }
    let key = period.to_string();
    let recipients = &cfg.settings.delivery.recipients;
    match store.delivered_to_all(&key, recipients)? {
        Some(v) if v != ran.version => {
            text.push_str(&format!(
                "; phiên bản {v} đã gửi tới mọi nơi nhận nên phiên bản này không tự gửi — gửi bằng: tthc send --period {key}"
            ));
            Ok(text)
        }
        _ => {
            let sent = deliver_report(cfg, store, &ran.publication, ClaimMode::Auto)?;
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
fn retry(cfg: &Config, store: &Store, now: DateTime<Utc>) -> Result<String> {
    let mut failed = false;
    let mut parts = Vec::new();
    let result = in_round(cfg, store, || {
        retry_due(cfg, store, now, &mut parts, &mut failed)
    });
    result?;
    // The digest went (or not) as the round ended: say which.
    let waiting = store.pending_notices(false)?.len();
    if waiting > 0 && cfg.settings.channel() == Channel::Smtp {
        parts.push(format!("{waiting} thông báo cho văn phòng chờ gửi"));
    }
    if parts.is_empty() {
        parts.push("không có thư nào đến hạn gửi lại".into());
    }
    let text = parts.join("; ");
    if failed { Err(anyhow!(text)) } else { Ok(text) }
}

fn retry_due(
    cfg: &Config,
    store: &Store,
    now: DateTime<Utc>,
    parts: &mut Vec<String>,
    failed: &mut bool,
) -> Result<()> {
    let due = store.due_deliveries()?;
    let today = now.with_timezone(&cfg.settings.time_zone()).date_naive();
    // Receipts together, so that they are counted (and named) once.
    let letters: Vec<(&DueDelivery, Option<LedgerKey>)> = due
        .iter()
        .map(|d| (d, LedgerKey::from_parts(&d.key, d.version)))
        .collect();
    let receipts: Vec<i64> = letters
        .iter()
        .filter_map(|(_, k)| match k {
            Some(LedgerKey::Receipt { submission }) => Some(*submission),
            _ => None,
        })
        .collect();
    let mut handled = Vec::new();
    if !receipts.is_empty() {
        let sent = crate::deliver::send_receipts(cfg, store, &receipts)?;
        handled.extend(
            letters
                .iter()
                .filter(|(_, k)| matches!(k, Some(LedgerKey::Receipt { .. })))
                .map(|(d, _)| *d),
        );
        match tally_named("biên nhận", &sent, unit_named(&cfg.settings)) {
            Ok(t) => parts.push(t),
            Err(e) => {
                *failed = true;
                parts.push(format!("{e:#}"));
            }
        }
    }
    let mut reminded = false;
    for (d, key) in &letters {
        if matches!(key, Some(LedgerKey::Receipt { .. })) {
            continue;
        }
        if stopping() || *failed {
            // Stopping, or the server is failing: what is left waits for
            // the next check rather than each taking its own timeout.
            break;
        }
        let result = match key {
            Some(LedgerKey::Reminder { .. }) => {
                if reminded {
                    continue;
                }
                reminded = true;
                crate::deliver::remind(cfg, store, today)
                    .and_then(|s| tally_named("thư nhắc", &s, unit_named(&cfg.settings)))
            }
            Some(LedgerKey::Report { period, version }) => {
                let (period, version) = (*period, *version);
                run_period(cfg, store, period).and_then(|(_, ran)| {
                    if ran.version == version {
                        let sent = deliver_report(cfg, store, &ran.publication, ClaimMode::Auto)?;
                        tally(&format!("{} phiên bản {version}", period.label_vi()), &sent)
                    } else {
                        Ok(format!(
                            "{} phiên bản {version} đã được thay bằng phiên bản {}",
                            period.label_vi(),
                            ran.version
                        ))
                    }
                })
            }
            _ => Ok(format!("bỏ qua mục không rõ \"{}\"", d.key)),
        };
        handled.push(*d);
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
            closed_total += store.abandon_due(
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

fn run(cfg: &Config, store: &Store, job: Job, now: DateTime<Utc>) -> Result<String> {
    match job {
        Job::Collect => {
            let s = collect(cfg, store)?;
            receipts(cfg, store, &s.recorded);
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
            let s = collect(cfg, store)?;
            receipts(cfg, store, &s.recorded);
            let today = now.with_timezone(&cfg.settings.time_zone()).date_naive();
            let sent = crate::deliver::remind(cfg, store, today)?;
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
            let s = collect(cfg, store)?;
            receipts(cfg, store, &s.recorded);
            match due_period(cfg, store, now, job == Job::Yearly)? {
                Some(period) => report(cfg, store, period),
                None => Ok("chưa có kỳ nào đến hạn lập báo cáo".into()),
            }
        }
        Job::Retry => retry(cfg, store, now),
    }
}

/// Runs a job now and records the run; the error, if any, is recorded too.
/// A run that left work undone because the service was shutting down is
/// recorded as `stopped` and made up at the next start.
pub fn run_job(
    cfg: &Config,
    store: &Store,
    job: Job,
    trigger: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    recorded(store, job, trigger, || run(cfg, store, job, now))
}

/// The office's "make the report" from the portal, in two steps so that
/// the page can say at once that it runs: `start_report_of` records the
/// run of the report job (started by `trigger`), `finish_report_of` runs
/// the chosen period (as `tthc run` does) and records how it ended.
/// `office_user` started it. Returns the run's id, or none when a run
/// started from the portal has not ended yet (a second click starts nothing).
pub fn start_report_of(store: &Store, office_user: &str) -> Result<Option<i64>> {
    if last_portal_report(store)?.is_some_and(|r| r.outcome.is_none()) {
        return Ok(None);
    }
    let trigger = format!("{PORTAL_TRIGGER}{office_user}");
    Ok(Some(store.start_job(
        Job::Report.name(),
        &trigger,
        holder(),
    )?))
}

/// The latest report run started from the portal, running or ended.
pub fn last_portal_report(store: &Store) -> Result<Option<JobRun>> {
    Ok(store.latest_job_run(Job::Report.name(), PORTAL_TRIGGER)?)
}

/// See `start_report_of`.
pub fn finish_report_of(cfg: &Config, store: &Store, id: i64, period: Period) -> Result<String> {
    finished(store, id, Job::Report, || {
        let (_, ran) = run_period(cfg, store, period)?;
        Ok(format!(
            "{} phiên bản {}{}",
            period.label_vi(),
            ran.version,
            if ran.new_version {
                " (mới)"
            } else {
                " (số liệu không đổi)"
            }
        ))
    })
}

/// Runs `f` as a recorded run of `job`.
fn recorded(
    store: &Store,
    job: Job,
    trigger: &str,
    f: impl FnOnce() -> Result<String>,
) -> Result<String> {
    let id = store.start_job(job.name(), trigger, holder())?;
    finished(store, id, job, f)
}

/// Runs `f` for the started run `id` of `job` and records how it ended.
fn finished(
    store: &Store,
    id: i64,
    job: Job,
    f: impl FnOnce() -> Result<String>,
) -> Result<String> {
    let result = f();
    match &result {
        Ok(summary) => store.finish_job(id, JobOutcome::Ok, summary)?,
        Err(e) if stopping() => store.finish_job(id, JobOutcome::Stopped, &format!("{e:#}"))?,
        Err(e) => {
            tracing::error!(job = job.name(), error = %format!("{e:#}"), "job failed");
            store.finish_job(id, JobOutcome::Failed, &format!("{e:#}"))?
        }
    }
    result
}

/// Reads the inbox: what `tthc ingest`, the collect job and every run do
/// first. Without a mail server the receipts owed are written to the
/// outbox at once; with one they wait in the ledger until sending is asked
/// for (`--send`, the service, `tthc jobs run retry`).
pub fn collect(cfg: &Config, store: &Store) -> Result<IngestSummary> {
    let summary = crate::pipeline::ingest(cfg, store)?;
    if cfg.settings.channel() == Channel::Outbox {
        receipts(cfg, store, &summary.recorded);
    }
    Ok(summary)
}

/// Sends the receipts owed for these submissions. A receipt that cannot
/// go now stays in the ledger for the next run; it never holds up or
/// undoes what was read.
pub fn receipts(cfg: &Config, store: &Store, recorded: &[i64]) -> Vec<Outcome> {
    if !cfg.settings.delivery.receipts || recorded.is_empty() {
        return Vec::new();
    }
    crate::deliver::send_receipts(cfg, store, recorded).unwrap_or_else(|e| {
        tracing::error!(error = %format!("{e:#}"), "receipts not sent");
        Vec::new()
    })
}

/// A period's run as the command line, the jobs and the portal make it:
/// the inbox read, the report version written and, without a mail server,
/// delivered to the outbox (with one, sending is asked for: `tthc run
/// --send`, `tthc send`, the report job). Two runs of one period never
/// overlap, in one process or two: each holds the period's lease.
pub fn run_period(cfg: &Config, store: &Store, period: Period) -> Result<(IngestSummary, Ran)> {
    let _lease = PeriodLease::take(store, period)?;
    let (summary, publication) = crate::pipeline::publish(cfg, store, period)?;
    let outbox = cfg.settings.channel() == Channel::Outbox;
    if outbox {
        receipts(cfg, store, &summary.recorded);
    }
    let deliveries = if outbox {
        deliver_report(cfg, store, &publication, ClaimMode::Auto)?
    } else {
        Vec::new()
    };
    let emails = deliveries.iter().filter_map(|d| d.file.clone()).collect();
    Ok((
        summary,
        Ran {
            publication,
            deliveries,
            emails,
        },
    ))
}

/// What a period's run did: the version written and what was delivered.
#[derive(Debug)]
pub struct Ran {
    pub publication: Publication,
    /// The copies delivered by the run itself (to the outbox).
    pub deliveries: Vec<Outcome>,
    /// The `.eml` files they were written to.
    pub emails: Vec<std::path::PathBuf>,
}

impl std::ops::Deref for Ran {
    type Target = Publication;
    fn deref(&self) -> &Publication {
        &self.publication
    }
}

/// How long a period's lease holds without being given back: longer than
/// any run; a process that dies on this machine lets go at once.
const PERIOD_LEASE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The lease on a period's report run, given back when dropped.
pub struct PeriodLease<'a> {
    store: &'a Store,
    name: String,
    holder: String,
}

impl<'a> PeriodLease<'a> {
    /// Waits for the period's lease (another run of it may be under way)
    /// and takes it.
    pub fn take(store: &'a Store, period: Period) -> Result<PeriodLease<'a>> {
        let name = format!("report:{period}");
        let holder = lease_holder();
        let mut told = false;
        loop {
            let h = store.take_lease(&name, &holder, PERIOD_LEASE.as_secs(), holder_is_dead)?;
            if h.holder == holder {
                return Ok(PeriodLease {
                    store,
                    name,
                    holder,
                });
            }
            if stopping() {
                return Err(anyhow!(
                    "dịch vụ đang dừng: không lập báo cáo {}",
                    period.label_vi()
                ));
            }
            if !told {
                tracing::info!(%period, other = %h.holder, "another run of this period is under way; waiting for it");
                told = true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

impl Drop for PeriodLease<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.store.release_lease(&self.name, &self.holder) {
            tracing::warn!(error = %e, lease = %self.name, "could not give back a period's lease");
        }
    }
}

/// A holder name for one run: this process, and a number of its own, so
/// that two runs in one process are told apart.
fn lease_holder() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!(
        "{}:{}",
        holder(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_runs_of_one_period_never_overlap_and_other_periods_do_not_wait() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::store::Pool::open(dir.path()).unwrap();
        let q4 = Period::quarter(2022, 4);
        let first_store = pool.get().unwrap();
        let first = PeriodLease::take(&first_store, q4).unwrap();
        // Another period is not held up.
        let other_store = pool.get().unwrap();
        drop(PeriodLease::take(&other_store, Period::quarter(2022, 3)).unwrap());
        let released = std::sync::Mutex::new(None);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let store = pool.get().unwrap();
                let _second = PeriodLease::take(&store, q4).unwrap();
                std::time::Instant::now()
            });
            std::thread::sleep(std::time::Duration::from_millis(400));
            *released.lock().unwrap() = Some(std::time::Instant::now());
            drop(first);
            let got = waiter.join().unwrap();
            assert!(
                got >= released.lock().unwrap().unwrap(),
                "the second run of the quarter started only after the first let go"
            );
        });
    }

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
