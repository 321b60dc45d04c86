//! Delivery under the faults real mail servers have: a message kept whose
//! answer is lost or late, a private certificate without `ca_file`, a
//! recipient that fails for good or never stops failing, many receipts
//! refused at once, old quarters read into a new data dir, and two
//! processes starting together on a new data dir.

use crate::delivery::{
    FAST, SmtpServer, config, free_port, plain_config, plain_server, run_and_send, run_tthc,
    tls_server,
};
use crate::{copy_dir, sample_inbox};
use std::path::Path;
use std::process::Command;

const OFFICE: &str = "vanphong@trucninh.namdinh.gov.vn";
const PROVINCE: &str = "kiemsoattthc@namdinh.gov.vn";

fn ledger(tmp: &Path) -> Vec<tthc::store::DeliveryRow> {
    tthc::store::Store::open(&tmp.join("data"))
        .unwrap()
        .deliveries("2022-Q4")
        .unwrap()
}

fn parsed(server: &SmtpServer) -> Vec<mail_parser::Message<'static>> {
    server
        .messages()
        .into_iter()
        .map(|raw| {
            mail_parser::MessageParser::default()
                .parse(&raw)
                .unwrap()
                .into_owned()
        })
        .collect()
}

fn to_of(m: &mail_parser::Message) -> String {
    m.to()
        .and_then(|t| t.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_message_kept_whose_answer_is_lost_is_sent_again_and_the_repeat_is_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = plain_server(tmp.path(), &["--lose-reply-first", "1"]);
    let (code, out, err) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 0, "{out}{err}");
    let copies = server.copies();
    assert_eq!(copies.values().sum::<usize>(), 3, "{copies:?}");
    let twice: Vec<&String> = copies.iter().filter(|c| *c.1 == 2).map(|c| c.0).collect();
    assert_eq!(twice.len(), 1, "{copies:?}");
    // Both copies carry one Message-ID, and the ledger counts the repeat.
    let ids: Vec<String> = parsed(&server)
        .iter()
        .filter(|m| &to_of(m) == twice[0])
        .map(|m| m.message_id().unwrap().to_string())
        .collect();
    assert_eq!(ids[0], ids[1]);
    let rows = ledger(tmp.path());
    let row = rows.iter().find(|r| &r.recipient == twice[0]).unwrap();
    assert!(row.uncertain && row.status == "sent", "{row:?}");
    assert!(
        rows.iter()
            .filter(|r| &r.recipient != twice[0])
            .all(|r| !r.uncertain)
    );
    assert!(out.contains("có thể trùng"), "{out}");
}

#[test]
fn a_slow_answer_is_cut_at_the_timeout_and_the_repeat_is_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = SmtpServer::start(
        &tmp.path().join("mail"),
        port,
        &["--slow-reply-first", "1", "--slow-seconds", "8"],
    );
    let cfg = plain_config(
        tmp.path(),
        port,
        "timeout_seconds = 2\nmax_attempts = 3\nretry_seconds = 0",
    );
    let (code, out, err) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 0, "{out}{err}");
    // Had the 8-second answer been waited for, it would have been taken
    // as sent, with no repeat: the timeout cut it, and the repeat is marked.
    let rows = ledger(tmp.path());
    assert_eq!(rows.iter().filter(|r| r.uncertain).count(), 1, "{rows:?}");
    assert!(rows.iter().all(|r| r.status == "sent"), "{rows:?}");
    assert_eq!(server.copies().values().sum::<usize>(), 3);
}

#[test]
fn a_certificate_from_a_private_ca_without_ca_file_fails_at_once_naming_ca_file() {
    let tmp = tempfile::tempdir().unwrap();
    // The server's certificate is from a private CA the config does not name.
    let (server, port, _ca) = tls_server(tmp.path(), &[]);
    let cfg = config(
        tmp.path(),
        &format!("host = \"localhost\"\nport = {port}\nsecurity = \"starttls\"\n{FAST}"),
    );
    let (code, out, err) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 1, "{out}{err}");
    assert!(server.messages().is_empty());
    let rows = ledger(tmp.path());
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!((r.status.as_str(), r.attempts), ("failed", 1), "{r:?}");
        assert!(r.detail.contains("ca_file"), "{}", r.detail);
        assert!(r.detail.contains("không được tin cậy"), "{}", r.detail);
    }
}

