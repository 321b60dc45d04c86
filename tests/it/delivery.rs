//! Delivery over a real SMTP server on loopback (Python's aiosmtpd, from
//! `tests/smtp/server.py`; `.ci/run` installs it): attachments arrive
//! intact, TLS with a test CA, logins, temporary and permanent failures,
//! a server that is down, and two processes sending at once.

use crate::{repo, sample_inbox};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub(crate) struct SmtpServer {
    child: Child,
    dir: PathBuf,
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpServer {
    pub(crate) fn start(dir: &Path, port: u16, args: &[&str]) -> SmtpServer {
        let mut child = Command::new("python3")
            .arg(repo().join("tests/smtp/server.py"))
            .args(["--port", &port.to_string(), "--dir", &dir.to_string_lossy()])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "READY",
            "the SMTP test server needs aiosmtpd (pip install aiosmtpd)"
        );
        SmtpServer {
            child,
            dir: dir.to_path_buf(),
        }
    }

    /// The messages the server accepted, as raw bytes.
    pub(crate) fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files.iter().map(|p| std::fs::read(p).unwrap()).collect()
    }

    /// How many copies each recipient got.
    pub(crate) fn copies(&self) -> std::collections::BTreeMap<String, usize> {
        let mut n = std::collections::BTreeMap::new();
        for line in std::fs::read_to_string(self.dir.join("saved.log"))
            .unwrap_or_default()
            .lines()
        {
            for to in line.split(' ').nth(1).unwrap_or_default().split(',') {
                *n.entry(to.to_string()).or_default() += 1;
            }
        }
        n
    }

    pub(crate) fn data_attempts(&self) -> usize {
        std::fs::read_to_string(self.dir.join("attempts.log"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A copy of the sample config pointing at the test server.
pub(crate) fn config(tmp: &Path, smtp: &str) -> PathBuf {
    let src = std::fs::read_to_string(crate::sample_config())
        .unwrap()
        .replace(
            "dir = \"../../rules\"",
            &format!("dir = \"{}\"", repo().join("rules").display()),
        )
        // Receipts to the units have their own test.
        .replace("receipts = true", "receipts = false");
    let path = tmp.join("tthc.toml");
    std::fs::write(&path, format!("{src}\n[smtp]\n{smtp}\n")).unwrap();
    path
}

/// Runs a tthc command on the sample district with folders in `tmp`.
pub(crate) fn run_tthc(
    tmp: &Path,
    cfg: &Path,
    args: &[&str],
    password: Option<&str>,
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tthc"));
    cmd.args(args)
        .args([
            "--config",
            &cfg.to_string_lossy(),
            "--inbox",
            &sample_inbox().to_string_lossy(),
        ])
        .args([
            "--data",
            &tmp.join("data").to_string_lossy(),
            "--out",
            &tmp.join("out").to_string_lossy(),
        ]);
    if let Some(p) = password {
        cmd.env("TTHC_SMTP_PASSWORD", p);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `tthc run --period 2022-Q4 --send` on the sample district.
pub(crate) fn run_and_send(
    tmp: &Path,
    cfg: &Path,
    password: Option<&str>,
) -> (i32, String, String) {
    run_tthc(
        tmp,
        cfg,
        &["run", "--period", "2022-Q4", "--send"],
        password,
    )
}

fn attachment(raw: &[u8], name: &str) -> Vec<u8> {
    use mail_parser::MimeHeaders;
    let msg = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a parseable message");
    msg.attachments()
        .find(|a| a.attachment_name() == Some(name))
        .unwrap_or_else(|| panic!("no attachment {name}"))
        .contents()
        .to_vec()
}

/// A config for a plain server on loopback at `port`, with these further
/// `[smtp]` settings.
pub(crate) fn plain_config(tmp: &Path, port: u16, settings: &str) -> PathBuf {
    config(
        tmp,
        &format!("host = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n{settings}"),
    )
}

/// A plain server on loopback with `args`, and a config pointing at it.
pub(crate) fn plain_server(tmp: &Path, args: &[&str]) -> (SmtpServer, PathBuf) {
    let port = free_port();
    let server = SmtpServer::start(&tmp.join("mail"), port, args);
    let cfg = plain_config(tmp, port, FAST);
    (server, cfg)
}

pub(crate) const FAST: &str = "timeout_seconds = 5\nmax_attempts = 3\nretry_seconds = 0";

#[test]
fn the_report_reaches_each_recipient_once_with_both_files_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = plain_server(tmp.path(), &[]);
    let (code, out, err) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 0, "{out}{err}");
    let mail = server.messages();
    assert_eq!(mail.len(), 2, "{out}");
    let dir = tmp.path().join("out/2022-Q4");
    for raw in &mail {
        assert_eq!(
            attachment(raw, "xep-hang-2022-Q4.xlsx"),
            std::fs::read(dir.join("xep-hang-2022-Q4.xlsx")).unwrap()
        );
        assert_eq!(
            attachment(raw, "bao-cao-2022-Q4.pdf"),
            std::fs::read(dir.join("bao-cao-2022-Q4.pdf")).unwrap()
        );
        let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
        assert!(
            msg.subject().unwrap().contains("Quý IV/2022"),
            "{:?}",
            msg.subject()
        );
    }
    // Sending again sends nothing: the ledger has both.
    let (code, out, _) = run_tthc(tmp.path(), &cfg, &["send", "--period", "2022-Q4"], None);
    assert_eq!(code, 0);
    assert!(out.contains("bỏ qua"), "{out}");
    assert_eq!(server.messages().len(), 2);
    // Unless asked to.
    let (code, _, _) = run_tthc(
        tmp.path(),
        &cfg,
        &["send", "--period", "2022-Q4", "--resend"],
        None,
    );
    assert_eq!(code, 0);
    let mail = server.messages();
    assert_eq!(mail.len(), 4);
    // A deliberate resend is a new message that points to the first copy,
    // so mail clients show it instead of folding it into the first.
    let parse = |raw: &[u8]| {
        let m = mail_parser::MessageParser::default().parse(raw).unwrap();
        let to = m
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_string();
        let id = m.message_id().unwrap().to_string();
        let refs = m
            .references()
            .as_text_list()
            .map(|v| v.iter().map(|r| r.to_string()).collect::<Vec<_>>())
            .unwrap_or_default();
        (to, id, refs)
    };
    let (first, again): (Vec<_>, Vec<_>) = mail
        .iter()
        .map(|m| parse(m))
        .partition(|(_, _, refs)| refs.is_empty());
    assert_eq!((first.len(), again.len()), (2, 2));
    for (to, id, refs) in &again {
        let original = first.iter().find(|f| &f.0 == to).unwrap();
        assert_ne!(id, &original.1, "a new Message-ID");
        assert_eq!(refs, &vec![original.1.clone()], "References the first copy");
    }
}

pub(crate) fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    std::fs::create_dir_all(dir).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Thu nghiem tthc CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("leaf.pem"),
        dir.join("leaf.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    paths
}

/// A server with a certificate from a test CA (STARTTLS, unless `args`
/// ask for implicit TLS), on a free port; its port and the CA's file.
pub(crate) fn tls_server(tmp: &Path, args: &[&str]) -> (SmtpServer, u16, PathBuf) {
    let (ca, cert, key) = tls_files(&tmp.join("tls"));
    let port = free_port();
    let (cert, key) = (cert.to_string_lossy(), key.to_string_lossy());
    let mut all = vec!["--cert", &cert, "--key", &key];
    all.extend_from_slice(args);
    (SmtpServer::start(&tmp.join("mail"), port, &all), port, ca)
}

/// A server speaking STARTTLS with a certificate from a test CA, asking
/// for the login vanphong / mat-khau-dung, and a config pointing at it.
fn starttls_with_login(tmp: &Path) -> (SmtpServer, PathBuf) {
    let (server, port, ca) = tls_server(tmp, &["--auth", "vanphong:mat-khau-dung"]);
    let smtp = format!(
        "host = \"localhost\"\nport = {port}\nsecurity = \"starttls\"\nusername = \"vanphong\"\nca_file = \"{}\"\n{FAST}",
        ca.display()
    );
    (server, config(tmp, &smtp))
}

#[test]
fn starttls_with_a_private_ca_and_a_login_delivers() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = starttls_with_login(tmp.path());
    let (code, out, err) = run_and_send(tmp.path(), &cfg, Some("mat-khau-dung"));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(server.messages().len(), 2, "{out}{err}");
}

#[test]
fn implicit_tls_delivers() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, port, ca) = tls_server(tmp.path(), &["--implicit-tls"]);
    let cfg = config(
        tmp.path(),
        &format!(
            "host = \"localhost\"\nport = {port}\nsecurity = \"tls\"\nca_file = \"{}\"\n{FAST}",
            ca.display()
        ),
    );
    let (code, out, err) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn a_wrong_password_fails_without_retrying() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = starttls_with_login(tmp.path());
    let (code, out, _) = run_and_send(tmp.path(), &cfg, Some("sai"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("gửi thất bại"), "{out}");
    assert!(server.messages().is_empty());
    let store = tthc::store::Store::open(&tmp.path().join("data")).unwrap();
    let ledger = store.deliveries("2022-Q4").unwrap();
    assert_eq!(ledger.len(), 2);
    assert!(
        ledger
            .iter()
            .all(|d| d.status == "failed" && d.attempts == 1),
        "{ledger:?}"
    );
}

#[test]
fn a_temporary_refusal_is_retried_and_one_copy_arrives() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = plain_server(tmp.path(), &["--fail-first", "1", "--drop-first", "1"]);
    let (code, out, err) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(server.messages().len(), 2, "one copy per recipient");
    assert_eq!(
        server.data_attempts(),
        4,
        "a dropped DATA, a 451, then two that went through"
    );
    let store = tthc::store::Store::open(&tmp.path().join("data")).unwrap();
    let attempts: i64 = store
        .deliveries("2022-Q4")
        .unwrap()
        .iter()
        .map(|d| d.attempts)
        .sum();
    assert_eq!(attempts, 4);
}

