//! The store: SQLite in the data dir and a content-addressed archive of
//! every file read. Files are kept by their SHA-256, written to a temporary
//! name, synced and renamed, never overwritten or deleted; a submission is
//! recorded only after its file is safely on disk.

mod archive;
mod ledger;
mod portal;
mod schema;
mod service;
mod sign_in;

pub use archive::{
    sha256_hex, sweep as archive_sweep, write as archive_write, write_all as archive_write_all,
};
pub use ledger::{Claim, ClaimMode, ClaimRequest, DeliveryRecord, DeliveryRow, Notice, Skip};
pub use portal::{Account, AuditEntry, LedgerRow, Session};
pub use sign_in::{Attempt, Refused, SignInPolicy};

use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// Where the archive of the store in data dir `dir` keeps its files.
pub fn archive_root_of(dir: &Path) -> PathBuf {
    dir.join("archive")
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("không ghi được {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("dữ liệu lưu trữ hỏng: {0}")]
    Corrupt(String),
}

/// A workbook as recorded: where it came from, when it arrived, what was found.
#[derive(Debug, Clone)]
pub struct StoredSubmission {
    pub id: i64,
    pub sha256: String,
    pub source: String,
    pub file_name: String,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub received_at: DateTime<FixedOffset>,
    pub accepted: bool,
    pub findings_json: String,
    pub content_json: Option<String>,
}

/// A report version as recorded.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub version: i64,
    pub digest: String,
    pub generated_at: String,
}

pub struct Store {
    conn: Connection,
    dir: PathBuf,
}

impl Store {
    /// Opens (creating if need be) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let conn = Connection::open(dir.join("tthc.sqlite3"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        set_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        schema::migrate(&conn)?;
        let store = Store {
            conn,
            dir: dir.to_path_buf(),
        };
        store.replay_journal()?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where archived files are kept (see `archive_write`).
    pub fn archive_root(&self) -> PathBuf {
        archive_root_of(&self.dir)
    }