#[test]
fn send_tries_again_only_the_recipient_that_failed_once_the_cause_is_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let first = SmtpServer::start(
        &tmp.path().join("mail1"),
        port,
        &["--reject-rcpt", PROVINCE],
    );
    let cfg = plain_config(tmp.path(), port, FAST);
    let (code, out, _) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 1, "{out}");
    // The automatic runs leave a permanent failure alone…
    let (_, out, _) = run_tthc(tmp.path(), &cfg, &["jobs", "run", "retry"], None);
    assert!(!out.contains(PROVINCE), "{out}");
    drop(first);
    // …the office fixes the cause and sends: only the failed recipient.
    let second = SmtpServer::start(&tmp.path().join("mail2"), port, &[]);
    let (code, out, _) = run_tthc(tmp.path(), &cfg, &["send", "--period", "2022-Q4"], None);
    assert_eq!(code, 0, "{out}");
    let copies = second.copies();
    assert_eq!(copies.get(PROVINCE), Some(&1), "{copies:?}");
    assert_eq!(
        copies.get("vanphong.ubnd@namdinh.gov.vn"),
        None,
        "{copies:?}"
    );
    // The office, told of the failure, is told of the delivery.
    let follow = parsed(&second)
        .into_iter()
        .find(|m| to_of(m) == OFFICE)
        .expect("a follow-up to the office");
    assert!(
        follow.subject().unwrap().contains("Đã gửi được"),
        "{:?}",
        follow.subject()
    );
    assert!(out.contains("đã nhận thư này lúc"), "{out}");
    // The ledger shows it, in words.
    let (code, out, _) = run_tthc(tmp.path(), &cfg, &["ledger", "--period", "2022-Q4"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("báo cáo 2022-Q4 phiên bản 1 → kiemsoattthc@namdinh.gov.vn: đã gửi"),
        "{out}"
    );
}

#[test]
fn a_letter_that_never_goes_is_given_up_with_one_notice_and_nothing_is_due_after() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = SmtpServer::start(&tmp.path().join("mail"), port, &["--fail-rcpt", PROVINCE]);
    let cfg = plain_config(
        tmp.path(),
        port,
        "timeout_seconds = 5\nmax_attempts = 2\nretry_seconds = 0\ngive_up_after_attempts = 3",
    );
    let (code, out, _) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 1, "{out}");
    let office = |s: &SmtpServer| {
        parsed(s)
            .into_iter()
            .filter(|m| to_of(m) == OFFICE)
            .collect::<Vec<_>>()
    };
    assert_eq!(office(&server).len(), 1, "one digest for the round");
    let (_, out, _) = run_tthc(tmp.path(), &cfg, &["jobs", "run", "retry"], None);
    assert!(out.contains("chưa gửi được"), "{out}");
    let row = ledger(tmp.path())
        .into_iter()
        .find(|r| r.recipient == PROVINCE)
        .unwrap();
    assert_eq!(
        (row.status.as_str(), row.attempts),
        ("failed", 3),
        "{row:?}"
    );
    assert!(row.detail.contains("ngừng thử"), "{}", row.detail);
    let told = office(&server);
    assert_eq!(told.len(), 2, "one more notice: it was given up");
    assert!(told[1].body_text(0).unwrap().contains("ngừng thử"));
    // Nothing is due any more: a retry finds nothing and sends nothing.
    let (code, out, _) = run_tthc(tmp.path(), &cfg, &["jobs", "run", "retry"], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("không có thư nào đến hạn gửi lại"), "{out}");
    assert_eq!(office(&server).len(), 2);
    assert_eq!(
        server.data_attempts(),
        server.messages().len(),
        "no DATA to the failing recipient: it is refused at RCPT"
    );
}

