//! What `tthc serve` keeps in the store: the lease that lets one instance
//! work while another waits, the runs left behind by a process that died,
//! and small values kept once per data dir.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

/// Who holds a lease now.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseHolder {
    pub holder: String,
    pub until: String,
    pub since: String,
}

impl Store {
    /// Takes or renews the lease `name` for `holder` for `seconds`, unless
    /// another holder has it and it has not run out (or `dead` says that
    /// holder's process is gone). Returns the holder after the attempt.
    pub fn take_lease(
        &self,
        name: &str,
        holder: &str,
        seconds: u64,
        dead: impl Fn(&str) -> bool,
    ) -> Result<LeaseHolder, StoreError> {
        let now = Utc::now();
        let until = (now + chrono::Duration::seconds(seconds as i64)).to_rfc3339();
        self.immediate(|| {
            let current = self.lease_row(name)?;
            let free = match &current {
                None => true,
                Some(c) if c.holder == holder => true,
                Some(c) => {
                    DateTime::parse_from_rfc3339(&c.until).map_or(true, |t| t <= now)
                        || dead(&c.holder)
                }
            };
            if !free {
                return Ok(current.expect("held"));
            }
            let since = match &current {
                Some(c) if c.holder == holder => c.since.clone(),
                _ => now.to_rfc3339(),
            };
            self.conn.execute(
                "INSERT INTO leases (name, holder, until, since) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, until = excluded.until, since = excluded.since",
                params![name, holder, until, since],
            )?;
            Ok(LeaseHolder {
                holder: holder.to_string(),
                until,
                since,
            })
        })
    }

    /// Gives a lease back, if `holder` still has it.
    pub fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
            params![name, holder],
        )?;
        Ok(())
    }

    /// Who holds the lease `name`, if anyone does and it has not run out.
    pub fn lease(&self, name: &str) -> Result<Option<LeaseHolder>, StoreError> {
        let now = Utc::now();
        Ok(self
            .lease_row(name)?
            .filter(|l| DateTime::parse_from_rfc3339(&l.until).is_ok_and(|t| t > now)))
    }

    fn lease_row(&self, name: &str) -> Result<Option<LeaseHolder>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT holder, until, since FROM leases WHERE name = ?1",
                params![name],
                |r| {
                    Ok(LeaseHolder {
                        holder: r.get(0)?,
                        until: r.get(1)?,
                        since: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The processes that have runs not finished.
    pub fn unfinished_run_holders(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT holder FROM job_runs WHERE outcome IS NULL")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks the unfinished runs of a process that is gone as interrupted;
    /// returns how many.
    pub fn mark_interrupted(&self, holder: &str) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE job_runs SET outcome = 'interrupted', finished_at = ?1,
               summary = CASE WHEN summary = '' THEN 'tiến trình dừng đột ngột giữa chừng' ELSE summary END
             WHERE outcome IS NULL AND holder = ?2",
            params![Utc::now().to_rfc3339(), holder],
        )?)
    }

    /// The latest run of a job: when it started and how it ended (none if
    /// it is still running).
    pub fn last_job_run(&self, job: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT started_at, outcome FROM job_runs WHERE job = ?1 ORDER BY id DESC LIMIT 1",
                params![job],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets a value once; a later call leaves the first value.
    pub fn meta_set_once(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }
}
