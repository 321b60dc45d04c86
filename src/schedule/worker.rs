//! The worker of `tthc serve`: jobs run one after another on a thread of
//! their own, in the order their times come; a job whose time passed while
//! no instance was working runs once at start; deliveries due for another
//! try are looked for in between.

use super::{Job, run_job};
use crate::config::Config;
use crate::deliver::stopping;
use crate::domain::Channel;
use crate::settings::parse_cron;
use crate::store::{JobOutcome, Pool, Store};
use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// How often the worker looks for deliveries due for another try.
const RETRY_EVERY: Duration = Duration::from_secs(20);
/// When the service first started on this data dir (for jobs never run).
pub const FIRST_START: &str = "service_first_start";

/// What the worker is told.
pub enum Message {
    /// Run this job (started by this trigger).
    Run(Job, &'static str),
    Stop,
}

/// Starts the scheduler: each job of `[schedule]` sends its run to the
/// worker when its time comes, in the organisation's time zone.
pub async fn start_scheduler(
    cfg: &Config,
    tx: mpsc::Sender<Message>,
) -> Result<tokio_cron_scheduler::JobScheduler> {
    let scheduler = tokio_cron_scheduler::JobScheduler::new()
        .await
        .map_err(|e| anyhow!("khởi động bộ lập lịch: {e}"))?;
    let tz = cfg.settings.time_zone();
    for job in Job::ALL {
        let Some(cron) = cfg.settings.schedule.cron(job.name()) else {
            continue;
        };
        let tx = tx.clone();
        let entry = tokio_cron_scheduler::Job::new_async_tz(cron, tz, move |_, _| {
            let tx = tx.clone();
            Box::pin(async move {
                let _ = tx.send(Message::Run(job, "schedule"));
            })
        })
        .map_err(|e| anyhow!("[schedule] {job} = \"{cron}\": {e}"))?;
        scheduler
            .add(entry)
            .await
            .map_err(|e| anyhow!("lập lịch {job}: {e}"))?;
    }
    scheduler
        .start()
        .await
        .map_err(|e| anyhow!("khởi động bộ lập lịch: {e}"))?;
    Ok(scheduler)
}

/// Whether a job with this cron expression missed a time while no instance
/// was working: its last run was cut short, or a time came between its
/// last start (or the service's first start, if it never ran) and now.
pub fn missed(
    cfg: &Config,
    store: &Store,
    job: Job,
    cron: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let cron = parse_cron(cron).map_err(|e| anyhow!(e))?;
    let since = match store.last_job_run(job.name())? {
        Some((_, Some(JobOutcome::Interrupted | JobOutcome::Stopped))) => {
            return Ok(true);
        }
        Some((_, None)) => return Ok(false),
        Some((started, _)) => started,
        None => match store.meta(FIRST_START)? {
            Some(t) => t,
            None => return Ok(false),
        },
    };
    let since = DateTime::parse_from_rfc3339(&since)
        .map_err(|e| anyhow!("thời điểm \"{since}\": {e}"))?
        .with_timezone(&cfg.settings.time_zone());
    Ok(cron
        .find_next_occurrence(&since, false)
        .is_ok_and(|next| next.with_timezone(&Utc) <= now))
}

/// The worker: first the jobs missed while the service was down (once
/// each), then every job as its time comes, and the deliveries due for
/// another try in between.
pub fn work(cfg: Arc<Config>, pool: Pool, rx: mpsc::Receiver<Message>) -> Result<()> {
    let store = pool.get()?;
    let mut queue: VecDeque<(Job, &'static str)> = VecDeque::new();
    for job in Job::ALL {
        let Some(cron) = cfg.settings.schedule.cron(job.name()) else {
            continue;
        };
        if missed(&cfg, &store, job, cron, Utc::now())? {
            tracing::info!(
                job = job.name(),
                "missed while the service was down; running once now"
            );
            queue.push_back((job, "catch-up"));
        }
    }
    let mut next_check = Instant::now() + RETRY_EVERY;
    loop {
        while let Some((job, trigger)) = queue.pop_front() {
            if stopping() {
                return Ok(());
            }
            let _ = run_job(&cfg, &store, job, trigger, Utc::now());
            // Ticks that came while this job ran: each job once.
            while let Ok(m) = rx.try_recv() {
                match m {
                    Message::Run(j, t) => {
                        if !queue.iter().any(|(q, _)| *q == j) {
                            queue.push_back((j, t));
                        }
                    }
                    Message::Stop => return Ok(()),
                }
            }
        }
        // The retry check comes every RETRY_EVERY however busy the
        // schedule is (a collect every few seconds must not starve it).
        let now = Instant::now();
        if now >= next_check {
            next_check = now + RETRY_EVERY;
            if !store.due_deliveries()?.is_empty()
                || (cfg.settings.channel() == Channel::Smtp
                    && !store.pending_notices(true)?.is_empty())
            {
                queue.push_back((Job::Retry, "retry"));
                continue;
            }
        }
        match rx.recv_timeout(next_check.saturating_duration_since(now)) {
            Ok(Message::Run(job, trigger)) => queue.push_back((job, trigger)),
            Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}