#[test]
fn receipts_refused_by_many_units_reach_the_office_as_one_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let refused = [
        "xa01.trucninh@namdinh.gov.vn",
        "xa02.trucninh@namdinh.gov.vn",
        "xa03.trucninh@namdinh.gov.vn",
    ];
    let mut args = Vec::new();
    for r in refused {
        args.extend(["--reject-rcpt", r]);
    }
    let (server, cfg) = plain_server(tmp.path(), &args);
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("receipts = false", "receipts = true");
    std::fs::write(&cfg, text).unwrap();
    let inbox = tmp.path().join("inbox");
    copy_dir(&sample_inbox().join("2022-Q4"), &inbox);
    let out = Command::new(env!("CARGO_BIN_EXE_tthc"))
        .args(["ingest", "--send", "--config", &cfg.to_string_lossy()])
        .args(["--inbox", &inbox.to_string_lossy()])
        .args(["--data", &tmp.path().join("data").to_string_lossy()])
        .args(["--out", &tmp.path().join("out").to_string_lossy()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let notices: Vec<_> = parsed(&server)
        .into_iter()
        .filter(|m| to_of(m) == OFFICE)
        .collect();
    assert_eq!(notices.len(), 1, "one digest, not one per receipt");
    let body = notices[0].body_text(0).unwrap().into_owned();
    for r in refused {
        assert!(body.contains(r), "{body}");
    }
    assert!(
        notices[0]
            .subject()
            .unwrap()
            .contains("3 thư chưa gửi được")
    );
    assert!(!body.contains("os error"), "{body}");
}

#[test]
fn run_without_send_mails_nothing_and_old_quarters_owe_no_receipts() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = plain_server(tmp.path(), &[]);
    // Receipts on, within the default 30 days: 2022's workbooks are history.
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("receipts = false", "receipts = true")
        .replace("receipt_days = 3650", "receipt_days = 30");
    std::fs::write(&cfg, text).unwrap();
    let (code, out, err) = run_tthc(tmp.path(), &cfg, &["run", "--period", "2022-Q4"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        server.messages().is_empty(),
        "run without --send mails nothing"
    );
    let store = tthc::store::Store::open(&tmp.path().join("data")).unwrap();
    let receipts = store
        .all_deliveries(1000)
        .unwrap()
        .into_iter()
        .filter(|r| r.period.starts_with("nhan-"))
        .count();
    assert_eq!(receipts, 0, "no receipts owed for a quarter long past");
}

#[test]
fn with_the_server_down_the_reason_is_in_vietnamese_and_local_time() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = plain_config(
        tmp.path(),
        port,
        "timeout_seconds = 2\nmax_attempts = 1\nretry_seconds = 60",
    );
    let (code, out, err) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("không nhận kết nối"), "{out}");
    assert!(
        !out.contains("os error") && !out.contains("Connection refused"),
        "{out}"
    );
    assert!(
        !err.contains("\u{1b}["),
        "no colour codes in a log that is not a terminal: {err}"
    );
    let (_, listed, _) = run_tthc(tmp.path(), &cfg, &["ledger"], None);
    assert!(listed.contains("chờ thử lại lúc"), "{listed}");
    assert!(listed.contains(" ngày "), "{listed}");
    assert!(
        !listed.contains("+00:00") && !listed.contains('T'),
        "{listed}"
    );
}

#[test]
fn two_runs_starting_together_on_a_new_data_dir_both_succeed_and_send_once() {
    for round in 0..2 {
        let tmp = tempfile::tempdir().unwrap();
        let (server, cfg) = plain_server(tmp.path(), &[]);
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_tthc"))
                .args(["run", "--period", "2022-Q4", "--send"])
                .args(["--config", &cfg.to_string_lossy()])
                .args(["--inbox", &sample_inbox().to_string_lossy()])
                .args(["--data", &tmp.path().join("data").to_string_lossy()])
                .args(["--out", &tmp.path().join("out").to_string_lossy()])
                .output()
                .unwrap()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(spawn);
            let b = s.spawn(spawn);
            (a.join().unwrap(), b.join().unwrap())
        });
        for o in [&a, &b] {
            assert!(
                o.status.success(),
                "round {round}: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let copies = server.copies();
        assert!(copies.values().all(|n| *n == 1), "{copies:?}");
        assert_eq!(copies.len(), 2, "{copies:?}");
    }
}
