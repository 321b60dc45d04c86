//! Delivery of the quarter's report to the province: over SMTP when a
//! server is configured, else as `.eml` files in the outbox folder. Every
//! delivery is a row of the ledger (report version × recipient), taken
//! atomically before sending, so a version reaches a recipient once across
//! re-runs, restarts and two processes; temporary failures are tried again
//! with a growing wait up to an overall limit, permanent ones are not, and
//! the failures of a round reach the office's own address as one digest.

mod access;
mod message;
mod receipt;
mod remind;
mod smtp;

pub use access::send_access_code;
pub use message::{plain_message, report_message, stable_id, stable_message_id};
pub use receipt::{receipt_key, receipt_owed, receipt_submission, send_receipts};
pub use remind::{remind, remind_period};
pub use smtp::{SendError, send, send_formatted};

use crate::pipeline::Engine;
use crate::report::Results;
use crate::settings::Smtp;
pub use crate::store::{ClaimMode, Skip};
use crate::store::{ClaimRequest, DeliveryRecord, Notice};
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
    /// The report version; 0 for reminders and receipts.
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

/// Delivers a report version to every recipient that does not have it yet
/// (with `ClaimMode::Manual` also those it failed to reach; with
/// `ClaimMode::Force` to all, as a new copy with its own Message-ID).
pub fn deliver_report(
    engine: &Engine,
    r: &Results,
    files: &[PathBuf],
    mode: ClaimMode,
) -> Result<Vec<Outcome>> {
    in_round(engine, || {
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
                let (message, message_id) = report_message(
                    &engine.settings,
                    r,
                    recipient,
                    &attachments,
                    mode == ClaimMode::Force,
                )?;
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
        deliver(engine, &batch, letters, mode)
    })
}

thread_local! {
    static ROUND: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `f` as one round of delivery: the notices its failures owe the
/// office go as one digest when the outermost round ends, not one each.
pub fn in_round<T>(engine: &Engine, f: impl FnOnce() -> Result<T>) -> Result<T> {
    ROUND.with(|r| r.set(r.get() + 1));
    let result = f();
    let depth = ROUND.with(|r| {
        r.set(r.get() - 1);
        r.get()
    });
    if depth == 0
        && let Err(e) = flush_notices(engine)
    {
        tracing::error!(error = %format!("{e:#}"), "could not send the office its notices; kept for the next try");
    }
    result
}

/// Delivers letters through the ledger: each recipient's once (see
/// `ClaimMode` for what is tried again).
pub fn deliver(
    engine: &Engine,
    batch: &Batch,
    letters: Vec<Letter>,
    mode: ClaimMode,
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
            engine,
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
            held.record("retry", why, Some(&chrono::Utc::now().to_rfc3339()))?;
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
                tokio::select! {
                    outcome = held.send_with_retries(s, &message) => outcome,
                    _ = renew => unreachable!("the renewal loop never ends"),
                }
            })?,
            _ => {
                let path = write_outbox(
                    &engine.settings.paths.outbox,
                    &batch.file_stem,
                    recipient,
                    &message.formatted(),
                )?;
                held.record("written", &path.to_string_lossy(), None)?;
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
    engine: &'a Engine,
    batch: &'a Batch<'a>,
    recipient: &'a str,
    channel: &'a str,
    message_id: &'a str,
    /// The office was told before that this letter had not gone.
    notified: bool,
}

