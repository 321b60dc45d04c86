//! Sending through the ledger: each letter is claimed before it is sent,
//! so a recipient gets it once across re-runs, restarts and two processes;
//! its claim is renewed while the server is talked to; every outcome is
//! recorded durably; a failure owes the office a notice.

use super::outbox::write_outbox;
use super::retry::{Limit, over_limit, wait};
use super::stop::stopping;
use super::{Batch, ClaimMode, Letter, Outcome, Status, megabytes, send_formatted};
use crate::config::Config;
use crate::domain::{Channel, DeliveryState};
use crate::settings::{Settings, Smtp};
use crate::store::{ClaimRequest, DeliveryRecord, Store};
use crate::words::minute;
use anyhow::{Context, Result};
use std::time::Duration;

/// How long a claim on a delivery holds without being renewed; the sender
/// renews it every `RENEW_EVERY` while it works, so a process that dies
/// lets go of its rows within this time.
const LEASE: Duration = Duration::from_secs(20);
const RENEW_EVERY: Duration = Duration::from_secs(5);

/// Delivers letters through the ledger: each recipient's once (see
/// `ClaimMode` for what is tried again).
pub fn deliver(
    cfg: &Config,
    store: &Store,
    batch: &Batch,
    letters: Vec<Letter>,
    mode: ClaimMode,
) -> Result<Vec<Outcome>> {
    let smtp = cfg.settings.smtp.as_ref();
    let channel = cfg.settings.channel();
    let runtime = smtp
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        })
        .transpose()
        .context("khởi động gửi thư")?;
    let mut outcomes = Vec::new();
    for Letter {
        recipient,
        message,
        message_id,
    } in letters
    {
        let recipient = recipient.as_str();
        let claim = store.claim_delivery(&ClaimRequest {
            period: &batch.key,
            version: batch.version,
            recipient,
            channel,
            message_id: &message_id,
            lease_seconds: LEASE.as_secs(),
            mode,
        })?;
        let claim = match claim {
            Ok(c) => c,
            Err(skip) => {
                outcomes.push(Outcome::new(recipient, Status::Skipped(skip), ""));
                continue;
            }
        };
        let held = Held {
            settings: &cfg.settings,
            store,
            batch,
            recipient,
            channel,
            message_id: &message_id,
            notified: claim.notified,
        };
        if stopping() {
            // Shutting down: start no new send; the row waits, due at once,
            // for the next run.
            let why = "dịch vụ dừng trước khi gửi; gửi ở lần chạy sau";
            held.record(
                DeliveryState::Retry,
                why,
                Some(&chrono::Utc::now().to_rfc3339()),
            )?;
            outcomes.push(Outcome::new(recipient, Status::Postponed, why));
            continue;
        }
        if claim.uncertain {
            tracing::warn!(%recipient, key = batch.key, version = batch.version, "an earlier send may have reached the server unrecorded; sending again with the same Message-ID");
        }
        let outcome = match (smtp, &runtime) {
            (Some(s), Some(rt)) => rt.block_on(async {
                let renew = async {
                    loop {
                        tokio::time::sleep(RENEW_EVERY).await;
                        if let Err(e) = store.renew_delivery(
                            &batch.key,
                            batch.version,
                            recipient,
                            LEASE.as_secs(),
                        ) {
                            tracing::warn!(error = %e, "could not renew the hold on a delivery");
                        }
                    }
                };
                tokio::select! {
                    outcome = held.send_with_retries(s, &message) => outcome,
                    _ = renew => unreachable!("the renewal loop never ends"),
                }
            })?,
            _ => {
                let path = write_outbox(
                    &cfg.settings.paths.outbox,
                    &batch.file_stem,
                    recipient,
                    &message.formatted(),
                )?;
                held.record(DeliveryState::Written, &path.to_string_lossy(), None)?;
                Outcome {
                    file: Some(path.clone()),
                    ..Outcome::new(recipient, Status::Written, path.display().to_string())
                }
            }
        };
        outcomes.push(Outcome {
            uncertain: claim.uncertain || outcome.uncertain,
            ..outcome
        });
    }
    Ok(outcomes)
}

/// A ledger row this process holds, and what it needs to record its fate.
struct Held<'a> {
    settings: &'a Settings,
    store: &'a Store,
    batch: &'a Batch,
    recipient: &'a str,
    channel: Channel,
    message_id: &'a str,
    /// The office was told before that this letter had not gone.
    notified: bool,
}

