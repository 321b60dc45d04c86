//! A unit's new access code, by mail, when the office asks for it. The
//! code exists only in this letter and on the office's screen (the store
//! keeps its hash), so the letter is sent once, now, outside the ledger: a
//! failure is told to the office at once, which still has the code.

use super::outbox::write_outbox;
use super::{plain_message, send_now, stable_id};
use crate::domain::Unit;
use crate::settings::Settings;
use anyhow::{Result, anyhow};

/// Sends `code` to the unit's address; says where it went.
pub fn send_access_code(s: &Settings, unit: &Unit, code: &str) -> Result<String> {
    if unit.email.trim().is_empty() {
        return Err(anyhow!("đơn vị chưa khai báo thư điện tử"));
    }
    let mut body = format!(
        "Kính gửi: {}.\n\n{} cấp mã truy cập mới để đơn vị gửi báo cáo kết quả giải quyết thủ tục hành chính qua cổng thông tin.\n\nMã đơn vị: {}\nMã truy cập: {code}\n",
        unit.name, s.organisation.name, unit.code
    );
    if let Some(url) = &s.web.public_url {
        body.push_str(&format!("Địa chỉ đăng nhập: {url}\n"));
    }
    body.push_str(&format!(
        "\nMã cũ (nếu có) không còn dùng được. Đề nghị giữ kín mã này; nếu mã bị lộ, đề nghị văn phòng cấp lại.\n\nThư này được gửi tự động; không trả lời thư này.\n\n{}\n",
        s.organisation.name
    ));
    let stamp = chrono::Utc::now().timestamp_millis();
    let message_id = stable_id(
        &format!("ma-{}-{stamp}", unit.code),
        &unit.email,
        &s.delivery.from,
    );
    let message = plain_message(
        &s.delivery.from,
        &unit.email,
        &format!("Mã truy cập mới của {}", unit.name),
        body,
        &message_id,
    )?;
    match &s.smtp {
        Some(smtp) => {
            send_now(smtp, &message)?.map_err(|e| anyhow!("{}", e.text()))?;
            Ok(format!("đã gửi đến {}", unit.email))
        }
        None => {
            write_outbox(
                &s.paths.outbox,
                &format!("ma-truy-cap/{}-{stamp}", unit.code),
                &unit.email,
                &message.formatted(),
            )?;
            Ok(format!(
                "đã ghi vào thư mục thư đi, thư cho {} (chưa cấu hình máy chủ thư)",
                unit.email
            ))
        }
    }
}
