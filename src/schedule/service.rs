//! `tthc serve`: the scheduler. One instance works on a data dir at a time
//! (a lease in the store, renewed every few seconds); another one started
//! beside it waits and takes over when the first stops or dies. Jobs run
//! one after another on a worker thread, in the order their times come;
//! a job whose time passed while no instance was working runs once at
//! start. SIGTERM (or Ctrl-C) lets the message being sent finish, starts
//! nothing new, records the job as stopped, and gives the lease back.

use super::{HOLDER, Job, holder, holder_is_dead, name_process, run_job};
use crate::deliver::{request_stop, stopping};
use crate::pipeline::Engine;
use crate::settings::{Settings, parse_cron};
use crate::store::Store;
use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The lease that says which instance works on the data dir.
const LEASE_NAME: &str = "service";
const LEASE: Duration = Duration::from_secs(15);
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often the worker looks for deliveries due for another try.
const RETRY_EVERY: Duration = Duration::from_secs(20);
/// When the service first started on this data dir (for jobs never run).
const FIRST_START: &str = "service_first_start";

enum Message {
    Run(Job, &'static str),
    Stop,
}

/// Runs the service until SIGTERM or Ctrl-C.
pub fn serve(settings: Settings) -> Result<()> {
    let _ = HOLDER.set(name_process("serve"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("khởi động dịch vụ")?;
    runtime.block_on(serve_async(settings))
}

async fn serve_async(settings: Settings) -> Result<()> {
    let me = holder().to_string();
    let lease_store = Store::open(&settings.paths.data)?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("theo dõi tín hiệu dừng")?;

    // Wait for the lease: another instance may be working on this data dir.
    let mut told = false;
    loop {
        let h = lease_store.take_lease(LEASE_NAME, &me, LEASE.as_secs(), holder_is_dead)?;
        if h.holder == me {
            break;
        }
        if !told {
            tracing::warn!(other = %h.holder, "another instance is working on this data dir; waiting for it to stop");
            eprintln!(
                "Một phiên bản khác ({}) đang làm việc trên thư mục dữ liệu này; chờ đến khi nó dừng…",
                h.holder
            );
            told = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = sigterm.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
    tracing::info!(holder = %me, "working on the data dir");
    eprintln!(
        "tthc serve: đang chạy (thư mục dữ liệu {})",
        settings.paths.data.display()
    );

    let engine = Engine::open(settings.clone())?;
    // Runs left unfinished by an instance that died are not running any more.
    for other in engine.store.unfinished_run_holders()? {
        if other != me && (other.starts_with("serve:") || holder_is_dead(&other)) {
            let n = engine.store.mark_interrupted(&other)?;
            tracing::warn!(holder = %other, runs = n, "runs left unfinished by a stopped process marked interrupted");
        }
    }
    engine
        .store
        .meta_set_once(FIRST_START, &Utc::now().to_rfc3339())?;
    let swept = crate::store::archive_sweep(&engine.store.archive_root());
    if swept > 0 {
        tracing::warn!(
            files = swept,
            "half-written archive files of a stopped process removed"
        );
    }

    let (tx, rx) = mpsc::channel::<Message>();
    let worker = std::thread::Builder::new()
        .name("tthc-jobs".into())
        .spawn(move || work(engine, rx))
        .context("khởi động luồng công việc")?;

    let mut scheduler = tokio_cron_scheduler::JobScheduler::new()
        .await
        .map_err(|e| anyhow!("khởi động bộ lập lịch: {e}"))?;
    let tz = settings.time_zone();
    for job in Job::ALL {
        let Some(cron) = settings.schedule.cron(job.name()) else {
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

    // The portal, when `[web] listen` is set. A shutdown lets the requests
    // under way finish (an upload is acknowledged only once it is stored).
    let (web_stop, web_stopped) = tokio::sync::watch::channel(false);
    let web = match settings.web.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("mở cổng {addr} cho cổng thông tin"))?;
            let bound = listener.local_addr()?;
            eprintln!("tthc serve: cổng thông tin tại http://{bound}/");
            let portal = crate::web::Portal::new(settings.clone())?;
            let mut stopped = web_stopped.clone();
            Some(tokio::spawn(crate::web::serve(
                listener,
                portal,
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
            )))
        }
        None => None,
    };

    // Keep the lease while working; losing it means another instance
    // decided this one was gone: stop at once rather than work twice.
    let lost = async {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            match lease_store.take_lease(LEASE_NAME, &me, LEASE.as_secs(), holder_is_dead) {
                Ok(h) if h.holder == me => {}
                Ok(h) => return format!("phiên bản {} đã nhận quyền làm việc", h.holder),
                Err(e) => tracing::warn!(error = %e, "could not renew the lease"),
            }
        }
    };
    let worker_done = async {
        while !worker.is_finished() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let why = tokio::select! {
        _ = sigterm.recv() => None,
        _ = tokio::signal::ctrl_c() => None,
        w = lost => Some(w),
        _ = worker_done => Some("luồng công việc đã dừng".to_string()),
    };
    eprintln!("tthc serve: đang dừng — chờ thư đang gửi xong…");
    let _ = web_stop.send(true);
    if let Some(web) = web {
        match tokio::time::timeout(Duration::from_secs(30), web).await {
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %format!("{e:#}"), "portal stopped with an error")
            }
            Err(_) => tracing::warn!("portal requests still running after 30 s; stopping anyway"),
            _ => {}
        }
    }
    request_stop();
    let _ = tx.send(Message::Stop);
    let _ = scheduler.shutdown().await;
    let joined = tokio::task::spawn_blocking(move || worker.join()).await;
    lease_store.release_lease(LEASE_NAME, &me)?;
    match (why, joined) {
        (_, Ok(Err(_))) | (_, Err(_)) => Err(anyhow!("luồng công việc dừng bất thường")),
        (_, Ok(Ok(Err(e)))) => Err(e),
        (Some(why), _) => Err(anyhow!("dịch vụ dừng: {why}")),
        (None, _) => {
            eprintln!("tthc serve: đã dừng.");
            Ok(())
        }
    }
}

/// Whether a job with this cron expression missed a time while no instance
/// was working: its last run was cut short, or a time came between its
/// last start (or the service's first start, if it never ran) and now.
pub fn missed(engine: &Engine, job: Job, cron: &str, now: DateTime<Utc>) -> Result<bool> {
    let cron = parse_cron(cron).map_err(|e| anyhow!(e))?;
    let since = match engine.store.last_job_run(job.name())? {
        Some((_, Some(outcome))) if outcome == "interrupted" || outcome == "stopped" => {
            return Ok(true);
        }
        Some((_, None)) => return Ok(false),
        Some((started, _)) => started,
        None => match engine.store.meta(FIRST_START)? {
            Some(t) => t,
            None => return Ok(false),
        },
    };
    let since = DateTime::parse_from_rfc3339(&since)
        .map_err(|e| anyhow!("thời điểm \"{since}\": {e}"))?
        .with_timezone(&engine.settings.time_zone());
    Ok(cron
        .find_next_occurrence(&since, false)
        .is_ok_and(|next| next.with_timezone(&Utc) <= now))
}

/// The worker: first the jobs missed while the service was down (once
/// each), then every job as its time comes, and the deliveries due for
/// another try in between.
fn work(engine: Engine, rx: mpsc::Receiver<Message>) -> Result<()> {
    let mut queue: VecDeque<(Job, &'static str)> = VecDeque::new();
    for job in Job::ALL {
        let Some(cron) = engine.settings.schedule.cron(job.name()) else {
            continue;
        };
        if missed(&engine, job, cron, Utc::now())? {
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
            let _ = run_job(&engine, job, trigger, Utc::now());
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
            if !engine.store.due_deliveries()?.is_empty()
                || (engine.settings.smtp.is_some()
                    && !engine.store.pending_notices(true)?.is_empty())
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
