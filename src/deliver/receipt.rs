//! Receipts: after a workbook is read, its unit is told what was received
//! and what was found in it, cell by cell. A receipt goes through the
//! ledger like any letter (once per submission), but never waits for a
//! mail server that is down: it is left for the next run instead.

use super::{
    Batch, ClaimMode, Letter, Outcome, Status, deliver, in_round, plain_message, stable_id,
};
use crate::config::Config;
use crate::domain::{Finding, LedgerKey, Period};
use crate::store::Store;
use anyhow::{Context, Result};

/// The most findings listed in one receipt; the rest are counted.
const MAX_LISTED: usize = 200;

/// Sends the receipts of these submissions (those whose unit is known and
/// has an address); each goes once.
pub fn send_receipts(cfg: &Config, store: &Store, submissions: &[i64]) -> Result<Vec<Outcome>> {
    in_round(cfg, store, || send_each(cfg, store, submissions))
}

fn send_each(cfg: &Config, store: &Store, submissions: &[i64]) -> Result<Vec<Outcome>> {
    let s = &cfg.settings;
    let mut outcomes = Vec::new();
    for &id in submissions {
        let Some(sub) = store.submission(id)? else {
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
            let deadline = cfg.settings.deadline(unit, p);
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
        let (key, _) = LedgerKey::Receipt { submission: id }.parts();
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
        // Receipts have their own folder in the outbox.
        let batch = Batch::new(
            LedgerKey::Receipt { submission: id },
            format!("bien-nhan/{id}"),
            format!("biên nhận tệp {} của {}", sub.file_name, unit.code),
            false,
        );
        let sent = deliver(
            cfg,
            store,
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