impl Held<'_> {
    fn entry(&self, status: DeliveryState, detail: &str) -> DeliveryRecord<'_> {
        DeliveryRecord {
            period: &self.batch.key,
            version: self.batch.version,
            recipient: self.recipient,
            channel: self.channel,
            status,
            detail: detail.to_string(),
            message_id: self.message_id,
        }
    }

    /// Records the row's outcome, so that it is never lost (see
    /// `Store::finish_delivery_durably`).
    fn record(&self, status: DeliveryState, detail: &str, next: Option<&str>) -> Result<()> {
        self.store
            .finish_delivery_durably(&self.entry(status, detail), next)
            .with_context(|| format!("ghi kết quả gửi thư tới {} vào sổ gửi thư", self.recipient))
    }

    fn line(&self) -> String {
        format!("{} tới {}", self.batch.label, self.recipient)
    }

    fn letter(&self) -> (&str, i64, &str) {
        (&self.batch.key, self.batch.version, self.recipient)
    }

    /// Queues a notice for the office, once per episode of failure unless
    /// `even_if_told` (giving up is news even to an office told before).
    fn tell_failed(&self, why: &str, even_if_told: bool) {
        if self.notified && !even_if_told {
            return;
        }
        let store = &self.store;
        let (key, version, to) = self.letter();
        let done = store
            .add_notice("failed", self.letter(), &self.line(), why)
            .and_then(|_| store.set_notified(key, version, to, true));
        if let Err(e) = done {
            tracing::error!(error = %e, "could not record a notice for the office");
        }
    }

    /// After a success: if the office was told of a failure, tell it the
    /// letter has now gone; a failure it has not heard of yet is simply
    /// withdrawn.
    fn tell_delivered(&self) {
        if !self.notified {
            return;
        }
        let store = &self.store;
        let (key, version, to) = self.letter();
        let done = store
            .withdraw_notice(key, version, to)
            .and_then(|withdrawn| match withdrawn {
                true => Ok(0),
                false => store.add_notice("delivered", self.letter(), &self.line(), ""),
            })
            .and_then(|_| store.set_notified(key, version, to, false));
        if let Err(e) = done {
            tracing::error!(error = %e, "could not record a notice for the office");
        }
    }

    /// Whether this row has used up its tries over every run; why, if so.
    fn used_up(&self, s: &Smtp) -> Option<String> {
        let (tries, first) = self
            .store
            .delivery_age(&self.batch.key, self.batch.version, self.recipient)
            .ok()?;
        let tries = tries + 1;
        let since = first
            .map(|t| format!(" từ {}", minute(self.settings, &t.to_rfc3339())))
            .unwrap_or_default();
        Some(match over_limit(s, tries, first)? {
            Limit::Attempts => format!(
                "đã thử {tries} lần{since} ([smtp] give_up_after_attempts = {}): ngừng thử",
                s.give_up_after_attempts
            ),
            Limit::Age => format!(
                "đã thử {tries} lần{since}, quá {} giờ ([smtp] give_up_after_hours): ngừng thử",
                s.give_up_after_hours
            ),
        })
    }

    /// Sends one message, trying again after temporary failures while the
    /// batch is patient.
    async fn send_with_retries(&self, s: &Smtp, message: &lettre::Message) -> Result<Outcome> {
        let recipient = self.recipient;
        let (envelope, bytes) = (message.envelope(), message.formatted());
        let size = bytes.len();
        let limit = s.max_attachment_mb * 1024.0 * 1024.0;
        if size as f64 > limit {
            let why = format!(
                "thư nặng {} MB, vượt giới hạn {} MB của [smtp] max_attachment_mb: không gửi",
                megabytes(size as f64),
                megabytes(limit)
            );
            tracing::error!(%recipient, size, limit = s.max_attachment_mb, "email too large to send");
            self.record(DeliveryState::Failed, &why, None)?;
            self.tell_failed(&why, false);
            return Ok(Outcome::new(recipient, Status::Failed, why));
        }
        let mut tries = 0;
        let mut uncertain = false;
        loop {
            tries += 1;
            let error = match send_formatted(s, envelope, &bytes).await {
                Ok(reply) => {
                    self.record(DeliveryState::Sent, &reply, None)?;
                    self.tell_delivered();
                    return Ok(Outcome {
                        uncertain,
                        ..Outcome::new(recipient, Status::Sent, reply)
                    });
                }
                Err(e) => e,
            };
            if error.maybe_delivered {
                // The server may have kept it: the next copy would be a
                // repeat, and the ledger says so before it is sent.
                uncertain = true;
                tracing::warn!(%recipient, error = %error.text, "no answer after the whole message went out; the server may have kept it");
                if let Err(e) =
                    self.store
                        .mark_uncertain(&self.batch.key, self.batch.version, recipient)
                {
                    tracing::error!(error = %e, "could not mark a possible repeat in the ledger");
                }
            }
            let text = error.text.clone();
            let done = |status, detail: String| Outcome {
                uncertain,
                ..Outcome::new(recipient, status, detail)
            };
            if error.permanent {
                tracing::error!(%recipient, error = %text, "email refused");
                self.record(DeliveryState::Failed, &text, None)?;
                self.tell_failed(&text, false);
                return Ok(done(Status::Failed, text));
            }
            if let Some(why) = self.used_up(s) {
                let why = format!("{text} — {why}");
                tracing::error!(%recipient, error = %why, "email given up");
                self.record(DeliveryState::Failed, &why, None)?;
                self.tell_failed(&why, true);
                return Ok(done(Status::Failed, why));
            }
            if tries < s.max_attempts && self.batch.patient && !stopping() {
                tracing::warn!(%recipient, error = %text, tries, "email not sent yet; trying again");
                if let Err(e) = self
                    .store
                    .note_attempt(&self.entry(DeliveryState::Sending, &text), LEASE.as_secs())
                {
                    tracing::warn!(error = %e, "could not note a failed try in the ledger");
                }
                // Wait, but wake up for a shutdown: the row is then left
                // for the next run rather than holding the service up.
                let until = tokio::time::Instant::now() + wait(s, tries);
                while tokio::time::Instant::now() < until && !stopping() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                continue;
            }
            let next =
                chrono::Utc::now() + chrono::Duration::from_std(wait(s, tries)).unwrap_or_default();
            let next = next.to_rfc3339();
            tracing::error!(%recipient, error = %text, tries, "email not sent; left for the next run");
            self.record(DeliveryState::Retry, &text, Some(&next))?;
            self.tell_failed(
                &format!("{text} (sẽ thử lại lúc {})", minute(self.settings, &next)),
                false,
            );
            return Ok(done(Status::Retry, text));
        }
    }
}
