//! What `tthc serve` keeps in the store: the lease that lets one instance
//! work while another waits, the runs left behind by a process that died,
//! and the deliveries due for another try.

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

/// A ledger row due for another try: its batch key and version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueDelivery {
    pub key: String,
    pub version: i64,
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
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = (|| {
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
        })();
        match &result {
            Ok(_) => self.conn.execute_batch("COMMIT")?,
            Err(_) => {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
        }
        result
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

    /// Deliveries due for another try now: a temporary failure whose wait
    /// is over, or a send whose holder stopped renewing its lease.
    pub fn due_deliveries(&self) -> Result<Vec<DueDelivery>, StoreError> {
        let now = Utc::now().to_rfc3339();
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT period, version FROM deliveries
             WHERE (status = 'retry' AND (next_attempt_at IS NULL OR next_attempt_at <= ?1))
                OR (status = 'sending' AND (lease_until IS NULL OR lease_until <= ?1))
             ORDER BY period, version",
        )?;
        let rows = stmt.query_map(params![now], |r| {
            Ok(DueDelivery {
                key: r.get(0)?,
                version: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Closes the rows of a batch that are still due after a retry found
    /// nothing left to send for them (the unit has since sent, a newer
    /// report version replaced this one): `failed`, with the reason.
    pub fn abandon_due(&self, key: &str, version: i64, why: &str) -> Result<usize, StoreError> {
        let now = Utc::now().to_rfc3339();
        Ok(self.conn.execute(
            "UPDATE deliveries SET status = 'failed', detail = ?4, lease_until = NULL, next_attempt_at = NULL, updated_at = ?3
             WHERE period = ?1 AND version = ?2 AND (
               (status = 'retry' AND (next_attempt_at IS NULL OR next_attempt_at <= ?3))
               OR (status = 'sending' AND (lease_until IS NULL OR lease_until <= ?3)))",
            params![key, version, now, why],
        )?)
    }

    /// Records a failure notice for the office before it is sent; returns its id.
    pub fn add_notice(&self, subject: &str, body: &str) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO notices (subject, body, created_at) VALUES (?1, ?2, ?3)",
            params![subject, body, Utc::now().to_rfc3339()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Notices not yet sent: (id, subject, body), oldest first.
    pub fn pending_notices(&self) -> Result<Vec<(i64, String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, subject, body FROM notices WHERE sent_at IS NULL ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a try at sending a notice: sent, or the error.
    pub fn notice_tried(&self, id: i64, error: Option<&str>) -> Result<(), StoreError> {
        let now = Utc::now().to_rfc3339();
        self.conn.execute(
            "UPDATE notices SET attempts = attempts + 1, sent_at = CASE WHEN ?2 IS NULL THEN ?3 ELSE NULL END,
               last_error = COALESCE(?2, '') WHERE id = ?1",
            params![id, error, now],
        )?;
        Ok(())
    }

    /// Extends the hold on a delivery being sent.
    pub fn renew_delivery(
        &self,
        key: &str,
        version: i64,
        recipient: &str,
        seconds: u64,
    ) -> Result<(), StoreError> {
        let until = (Utc::now() + chrono::Duration::seconds(seconds as i64)).to_rfc3339();
        self.conn.execute(
            "UPDATE deliveries SET lease_until = ?4 WHERE period = ?1 AND version = ?2 AND recipient = ?3 AND status = 'sending'",
            params![key, version, recipient, until],
        )?;
        Ok(())
    }

    /// The latest report version of `key` that reached every one of
    /// `recipients` (sent or written), if any did.
    pub fn delivered_to_all(
        &self,
        key: &str,
        recipients: &[String],
    ) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT version, recipient FROM deliveries WHERE period = ?1 AND status IN ('sent', 'written') AND version > 0",
        )?;
        let rows: Vec<(i64, String)> = stmt
            .query_map(params![key], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut versions: Vec<i64> = rows.iter().map(|r| r.0).collect();
        versions.sort_unstable();
        versions.dedup();
        Ok(versions.into_iter().rev().find(|v| {
            recipients
                .iter()
                .all(|to| rows.iter().any(|(rv, rr)| rv == v && rr == to))
        }))
    }
}
