//! The office's own notices: the letters that did not go, and those
//! reported before that have gone since, sent to the office as one digest
//! per round of delivery.

use super::retry::{over_limit, wait};
use super::stop::stopping;
use super::{SendError, plain_message, send, stable_id};
use crate::config::Config;
use crate::settings::Smtp;
use crate::store::{Notice, Store};
use anyhow::{Context, Result};

thread_local! {
    static ROUND: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `f` as one round of delivery: the notices its failures owe the
/// office go as one digest when the outermost round ends, not one each.
pub fn in_round<T>(cfg: &Config, store: &Store, f: impl FnOnce() -> Result<T>) -> Result<T> {
    ROUND.with(|r| r.set(r.get() + 1));
    let result = f();
    let depth = ROUND.with(|r| {
        r.set(r.get() - 1);
        r.get()
    });
    if depth == 0
        && let Err(e) = flush_notices(cfg, store)
    {
        tracing::error!(error = %format!("{e:#}"), "could not send the office its notices; kept for the next try");
    }
    result
}

/// Sends the office, as one digest, every notice whose time has come:
/// the letters that did not go, and those reported before that have now
/// gone. A digest that cannot go now waits (with a growing delay) and is
/// given up after the same overall limit as any letter. Returns how many
/// notices went and how many still wait.
pub fn flush_notices(cfg: &Config, store: &Store) -> Result<(usize, usize)> {
    let Some(s) = cfg.settings.smtp.as_ref() else {
        return Ok((0, 0));
    };
    let due = store.pending_notices(true)?;
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
    let org = &cfg.settings.organisation;
    let ids: Vec<i64> = due.iter().map(|n| n.id).collect();
    let id = stable_id(
        &format!("thong-bao-{}-{}", ids[0], ids[ids.len() - 1]),
        &org.email,
        &cfg.settings.delivery.from,
    );
    let message = plain_message(&cfg.settings.delivery.from, &org.email, &subject, body, &id)?;
    match send_now(s, &message)? {
        Ok(_) => {
            store.notices_tried(&ids, None, None)?;
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
            store.notices_tried(&ids, Some(&e.text), next.as_deref())?;
            Ok((0, ids.len()))
        }
    }
}

/// Sends one message at once, from code that is not async, on a runtime of
/// its own; the outer error is only failing to start that runtime.
pub(crate) fn send_now(s: &Smtp, message: &lettre::Message) -> Result<Result<String, SendError>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("khởi động gửi thư")?;
    Ok(runtime.block_on(send(s, message)))
}
