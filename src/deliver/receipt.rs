//! Receipts: after a workbook is read, its unit is told what was received
//! and what was found in it, cell by cell. A receipt goes through the
//! ledger like any letter (once per submission), but never waits for a
//! mail server that is down: it is left for the next run instead.

use super::{
    Batch, ClaimMode, Letter, Outcome, Status, deliver, in_round, plain_message, stable_id,
};
use crate::domain::{Finding, Period, Unit};
use crate::pipeline::Engine;
use anyhow::{Context, Result};
use chrono::NaiveDate;

/// The most findings listed in one receipt; the rest are counted.
const MAX_LISTED: usize = 200;

/// The ledger key of a submission's receipt.
pub fn receipt_key(submission: i64) -> String {
    format!("nhan-{submission}")
}

/// The submission a ledger key names, if it is a receipt's.
pub fn receipt_submission(key: &str) -> Option<i64> {
    key.strip_prefix("nhan-")?.parse().ok()
}

/// Whether a workbook of `unit` for `period`, read on `day`, is owed a
/// receipt: receipts are on, the unit has an address, and the day is at
/// most `receipt_days` after the quarter's deadline (a workbook of years
/// ago read into a new data dir is history, not news to its unit).
pub fn receipt_owed(engine: &Engine, unit: &Unit, period: Option<Period>, day: NaiveDate) -> bool {
    let d = &engine.settings.delivery;
    d.receipts
        && !unit.email.trim().is_empty()
        && period.is_none_or(|p| {
            day <= engine.deadline(unit, p) + chrono::Days::new(u64::from(d.receipt_days))
        })
}

/// Sends the receipts of these submissions (those whose unit is known and
/// has an address); each goes once.
pub fn send_receipts(engine: &Engine, submissions: &[i64]) -> Result<Vec<Outcome>> {
    in_round(engine, || send_each(engine, submissions))
}

fn send_each(engine: &Engine, submissions: &[i64]) -> Result<Vec<Outcome>> {
    let s = &engine.settings;
    let mut outcomes = Vec::new();
    for &id in submissions {
        let Some(sub) = engine.store.submission(id)? else {
            continue;
        };
        let Some(unit) = sub.unit.as_deref().and_then(|c| s.unit(c)) else {
            continue;
        };
        if unit.email.trim().is_empty() {
            continue;
        }
        let findings: Vec<Finding> = serde_json::from_str(&sub.findings_json)
            .with_context(|| format!("đọc lại kết quả kiểm tra của tệp {}", sub.file_name))?;
        let period: Option<Period> = sub.period.as_deref().and_then(|p| p.parse().ok());
        let errors = findings.iter().filter(|f| f.is_error()).count();
        let warnings = findings.len() - errors;
        let tz = s.time_zone();
        let when = sub.received_at.with_timezone(&tz);
        let what = period
            .map(|p| format!("báo cáo giải quyết TTHC {}", p.label_vi()))
            .unwrap_or_else(|| "báo cáo giải quyết TTHC".to_string());
        let mut body = format!(
            "Kính gửi: {}.\n\n{} đã nhận tệp \"{}\" lúc {} ngày {} ({what}).\n\n",
            unit.name,
            s.organisation.name,
            sub.file_name,
            when.format("%H:%M"),
            when.format("%d/%m/%Y"),
        );
        if sub.accepted {
            body.push_str("Kết quả kiểm tra: HỢP LỆ — báo cáo đã được ghi nhận.\n");
        } else {
            body.push_str(&format!(
                "Kết quả kiểm tra: CHƯA HỢP LỆ — có {errors} lỗi phải sửa; báo cáo chưa được ghi nhận. Đề nghị sửa đúng các ô nêu dưới đây và gửi lại tệp.\n"
            ));
        }
        if let Some(p) = period {
            let deadline = engine.deadline(unit, p);
            let late = when.date_naive() > deadline;
            body.push_str(&format!(
                "Hạn nộp: ngày {}{}.\n",
                deadline.format("%d/%m/%Y"),
                if late {
                    " — tệp này nhận sau hạn"
                } else {
                    ""
                }
            ));
        }
        if warnings > 0 {
            body.push_str(&format!(
                "Có {warnings} cảnh báo: không chặn việc ghi nhận nhưng nên xem lại.\n"
            ));
        }
        if !findings.is_empty() {
            body.push_str("\nChi tiết:\n");
            for (n, f) in findings.iter().take(MAX_LISTED).enumerate() {
                body.push_str(&format!("{}. {f}\n", n + 1));
            }
            if findings.len() > MAX_LISTED {
                body.push_str(&format!(
                    "… và {} mục khác (xem trên cổng thông tin).\n",
                    findings.len() - MAX_LISTED
                ));
            }
        }
        body.push_str(&format!(
            "\nThư này được gửi tự động; không trả lời thư này.\n\n{}\n",
            s.organisation.name
        ));
        let key = receipt_key(id);
        let message_id = stable_id(
            &format!("{key}-{}", &sub.sha256[..12.min(sub.sha256.len())]),
            &unit.email,
            &s.delivery.from,
        );
        let verdict = if sub.accepted {
            "hợp lệ".to_string()
        } else {
            format!("cần sửa {errors} lỗi")
        };
        let message = plain_message(
            &s.delivery.from,
            &unit.email,
            &format!("Biên nhận {what} — {}: {verdict}", unit.name),
            body,
            &message_id,
        )
        .with_context(|| format!("soạn biên nhận cho {}", unit.code))?;
        let batch = Batch {
            key: &key,
            version: 0,
            // Receipts have their own folder in the outbox.
            file_stem: format!("bien-nhan/{id}"),
            label: format!("biên nhận tệp {} của {}", sub.file_name, unit.code),
            patient: false,
        };
        let sent = deliver(
            engine,
            &batch,
            vec![Letter {
                recipient: unit.email.clone(),
                message,
                message_id,
            }],
            ClaimMode::Auto,
        )?;
        let server_down = sent.iter().any(|o| o.status == Status::Retry);
        outcomes.extend(sent);
        if server_down {
            // The rest are in the ledger already, due: they go with the
            // next retry instead of each waiting for its own timeout.
            break;
        }
    }
    Ok(outcomes)
}