#[test]
fn a_permanent_refusal_is_not_retried_and_the_office_is_told() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = plain_server(
        tmp.path(),
        &["--reject-rcpt", "kiemsoattthc@namdinh.gov.vn"],
    );
    let (code, out, _) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 1, "{out}");
    let mail = server.messages();
    // The other recipient's report and the notice to the office.
    assert_eq!(mail.len(), 2, "{out}");
    let notice = mail
        .iter()
        .map(|m| mail_parser::MessageParser::default().parse(m).unwrap())
        .find(|m| {
            m.to().and_then(|t| t.first()).and_then(|a| a.address())
                == Some("vanphong@trucninh.namdinh.gov.vn")
        })
        .expect("a notice to the office");
    assert!(
        notice
            .body_text(0)
            .unwrap()
            .contains("kiemsoattthc@namdinh.gov.vn")
    );
    let store = tthc::store::Store::open(&tmp.path().join("data")).unwrap();
    let rejected = store
        .deliveries("2022-Q4")
        .unwrap()
        .into_iter()
        .find(|d| d.recipient == "kiemsoattthc@namdinh.gov.vn")
        .unwrap();
    assert_eq!((rejected.status.as_str(), rejected.attempts), ("failed", 1));
}

#[test]
fn a_server_that_is_down_gets_the_report_once_it_is_up() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = plain_config(
        tmp.path(),
        port,
        "timeout_seconds = 5\nmax_attempts = 2\nretry_seconds = 0",
    );
    let (code, out, _) = run_and_send(tmp.path(), &cfg, None);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("sẽ thử lại"), "{out}");
    let server = SmtpServer::start(&tmp.path().join("mail"), port, &[]);
    let (code, out, _) = run_tthc(tmp.path(), &cfg, &["send", "--period", "2022-Q4"], None);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        server.messages().len(),
        2,
        "exactly one copy each, plus no duplicates"
    );
    // The notice of the first failure could not be sent either: nothing else arrived.
    let (_, _, _) = run_tthc(tmp.path(), &cfg, &["send", "--period", "2022-Q4"], None);
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn two_processes_sending_at_once_send_each_copy_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, cfg) = plain_server(tmp.path(), &[]);
    let (code, out, err) = run_tthc(tmp.path(), &cfg, &["run", "--period", "2022-Q4"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        server.messages().is_empty(),
        "run without --send sends nothing"
    );
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_tthc"))
            .args([
                "send",
                "--period",
                "2022-Q4",
                "--config",
                &cfg.to_string_lossy(),
            ])
            .args([
                "--inbox",
                &sample_inbox().to_string_lossy(),
                "--data",
                &tmp.path().join("data").to_string_lossy(),
            ])
            .args(["--out", &tmp.path().join("out").to_string_lossy()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    a.wait().unwrap();
    b.wait().unwrap();
    assert_eq!(server.messages().len(), 2);
}

#[test]
fn each_workbook_read_gets_one_receipt_even_if_the_server_was_down_then() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = plain_config(
        tmp.path(),
        port,
        "timeout_seconds = 5\nmax_attempts = 3\nretry_seconds = 0",
    );
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("receipts = false", "receipts = true");
    std::fs::write(&cfg, text).unwrap();
    let inbox = tmp.path().join("inbox");
    crate::copy_dir(&sample_inbox().join("2022-Q4"), &inbox);
    let files = crate::count_files(&inbox, "xlsx");
    let tthc = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tthc"))
            .args(args)
            .args(["--config", &cfg.to_string_lossy()])
            .args(["--inbox", &inbox.to_string_lossy()])
            .args(["--data", &tmp.path().join("data").to_string_lossy()])
            .args(["--out", &tmp.path().join("out").to_string_lossy()])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // The server is down: reading goes on, the receipts wait in the ledger.
    let (code, out) = tthc(&["ingest"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("{files} tệp mới")), "{out}");
    let server = SmtpServer::start(&tmp.path().join("mail"), port, &[]);
    let (code, out) = tthc(&["jobs", "run", "retry"]);
    assert_eq!(code, 0, "{out}");
    let copies = server.copies();
    assert_eq!(copies.len(), files, "{copies:?}");
    assert!(copies.values().all(|n| *n == 1), "{copies:?}");
    let xa15 = server
        .messages()
        .into_iter()
        .map(|raw| {
            mail_parser::MessageParser::default()
                .parse(&raw)
                .unwrap()
                .body_text(0)
                .unwrap()
                .into_owned()
        })
        .find(|body| body.contains("UBND xã Trực Thái"))
        .expect("XA15's receipt");
    assert!(xa15.contains("CHƯA HỢP LỆ"), "{xa15}");
    assert!(xa15.contains("Biểu 06!C10"), "{xa15}");
    // Read again, retried again: nothing new goes out.
    tthc(&["ingest"]);
    tthc(&["jobs", "run", "retry"]);
    assert_eq!(server.messages().len(), files);
}
