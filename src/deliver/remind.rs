//! Reminders before the deadline: to each unit of a quarter whose deadline
//! is at most `remind_days_before` days away and that has no accepted
//! workbook for it yet, an email with its prefilled template attached. A
//! unit is reminded once per quarter.

use super::{Batch, ClaimMode, Letter, Outcome, deliver, in_round, stable_id};
use crate::config::Config;
use crate::domain::{LedgerKey, Period};
use crate::report::template::unit_template;
use crate::store::Store;
use anyhow::{Context, Result, anyhow};
use chrono::NaiveDate;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

/// Sends the reminders due on `today` (in the organisation's time zone).
pub fn remind(cfg: &Config, store: &Store, today: NaiveDate) -> Result<Vec<Outcome>> {
    let here = Period::quarter_of(today, cfg.settings.period.window);
    in_round(cfg, store, || {
        let mut outcomes = Vec::new();
        for period in [here.previous(), here] {
            outcomes.extend(remind_period(cfg, store, period, today, true)?);
        }
        Ok(outcomes)
    })
}

/// Reminds the units of `period` that have no accepted workbook: only
/// those whose deadline is near with `only_due`, all of them without (the
/// office's "remind now"). A unit already reminded for the period is not
/// written to again.
pub fn remind_period(
    cfg: &Config,
    store: &Store,
    period: Period,
    today: NaiveDate,
    only_due: bool,
) -> Result<Vec<Outcome>> {
    let s = &cfg.settings;
    let mode = s.period.window;
    let (from, to) = period.window(mode);
    let stored = store.submissions_for(&period.to_string())?;
    let mut letters = Vec::new();
    for unit in s.units.iter().filter(|u| u.reports_at(to)) {
        let deadline = cfg.settings.deadline(unit, period);
        let days_left = (deadline - today).num_days();
        if only_due && !(0..=i64::from(s.delivery.remind_days_before)).contains(&days_left) {
            continue;
        }
        let time_left = if days_left >= 0 {
            format!("còn {days_left} ngày")
        } else {
            format!("đã quá hạn {} ngày", -days_left)
        };
        if stored
            .iter()
            .any(|x| x.accepted && x.unit.as_deref() == Some(unit.code.0.as_str()))
        {
            continue;
        }
        let (name, template) =
            unit_template(s, &cfg.rules, unit, period).map_err(|e| anyhow!(e))?;
        let body = format!(
            "Kính gửi: {}.\n\nĐến nay {} chưa nhận được báo cáo tình hình, kết quả giải quyết thủ tục hành chính {} (số liệu từ ngày {} đến ngày {}) của đơn vị.\n\nHạn nộp: ngày {} ({time_left}). Đề nghị đơn vị điền mẫu báo cáo đính kèm ({name}) và gửi qua cổng thông tin trước hạn.\n\n{}\n",
            unit.name,
            s.organisation.name,
            period.label_vi(),
            from.format("%d/%m/%Y"),
            to.format("%d/%m/%Y"),
            deadline.format("%d/%m/%Y"),
            s.organisation.name,
        );
        let message_id = stable_id(&format!("nhac-{period}"), &unit.email, &s.delivery.from);
        let to_box: Mailbox = unit
            .email
            .parse()
            .with_context(|| format!("địa chỉ của {} không hợp lệ", unit.code))?;
        let message = lettre::Message::builder()
            .from(s.delivery.from.parse()?)
            .to(to_box)
            .subject(format!(
                "Nhắc nộp báo cáo giải quyết TTHC {} — hạn {}",
                period.label_vi(),
                deadline.format("%d/%m/%Y")
            ))
            .message_id(Some(message_id.clone()))
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(body))
                    .singlepart(Attachment::new(name).body(
                        template,
                        ContentType::parse(
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        )?,
                    )),
            )
            .context("soạn thư nhắc")?;
        letters.push(Letter {
            recipient: unit.email.clone(),
            message,
            message_id,
        });
    }
    if letters.is_empty() {
        return Ok(Vec::new());
    }
    let batch = Batch::new(
        LedgerKey::Reminder { period },
        format!("nhac-nho-{period}"),
        format!("thư nhắc nộp báo cáo {}", period.label_vi()),
        true,
    );
    in_round(cfg, store, || {
        deliver(cfg, store, &batch, letters, ClaimMode::Auto)
    })
}
