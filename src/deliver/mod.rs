//! Delivery of the quarter's report to the province: over SMTP when a
//! server is configured, else as `.eml` files in the outbox folder. Every
//! delivery is a row of the ledger (report version × recipient), taken
//! atomically before sending, so a version reaches a recipient once across
//! re-runs, restarts and two processes; temporary failures are tried again
//! with a growing wait, permanent ones are not, and every failure is
//! reported to the office's own address.

mod message;
mod receipt;
mod remind;
mod smtp;

pub use message::{report_message, stable_id, stable_message_id};
pub use receipt::{receipt_key, receipt_submission, send_receipts};
pub use remind::{remind, remind_period};
pub use smtp::{SendError, send};

use crate::pipeline::Engine;
use crate::report::Results;
use crate::settings::Smtp;
use crate::store::{ClaimRequest, DeliveryRecord};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every delivery in this process to finish the message it is
/// sending and start no other (the service is shutting down). What is
/// left stays in the ledger for the next run.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// How long a claim on a delivery holds without being renewed; the sender
/// renews it every `RENEW_EVERY` while it works, so a process that dies
/// lets go of its rows within this time.
const LEASE: Duration = Duration::from_secs(20);
const RENEW_EVERY: Duration = Duration::from_secs(5);

/// What became of one recipient's copy.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub recipient: String,
    /// `sent`, `written`, `retry`, `failed`, or `skipped` (delivered before or being sent elsewhere).
    pub status: String,
    pub detail: String,
    /// This send may repeat an earlier one the server got but the ledger missed.
    pub uncertain: bool,
    /// The `.eml` written, for the outbox.
    pub file: Option<PathBuf>,
}

/// The longest single wait between two tries.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// The wait after the `n`th failed try: retry_seconds, doubled each time.
fn wait(s: &Smtp, n: u32) -> Duration {
    Duration::from_secs(
        s.retry_seconds
            .saturating_mul(1u64 << (n.saturating_sub(1)).min(16)),
    )
    .min(MAX_WAIT)
}

/// One message to deliver to one recipient.
pub struct Letter {
    pub recipient: String,
    pub message: lettre::Message,
    pub message_id: String,
}

/// What a batch of letters is, for the ledger, the outbox and notices.
pub struct Batch<'a> {
    /// The ledger's period key, e.g. "2022-Q4".
    pub key: &'a str,
    /// The report version; 0 for reminders.
    pub version: i64,
    /// Stem of outbox file names, e.g. "bao-cao-2022-Q4-v1".
    pub file_stem: String,
    /// What it is, in a failure notice: "báo cáo Quý IV/2022 (phiên bản 1)".
    pub label: String,
    /// Try again within this run after a temporary failure (reports,
    /// reminders); if not, leave it at once to the next run (receipts,
    /// which must not hold up reading the inbox).
    pub patient: bool,
}

