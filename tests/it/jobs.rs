//! Jobs run by hand are recorded, with what they did or why they failed.

use crate::sample_engine;
use tthc::schedule::{Job, run_job};

#[test]
fn every_job_run_is_recorded_with_its_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = sample_engine(tmp.path());
    let now = chrono::Utc::now();
    let collected = run_job(&engine.config, &engine.store, Job::Collect, "manual", now).unwrap();
    assert!(collected.contains("131 tệp mới"), "{collected}");
    let reported = run_job(&engine.config, &engine.store, Job::Report, "manual", now).unwrap();
    assert!(
        reported.contains("Quý IV/2022 phiên bản 1"),
        "the latest quarter past its deadline: {reported}"
    );
    // Before the fourth quarter's deadline, the third quarter is the one due.
    let before = chrono::DateTime::parse_from_rfc3339("2022-12-15T03:00:00Z")
        .unwrap()
        .to_utc();
    let early = run_job(&engine.config, &engine.store, Job::Report, "manual", before).unwrap();
    assert!(early.contains("Quý III/2022"), "{early}");
    let runs = engine.store.job_runs(10).unwrap();
    assert_eq!(runs.len(), 3);
    assert!(
        runs.iter()
            .all(|r| r.outcome.is_some_and(|o| o == "ok") && r.finished_at.is_some())
    );
    assert_eq!(runs[2].job, "collect");
}

#[test]
fn reminders_go_once_to_the_units_without_an_accepted_workbook_with_their_template() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = sample_engine(tmp.path());
    // 15 December 2022, 10:00 in Trực Ninh: communes are due on the 16th, offices on the 17th.
    let now = chrono::DateTime::parse_from_rfc3339("2022-12-15T03:00:00Z")
        .unwrap()
        .to_utc();
    let first = run_job(&engine.config, &engine.store, Job::Remind, "manual", now).unwrap();
    assert!(first.starts_with("2 thư nhắc"), "{first}");
    assert!(
        first.contains("xa15.trucninh@namdinh.gov.vn")
            && first.contains("xa21.trucninh@namdinh.gov.vn"),
        "{first}"
    );
    let outbox = engine.settings.paths.outbox.clone();
    let letters: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("nhac-nho-2022-Q4")
        })
        .collect();
    assert_eq!(letters.len(), 2);
    let raw = std::fs::read(
        letters
            .iter()
            .find(|p| p.to_string_lossy().contains("xa21"))
            .unwrap(),
    )
    .unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    use mail_parser::MimeHeaders;
    let template = msg
        .attachments()
        .find(|a| a.attachment_name() == Some("XA21-2022-Q4.xlsx"))
        .expect("the template");
    let checked = tthc::validate::check_bytes(template.contents(), &engine.context());
    assert_eq!(
        checked.unit.as_deref(),
        Some("XA21"),
        "prefilled for the unit"
    );
    // Once per quarter.
    let again = run_job(&engine.config, &engine.store, Job::Remind, "manual", now).unwrap();
    assert!(again.starts_with("0 thư nhắc"), "{again}");
    // A month before the deadline nobody is reminded.
    let early = chrono::DateTime::parse_from_rfc3339("2022-11-15T03:00:00Z")
        .unwrap()
        .to_utc();
    assert!(
        run_job(&engine.config, &engine.store, Job::Remind, "manual", early)
            .unwrap()
            .starts_with("0 thư nhắc")
    );
}
