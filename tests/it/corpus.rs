//! The intake corpus (`tests/fixtures/intake-corpus/input`, made by
//! `tests/corpus/make_corpus.py`): workbooks as offices really send them.
//! `ok-` and `warn-` files must read to exactly the pristine figures; `bad-`
//! files must be rejected with findings; none may panic or take long.

use crate::golden::check_golden;
use crate::repo;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tthc::domain::{Submission, WindowMode};
use tthc::settings::{PathOverrides, Settings};
use tthc::validate::{Checked, Context, check_bytes};

/// Findings about the whole file, which have no cell to name.
const FILE_LEVEL: &[&str] = &[
    "khong_doc_duoc",
    "khong_phai_bang_tinh",
    "co_mat_khau",
    "qua_lon",
    "bang_tinh_rong",
    "thieu_sheet",
    "khong_ro_don_vi",
    "khong_ro_ky",
    "ten_tep_khac_don_vi",
    "ten_tep_khac_ky",
];

fn run_corpus() -> BTreeMap<String, (Checked, Duration)> {
    let settings = Settings::load(&crate::sample_config(), &PathOverrides::default()).unwrap();
    let dir = repo().join("tests/fixtures/intake-corpus/input");
    let mut out = BTreeMap::new();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    // Read with the shipped forms, as a run reads them.
    let rules = tthc::rules::load_dir(&repo().join("rules")).unwrap();
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let ctx = Context {
            units: &settings.units,
            expected_unit: None,
            expected_period: None,
            window_mode: WindowMode::Reporting,
            file_name: Some(&name),
            forms: &rules.forms,
        };
        let start = Instant::now();
        let checked = std::panic::catch_unwind(|| check_bytes(&bytes, &ctx))
            .unwrap_or_else(|_| panic!("{name} made intake panic"));
        out.insert(name, (checked, start.elapsed()));
    }
    out
}

fn figures(s: &Submission) -> (Vec<Vec<i64>>, BTreeMap<String, f64>) {
    (
        s.rows.iter().map(|r| r.values.clone()).collect(),
        s.indicators.clone(),
    )
}

#[test]
fn the_corpus_reads_to_the_pristine_figures_or_is_refused_with_located_findings() {
    let results = run_corpus();
    assert!(
        results.len() >= 40,
        "the corpus has {} files",
        results.len()
    );
    let pristine = results["ok-pristine-rust-xlsxwriter.xlsx"]
        .0
        .submission
        .clone()
        .expect("the pristine file is accepted");
    let mut golden = serde_json::Map::new();
    for (name, (checked, took)) in &results {
        assert!(*took < Duration::from_secs(10), "{name} took {took:?}");
        let errors: Vec<_> = checked.findings.iter().filter(|f| f.is_error()).collect();
        if name.starts_with("ok-") || name.starts_with("warn-") {
            let sub = checked
                .submission
                .as_ref()
                .unwrap_or_else(|| panic!("{name} is refused: {:?}", checked.findings));
            assert_eq!(
                sub.totals(),
                pristine.totals(),
                "{name} reads other totals than the pristine file"
            );
            assert_eq!(
                sub.indicators, pristine.indicators,
                "{name} reads other indicators than the pristine file"
            );
            if !name.contains("total-row-only") {
                assert_eq!(
                    figures(sub),
                    figures(&pristine),
                    "{name} reads other rows than the pristine file"
                );
            }
            assert_eq!(
                (sub.unit.as_str(), sub.period),
                (pristine.unit.as_str(), pristine.period),
                "{name}"
            );
            let warned = !checked.findings.is_empty();
            assert_eq!(
                warned,
                name.starts_with("warn-"),
                "{name}: {:?}",
                checked.findings
            );
        } else {
            assert!(
                name.starts_with("bad-"),
                "{name}: name corpus files ok-, warn- or bad-"
            );
            assert!(
                checked.submission.is_none() && !errors.is_empty(),
                "{name} is accepted"
            );
        }
        for f in &errors {
            assert!(
                f.cell.is_some() || FILE_LEVEL.contains(&f.code.as_str()),
                "{name}: {f} names no cell"
            );
            assert!(!f.message.is_empty());
        }
        golden.insert(
            name.clone(),
            serde_json::json!({
                "accepted": checked.accepted(),
                "unit": checked.unit,
                "period": checked.period.map(|p| p.to_string()),
                "findings": checked.findings.iter().map(|f| serde_json::json!({
                    "severity": f.severity,
                    "code": f.code,
                    "cell": f.cell.as_ref().map(|c| c.to_string()),
                    "value": f.value,
                    "message": f.message,
                })).collect::<Vec<_>>(),
            }),
        );
    }
    check_golden(
        "intake-corpus",
        "findings.json",
        &(serde_json::to_string_pretty(&golden).unwrap() + "\n"),
    );
}
