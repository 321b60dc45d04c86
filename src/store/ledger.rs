//! The delivery ledger: one row per letter (a report version, a reminder
//! or a receipt) and recipient, taken atomically before sending so that a
//! letter reaches a recipient once across re-runs, restarts and two
//! processes; the failure notices owed to the office; and a journal file
//! beside the database for the one fact that must never be lost — that a
//! server accepted a message — when the database cannot take it at once.

use super::{Store, StoreError};
use crate::domain::{Channel, DeliveryState, Skip};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use std::io::Write;
use std::path::PathBuf;

const JOURNAL: &str = "ledger-journal.jsonl";

/// One delivery attempt's outcome, to record.
#[derive(Debug, Clone)]
pub struct DeliveryRecord<'a> {
    pub period: &'a str,
    pub version: i64,
    pub recipient: &'a str,
    pub channel: Channel,
    pub status: DeliveryState,
    /// The file written, or the server's reply, or why it failed.
    pub detail: String,
    pub message_id: &'a str,
}

/// How a claim treats a row that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimMode {
    /// A run or the service: new rows, rows due for a retry, and rows a
    /// dead process left mid-send.
    Auto,
    /// The office asked (`tthc send`): also rows that failed, and rows
    /// waiting for their retry time.
    Manual,
    /// `--resend`: every row not being sent by another process right now.
    Force,
}

/// What a process asks for when it wants to send.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub period: &'a str,
    pub version: i64,
    pub recipient: &'a str,
    pub channel: Channel,
    pub message_id: &'a str,
    /// How long the claim holds without news from its holder.
    pub lease_seconds: u64,
    pub mode: ClaimMode,
}

/// A delivery this process now holds.
#[derive(Debug, Clone)]
pub struct Claim {
    /// An earlier attempt may have reached the server without being recorded.
    pub uncertain: bool,
    /// The office was already told that this letter had not gone.
    pub notified: bool,
}

/// What a claim reads of a row that exists.
struct Existing {
    status: String,
    next: Option<String>,
    lease: Option<String>,
    uncertain: bool,
    notified: bool,
    detail: String,
    updated: String,
}

/// The note of a letter queued and not yet tried.
pub const QUEUED_NOTE: &str = "chờ gửi";

/// A ledger row.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub period: String,
    pub version: i64,
    pub recipient: String,
    pub channel: Channel,
    pub status: DeliveryState,
    pub attempts: i64,
    pub detail: String,
    pub message_id: String,
    pub uncertain: bool,
    pub updated_at: String,
    pub next_attempt_at: Option<String>,
}

/// A ledger row due for another try: its batch key and version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueDelivery {
    pub key: String,
    pub version: i64,
}

/// A line owed to the office: a letter that did not go, or one reported
/// before that has now gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: i64,
    /// `failed` or `delivered`.
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
    pub created_at: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct JournalEntry {
    period: String,
    version: i64,
    recipient: String,
    channel: String,
    status: String,
    detail: String,
    message_id: String,
}

impl Store {
    /// Takes a delivery for sending, atomically, so that two processes on
    /// one data dir never send the same letter to the same recipient. A
    /// row left "sending" by a process that died (its lease ran out) is
    /// taken over and counted as uncertain: the server may have the mail.
    pub fn claim_delivery(&self, c: &ClaimRequest) -> Result<Result<Claim, Skip>, StoreError> {
        self.replay_journal()?;
        let now = Utc::now();
        let lease = (now + chrono::Duration::seconds(c.lease_seconds as i64)).to_rfc3339();
        // A second process waits here rather than reading the same "free" row.
        self.immediate(|| self.claim_locked(c, now, &lease))
    }

