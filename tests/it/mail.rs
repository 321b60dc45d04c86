//! Every kind of mail tthc writes is a well-formed MIME message: parsed by
//! a real mail parser, its subject and text decode to the Vietnamese meant,
//! the text part says `text/plain; charset=utf-8`, and the raw headers are
//! plain ASCII (the subject encoded, not raw UTF-8).

use crate::delivery::{SmtpServer, free_port, plain_config, run_and_send};
use crate::sample_engine;
use mail_parser::{MessageParser, MimeHeaders};
use std::path::Path;

/// Checks the form of one message and returns its subject and text.
pub(crate) fn well_formed(raw: &[u8]) -> (String, String) {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = &raw[..head_end];
    assert!(
        head.is_ascii(),
        "headers are ASCII: {}",
        String::from_utf8_lossy(head)
    );
    let head_text = String::from_utf8_lossy(head);
    assert!(head_text.contains("MIME-Version: 1.0"), "{head_text}");
    let msg = MessageParser::default().parse(raw).expect("parses");
    let text = msg.text_bodies().next().expect("a text part");
    let ct = text
        .content_type()
        .expect("the text part has a Content-Type");
    assert_eq!(
        (
            ct.ctype(),
            ct.subtype(),
            ct.attribute("charset").map(str::to_lowercase)
        ),
        ("text", Some("plain"), Some("utf-8".to_string())),
        "{head_text}"
    );
    (
        msg.subject().expect("a subject").to_string(),
        msg.body_text(0).expect("a text body").into_owned(),
    )
}

fn emls(dir: &Path) -> Vec<Vec<u8>> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    v.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn every_kind_of_mail_is_well_formed_mime_with_its_vietnamese_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = sample_engine(tmp.path());
    // Reports and receipts, to the outbox.
    let (_, outcome) = engine.run(tthc::domain::Period::quarter(2022, 4)).unwrap();
    assert_eq!(outcome.emails.len(), 2);
    for raw in emls(&engine.settings.paths.outbox) {
        let (subject, body) = well_formed(&raw);
        assert_eq!(
            subject,
            "Ủy ban nhân dân huyện Trực Ninh - Báo cáo kết quả giải quyết TTHC và xếp hạng đơn vị Quý IV/2022"
        );
        assert!(
            body.starts_with("Kính gửi: Ủy ban nhân dân tỉnh Nam Định."),
            "{body}"
        );
    }
    let receipts = emls(&engine.settings.paths.outbox.join("bien-nhan"));
    assert!(receipts.len() > 100);
    let mut seen_rejected = false;
    for raw in &receipts {
        let (subject, body) = well_formed(raw);
        assert!(
            subject.starts_with("Biên nhận báo cáo giải quyết TTHC Quý IV/2022 — ")
                || subject.starts_with("Biên nhận báo cáo giải quyết TTHC Quý "),
            "{subject}"
        );
        if subject.starts_with(
            "Biên nhận báo cáo giải quyết TTHC Quý IV/2022 — UBND xã Trực Thái: cần sửa ",
        ) {
            seen_rejected = true;
            assert!(body.contains("Kính gửi: UBND xã Trực Thái."), "{body}");
            assert!(body.contains("CHƯA HỢP LỆ"), "{body}");
        }
    }
    assert!(seen_rejected, "XA15's receipt, word for word");
    // Reminders, to the outbox.
    let now = chrono::DateTime::parse_from_rfc3339("2022-12-15T03:00:00Z")
        .unwrap()
        .to_utc();
    let fresh = tempfile::tempdir().unwrap();
    let engine = sample_engine(fresh.path());
    tthc::schedule::run_job(
        &engine.config,
        &engine.store,
        tthc::schedule::Job::Remind,
        "manual",
        now,
    )
    .unwrap();
    let reminders: Vec<_> = std::fs::read_dir(&engine.settings.paths.outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("nhac-nho")
        })
        .collect();
    assert_eq!(reminders.len(), 2);
    for p in reminders {
        let (subject, body) = well_formed(&std::fs::read(p).unwrap());
        assert!(
            subject.starts_with("Nhắc nộp báo cáo giải quyết TTHC Quý IV/2022 — hạn "),
            "{subject}"
        );
        assert!(body.contains("chưa nhận được báo cáo tình hình"), "{body}");
    }
}

#[test]
fn the_notice_to_the_office_is_well_formed_mime_too() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = SmtpServer::start(
        &tmp.path().join("mail"),
        port,
        &["--reject-rcpt", "kiemsoattthc@namdinh.gov.vn"],
    );
    let cfg = plain_config(tmp.path(), port, crate::delivery::FAST);
    let (code, out, _) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 1, "{out}");
    let notice = server
        .messages()
        .into_iter()
        .find(|raw| String::from_utf8_lossy(raw).contains("To: vanphong@trucninh.namdinh.gov.vn"))
        .expect("the notice");
    let (subject, body) = well_formed(&notice);
    assert_eq!(subject, "[tthc] 1 thư chưa gửi được");
    assert!(
        body.contains("1. báo cáo Quý IV/2022 (phiên bản 1) tới kiemsoattthc@namdinh.gov.vn"),
        "{body}"
    );
    assert!(
        body.contains("Lý do: máy chủ thư từ chối khi khai báo địa chỉ nhận"),
        "{body}"
    );
}
