//! The store: SQLite in the data dir and a content-addressed archive of
//! every file read. Files are kept by their SHA-256, written to a temporary
//! name, synced and renamed, never overwritten or deleted; a submission is
//! recorded only after its file is safely on disk.
//!
//! A file for each thing kept: `submissions`, `versions` (of reports),
//! `ledger` (deliveries and the office's notices), `jobs` (runs, leases,
//! small values), `accounts` (accounts, sessions, the audit log),
//! `sign_in` (failed sign-ins), `archive`; `schema` migrates, `pool` lends
//! one connection per task.

mod accounts;
mod archive;
mod jobs;
mod ledger;
mod pool;
mod schema;
mod sign_in;
mod submissions;
mod versions;

pub use crate::domain::Skip;
pub use accounts::{Account, AccountKind, AuditEntry, Session};
pub use archive::{sweep as archive_sweep, write as archive_write, write_all as archive_write_all};
pub use jobs::{JobOutcome, JobRun, LeaseHolder, PORTAL_TRIGGER};
pub use ledger::{
    Claim, ClaimMode, ClaimRequest, DeliveryRecord, DeliveryRow, DueDelivery, Notice, QUEUED_NOTE,
};
pub use pool::{Pool, Pooled};
pub use sign_in::{Attempt, Refused, SignInPolicy};
pub use submissions::{NewSubmission, StoredSubmission};
pub use versions::StoredVersion;

use rusqlite::Connection;
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

    /// One more connection to a store `open` has set up (migrated, its
    /// journal replayed): for the pool.
    fn connect(dir: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(dir.join("tthc.sqlite3"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
        })
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where archived files are kept (see `archive_write`).
    pub fn archive_root(&self) -> PathBuf {
        archive_root_of(&self.dir)
    }

    /// The bytes of an archived file.
    pub fn archived(&self, sha: &str) -> Result<Vec<u8>, StoreError> {
        archive::read(&self.dir.join("archive"), sha)
    }

    /// Runs `f` in a transaction that takes the write lock before it reads
    /// (`BEGIN IMMEDIATE`), so a second process waits rather than reading
    /// the same rows: committed when `f` succeeds, rolled back when it fails.
    pub fn immediate<T, E: From<rusqlite::Error>>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        // Inside a transaction already (an outer `immediate`): part of it.
        if !self.conn.is_autocommit() {
            return f();
        }
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
