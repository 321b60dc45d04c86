//! What the web portal keeps: accounts (a unit's access code or an office
//! user's password, as argon2 hashes only), sign-in sessions with their
//! CSRF token, and the audit log of sign-ins, uploads, downloads and
//! report runs.

use super::{Store, StoreError, StoredSubmission, StoredVersion};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

/// Who may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The unit's code, or the office user's name.
    pub login: String,
    /// "unit" or "office".
    pub kind: String,
    /// The unit the account speaks for (units only).
    pub unit: Option<String>,
    /// The argon2 hash of the access code or password (PHC string).
    pub hash: String,
}

/// A live sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub login: String,
    pub csrf: String,
    pub expires_at: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub who: String,
    pub action: String,
    pub detail: String,
    pub address: String,
}

impl Store {
    /// Creates or replaces an account: issuing a new code voids the old one
    /// and every session signed in with it.
    pub fn set_account(&self, a: &Account) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO accounts (login, kind, unit, hash, issued_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(login) DO UPDATE SET kind = ?2, unit = ?3, hash = ?4, issued_at = ?5",
            params![a.login, a.kind, a.unit, a.hash, Utc::now().to_rfc3339()],
        )?;
        tx.execute("DELETE FROM sessions WHERE login = ?1", params![a.login])?;
        tx.commit()?;
        Ok(())
    }

    pub fn account(&self, login: &str) -> Result<Option<Account>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT login, kind, unit, hash FROM accounts WHERE login = ?1",
                params![login],
                |r| {
                    Ok(Account {
                        login: r.get(0)?,
                        kind: r.get(1)?,
                        unit: r.get(2)?,
                        hash: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// The units that have an access code, with when it was issued.
    pub fn unit_codes_issued(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT unit, issued_at FROM accounts WHERE kind = 'unit' ORDER BY unit")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn create_session(&self, s: &Session) -> Result<(), StoreError> {
        // Expired sign-ins go as new ones come.
        self.conn.execute(
            "DELETE FROM sessions WHERE expires_at < ?1",
            params![Utc::now().to_rfc3339()],
        )?;
        self.conn.execute(
            "INSERT INTO sessions (id, login, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.id, s.login, s.csrf, Utc::now().to_rfc3339(), s.expires_at],
        )?;
        Ok(())
    }

    /// The session with this id, if it has not expired.
    pub fn session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Session>, StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT id, login, csrf, expires_at FROM sessions WHERE id = ?1",
                params![id],
                |r| {
                    Ok(Session {
                        id: r.get(0)?,
                        login: r.get(1)?,
                        csrf: r.get(2)?,
                        expires_at: r.get(3)?,
                    })
                },
            )
            .optional()?;
        Ok(found.filter(|s| DateTime::parse_from_rfc3339(&s.expires_at).is_ok_and(|t| t > now)))
    }

    pub fn end_session(&self, id: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
        Ok(())
    }

    pub fn audit(
        &self,
        who: &str,
        action: &str,
        detail: &str,
        address: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO audit (at, who, action, detail, address) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![Utc::now().to_rfc3339(), who, action, detail, address],
        )?;
        Ok(())
    }

    /// The latest entries of the audit log, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, who, action, detail, address FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                who: r.get(1)?,
                action: r.get(2)?,
                detail: r.get(3)?,
                address: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

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

    /// The report versions of a period, newest first.
    pub fn versions(&self, period: &str) -> Result<Vec<StoredVersion>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT version, digest, generated_at FROM report_versions WHERE period = ?1 ORDER BY version DESC",
        )?;
        let rows = stmt.query_map(params![period], |r| {
            Ok(StoredVersion {
                version: r.get(0)?,
                digest: r.get(1)?,
                generated_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The results JSON a report version was made from.
    pub fn version_results(
        &self,
        period: &str,
        version: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT results FROM report_versions WHERE period = ?1 AND version = ?2",
                params![period, version],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// A row of the delivery ledger, any batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerRow {
    pub key: String,
    pub version: i64,
    pub recipient: String,
    pub channel: String,
    pub status: String,
    pub attempts: i64,
    pub detail: String,
    pub updated_at: String,
}

impl Store {
    /// The latest rows of the delivery ledger: reports, reminders and
    /// receipts alike, newest first.
    pub fn ledger(&self, limit: usize) -> Result<Vec<LedgerRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT period, version, recipient, channel, status, attempts, detail, updated_at
             FROM deliveries ORDER BY updated_at DESC, rowid DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], |r| {
            Ok(LedgerRow {
                key: r.get(0)?,
                version: r.get(1)?,
                recipient: r.get(2)?,
                channel: r.get(3)?,
                status: r.get(4)?,
                attempts: r.get(5)?,
                detail: r.get(6)?,
                updated_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