/// Delivers a report version to every recipient that does not have it yet
/// (or to all, with `resend`).
pub fn deliver_report(
    engine: &Engine,
    r: &Results,
    files: &[PathBuf],
    resend: bool,
) -> Result<Vec<Outcome>> {
    let attachments: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx" || e == "pdf"))
        .map(|p| {
            Ok((
                file_name(p),
                std::fs::read(p).with_context(|| format!("đọc {}", p.display()))?,
            ))
        })
        .collect::<Result<_>>()?;
    let letters = engine
        .settings
        .delivery
        .recipients
        .iter()
        .map(|recipient| {
            let (message, message_id) =
                report_message(&engine.settings, r, recipient, &attachments)?;
            Ok(Letter {
                recipient: recipient.clone(),
                message,
                message_id,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let key = r.period.to_string();
    let batch = Batch {
        key: &key,
        version: r.version,
        file_stem: format!("bao-cao-{key}-v{}", r.version),
        label: format!("báo cáo {} (phiên bản {})", r.period.label_vi(), r.version),
        patient: true,
    };
    deliver(engine, &batch, letters, resend)
}

/// Delivers letters through the ledger: each recipient's once, unless `resend`.
pub fn deliver(
    engine: &Engine,
    batch: &Batch,
    letters: Vec<Letter>,
    resend: bool,
) -> Result<Vec<Outcome>> {
    let smtp = engine.settings.smtp.as_ref();
    let channel = if smtp.is_some() { "smtp" } else { "outbox" };
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
        let claim = engine.store.claim_delivery(&ClaimRequest {
            period: batch.key,
            version: batch.version,
            recipient,
            channel,
            message_id: &message_id,
            lease_seconds: LEASE.as_secs(),
            force: resend,
        })?;
        let Some(claim) = claim else {
            outcomes.push(Outcome {
                recipient: recipient.to_string(),
                status: "skipped".into(),
                detail: String::new(),
                uncertain: false,
                file: None,
            });
            continue;
        };
        let record = |status: &'static str, detail: &str| DeliveryRecord {
            period: batch.key,
            version: batch.version,
            recipient,
            channel,
            status,
            detail: detail.to_string(),
            message_id: &message_id,
        };
        if stopping() {
            // Shutting down: start no new send; the row waits, due at once,
            // for the next run.
            let why = "dịch vụ dừng trước khi gửi; gửi ở lần chạy sau";
            engine.store.finish_delivery(
                &record("retry", why),
                Some(&chrono::Utc::now().to_rfc3339()),
            )?;
            outcomes.push(Outcome {
                recipient: recipient.to_string(),
                status: "postponed".into(),
                detail: why.into(),
                uncertain: false,
                file: None,
            });
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
                        if let Err(e) = engine.store.renew_delivery(
                            batch.key,
                            batch.version,
                            recipient,
                            LEASE.as_secs(),
                        ) {
                            tracing::warn!(error = %e, "could not renew the hold on a delivery");
                        }
                    }
                };
                let notify = claim.previous.as_deref() != Some("retry");
                tokio::select! {
                    outcome = send_with_retries(engine, s, &message, &record, batch, recipient, notify) => outcome,
                    _ = renew => unreachable!("the renewal loop never ends"),
                }
            }),
            _ => {
                let path = write_outbox(
                    &engine.settings.paths.outbox,
                    &batch.file_stem,
                    recipient,
                    &message.formatted(),
                )?;
                engine
                    .store
                    .finish_delivery(&record("written", &path.to_string_lossy()), None)?;
                Outcome {
                    recipient: recipient.to_string(),
                    status: "written".into(),
                    detail: path.display().to_string(),
                    uncertain: false,
                    file: Some(path),
                }
            }
        };
        outcomes.push(Outcome {
            uncertain: claim.uncertain,
            ..outcome
        });
    }
    Ok(outcomes)
}

