//! Jobs run by hand are recorded, with what they did or why they failed.

use crate::sample_engine;
use tthc::schedule::{Job, run_job};

#[test]
fn every_job_run_is_recorded_with_its_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = sample_engine(tmp.path());
    let now = chrono::Utc::now();
    let collected = run_job(&engine, Job::Collect, "manual", now).unwrap();
    assert!(collected.contains("131 tệp mới"), "{collected}");
    let reported = run_job(&engine, Job::Report, "manual", now).unwrap();
    assert!(
        reported.contains("Quý IV/2022 phiên bản 1"),
        "the latest quarter past its deadline: {reported}"
    );
    // Before the fourth quarter's deadline, the third quarter is the one due.
    let before = chrono::DateTime::parse_from_rfc3339("2022-12-15T03:00:00Z")
        .unwrap()
        .to_utc();
    let early = run_job(&engine, Job::Report, "manual", before).unwrap();
    assert!(early.contains("Quý III/2022"), "{early}");
    let runs = engine.store.job_runs(10).unwrap();
    assert_eq!(runs.len(), 3);
    assert!(
        runs.iter()
            .all(|r| r.outcome.as_deref() == Some("ok") && r.finished_at.is_some())
    );
    assert_eq!(runs[2].job, "collect");
}
