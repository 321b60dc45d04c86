//! Delivery of the quarter's report to the province: over SMTP when a
//! server is configured, else as `.eml` files in the outbox folder. Every
//! delivery is a row of the ledger (report version × recipient), taken
//! atomically before sending, so a version reaches a recipient once across
//! re-runs, restarts and two processes; temporary failures are tried again
//! with a growing wait up to an overall limit, permanent ones are not, and
//! the failures of a round reach the office's own address as one digest.

//!
//! Each file one step: `report` (the report's letters), `remind`,
//! `receipt` and `access` (the units' letters), `send` (through the
//! ledger), `retry` (waits and limits), `notices` (the office's digest),
//! `outbox`, `smtp` (talking to the server), `message` (composing),
//! `stop` (shutting down).

mod access;
mod message;
mod notices;
mod outbox;
mod receipt;
mod remind;
mod report;
mod retry;
mod send;
mod smtp;
mod stop;

pub use access::send_access_code;
pub use message::{plain_message, report_message, stable_id, stable_message_id};
pub(crate) use notices::send_now;
pub use notices::{flush_notices, in_round};
pub use receipt::send_receipts;
pub use remind::{remind, remind_period};
pub use report::deliver_report;
pub use send::deliver;
pub use smtp::{SendError, send, send_formatted};
pub use stop::{request_stop, stopping};

use crate::domain::LedgerKey;
use crate::settings::Settings;
pub use crate::store::{ClaimMode, Skip};
use std::path::PathBuf;

/// What became of one recipient's copy.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
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

impl Status {
    /// The recipient has the letter from this run.
    pub fn delivered(&self) -> bool {
        matches!(self, Status::Sent | Status::Written)
    }

    /// Nothing is owed: delivered now or before, or another process has it.
    pub fn settled(&self) -> bool {
        self.delivered()
            || matches!(
                self,
                Status::Skipped(Skip::Received { .. } | Skip::InProgress)
            )
    }
}

/// What became of one recipient's copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub recipient: String,
    pub status: Status,
    pub detail: String,
    /// This send may repeat an earlier one the server got but the ledger missed.
    pub uncertain: bool,
    /// The `.eml` written, for the outbox.
    pub file: Option<PathBuf>,
}

impl Outcome {
    fn new(recipient: &str, status: Status, detail: impl Into<String>) -> Outcome {
        Outcome {
            recipient: recipient.to_string(),
            status,
            detail: detail.into(),
            uncertain: false,
            file: None,
        }
    }
}

/// One message to deliver to one recipient.
pub struct Letter {
    pub recipient: String,
    pub message: lettre::Message,
    pub message_id: String,
}

/// What a batch of letters is, for the ledger, the outbox and notices.
pub struct Batch {
    /// Which letter it is.
    pub letter: LedgerKey,
    /// The ledger's key and version for it (see `LedgerKey::parts`).
    pub key: String,
    pub version: i64,
    /// Stem of outbox file names, e.g. "bao-cao-2022-Q4-v1".
    pub file_stem: String,
    /// What it is, in a notice: "báo cáo Quý IV/2022 (phiên bản 1)".
    pub label: String,
    /// Try again within this run after a temporary failure (reports,
    /// reminders); if not, leave it at once to the next run (receipts,
    /// which must not hold up reading the inbox).
    pub patient: bool,
}

impl Batch {
    pub fn new(letter: LedgerKey, file_stem: String, label: String, patient: bool) -> Batch {
        let (key, version) = letter.parts();
        Batch {
            letter,
            key,
            version,
            file_stem,
            label,
            patient,
        }
    }
}

/// A size in MB for people: one decimal, Vietnamese comma.
pub(crate) fn megabytes(bytes: f64) -> String {
    format!("{:.1}", bytes / (1024.0 * 1024.0)).replace('.', ",")
}

/// A stored RFC 3339 time as letters and the command line say it: the
/// minute and the day, in the organisation's time zone.
pub(crate) fn local_time(settings: &Settings, t: &str) -> String {
    settings.local_time(t, "%H:%M ngày %d/%m/%Y")
}
