//! Report versions: same inputs, same version; a changed input, a new one.

use crate::{copy_dir, sample_engine_with_inbox, sample_inbox};
use tthc::domain::Period;

#[test]
fn running_a_quarter_again_gives_the_same_version_and_identical_json() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = sample_engine_with_inbox(tmp.path(), &sample_inbox());
    let period: Period = "2022-Q4".parse().unwrap();
    let (_, first) = engine.run(period).unwrap();
    let json1 = std::fs::read(first.dir.join("ket-qua-2022-Q4.json")).unwrap();
    let (summary, second) = engine.run(period).unwrap();
    let json2 = std::fs::read(second.dir.join("ket-qua-2022-Q4.json")).unwrap();
    assert_eq!(summary.new, 0, "nothing new to read");
    assert_eq!((first.version, second.version), (1, 1));
    assert!(first.new_version && !second.new_version);
    assert_eq!(json1, json2);
    // The PDF's data of a new version is made before its number and time
    // are known, with today's date; a version kept from before is typeset
    // again with its own. Both are the document its results give.
    let pdf1 = std::fs::read(first.dir.join("bao-cao-2022-Q4.pdf")).unwrap();
    assert!(pdf1 == tthc::report::pdf::write(&first.results).unwrap());
    let pdf2 = std::fs::read(second.dir.join("bao-cao-2022-Q4.pdf")).unwrap();
    assert!(pdf2 == tthc::report::pdf::write(&second.results).unwrap());
    assert_eq!(second.results.generated_at, first.results.generated_at);
    // A version made on an earlier day keeps that day's date in its PDF.
    rusqlite::Connection::open(engine.settings.paths.data.join("tthc.sqlite3"))
        .unwrap()
        .execute(
            "UPDATE report_versions SET generated_at = '2023-01-02T09:00:00+07:00'",
            [],
        )
        .unwrap();
    let (_, third) = engine.run(period).unwrap();
    assert_eq!(third.version, 1);
    let pdf3 = third.dir.join("bao-cao-2022-Q4.pdf");
    assert!(std::fs::read(&pdf3).unwrap() == tthc::report::pdf::write(&third.results).unwrap());
    assert!(crate::pdf_text(&pdf3).contains("ngày 02 tháng 01 năm 2023"));
    assert!(
        second.emails.is_empty(),
        "a version is delivered to a recipient once"
    );
}

#[test]
fn a_changed_input_makes_a_new_version_and_keeps_the_earlier_one() {
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    copy_dir(&sample_inbox(), &inbox);
    let engine = sample_engine_with_inbox(tmp.path(), &inbox);
    let period: Period = "2022-Q4".parse().unwrap();
    let (_, first) = engine.run(period).unwrap();
    let names = [
        "ket-qua-2022-Q4.json",
        "xep-hang-2022-Q4.xlsx",
        "bao-cao-2022-Q4.pdf",
    ];
    let read = |path: std::path::PathBuf| {
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let v1_files: Vec<Vec<u8>> = names
        .iter()
        .map(|n| read(first.dir.join("v1").join(n)))
        .collect();
    // The missing commune sends its workbook (a copy of another's, relabelled).
    let content = tthc::bench::synth::quarter_content(
        engine.settings.unit("XA21").unwrap(),
        &tthc::bench::synth::profile(engine.settings.unit("XA21").unwrap(), 7),
        period,
        &mut Default::default(),
        &engine.rules,
        &engine.settings,
        7,
    );
    let bytes = tthc::report::template::write_workbook(&content).unwrap();
    std::fs::write(inbox.join("2022-Q4/bao cao quy 4 viet hung.xlsx"), bytes).unwrap();
    let (summary, second) = engine.run(period).unwrap();
    assert_eq!(summary.new, 1);
    assert_eq!((first.version, second.version), (1, 2));
    let v1 = first.dir.join("v1/ket-qua-2022-Q4.json");
    let v2 = first.dir.join("v2/ket-qua-2022-Q4.json");
    let j1: serde_json::Value = serde_json::from_slice(&std::fs::read(v1).unwrap()).unwrap();
    let j2: serde_json::Value = serde_json::from_slice(&std::fs::read(v2).unwrap()).unwrap();
    let status = |j: &serde_json::Value| {
        j["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == "XA21")
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(&j1), "missing");
    assert_ne!(status(&j2), "missing");
    assert_eq!(second.emails.len(), 2, "the new version goes out");
    // The period's current files are version 2's; version 1's are as they were.
    for (n, before) in names.iter().zip(&v1_files) {
        assert_eq!(
            &read(first.dir.join("v1").join(n)),
            before,
            "v1/{n} changed"
        );
        assert_eq!(
            read(first.dir.join(n)),
            read(first.dir.join("v2").join(n)),
            "{n} is not version 2's"
        );
        assert_ne!(&read(first.dir.join(n)), before, "{n} is still version 1's");
    }
}