impl Held<'_> {
    fn entry<'b>(&'b self, status: &'b str, detail: &str) -> DeliveryRecord<'b> {
        DeliveryRecord {
            period: self.batch.key,
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
    fn record(&self, status: &str, detail: &str, next: Option<&str>) -> Result<()> {
        self.engine
            .store
            .finish_delivery_durably(&self.entry(status, detail), next)
            .with_context(|| format!("ghi kết quả gửi thư tới {} vào sổ gửi thư", self.recipient))
    }

    fn line(&self) -> String {
        format!("{} tới {}", self.batch.label, self.recipient)
    }

    fn letter(&self) -> (&str, i64, &str) {
        (self.batch.key, self.batch.version, self.recipient)
    }

    /// Queues a notice for the office, once per episode of failure unless
    /// `even_if_told` (giving up is news even to an office told before).
    fn tell_failed(&self, why: &str, even_if_told: bool) {
        if self.notified && !even_if_told {
            return;
        }
        let store = &self.engine.store;
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
        let store = &self.engine.store;
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
            .engine
            .store
            .delivery_age(self.batch.key, self.batch.version, self.recipient)
            .ok()?;
        let tries = tries + 1;
        let since = first
            .map(|t| format!(" từ {}", local_time(self.engine, &t.to_rfc3339())))
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
            self.record("failed", &why, None)?;
            self.tell_failed(&why, false);
            return Ok(Outcome::new(recipient, Status::Failed, why));
        }
        let mut tries = 0;
        let mut uncertain = false;
        loop {
            tries += 1;
            let error = match send_formatted(s, envelope, &bytes).await {
                Ok(reply) => {
                    self.record("sent", &reply, None)?;
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
                    self.engine
                        .store
                        .mark_uncertain(self.batch.key, self.batch.version, recipient)
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
                self.record("failed", &text, None)?;
                self.tell_failed(&text, false);
                return Ok(done(Status::Failed, text));
            }
            if let Some(why) = self.used_up(s) {
                let why = format!("{text} — {why}");
                tracing::error!(%recipient, error = %why, "email given up");
                self.record("failed", &why, None)?;
                self.tell_failed(&why, true);
                return Ok(done(Status::Failed, why));
            }
            if tries < s.max_attempts && self.batch.patient && !stopping() {
                tracing::warn!(%recipient, error = %text, tries, "email not sent yet; trying again");
                if let Err(e) = self
                    .engine
                    .store
                    .note_attempt(&self.entry("sending", &text), LEASE.as_secs())
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
            self.record("retry", &text, Some(&next))?;
            self.tell_failed(
                &format!("{text} (sẽ thử lại lúc {})", local_time(self.engine, &next)),
                false,
            );
            return Ok(done(Status::Retry, text));
        }
    }
}

/// Which overall limit a letter (or a notice) has reached.
enum Limit {
    Attempts,
    Age,
}

/// The overall limit of `[smtp]` reached after `tries` tries in all, the
/// first at `first`, if any is.
fn over_limit(s: &Smtp, tries: i64, first: Option<chrono::DateTime<chrono::Utc>>) -> Option<Limit> {
    let age_hours = first.map(|t| (chrono::Utc::now() - t).num_minutes() as f64 / 60.0);
    if tries >= i64::from(s.give_up_after_attempts) {
        Some(Limit::Attempts)
    } else if age_hours.is_some_and(|h| h >= s.give_up_after_hours as f64) {
        Some(Limit::Age)
    } else {
        None
    }
}

/// A size in MB for people: one decimal, Vietnamese comma.
fn megabytes(bytes: f64) -> String {
    format!("{:.1}", bytes / (1024.0 * 1024.0)).replace('.', ",")
}

/// A stored RFC 3339 time as letters and the command line say it: the
/// minute and the day, in the organisation's time zone.
fn local_time(engine: &Engine, t: &str) -> String {
    engine.settings.local_time(t, "%H:%M ngày %d/%m/%Y")
}

/// Sends the office, as one digest, every notice whose time has come:
/// the letters that did not go, and those reported before that have now
/// gone. A digest that cannot go now waits (with a growing delay) and is
/// given up after the same overall limit as any letter. Returns how many
/// notices went and how many still wait.
pub fn flush_notices(engine: &Engine) -> Result<(usize, usize)> {
    let Some(s) = engine.settings.smtp.as_ref() else {
        return Ok((0, 0));
    };
    let due = engine.store.pending_notices(true)?;
    if due.is_empty() || stopping() {
        return Ok((0, due.len()));
    }
    let (failed, delivered): (Vec<&Notice>, Vec<&Notice>) =
        due.iter().partition(|n| n.kind == "failed");
    let subject = match (failed.len(), delivered.len()) {
        (0, d) => format!("[tthc] Đã gửi được {d} thư đã báo lỗi trước đây"),
        (f, 0) => format!("[tthc] {f} thư chưa gửi được"),
        (f, d) => format!("[tthc] {f} thư chưa gửi được, {d} thư đã gửi được sau lỗi"),
    };
    let mut body = String::new();
    if !failed.is_empty() {
        body.push_str("Các thư sau chưa gửi được:\n\n");
        for (i, n) in failed.iter().enumerate() {
            body.push_str(&format!("{}. {}\n   Lý do: {}\n", i + 1, n.subject, n.body));
        }
        body.push('\n');
    }
    if !delivered.is_empty() {
        body.push_str("Các thư đã báo chưa gửi được trước đây nay đã gửi được:\n\n");
        for n in &delivered {
            body.push_str(&format!("- {}\n", n.subject));
        }
        body.push('\n');
    }
    body.push_str(
        "Xem sổ gửi thư: tthc ledger. Gửi lại báo cáo cho nơi chưa nhận: tthc send --period <kỳ>. Các lần chạy việc: tthc jobs.\n",
    );
    let org = &engine.settings.organisation;
    let ids: Vec<i64> = due.iter().map(|n| n.id).collect();
    let id = stable_id(
        &format!("thong-bao-{}-{}", ids[0], ids[ids.len() - 1]),
        &org.email,
        &engine.settings.delivery.from,
    );
    let message = plain_message(
        &engine.settings.delivery.from,
        &org.email,
        &subject,
        body,
        &id,
    )?;
    match send_now(s, &message)? {
        Ok(_) => {
            engine.store.notices_tried(&ids, None, None)?;
            Ok((ids.len(), 0))
        }
        Err(e) => {
            let tries = due.iter().map(|n| n.attempts).max().unwrap_or(0) + 1;
            let oldest = due
                .iter()
                .filter_map(|n| chrono::DateTime::parse_from_rfc3339(&n.created_at).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
                .min();
            let give_up = e.permanent || over_limit(s, tries, oldest).is_some();
            let next = (!give_up).then(|| {
                (chrono::Utc::now()
                    + chrono::Duration::from_std(wait(s, tries as u32)).unwrap_or_default())
                .to_rfc3339()
            });
            if give_up {
                tracing::error!(error = %e.text, notices = ids.len(), "gave up telling the office about failed deliveries (see tthc ledger)");
            } else {
                tracing::error!(error = %e.text, notices = ids.len(), "could not tell the office about failed deliveries; kept for the next try");
            }
            engine
                .store
                .notices_tried(&ids, Some(&e.text), next.as_deref())?;
            Ok((0, ids.len()))
        }
    }
}

/// Sends one message at once, from code that is not async, on a runtime of
/// its own; the outer error is only failing to start that runtime.
fn send_now(s: &Smtp, message: &lettre::Message) -> Result<Result<String, SendError>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("khởi động gửi thư")?;
    Ok(runtime.block_on(send(s, message)))
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

/// What became of a copy, in words for the office (the command line and
/// the job summaries use these).
pub fn outcome_words(engine: &Engine, o: &Outcome) -> String {
    let mut text = match &o.status {
        Status::Sent => format!("đã gửi (máy chủ trả lời: {})", o.detail),
        Status::Written => format!("đã ghi vào hộp thư đi: {}", o.detail),
        Status::Retry => format!("chưa gửi được, sẽ thử lại: {}", o.detail),
        Status::Failed => format!(
            "gửi thất bại: {} — sửa nguyên nhân rồi gửi lại bằng tthc send",
            o.detail
        ),
        Status::Postponed => "hoãn: dịch vụ đang dừng; gửi ở lần chạy sau".into(),
        Status::Skipped(skip) => skip_words(engine, skip),
    };
    if o.uncertain {
        text.push_str(
            " (có thể trùng một lần gửi trước mà máy chủ đã nhận nhưng không kịp trả lời)",
        );
    }
    text
}

/// Why a copy was not tried, in words for the office.
pub fn skip_words(engine: &Engine, skip: &Skip) -> String {
    match skip {
        Skip::Received { at } => format!(
            "bỏ qua: nơi nhận đã nhận thư này lúc {} (gửi lại: --resend)",
            local_time(engine, at)
        ),
        Skip::InProgress => "bỏ qua: một tiến trình khác đang gửi thư này".into(),
        Skip::Failed { why } => {
            format!("bỏ qua: đã gửi thất bại trước đây ({why}); gửi lại bằng tthc send")
        }
        Skip::NotDue { at } => format!("chờ thử lại lúc {}", local_time(engine, at)),
    }
}

/// One ledger row as a line for the office.
pub fn ledger_line(engine: &Engine, r: &crate::store::DeliveryRow) -> String {
    let what = match receipt_submission(&r.period) {
        Some(id) => format!("biên nhận tệp số {id}"),
        None if r.version == 0 => format!("thư nhắc {}", r.period),
        None => format!("báo cáo {} phiên bản {}", r.period, r.version),
    };
    let status = match r.status.as_str() {
        "sent" => "đã gửi".to_string(),
        "written" => "đã ghi vào hộp thư đi".to_string(),
        "sending" => "đang gửi".to_string(),
        "retry" => match &r.next_attempt_at {
            Some(t) => format!("chờ thử lại lúc {}", local_time(engine, t)),
            None => "chờ thử lại".to_string(),
        },
        "failed" => "thất bại".to_string(),
        other => other.to_string(),
    };
    let mut line = format!(
        "{what} → {}: {status}; {} lần thử; cập nhật {}",
        r.recipient,
        r.attempts,
        local_time(engine, &r.updated_at)
    );
    if !r.detail.is_empty() && r.detail != "chờ gửi" {
        line.push_str(&format!(" — {}", r.detail));
    }
    if r.uncertain {
        line.push_str(" (có thể đã trùng một lần)");
    }
    line
}
