//! The letters themselves: the report email with its attachments, plain
//! letters (receipts, reminders' text, notices), and Message-IDs that are
//! the same for the same letter so that an accidental repeat folds into one.

use crate::report::Results;
use crate::report::narrative_figures;
use crate::settings::Settings;
use anyhow::{Context, Result};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

/// A Message-ID that is the same for the same letter and recipient, so mail
/// clients fold a repeat into one.
pub fn stable_id(what: &str, recipient: &str, from: &str) -> String {
    let domain = from
        .rsplit('@')
        .next()
        .unwrap_or("tthc.local")
        .trim_end_matches('>');
    let h = crate::domain::sha256_hex(format!("{what}|{recipient}").as_bytes());
    format!("<tthc-{what}-{}@{domain}>", &h[..16])
}

/// The Message-ID of a report version to a recipient.
pub fn stable_message_id(r: &Results, recipient: &str, from: &str) -> String {
    stable_id(&format!("{}-v{}", r.period, r.version), recipient, from)
}

/// A plain-text letter: a well-formed MIME message (`MIME-Version`,
/// `text/plain; charset=utf-8`, an encoded Vietnamese subject), as every
/// mail without attachments must be for clients to show it right.
pub fn plain_message(
    from: &str,
    to: &str,
    subject: &str,
    body: String,
    message_id: &str,
) -> Result<lettre::Message> {
    let from: Mailbox = from
        .parse()
        .with_context(|| format!("địa chỉ gửi \"{from}\" không hợp lệ"))?;
    let to: Mailbox = to
        .parse()
        .with_context(|| format!("địa chỉ nhận \"{to}\" không hợp lệ"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id.to_string()))
        .singlepart(SinglePart::plain(body))
        .context("soạn thư")
}

/// The report email: Vietnamese subject and body with the headline figures,
/// the workbook and the PDF attached under ASCII file names. A deliberate
/// resend is a new message (its own Message-ID, `References` to the first
/// copy) so that mail clients show it rather than fold it into the first.
pub fn report_message(
    s: &Settings,
    r: &Results,
    recipient: &str,
    attachments: &[(String, Vec<u8>)],
    resend: bool,
) -> Result<(lettre::Message, String)> {
    let from: Mailbox = s
        .delivery
        .from
        .parse()
        .with_context(|| format!("địa chỉ gửi \"{}\" không hợp lệ", s.delivery.from))?;
    let to: Mailbox = recipient
        .parse()
        .with_context(|| format!("địa chỉ nhận \"{recipient}\" không hợp lệ"))?;
    let org = &s.organisation;
    let subject = format!(
        "{} - Báo cáo kết quả giải quyết TTHC và xếp hạng đơn vị {}",
        org.name,
        r.period.label_vi()
    );
    let body = format!(
        "Kính gửi: {superior}.\n\n{name} gửi báo cáo kết quả giải quyết thủ tục hành chính và đánh giá, xếp hạng các đơn vị {period} (số liệu từ ngày {from} đến ngày {to}).\n\n{figures}\nTệp đính kèm:\n- {xlsx}: bảng xếp hạng và số liệu chi tiết;\n- {pdf}: báo cáo chính thức.\n\nBáo cáo phiên bản {version}, lập ngày {date}.\n\n{name}\n",
        superior = org.superior,
        name = org.name,
        period = r.period.label_vi(),
        from = r.window.0.format("%d/%m/%Y"),
        to = r.window.1.format("%d/%m/%Y"),
        figures = narrative_figures(r),
        xlsx = r.file_name("xep-hang", "xlsx"),
        pdf = r.file_name("bao-cao", "pdf"),
        version = r.version,
        date = r.generated_at.get(..10).unwrap_or_default(),
    );
    let first_id = stable_message_id(r, recipient, &s.delivery.from);
    let message_id = if resend {
        let at = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        stable_id(
            &format!("{}-v{}-gui-lai-{at}", r.period, r.version),
            recipient,
            &s.delivery.from,
        )
    } else {
        first_id.clone()
    };
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body));
    for (name, bytes) in attachments {
        let kind = if name.ends_with(".pdf") {
            "application/pdf"
        } else {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        };
        parts = parts.singlepart(
            Attachment::new(name.clone()).body(bytes.clone(), ContentType::parse(kind)?),
        );
    }
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id.clone()));
    if resend {
        builder = builder.references(first_id);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&r.generated_at) {
        builder = builder.date(t.into());
    }
    let msg = builder.multipart(parts).context("soạn thư báo cáo")?;
    Ok((msg, message_id))
}
