//! The vocabulary of delivery: which letter a ledger row is (a report
//! version, a reminder, a receipt), the way it goes (a mail server or the
//! outbox folder) and the state the ledger holds for it. The ledger stores
//! these as text; everything else handles them as these types.

use super::Period;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// How letters leave: a configured mail server, or `.eml` files in the
/// outbox folder when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Smtp,
    Outbox,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Smtp => "smtp",
            Channel::Outbox => "outbox",
        }
    }
}

impl PartialEq<&str> for Channel {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "smtp" => Ok(Channel::Smtp),
            "outbox" => Ok(Channel::Outbox),
            other => Err(format!("kênh gửi \"{other}\" không rõ")),
        }
    }
}

/// Where a ledger row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// A process holds it and is sending it now.
    Sending,
    /// The mail server accepted it.
    Sent,
    /// Written to the outbox folder.
    Written,
    /// Not gone yet; due again at its next try.
    Retry,
    /// Not gone, for good (until the office sends it again).
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Written => "written",
            DeliveryState::Retry => "retry",
            DeliveryState::Failed => "failed",
        }
    }

    /// The recipient has it.
    pub fn delivered(self) -> bool {
        matches!(self, DeliveryState::Sent | DeliveryState::Written)
    }
}

/// A state compares with the word the ledger stores for it.
impl PartialEq<&str> for DeliveryState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            DeliveryState::Sending,
            DeliveryState::Sent,
            DeliveryState::Written,
            DeliveryState::Retry,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
        .ok_or_else(|| format!("trạng thái gửi \"{s}\" không rõ"))
    }
}

/// Which letter a ledger row is. The ledger keys rows by text and a
/// number; this is what they mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKey {
    /// A report version of a period (versions count from 1).
    Report { period: Period, version: i64 },
    /// The reminder to send a period's workbook.
    Reminder { period: Period },
    /// The receipt of one submission.
    Receipt { submission: i64 },
}

const RECEIPT_PREFIX: &str = "nhan-";

impl LedgerKey {
    /// The (key, version) the ledger stores.
    pub fn parts(self) -> (String, i64) {
        match self {
            LedgerKey::Report { period, version } => (period.to_string(), version),
            LedgerKey::Reminder { period } => (period.to_string(), 0),
            LedgerKey::Receipt { submission } => (format!("{RECEIPT_PREFIX}{submission}"), 0),
        }
    }

    /// What a stored (key, version) is, if it is anything known.
    pub fn from_parts(key: &str, version: i64) -> Option<LedgerKey> {
        if let Some(id) = key.strip_prefix(RECEIPT_PREFIX) {
            return id
                .parse()
                .ok()
                .map(|submission| LedgerKey::Receipt { submission });
        }
        let period: Period = key.parse().ok()?;
        Some(match version {
            0 => LedgerKey::Reminder { period },
            v => LedgerKey::Report { period, version: v },
        })
    }
}

/// Why a claim was not given: what is true of the row.
#[derive(Debug, Clone, PartialEq)]
pub enum Skip {
    /// The recipient has this letter (sent or written), at this time.
    Received { at: String },
    /// Another process is sending it right now.
    InProgress,
    /// It failed for good; the office can send it again with `tthc send`.
    Failed { why: String },
    /// It waits for its next try, at this time.
    NotDue { at: String },
}

/// What became of one recipient's copy.
#[derive(Debug, Clone, PartialEq)]
pub enum LetterStatus {
    /// The server accepted it.
    Sent,
    /// Written to the outbox folder (no mail server configured).
    Written,
    /// Not sent yet; the ledger has it due again later.
    Retry,
    /// Not sent, for good (until the office sends it again).
    Failed,
    /// The service is stopping: not tried now, due at once for the next run.
    Postponed,
    /// Not tried by this run: what the ledger says of it.
    Skipped(Skip),
}

impl LetterStatus {
    /// The recipient has the letter from this run.
    pub fn delivered(&self) -> bool {
        matches!(self, LetterStatus::Sent | LetterStatus::Written)
    }

    /// Nothing is owed: delivered now or before, or another process has it.
    pub fn settled(&self) -> bool {
        self.delivered()
            || matches!(
                self,
                LetterStatus::Skipped(Skip::Received { .. } | Skip::InProgress)
            )
    }
}

/// What became of one recipient's copy.
#[derive(Debug, Clone, PartialEq)]
pub struct LetterOutcome {
    pub recipient: String,
    pub status: LetterStatus,
    pub detail: String,
    /// This send may repeat an earlier one the server got but the ledger missed.
    pub uncertain: bool,
    /// The `.eml` written, for the outbox.
    pub file: Option<PathBuf>,
}

impl LetterOutcome {
    pub fn new(recipient: &str, status: LetterStatus, detail: impl Into<String>) -> LetterOutcome {
        LetterOutcome {
            recipient: recipient.to_string(),
            status,
            detail: detail.into(),
            uncertain: false,
            file: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_key_reads_back_what_it_stores() {
        for k in [
            LedgerKey::Report {
                period: Period::quarter(2022, 4),
                version: 3,
            },
            LedgerKey::Reminder {
                period: Period::quarter(2025, 1),
            },
            LedgerKey::Receipt { submission: 42 },
        ] {
            let (key, version) = k.parts();
            assert_eq!(LedgerKey::from_parts(&key, version), Some(k));
        }
        assert_eq!(LedgerKey::from_parts("nhan-x", 0), None);
        assert_eq!(LedgerKey::from_parts("thang-4", 1), None);
    }
}
