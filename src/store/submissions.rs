//! Submissions: every workbook read (from the inbox or the portal), with
//! where it came from, when it arrived, what was found in it and, when it
//! was accepted, what it holds; recorded together with the receipt each
//! is owed, in one transaction, after its file is in the archive.

use super::{Store, StoreError};
use crate::domain::{Channel, LedgerKey};
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::PathBuf;

/// Whether a file (its hash, source, name and arrival) was read before.
const READ_BEFORE: &str = "SELECT 1 FROM submissions WHERE sha256 = ?1 AND source = ?2 AND file_name = ?3 AND received_at = ?4";

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

/// A submission to record whose file is archived.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub submission: StoredSubmission,
    pub size: u64,
    pub archived_at: PathBuf,
    /// (recipient, channel) of the receipt it is owed, if any.
    pub receipt: Option<(String, Channel)>,
}

impl Store {
    /// How many files a unit uploaded through the portal for a quarter, and
    /// their bytes (each upload counts, a repeat too): what its quota holds.
    pub fn portal_uploads(&self, unit: &str, period: &str) -> Result<(u32, u64), StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(f.size), 0) FROM submissions s
             JOIN files f ON f.sha256 = s.sha256
             WHERE s.source = ?1 AND s.period = ?2",
            params![format!("web:{unit}"), period],
            |r| Ok((r.get::<_, i64>(0)? as u32, r.get::<_, i64>(1)? as u64)),
        )?)
    }

    /// A unit's submissions, newest first.
    pub fn submissions_of(
        &self,
        unit: &str,
        limit: usize,
    ) -> Result<Vec<StoredSubmission>, StoreError> {
        self.query_submissions(
            "unit = ?1 ORDER BY id DESC LIMIT ?2",
            params![unit, limit as i64],
        )
    }

    /// Records new submissions whose files are already archived, with the
    /// receipts they are owed (queued in the ledger, due at once, so a
    /// process that dies before sending leaves them for the next run), in
    /// one transaction (or as part of the caller's, inside `immediate`);
    /// returns their ids.
    pub fn record_submissions(&self, batch: &[NewSubmission]) -> Result<Vec<i64>, StoreError> {
        self.immediate(|| {
            let tx = &self.conn;
            let now = chrono::Utc::now().to_rfc3339();
            let mut ids = Vec::with_capacity(batch.len());
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
                let id = insert_submission_row(tx, &n.submission, &now)?;
                if let Some((recipient, channel)) = &n.receipt {
                    queue_receipt(tx, id, recipient, *channel, &now)?;
                }
                ids.push(id);
            }
            Ok(ids)
        })
    }

    /// Whether this exact file from this source at this time was read already.
    /// One index lookup (`submissions_file`), however many were recorded.
    pub fn has_submission(
        &self,
        sha: &str,
        source: &str,
        file_name: &str,
        received_at: &DateTime<FixedOffset>,
    ) -> Result<bool, StoreError> {
        // Asked once for every file of a run: the statement is kept.
        Ok(self
            .conn
            .prepare_cached(READ_BEFORE)?
            .query_row(
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
            let received: String = r.get(6)?;
            let received_at = DateTime::parse_from_rfc3339(&received).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    6,
                    rusqlite::types::Type::Text,
                    format!("thời điểm nhận \"{received}\": {e}").into(),
                )
            })?;
            Ok(StoredSubmission {
                id: r.get(0)?,
                sha256: r.get(1)?,
                source: r.get(2)?,
                file_name: r.get(3)?,
                unit: r.get(4)?,
                period: r.get(5)?,
                received_at,
                accepted: r.get(7)?,
                findings_json: r.get(8)?,
                content_json: r.get(9)?,
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
    channel: Channel,
    now: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (period, version, recipient, channel, status, attempts, detail, message_id, updated_at, next_attempt_at, first_at)
         VALUES (?1, 0, ?2, ?3, 'retry', 0, ?5, '', ?4, ?4, ?4)",
    )?
    .execute(params![
        LedgerKey::Receipt { submission: id }.parts().0,
        recipient,
        channel.as_str(),
        now,
        super::ledger::QUEUED_NOTE
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_whether_a_file_was_read_before_looks_it_up_in_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut plan = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {READ_BEFORE}"))
            .unwrap();
        let steps: Vec<String> = plan
            .query_map(
                params!["a", "inbox", "x.xlsx", "2022-12-20T08:00:00+07:00"],
                |r| r.get(3),
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            steps.iter().any(|s| s.contains("INDEX submissions_file")),
            "{steps:?}"
        );
        assert!(!steps.iter().any(|s| s.starts_with("SCAN")), "{steps:?}");
    }
}
