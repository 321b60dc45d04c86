//! `tthc serve` as a real process: a job missed while it was down runs once
//! at start; a second instance waits and takes over; killed (SIGKILL) or
//! stopped (SIGTERM) in the middle of the report job, it ends with every
//! recipient holding the report, and any repeat is one the ledger marks.

use crate::delivery::{SmtpServer, free_port};
use crate::{repo, sample_config, sample_inbox};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RECIPIENTS: [&str; 3] = [
    "kiemsoattthc@namdinh.gov.vn",
    "vanphong.ubnd@namdinh.gov.vn",
    "luutru@namdinh.gov.vn",
];

/// The sample config with this `[schedule]`, three recipients, no
/// receipts, and `[smtp]` if given.
fn config(tmp: &Path, schedule: &str, smtp: Option<&str>) -> PathBuf {
    let src = std::fs::read_to_string(sample_config()).unwrap();
    let start = src.find("\n[schedule]").expect("the sample has a schedule");
    let end = src.find("\n[[units]]").unwrap();
    let quoted: Vec<String> = RECIPIENTS.iter().map(|r| format!("\"{r}\"")).collect();
    let head = src[..start]
        .replace(
            "dir = \"../../rules\"",
            &format!("dir = \"{}\"", repo().join("rules").display()),
        )
        .replace("receipts = true", "receipts = false")
        .replace(
            "recipients = [\"kiemsoattthc@namdinh.gov.vn\", \"vanphong.ubnd@namdinh.gov.vn\"]",
            &format!("recipients = [{}]", quoted.join(", ")),
        );
    let smtp = smtp.map(|s| format!("\n[smtp]\n{s}\n")).unwrap_or_default();
    let text = format!("{head}\n[schedule]\n{schedule}\n{smtp}{}", &src[end..]);
    let path = tmp.join("tthc.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn folder_args(tmp: &Path, cfg: &Path) -> Vec<String> {
    vec![
        "--config".into(),
        cfg.to_string_lossy().into(),
        "--inbox".into(),
        sample_inbox().to_string_lossy().into(),
        "--data".into(),
        tmp.join("data").to_string_lossy().into(),
        "--out".into(),
        tmp.join("out").to_string_lossy().into(),
    ]
}

fn tthc_in(tmp: &Path, cfg: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tthc"))
        .args(args)
        .args(folder_args(tmp, cfg))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A running `tthc serve`, its stderr kept in a file.
struct Service {
    child: Child,
    log: PathBuf,
}

impl Service {
    fn start(tmp: &Path, cfg: &Path, name: &str) -> Service {
        let log = tmp.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_tthc"))
            .arg("serve")
            .args(folder_args(tmp, cfg))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Service { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, text: &str, secs: u64) {
        wait_for(secs, &format!("\"{text}\" in the service's log"), || {
            self.log().contains(text)
        });
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    /// SIGTERM, then the exit code (within `secs`).
    fn stop(mut self, secs: u64) -> i32 {
        self.signal("-TERM");
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < until,
                "the service did not stop within {secs} s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(secs: u64, what: &str, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < until, "waited {secs} s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn db(tmp: &Path) -> Connection {
    let c = Connection::open(tmp.join("data/tthc.sqlite3")).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    c
}

/// (job, trigger, outcome, holder) of every run, oldest first.
fn runs(tmp: &Path) -> Vec<(String, String, Option<String>, String)> {
    let c = db(tmp);
    let mut s = c
        .prepare("SELECT job, trigger, outcome, holder FROM job_runs ORDER BY id")
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// (recipient, status, uncertain) of the report's ledger rows.
fn ledger(tmp: &Path) -> Vec<(String, String, i64)> {
    let c = db(tmp);
    let mut s = c
        .prepare("SELECT recipient, status, uncertain FROM deliveries WHERE period = '2022-Q4' AND version = 1 ORDER BY recipient")
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn days_ago(n: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(n)).to_rfc3339()
}

#[test]
fn a_job_missed_while_the_service_was_down_runs_once_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    // Collect at 03:00 every day; it last ran three days ago.
    let cfg = config(tmp, "collect = \"0 0 3 * * *\"", None);
    let (code, out) = tthc_in(tmp, &cfg, &["jobs", "run", "collect"]);
    assert_eq!(code, 0, "{out}");
    db(tmp)
        .execute("UPDATE job_runs SET started_at = ?1", [days_ago(3)])
        .unwrap();

    let service = Service::start(tmp, &cfg, "first");
    wait_for(60, "the catch-up run", || {
        runs(tmp)
            .iter()
            .any(|r| r.1 == "catch-up" && r.2.as_deref() == Some("ok"))
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(service.stop(30), 0);
    let catch_ups = |tmp: &Path| runs(tmp).iter().filter(|r| r.1 == "catch-up").count();
    assert_eq!(
        catch_ups(tmp),
        1,
        "three missed ticks, one run: {:?}",
        runs(tmp)
    );

    // Started again: nothing was missed since.
    let service = Service::start(tmp, &cfg, "second");
    service.wait_log("đang chạy", 30);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(service.stop(30), 0);
    assert_eq!(catch_ups(tmp), 1, "{:?}", runs(tmp));
    let (_, listed) = tthc_in(tmp, &cfg, &["jobs"]);
    assert!(listed.contains("collect (catch-up)"), "{listed}");
    assert!(listed.contains("Dịch vụ không chạy"), "{listed}");
}

#[test]
fn a_second_instance_waits_and_takes_over_when_the_first_dies() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let cfg = config(tmp, "collect = \"* * * * * *\"", None);
    let a = Service::start(tmp, &cfg, "a");
    a.wait_log("đang chạy", 60);
    let b = Service::start(tmp, &cfg, "b");
    b.wait_log("đang làm việc trên thư mục dữ liệu này", 60);
    wait_for(60, "two runs done", || {
        runs(tmp).iter().filter(|r| r.2.is_some()).count() >= 2
    });
    let a_pid = format!(":{}:", a.pid());
    let b_pid = format!(":{}:", b.pid());
    let before = runs(tmp);
    assert!(
        before.iter().all(|r| r.3.contains(&a_pid)),
        "only the first instance works: {before:?}"
    );
    let (_, listed) = tthc_in(tmp, &cfg, &["jobs"]);
    assert!(
        listed.contains("Dịch vụ đang chạy: serve:") && listed.contains(&a_pid),
        "{listed}"
    );

    a.kill();
    b.wait_log("đang chạy", 30);
    wait_for(30, "a run by the second instance", || {
        runs(tmp).iter().any(|r| r.3.contains(&b_pid))
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(b.stop(30), 0);
    let after = runs(tmp);
    assert!(
        after.iter().all(|r| r.2.is_some()),
        "no run is left as running; the one the first instance was in is interrupted: {after:?}"
    );
    assert!(
        after
            .iter()
            .filter(|r| r.3.contains(&b_pid))
            .all(|r| r.2.as_deref() == Some("ok")),
        "{after:?}"
    );
}

/// A config whose report job is due at once (the service "first started"
/// three days ago, and a 07:00 report time has passed since), sending to a
/// slow server: two seconds a message.
fn report_setup(tmp: &Path) -> (SmtpServer, PathBuf) {
    let port = free_port();
    let server = SmtpServer::start(&tmp.join("mail"), port, &["--delay", "2"]);
    (server, report_config(tmp, port))
}

fn report_config(tmp: &Path, port: u16) -> PathBuf {
    let cfg = config(
        tmp,
        "report = \"0 0 7 * * *\"",
        Some(&format!(
            "host = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\ntimeout_seconds = 10\nmax_attempts = 3\nretry_seconds = 1"
        )),
    );
    let (code, out) = tthc_in(tmp, &cfg, &["ingest"]);
    assert_eq!(code, 0, "{out}");
    db(tmp)
        .execute(
            "INSERT INTO meta (key, value) VALUES ('service_first_start', ?1)",
            [days_ago(3)],
        )
        .unwrap();
    cfg
}

#[test]
fn killed_in_the_middle_of_the_report_job_it_ends_with_every_recipient_served() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let (server, cfg) = report_setup(tmp);
    let first = Service::start(tmp, &cfg, "first");
    wait_for(120, "the first copy", || !server.messages().is_empty());
    // The second copy is on its way: the process dies without recording it.
    first.kill();
    let second = Service::start(tmp, &cfg, "second");
    wait_for(120, "every recipient served, by the ledger", || {
        let l = ledger(tmp);
        l.len() == 3 && l.iter().all(|r| r.1 == "sent")
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(second.stop(60), 0);
    let copies = server.copies();
    for to in RECIPIENTS {
        let n = copies.get(to).copied().unwrap_or(0);
        let marked = ledger(tmp).iter().any(|r| r.0 == to && r.2 > 0);
        assert!(
            n == 1 || (n == 2 && marked),
            "{to}: {n} copies, repeat marked in the ledger: {marked}; {copies:?} {:?}",
            ledger(tmp)
        );
    }
    let all = runs(tmp);
    assert!(
        all.iter()
            .any(|r| r.0 == "report" && r.2.as_deref() == Some("interrupted")),
        "{all:?}"
    );
    assert!(all.iter().all(|r| r.2.is_some()), "{all:?}");
}

#[test]
fn sigterm_lets_the_message_being_sent_finish_and_the_rest_goes_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let (server, cfg) = report_setup(tmp);
    let first = Service::start(tmp, &cfg, "first");
    wait_for(120, "the first copy", || !server.messages().is_empty());
    assert_eq!(first.stop(60), 0);
    let sent = server.messages().len();
    let rows = ledger(tmp);
    assert!(sent < 3, "stopped before the last copy ({sent})");
    assert_eq!(
        rows.iter().filter(|r| r.1 == "sent").count(),
        sent,
        "the copy being sent was finished and recorded: {rows:?}"
    );
    assert!(
        rows.iter().all(|r| r.1 == "sent" || r.1 == "retry"),
        "nothing is left half-sent; what was not started waits for the next run: {rows:?}"
    );
    let report_run = runs(tmp).into_iter().rfind(|r| r.0 == "report").unwrap();
    assert_eq!(report_run.2.as_deref(), Some("stopped"));

    let second = Service::start(tmp, &cfg, "second");
    wait_for(120, "the rest", || server.messages().len() == 3);
    wait_for(30, "the report job done", || {
        runs(tmp)
            .last()
            .is_some_and(|r| r.0 == "report" && r.2.as_deref() == Some("ok"))
    });
    assert_eq!(second.stop(60), 0);
    let copies = server.copies();
    assert!(
        RECIPIENTS.iter().all(|to| copies.get(*to) == Some(&1)),
        "one copy each: {copies:?}"
    );
}

#[test]
fn with_the_mail_server_down_the_report_and_the_failure_notices_go_once_it_is_up() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let port = free_port();
    let cfg = report_config(tmp, port);
    let service = Service::start(tmp, &cfg, "service");
    wait_for(120, "the report job to fail", || {
        runs(tmp)
            .iter()
            .any(|r| r.0 == "report" && r.2.as_deref() == Some("failed"))
    });
    assert!(
        ledger(tmp).iter().all(|r| r.1 == "retry"),
        "{:?}",
        ledger(tmp)
    );
    let server = SmtpServer::start(&tmp.join("mail"), port, &[]);
    wait_for(120, "every recipient served", || {
        RECIPIENTS
            .iter()
            .all(|to| server.copies().contains_key(*to))
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(service.stop(60), 0);
    let copies = server.copies();
    assert!(
        RECIPIENTS.iter().all(|to| copies.get(*to) == Some(&1)),
        "one copy each: {copies:?}"
    );
    // The failures went to the office as one digest, and their delivery
    // as one follow-up — or, when the letters went before the office
    // could be told, the notice was withdrawn: never one per letter.
    let office = copies.get("vanphong@trucninh.namdinh.gov.vn").copied();
    assert!(
        matches!(office, None | Some(2)),
        "a digest and its follow-up, or nothing: {copies:?}"
    );
    let (_, listed) = tthc_in(tmp, &cfg, &["jobs"]);
    assert!(
        listed.contains("report (catch-up)") && listed.contains("thất bại"),
        "{listed}"
    );
    assert!(
        listed.contains("retry (retry)") && listed.contains("xong"),
        "{listed}"
    );
}

/// The portal's promise under a crash: an upload the page acknowledged is
/// in the store and the archive after SIGKILL and a restart, whatever the
/// moment of the kill, and no half-written file is left behind.
#[test]
fn acknowledged_uploads_survive_a_kill_during_a_burst() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(
        tmp.path(),
        &format!("grace_days = 2\n\n[web]\nlisten = \"127.0.0.1:{port}\"\nperiod = \"2022-Q4\""),
        None,
    );
    let (code, out) = tthc_in(tmp.path(), &cfg, &["units", "issue-codes"]);
    assert_eq!(code, 0, "{out}");
    let codes: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() == 3 && f[0] != "ma_don_vi").then(|| (f[0].to_string(), f[2].to_string()))
        })
        .collect();
    assert_eq!(codes.len(), 33);
    let settings = tthc::settings::Settings::load(&sample_config(), &Default::default()).unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let service = Service::start(tmp.path(), &cfg, "first");
    service.wait_log("cổng thông tin tại", 60);

    let uploads: Vec<_> = codes
        .iter()
        .map(|(unit, code)| {
            let bytes = crate::web::workbook(&settings, unit, false);
            let (base, unit, code) = (base.clone(), unit.clone(), code.clone());
            std::thread::spawn(move || {
                let r = crate::web::http_upload(&base, &unit, &code, &bytes);
                (unit, bytes, r)
            })
        })
        .collect();
    // Kill the service once the first uploads have been acknowledged.
    wait_for(60, "a first acknowledged upload", || {
        Connection::open(tmp.path().join("data/tthc.sqlite3"))
            .and_then(|c| {
                c.query_row("SELECT count(*) FROM submissions", [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .is_ok_and(|n| n >= 1)
    });
    service.kill();
    let results: Vec<_> = uploads.into_iter().map(|h| h.join().unwrap()).collect();
    let acknowledged: Vec<_> = results.iter().filter(|(_, _, r)| *r == Ok(303)).collect();
    assert!(!acknowledged.is_empty());
    eprintln!(
        "{} of {} uploads acknowledged before the kill",
        acknowledged.len(),
        results.len()
    );

    let again = Service::start(tmp.path(), &cfg, "second");
    again.wait_log("cổng thông tin tại", 60);
    let db = Connection::open(tmp.path().join("data/tthc.sqlite3")).unwrap();
    for (unit, bytes, _) in &acknowledged {
        let sha = tthc::domain::sha256_hex(bytes);
        let n: i64 = db
            .query_row(
                "SELECT count(*) FROM submissions WHERE source = ?1 AND sha256 = ?2",
                [format!("web:{unit}"), sha.clone()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{unit}'s acknowledged upload is recorded once");
        let stored = std::fs::read(tmp.path().join("data/archive").join(&sha[..2]).join(&sha))
            .unwrap_or_else(|e| panic!("{unit}'s file is archived: {e}"));
        assert_eq!(&stored, bytes, "{unit}'s archived file is whole");
    }
    for d in std::fs::read_dir(tmp.path().join("data/archive")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                !name.ends_with(".tmp"),
                "a half-written file is left: {name}"
            );
        }
    }
    // The others send again and are received too.
    for (unit, bytes, r) in &results {
        if *r != Ok(303) {
            let code = &codes.iter().find(|(u, _)| u == unit).unwrap().1;
            assert_eq!(crate::web::http_upload(&base, unit, code, bytes), Ok(303));
        }
    }
    let total: i64 = db
        .query_row("SELECT count(DISTINCT unit) FROM submissions", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(total, 33);
    assert_eq!(again.stop(30), 0);
}
