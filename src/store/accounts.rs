//! What the web portal keeps: accounts (a unit's access code or an office
//! user's password, as argon2 hashes only), sign-in sessions with their
//! CSRF token, and the audit log of sign-ins, uploads, downloads and
//! report runs.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

/// Who may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The unit's code, or the office user's name.
    pub login: String,
    pub kind: AccountKind,
    /// The unit the account speaks for (units only).
    pub unit: Option<String>,
    /// The argon2 hash of the access code or password (PHC string).
    pub hash: String,
}

/// Whom an account signs in: a unit (with its access code) or a user of
/// the office (with a password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Unit,
    Office,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Unit => "unit",
            AccountKind::Office => "office",
        }
    }

    fn parse(s: &str) -> AccountKind {
        // Only these two are ever written.
        if s == "office" {
            AccountKind::Office
        } else {
            AccountKind::Unit
        }
    }
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
            params![
                a.login,
                a.kind.as_str(),
                a.unit,
                a.hash,
                Utc::now().to_rfc3339()
            ],
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
                        kind: AccountKind::parse(&r.get::<_, String>(1)?),
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
}
