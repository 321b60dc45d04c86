//! Jobs and leases: every run of a job (who started it, when, how it
//! ended, what it did), the leases that let one process work while another
//! waits (the service on a data dir, a report run on a period), the runs
//! left behind by a process that died, and small values kept once per
//! data dir.

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
    pub fn last_job_run(
        &self,
        job: &str,
    ) -> Result<Option<(String, Option<JobOutcome>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT started_at, outcome FROM job_runs WHERE job = ?1 ORDER BY id DESC LIMIT 1",
                params![job],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
            )
            .optional()?
            .map(|(at, o)| (at, o.map(|o| o.parse().unwrap_or(JobOutcome::Interrupted)))))
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

impl Store {
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

    /// Records how a job run ended, and what it did.
    pub fn finish_job(
        &self,
        id: i64,
        outcome: JobOutcome,
        summary: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE job_runs SET finished_at = ?2, outcome = ?3, summary = ?4 WHERE id = ?1",
            params![
                id,
                chrono::Utc::now().to_rfc3339(),
                outcome.as_str(),
                summary
            ],
        )?;
        Ok(())
    }

    /// The latest job runs, newest first.
    pub fn job_runs(&self, limit: usize) -> Result<Vec<JobRun>, StoreError> {
        self.query_runs("1 ORDER BY id DESC LIMIT ?1", params![limit as i64])
    }

    /// The latest run of `job` whose trigger starts with `trigger` (the
    /// office's runs from the portal), running or ended.
    pub fn latest_job_run(&self, job: &str, trigger: &str) -> Result<Option<JobRun>, StoreError> {
        Ok(self
            .query_runs(
                "job = ?1 AND substr(trigger, 1, length(?2)) = ?2 ORDER BY id DESC LIMIT 1",
                params![job, trigger],
            )?
            .pop())
    }

    fn query_runs(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<JobRun>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, job, trigger, started_at, finished_at, outcome, summary FROM job_runs WHERE {filter}"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok(JobRun {
                id: r.get(0)?,
                job: r.get(1)?,
                trigger: r.get(2)?,
                started_at: r.get(3)?,
                finished_at: r.get(4)?,
                outcome: r
                    .get::<_, Option<String>>(5)?
                    .map(|o| o.parse().unwrap_or(JobOutcome::Interrupted)),
                summary: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The trigger of a run the office started from the portal, before the
/// office user's name.
pub const PORTAL_TRIGGER: &str = "portal:";

/// A recorded run of a job.
#[derive(Debug, Clone)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    /// `manual`; `schedule`, `catch-up` or `retry` when `tthc serve` started it.
    pub trigger: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// How it ended; none while it runs.
    pub outcome: Option<JobOutcome>,
    pub summary: String,
}

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Ok,
    Failed,
    /// The service was shut down during it; made up at the next start.
    Stopped,
    /// Its process died.
    Interrupted,
}

impl JobOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Ok => "ok",
            JobOutcome::Failed => "failed",
            JobOutcome::Stopped => "stopped",
            JobOutcome::Interrupted => "interrupted",
        }
    }
}

impl PartialEq<&str> for JobOutcome {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for JobOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            JobOutcome::Ok,
            JobOutcome::Failed,
            JobOutcome::Stopped,
            JobOutcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
        .ok_or_else(|| format!("kết quả \"{s}\" không rõ"))
    }
}