/// Sends one message, trying again after temporary failures while the
/// batch is patient; `notify` tells the office about a failure (not done
/// again for a row that was already waiting for a retry).
async fn send_with_retries<'a>(
    engine: &Engine,
    s: &Smtp,
    message: &lettre::Message,
    record: &impl Fn(&'static str, &str) -> DeliveryRecord<'a>,
    batch: &Batch<'_>,
    recipient: &str,
    notify: bool,
) -> Outcome {
    let label = batch.label.as_str();
    let out = |status: &str, detail: String| Outcome {
        recipient: recipient.to_string(),
        status: status.into(),
        detail,
        uncertain: false,
        file: None,
    };
    let size: usize = message.formatted().len();
    if size as u64 > s.max_attachment_mb * 1024 * 1024 {
        let why = format!(
            "thư nặng {} MB, vượt giới hạn {} MB của [smtp] max_attachment_mb: không gửi",
            size / (1024 * 1024),
            s.max_attachment_mb
        );
        let _ = engine.store.finish_delivery(&record("failed", &why), None);
        notify_office(engine, s, label, recipient, &why).await;
        return out("failed", why);
    }
    let mut tries = 0;
    loop {
        tries += 1;
        match send(s, message).await {
            Ok(reply) => {
                let _ = engine.store.finish_delivery(&record("sent", &reply), None);
                return out("sent", reply);
            }
            Err(SendError::Permanent(e)) => {
                tracing::error!(%recipient, error = %e, "report email refused");
                let _ = engine.store.finish_delivery(&record("failed", &e), None);
                notify_office(engine, s, label, recipient, &e).await;
                return out("failed", e);
            }
            Err(SendError::Temporary(e))
                if tries < s.max_attempts && batch.patient && !stopping() =>
            {
                tracing::warn!(%recipient, error = %e, tries, "email not sent yet; trying again");
                let _ = engine
                    .store
                    .note_attempt(&record("sending", &e), LEASE.as_secs());
                // Wait, but wake up for a shutdown: the row is then left
                // for the next run rather than holding the service up.
                let until = tokio::time::Instant::now() + wait(s, tries);
                while tokio::time::Instant::now() < until && !stopping() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            Err(SendError::Temporary(e)) => {
                let next = (chrono::Utc::now()
                    + chrono::Duration::from_std(wait(s, tries)).unwrap_or_default())
                .to_rfc3339();
                tracing::error!(%recipient, error = %e, tries, "email not sent; left for the next run");
                let _ = engine
                    .store
                    .finish_delivery(&record("retry", &e), Some(&next));
                if notify {
                    notify_office(
                        engine,
                        s,
                        label,
                        recipient,
                        &format!("{e} (sẽ thử lại sau {next})"),
                    )
                    .await;
                }
                return out("retry", e);
            }
        }
    }
}

/// Tells the office a delivery failed. The notice is recorded first, so
/// that one that cannot be sent now (the server is down: the usual reason
/// for the failure) goes with the next retry; a failure here is logged,
/// not fatal.
async fn notify_office(engine: &Engine, s: &Smtp, label: &str, recipient: &str, why: &str) {
    let subject = format!("[tthc] Chưa gửi được {label} tới {recipient}");
    let body = format!(
        "Thư {label} chưa gửi được tới {recipient}.\n\nLý do: {why}\n\nXem sổ gửi thư: tthc send --period … và các lần chạy việc: tthc jobs.\n"
    );
    match engine.store.add_notice(&subject, &body) {
        Ok(id) => {
            send_notice(engine, s, id, &subject, &body).await;
        }
        Err(e) => tracing::error!(error = %e, "could not record the failure notice"),
    }
}

async fn send_notice(engine: &Engine, s: &Smtp, id: i64, subject: &str, body: &str) -> bool {
    let org = &engine.settings.organisation;
    let built = (|| -> Result<lettre::Message> {
        Ok(lettre::Message::builder()
            .from(engine.settings.delivery.from.parse()?)
            .to(org.email.parse()?)
            .subject(subject)
            .message_id(Some(stable_id(
                &format!("thong-bao-{id}"),
                &org.email,
                &engine.settings.delivery.from,
            )))
            .body(body.to_string())?)
    })();
    let error = match built {
        Ok(m) => send(s, &m).await.err().map(|e| e.text().to_string()),
        Err(e) => Some(format!("{e:#}")),
    };
    if let Some(e) = &error {
        tracing::error!(error = %e, "could not tell the office about a failed delivery; kept for the next retry");
    }
    let _ = engine.store.notice_tried(id, error.as_deref());
    error.is_none()
}

/// Sends the failure notices that could not be sent when they were
/// written; returns (sent, still pending).
pub fn send_pending_notices(engine: &Engine) -> Result<(usize, usize)> {
    let Some(s) = engine.settings.smtp.as_ref() else {
        return Ok((0, 0));
    };
    let pending = engine.store.pending_notices()?;
    if pending.is_empty() {
        return Ok((0, 0));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("khởi động gửi thư")?;
    let mut sent = 0;
    for (id, subject, body) in &pending {
        if stopping() {
            break;
        }
        if rt.block_on(send_notice(engine, s, *id, subject, body)) {
            sent += 1;
        } else {
            break; // the server is still down: the rest wait too
        }
    }
    Ok((sent, pending.len() - sent))
}

fn write_outbox(outbox: &Path, stem: &str, recipient: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = outbox.join(format!("{stem}-{}.eml", ascii_slug(recipient)));
    let dir = path.parent().unwrap_or(outbox);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("tạo thư mục thư đi {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("ghi {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("ghi {}", path.display()))?;
    Ok(path)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// A file-name-safe ASCII form of an address.
fn ascii_slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
