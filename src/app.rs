//! The service as one application: `Application::build` takes the data
//! dir's lease (one instance works on it at a time; another waits), opens
//! the store's pool and binds the portal's port; `run_until` starts the
//! worker, the scheduler and the portal, and on stop lets the message
//! being sent and the requests under way finish, records the job as
//! stopped and gives the lease back. `tthc serve` and the tests start the
//! service the same way.

use crate::config::Config;
use crate::deliver::request_stop;
use crate::schedule::{Message, holder, holder_is_dead, start_scheduler, work};
use crate::store::{Pool, Pooled};
use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// The lease that says which instance works on the data dir.
const LEASE_NAME: &str = "service";
const LEASE: Duration = Duration::from_secs(15);
const RENEW_EVERY: Duration = Duration::from_secs(5);

/// A service ready to run: it holds the data dir and, with `[web] listen`,
/// its port.
pub struct Application {
    config: Arc<Config>,
    pool: Pool,
    listener: Option<tokio::net::TcpListener>,
    address: Option<SocketAddr>,
}

impl Application {
    /// Waits until no other instance works on the data dir, takes it, and
    /// binds the portal's address (port 0 takes a free one: see `address`).
    pub async fn build(config: Config) -> Result<Application> {
        let config = config.shared();
        let data = &config.settings.paths.data;
        let pool =
            Pool::open(data).with_context(|| format!("mở kho dữ liệu {}", data.display()))?;
        let me = holder().to_string();
        let lease = pool.get()?;
        let mut told = false;
        loop {
            let h = lease.take_lease(LEASE_NAME, &me, LEASE.as_secs(), holder_is_dead)?;
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
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        drop(lease);
        tracing::info!(holder = %me, "working on the data dir");
        let (listener, address) = match config.settings.web.listen {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("mở cổng {addr} cho cổng thông tin"))?;
                let bound = listener.local_addr()?;
                (Some(listener), Some(bound))
            }
            None => (None, None),
        };
        Ok(Application {
            config,
            pool,
            listener,
            address,
        })
    }

    /// Where the portal listens, if it does.
    pub fn address(&self) -> Option<SocketAddr> {
        self.address
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs the worker, the scheduler and the portal until `stop`
    /// resolves, the lease is lost, or the worker stops.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> Result<()> {
        let Application {
            config,
            pool,
            listener,
            address: _,
        } = self;
        let me = holder().to_string();
        eprintln!(
            "tthc serve: đang chạy (thư mục dữ liệu {})",
            config.settings.paths.data.display()
        );
        tidy_after_others(&pool.get()?, &me)?;

        let (tx, rx) = mpsc::channel::<Message>();
        let worker = {
            let (config, pool) = (config.clone(), pool.clone());
            std::thread::Builder::new()
                .name("tthc-jobs".into())
                .spawn(move || work(config, pool, rx))
                .context("khởi động luồng công việc")?
        };
        let mut scheduler = start_scheduler(&config, tx.clone()).await?;

        let (web_stop, web) = start_portal(&config, &pool, listener)?;
        let lost = keep_lease(&pool, &me);
        let worker_done = async {
            while !worker.is_finished() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        let why = tokio::select! {
            _ = stop => None,
            w = lost => Some(w),
            _ = worker_done => Some("luồng công việc đã dừng".to_string()),
        };
        eprintln!("tthc serve: đang dừng — chờ thư đang gửi xong…");
        stop_portal(web_stop, web).await;
        request_stop();
        let _ = tx.send(Message::Stop);
        let _ = scheduler.shutdown().await;
        let joined = tokio::task::spawn_blocking(move || worker.join()).await;
        pool.get()?.release_lease(LEASE_NAME, &me)?;
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
}

/// A running portal: the switch that stops it, and its task.
type RunningPortal = (
    tokio::sync::watch::Sender<bool>,
    Option<tokio::task::JoinHandle<Result<()>>>,
);

/// Starts the portal on its listener, if the service has one.
fn start_portal(
    config: &Arc<Config>,
    pool: &Pool,
    listener: Option<tokio::net::TcpListener>,
) -> Result<RunningPortal> {
    let (web_stop, web_stopped) = tokio::sync::watch::channel(false);
    let Some(listener) = listener else {
        return Ok((web_stop, None));
    };
    eprintln!(
        "tthc serve: cổng thông tin tại http://{}/",
        listener.local_addr()?
    );
    let portal = crate::web::Portal::new(config.clone(), pool.clone())?;
    let mut stopped = web_stopped;
    let task = tokio::spawn(crate::web::serve(listener, portal, async move {
        let _ = stopped.wait_for(|s| *s).await;
    }));
    Ok((web_stop, Some(task)))
}

/// Stops the portal, letting the requests under way finish (an upload is
/// acknowledged only once it is stored), for at most 30 seconds.
async fn stop_portal(
    web_stop: tokio::sync::watch::Sender<bool>,
    web: Option<tokio::task::JoinHandle<Result<()>>>,
) {
    let _ = web_stop.send(true);
    let Some(web) = web else {
        return;
    };
    match tokio::time::timeout(Duration::from_secs(30), web).await {
        Ok(Ok(Err(e))) => {
            tracing::error!(error = %format!("{e:#}"), "portal stopped with an error")
        }
        Err(_) => tracing::warn!("portal requests still running after 30 s; stopping anyway"),
        _ => {}
    }
}

/// Keeps the data dir's lease while the service works; resolves when it is
/// lost (another instance decided this one was gone), with why: the
/// service then stops at once rather than work twice.
async fn keep_lease(pool: &Pool, me: &str) -> String {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let renewed = pool
            .get()
            .and_then(|store| store.take_lease(LEASE_NAME, me, LEASE.as_secs(), holder_is_dead));
        match renewed {
            Ok(h) if h.holder == me => {}
            Ok(h) => return format!("phiên bản {} đã nhận quyền làm việc", h.holder),
            Err(e) => tracing::warn!(error = %e, "could not renew the lease"),
        }
    }
}

/// What an instance that stopped or died left behind: its runs are not
/// running any more, and its half-written archive files are removed.
fn tidy_after_others(store: &Pooled, me: &str) -> Result<()> {
    for other in store.unfinished_run_holders()? {
        if other != me && (other.starts_with("serve:") || holder_is_dead(&other)) {
            let n = store.mark_interrupted(&other)?;
            tracing::warn!(holder = %other, runs = n, "runs left unfinished by a stopped process marked interrupted");
        }
    }
    store.meta_set_once(crate::schedule::FIRST_START, &Utc::now().to_rfc3339())?;
    let swept = crate::store::archive_sweep(&store.archive_root());
    if swept > 0 {
        tracing::warn!(
            files = swept,
            "half-written archive files of a stopped process removed"
        );
    }
    Ok(())
}

/// `tthc serve`: the service until SIGTERM or Ctrl-C.
pub fn serve(config: Config) -> Result<()> {
    crate::schedule::serving();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("khởi động dịch vụ")?;
    runtime.block_on(async {
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("theo dõi tín hiệu dừng")?;
        let app = tokio::select! {
            app = Application::build(config) => app?,
            _ = sigterm.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        app.run_until(async move {
            tokio::select! {
                _ = sigterm.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await
    })
}