    fn claim_locked(
        &self,
        c: &ClaimRequest,
        now: DateTime<Utc>,
        lease: &str,
    ) -> Result<Result<Claim, Skip>, StoreError> {
        let row: Option<Existing> = self
            .conn
            .query_row(
                "SELECT status, next_attempt_at, lease_until, uncertain, notified, detail, updated_at
                 FROM deliveries WHERE period = ?1 AND version = ?2 AND recipient = ?3",
                params![c.period, c.version, c.recipient],
                |r| {
                    Ok(Existing {
                        status: r.get(0)?,
                        next: r.get(1)?,
                        lease: r.get(2)?,
                        uncertain: r.get::<_, i64>(3)? > 0,
                        notified: r.get::<_, i64>(4)? > 0,
                        detail: r.get(5)?,
                        updated: r.get(6)?,
                    })
                },
            )
            .optional()?;
        let expired = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_none_or(|t| t <= now)
        };
        let manual = c.mode != ClaimMode::Auto;
        // (take it, a dead sender may have delivered, start a fresh count)
        let decision: Result<(bool, bool), Skip> = match &row {
            None => Ok((false, false)),
            Some(r) if r.status == "sending" => {
                if expired(&r.lease) {
                    Ok((true, false))
                } else {
                    Err(Skip::InProgress)
                }
            }
            Some(_) if c.mode == ClaimMode::Force => Ok((false, true)),
            Some(r) if r.status == "retry" => {
                if manual || expired(&r.next) {
                    Ok((false, false))
                } else {
                    Err(Skip::NotDue {
                        at: r.next.clone().unwrap_or_default(),
                    })
                }
            }
            Some(r) if r.status == "failed" => {
                if manual {
                    Ok((false, true))
                } else {
                    Err(Skip::Failed {
                        why: r.detail.clone(),
                    })
                }
            }
            Some(r) => Err(Skip::Received {
                at: r.updated.clone(),
            }),
        };
        let (uncertain, fresh) = match decision {
            Ok(d) => d,
            Err(skip) => return Ok(Err(skip)),
        };
        let now_s = now.to_rfc3339();
        self.conn.execute(
            "INSERT INTO deliveries (period, version, recipient, channel, status, attempts, detail, message_id, updated_at, lease_until, uncertain, first_at)
             VALUES (?1, ?2, ?3, ?4, 'sending', 0, '', ?5, ?6, ?7, ?8, ?6)
             ON CONFLICT(period, version, recipient) DO UPDATE SET
               channel = excluded.channel, status = 'sending', message_id = excluded.message_id,
               updated_at = excluded.updated_at, lease_until = excluded.lease_until,
               uncertain = deliveries.uncertain + excluded.uncertain,
               attempts = CASE WHEN ?9 THEN 0 ELSE deliveries.attempts END,
               first_at = CASE WHEN ?9 OR deliveries.first_at IS NULL THEN excluded.first_at ELSE deliveries.first_at END",
            params![
                c.period,
                c.version,
                c.recipient,
                c.channel.as_str(),
                c.message_id,
                now_s,
                lease,
                i64::from(uncertain),
                fresh
            ],
        )?;
        Ok(Ok(Claim {
            uncertain: uncertain || row.as_ref().is_some_and(|r| r.uncertain),
            notified: row.is_some_and(|r| r.notified),
        }))
    }

    /// Records one attempt's outcome: `sent`, `retry` (with when), `failed` or `written`.
    pub fn finish_delivery(
        &self,
        d: &DeliveryRecord,
        next_attempt_at: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE deliveries SET status = ?4, detail = ?5, attempts = attempts + 1, next_attempt_at = ?6,
               lease_until = NULL, updated_at = ?7, channel = ?8
             WHERE period = ?1 AND version = ?2 AND recipient = ?3",
            params![d.period, d.version, d.recipient, d.status.as_str(), d.detail, next_attempt_at, Utc::now().to_rfc3339(), d.channel.as_str()],
        )?;
        Ok(())
    }

    /// Records an outcome so that it is never lost, above all that a server
    /// accepted a message (were "sent" lost, the next run would send it
    /// again). The database may be busy or failing just then: the write is
    /// tried again, and if it still fails the outcome goes to the journal
    /// file, applied before any later claim. Only if that fails too is it
    /// an error.
    pub fn finish_delivery_durably(
        &self,
        d: &DeliveryRecord,
        next_attempt_at: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut last = None;
        for n in 0..5u32 {
            match self.finish_delivery(d, next_attempt_at) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, tries = n + 1, status = d.status.as_str(), recipient = d.recipient, "could not record a delivery in the ledger; trying again");
                    last = Some(e);
                    std::thread::sleep(std::time::Duration::from_millis(50 << n));
                }
            }
        }
        tracing::error!(error = %last.map(|e| e.to_string()).unwrap_or_default(), status = d.status.as_str(), recipient = d.recipient, "the ledger refused a delivery's outcome; kept in its journal file until it takes it");
        self.journal_delivery(d)
    }

    /// Keeps an outcome the database could not take in the journal file
    /// beside it (appended and synced); it is applied to the ledger before
    /// any later claim, by this process or another.
    pub fn journal_delivery(&self, d: &DeliveryRecord) -> Result<(), StoreError> {
        let path = self.dir.join(JOURNAL);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let entry = JournalEntry {
            period: d.period.into(),
            version: d.version,
            recipient: d.recipient.into(),
            channel: d.channel.as_str().into(),
            status: d.status.as_str().into(),
            detail: d.detail.clone(),
            message_id: d.message_id.into(),
        };
        let line = serde_json::to_string(&entry)
            .map_err(|e| StoreError::Corrupt(format!("sổ gửi thư dự phòng: {e}")))?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        f.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        Ok(())
    }

    /// Applies what the journal holds to the ledger, then removes it.
    pub fn replay_journal(&self) -> Result<usize, StoreError> {
        let path = self.dir.join(JOURNAL);
        if !path.exists() {
            return Ok(0);
        }
        // Taken by renaming, so two processes never apply one journal twice.
        let taken: PathBuf = self
            .dir
            .join(format!("{JOURNAL}.{}.replay", std::process::id()));
        if std::fs::rename(&path, &taken).is_err() {
            return Ok(0);
        }
        let text = std::fs::read_to_string(&taken).map_err(|source| StoreError::Io {
            path: taken.clone(),
            source,
        })?;
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            // A line torn by a crash while it was written is the only kind
            // that does not parse; its send was not acknowledged.
            let Ok(e) = serde_json::from_str::<JournalEntry>(line) else {
                continue;
            };
            self.finish_delivery(
                &DeliveryRecord {
                    period: &e.period,
                    version: e.version,
                    recipient: &e.recipient,
                    channel: e.channel.parse().unwrap_or(Channel::Smtp),
                    status: e.status.parse().unwrap_or(DeliveryState::Sent),
                    detail: e.detail.clone(),
                    message_id: &e.message_id,
                },
                None,
            )?;
            n += 1;
        }
        let _ = std::fs::remove_file(&taken);
        Ok(n)
    }

    /// Notes a failed try of a delivery still held, and extends the hold.
    pub fn note_attempt(&self, d: &DeliveryRecord, lease_seconds: u64) -> Result<(), StoreError> {
        let lease = (Utc::now() + chrono::Duration::seconds(lease_seconds as i64)).to_rfc3339();
        self.conn.execute(
            "UPDATE deliveries SET detail = ?4, attempts = attempts + 1, lease_until = ?5, updated_at = ?6
             WHERE period = ?1 AND version = ?2 AND recipient = ?3",
            params![d.period, d.version, d.recipient, d.detail, lease, Utc::now().to_rfc3339()],
        )?;
        Ok(())
    }

    /// Counts a possible repeat: the server may have kept a copy that was
    /// never acknowledged, and the next try sends another.
    pub fn mark_uncertain(
        &self,
        key: &str,
        version: i64,
        recipient: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE deliveries SET uncertain = uncertain + 1 WHERE period = ?1 AND version = ?2 AND recipient = ?3",
            params![key, version, recipient],
        )?;
        Ok(())
    }

    /// Tries made so far and when the row was first taken.
    pub fn delivery_age(
        &self,
        key: &str,
        version: i64,
        recipient: &str,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let row: Option<(i64, Option<String>)> = self
            .conn
            .query_row(
                "SELECT attempts, COALESCE(first_at, updated_at) FROM deliveries WHERE period = ?1 AND version = ?2 AND recipient = ?3",
                params![key, version, recipient],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row
            .map(|(n, t)| {
                (
                    n,
                    t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                        .map(|t| t.with_timezone(&Utc)),
                )
            })
            .unwrap_or((0, None)))
    }

    /// Notes whether the office has been told that this row's letter has
    /// not gone (so it is told once, and told again when it does go).
    pub fn set_notified(
        &self,
        key: &str,
        version: i64,
        recipient: &str,
        notified: bool,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE deliveries SET notified = ?4 WHERE period = ?1 AND version = ?2 AND recipient = ?3",
            params![key, version, recipient, notified],
        )?;
        Ok(())
    }

    /// Every delivery of a period, for `tthc send` and the office's view.
    pub fn deliveries(&self, period: &str) -> Result<Vec<DeliveryRow>, StoreError> {
        self.query_deliveries("period = ?1 ORDER BY version, recipient", params![period])
    }

    /// The whole ledger, newest first, at most `limit` rows.
    pub fn all_deliveries(&self, limit: usize) -> Result<Vec<DeliveryRow>, StoreError> {
        self.query_deliveries(
            "1 ORDER BY updated_at DESC, period, recipient LIMIT ?1",
            params![limit as i64],
        )
    }

    /// The letters sent to one address, newest first, at most `limit`.
    pub fn deliveries_to(
        &self,
        recipient: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        self.query_deliveries(
            "recipient = ?1 ORDER BY updated_at DESC, period LIMIT ?2",
            params![recipient, limit as i64],
        )
    }

    fn query_deliveries(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT period, version, recipient, channel, status, attempts, detail, message_id, uncertain, updated_at, next_attempt_at
             FROM deliveries WHERE {filter}"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok(DeliveryRow {
                period: r.get(0)?,
                version: r.get(1)?,
                recipient: r.get(2)?,
                channel: parse_column(r, 3)?,
                status: parse_column(r, 4)?,
                attempts: r.get(5)?,
                detail: r.get(6)?,
                message_id: r.get(7)?,
                uncertain: r.get::<_, i64>(8)? > 0,
                updated_at: r.get(9)?,
                next_attempt_at: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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

    /// Records a line owed to the office about the letter `key`, `version`
    /// to `recipient`, before it is sent; returns its id.
    pub fn add_notice(
        &self,
        kind: &str,
        (key, version, recipient): (&str, i64, &str),
        subject: &str,
        body: &str,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO notices (kind, period, version, recipient, subject, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![kind, key, version, recipient, subject, body, Utc::now().to_rfc3339()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Withdraws the failure notices about a letter that have not gone yet
    /// (it went before the office was told it had not); whether any was.
    pub fn withdraw_notice(
        &self,
        key: &str,
        version: i64,
        recipient: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "UPDATE notices SET gave_up_at = ?4, last_error = 'thư đã gửi được trước khi báo'
             WHERE kind = 'failed' AND period = ?1 AND version = ?2 AND recipient = ?3
               AND sent_at IS NULL AND gave_up_at IS NULL",
            params![key, version, recipient, Utc::now().to_rfc3339()],
        )? > 0)
    }

    /// Notices not yet sent nor given up; with `due_only`, only those whose
    /// next try has come. Oldest first.
    pub fn pending_notices(&self, due_only: bool) -> Result<Vec<Notice>, StoreError> {
        let now = Utc::now().to_rfc3339();
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, subject, body, attempts, created_at FROM notices
             WHERE sent_at IS NULL AND gave_up_at IS NULL
               AND (?1 = 0 OR next_attempt_at IS NULL OR next_attempt_at <= ?2)
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![due_only, now], |r| {
            Ok(Notice {
                id: r.get(0)?,
                kind: r.get(1)?,
                subject: r.get(2)?,
                body: r.get(3)?,
                attempts: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a try at sending notices together: sent (no error), or the
    /// error with the next try's time, or given up (`next` none).
    pub fn notices_tried(
        &self,
        ids: &[i64],
        error: Option<&str>,
        next: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = Utc::now().to_rfc3339();
        let tx = self.conn.unchecked_transaction()?;
        for id in ids {
            tx.execute(
                "UPDATE notices SET attempts = attempts + 1,
                   sent_at = CASE WHEN ?2 IS NULL THEN ?3 ELSE NULL END,
                   last_error = COALESCE(?2, ''),
                   next_attempt_at = ?4,
                   gave_up_at = CASE WHEN ?2 IS NOT NULL AND ?4 IS NULL THEN ?3 ELSE NULL END
                 WHERE id = ?1",
                params![id, error, now, next],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// A text column read as one of the ledger's types.
fn parse_column<T: std::str::FromStr<Err = String>>(
    r: &rusqlite::Row,
    i: usize,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    text.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim<'a>(key: &'a str, mode: ClaimMode) -> ClaimRequest<'a> {
        ClaimRequest {
            period: key,
            version: 1,
            recipient: "a@b.vn",
            channel: Channel::Smtp,
            message_id: "<x@b.vn>",
            lease_seconds: 20,
            mode,
        }
    }

    fn sent(key: &str) -> DeliveryRecord<'_> {
        DeliveryRecord {
            period: key,
            version: 1,
            recipient: "a@b.vn",
            channel: Channel::Smtp,
            status: DeliveryState::Sent,
            detail: "250 OK".into(),
            message_id: "<x@b.vn>",
        }
    }

    #[test]
    fn a_sent_the_database_refused_is_kept_and_stops_a_second_send() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(
            store
                .claim_delivery(&claim("2022-Q4", ClaimMode::Auto))
                .unwrap()
                .is_ok()
        );
        // The database refuses every change to the ledger, as a full disk would.
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER full BEFORE UPDATE ON deliveries BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
            )
            .unwrap();
        store
            .finish_delivery_durably(&sent("2022-Q4"), None)
            .unwrap();
        assert!(dir.path().join(JOURNAL).exists(), "kept in the journal");
        store.conn.execute_batch("DROP TRIGGER full").unwrap();
        // The next claim, by this process or another, learns it was sent.
        let again = Store::open(dir.path()).unwrap();
        assert!(matches!(
            again
                .claim_delivery(&claim("2022-Q4", ClaimMode::Auto))
                .unwrap(),
            Err(Skip::Received { .. })
        ));
        assert!(!dir.path().join(JOURNAL).exists(), "applied and removed");
    }

    #[test]
    fn a_failed_row_is_tried_again_only_when_the_office_asks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .claim_delivery(&claim("k", ClaimMode::Auto))
            .unwrap()
            .unwrap();
        let mut failed = sent("k");
        failed.status = DeliveryState::Failed;
        failed.detail = "550 không có hộp thư".into();
        store.finish_delivery(&failed, None).unwrap();
        assert_eq!(
            store
                .claim_delivery(&claim("k", ClaimMode::Auto))
                .unwrap()
                .unwrap_err(),
            Skip::Failed {
                why: "550 không có hộp thư".into()
            }
        );
        assert!(
            store
                .claim_delivery(&claim("k", ClaimMode::Manual))
                .unwrap()
                .is_ok()
        );
        // Now another process holds it: not even a resend takes it.
        assert_eq!(
            store
                .claim_delivery(&claim("k", ClaimMode::Force))
                .unwrap()
                .unwrap_err(),
            Skip::InProgress
        );
    }

    #[test]
    fn many_processes_opening_a_new_data_dir_at_once_all_succeed() {
        for _ in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().to_path_buf();
            let opened: Vec<_> = (0..6)
                .map(|_| {
                    let p = path.clone();
                    std::thread::spawn(move || Store::open(&p).map(|_| ()))
                })
                .collect();
            for t in opened {
                t.join().unwrap().expect("every opener succeeds");
            }
        }
    }

    #[test]
    fn two_runs_at_once_agree_on_the_version_number() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap();
        let path = dir.path().to_path_buf();
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let p = path.clone();
                std::thread::spawn(move || {
                    let s = Store::open(&p).unwrap();
                    s.reserve_version("2022-Q4", "d1", "t", |_, _| Ok("{}".into()))
                        .unwrap()
                        .0
                        .version
                })
            })
            .collect();
        let versions: Vec<i64> = runs.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(versions.iter().all(|v| *v == 1), "{versions:?}");
    }
}