    /// Records new submissions whose files are already archived, with the
    /// receipts they are owed (queued in the ledger, due at once, so a
    /// process that dies before sending leaves them for the next run), in
    /// one transaction; returns their ids.
    pub fn record_submissions(&self, batch: &[NewSubmission]) -> Result<Vec<i64>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let now = chrono::Utc::now().to_rfc3339();
        let mut ids = Vec::with_capacity(batch.len());
        {
            let mut file = tx.prepare_cached(
                "INSERT OR IGNORE INTO files (sha256, size, path, stored_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for n in batch {
                file.execute(params![
                    n.submission.sha256,
                    n.size as i64,
                    n.archived_at.to_string_lossy(),
                    now
                ])?;
                let id = insert_submission_row(&tx, &n.submission, &now)?;
                if let Some((recipient, channel)) = &n.receipt {
                    queue_receipt(&tx, id, recipient, channel, &now)?;
                }
                ids.push(id);
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The bytes of an archived file.
    pub fn archived(&self, sha: &str) -> Result<Vec<u8>, StoreError> {
        archive::read(&self.dir.join("archive"), sha)
    }

    /// Whether this exact file from this source at this time was read already.
    pub fn has_submission(
        &self,
        sha: &str,
        source: &str,
        file_name: &str,
        received_at: &DateTime<FixedOffset>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM submissions WHERE sha256 = ?1 AND source = ?2 AND file_name = ?3 AND received_at = ?4",
                params![sha, source, file_name, received_at.to_rfc3339()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Every submission recorded for a period, oldest first.
    pub fn submissions_for(&self, period: &str) -> Result<Vec<StoredSubmission>, StoreError> {
        self.query_submissions("period = ?1 ORDER BY received_at, id", params![period])
    }

    /// One submission by its id.
    pub fn submission(&self, id: i64) -> Result<Option<StoredSubmission>, StoreError> {
        Ok(self
            .query_submissions("id = ?1", params![id])?
            .into_iter()
            .next())
    }

    fn query_submissions(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<StoredSubmission>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, sha256, source, file_name, unit, period, received_at, accepted, findings, content
             FROM submissions WHERE {filter}"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                sha256,
                source,
                file_name,
                unit,
                period,
                received,
                accepted,
                findings_json,
                content_json,
            ) = row?;
            let received_at = DateTime::parse_from_rfc3339(&received)
                .map_err(|e| StoreError::Corrupt(format!("thời điểm nhận \"{received}\": {e}")))?;
            out.push(StoredSubmission {
                id,
                sha256,
                source,
                file_name,
                unit,
                period,
                received_at,
                accepted,
                findings_json,
                content_json,
            });
        }
        Ok(out)
    }

    pub fn latest_version(&self, period: &str) -> Result<Option<StoredVersion>, StoreError> {
        Ok(self.versions(period)?.into_iter().next())
    }

    /// The report version of `period` for results with `digest`: the
    /// latest version if it has the same digest, else a new one numbered
    /// after it, recorded with the JSON `results(version, generated_at)`
    /// gives. Decided and recorded under the write lock, so two runs at
    /// once agree on the number. Returns the version and whether it is new.
    /// Runs `f` in a transaction that takes the write lock before it reads
    /// (`BEGIN IMMEDIATE`), so a second process waits rather than reading
    /// the same rows: committed when `f` succeeds, rolled back when it fails.
    pub(crate) fn immediate<T>(
        &self,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = f();
        match &result {
            Ok(_) => self.conn.execute_batch("COMMIT")?,
            Err(_) => {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
        result
    }

    pub fn reserve_version(
        &self,
        period: &str,
        digest: &str,
        generated_at: &str,
        results: impl FnOnce(i64, &str) -> Result<String, StoreError>,
    ) -> Result<(StoredVersion, bool), StoreError> {
        self.immediate(|| {
            let last = self.latest_version(period)?;
            if let Some(v) = last.as_ref().filter(|v| v.digest == digest) {
                return Ok((v.clone(), false));
            }
            let v = StoredVersion {
                version: last.map(|v| v.version + 1).unwrap_or(1),
                digest: digest.to_string(),
                generated_at: generated_at.to_string(),
            };
            let json = results(v.version, &v.generated_at)?;
            self.conn.execute(
                "INSERT INTO report_versions (period, version, digest, generated_at, results) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![period, v.version, v.digest, v.generated_at, json],
            )?;
            Ok((v, true))
        })
    }

    /// Records that a job started; returns the run's id.
    /// `holder` names the process, so that a run left unfinished by a
    /// process that died can be told apart from one still going.
    pub fn start_job(&self, job: &str, trigger: &str, holder: &str) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO job_runs (job, trigger, started_at, holder) VALUES (?1, ?2, ?3, ?4)",
            params![job, trigger, chrono::Utc::now().to_rfc3339(), holder],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records how a job run ended: `ok` or `failed`, and what it did.
    pub fn finish_job(&self, id: i64, outcome: &str, summary: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE job_runs SET finished_at = ?2, outcome = ?3, summary = ?4 WHERE id = ?1",
            params![id, chrono::Utc::now().to_rfc3339(), outcome, summary],
        )?;
        Ok(())
    }

    /// The latest job runs, newest first.
    pub fn job_runs(&self, limit: usize) -> Result<Vec<JobRun>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, job, trigger, started_at, finished_at, outcome, summary FROM job_runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(JobRun {
                id: r.get(0)?,
                job: r.get(1)?,
                trigger: r.get(2)?,
                started_at: r.get(3)?,
                finished_at: r.get(4)?,
                outcome: r.get(5)?,
                summary: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Periods (quarters) that have at least one submission, in order.
    pub fn periods_with_submissions(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT period FROM submissions WHERE period IS NOT NULL ORDER BY period",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Puts the database in WAL mode. Switching needs a moment alone with the
/// file, which a second process opening a new data dir at the same time
/// may hold: wait and try again rather than fail.
fn set_wal(conn: &Connection) -> Result<(), StoreError> {
    let mut tries = 0;
    loop {
        let mode: rusqlite::Result<String> =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0));
        match mode {
            Ok(_) => return Ok(()),
            Err(e) if tries < 100 && is_busy(&e) => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn insert_submission_row(
    tx: &Connection,
    s: &StoredSubmission,
    now: &str,
) -> Result<i64, StoreError> {
    tx.prepare_cached(
        "INSERT INTO submissions (sha256, source, file_name, unit, period, received_at, accepted, findings, content, checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        s.sha256,
        s.source,
        s.file_name,
        s.unit,
        s.period,
        s.received_at.to_rfc3339(),
        s.accepted,
        s.findings_json,
        s.content_json,
        now
    ])?;
    Ok(tx.last_insert_rowid())
}

/// A receipt owed, in the ledger, due at once.
fn queue_receipt(
    tx: &Connection,
    id: i64,
    recipient: &str,
    channel: &str,
    now: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (period, version, recipient, channel, status, attempts, detail, message_id, updated_at, next_attempt_at, first_at)
         VALUES (?1, 0, ?2, ?3, 'retry', 0, 'chờ gửi', '', ?4, ?4, ?4)",
    )?
    .execute(params![crate::deliver::receipt_key(id), recipient, channel, now])?;
    Ok(())
}

/// A submission to record whose file is archived.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub submission: StoredSubmission,
    pub size: u64,
    pub archived_at: PathBuf,
    /// (recipient, channel) of the receipt it is owed, if any.
    pub receipt: Option<(String, String)>,
}

/// A recorded run of a job.
#[derive(Debug, Clone)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    /// `manual`; `schedule`, `catch-up` or `retry` when `tthc serve` started it.
    pub trigger: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `ok`, `failed`, `stopped` (the service was shut down during it) or
    /// `interrupted` (its process died); none while it runs.
    pub outcome: Option<String>,
    pub summary: String,
}
