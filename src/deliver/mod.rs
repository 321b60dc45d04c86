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
pub use crate::domain::{LetterOutcome as Outcome, LetterStatus as Status, Skip};
pub use crate::store::ClaimMode;

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
