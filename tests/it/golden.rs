//! Golden files: `tests/fixtures/<case>/expected/`. Set `UPDATE_GOLDEN=1`
//! to rewrite them; a fixture folder no test uses fails the run.

use crate::repo;
use crate::sample_quarter::sample_run;
use std::path::PathBuf;

/// Every fixture case the tests use.
const CASES: &[&str] = &["sample-2022-Q4", "intake-corpus", "province-2026-Q3"];

fn expected(case: &str, file: &str) -> PathBuf {
    repo()
        .join("tests/fixtures")
        .join(case)
        .join("expected")
        .join(file)
}

/// Compares `actual` with the golden file, or rewrites it when asked.
pub fn check_golden(case: &str, file: &str, actual: &str) {
    assert!(CASES.contains(&case), "add {case} to CASES");
    let path = expected(case, file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run UPDATE_GOLDEN=1 cargo test",
            path.display()
        )
    });
    if want != actual {
        let first = want
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{} differs from the output at line {}:\n  want: {}\n  got:  {}\n(UPDATE_GOLDEN=1 cargo test rewrites it)",
            path.display(),
            first + 1,
            want.lines().nth(first).unwrap_or(""),
            actual.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn the_sample_quarter_matches_its_golden_results() {
    let mut json = sample_run().json.clone();
    json["generated_at"] = serde_json::Value::String("<generated>".into());
    check_golden(
        "sample-2022-Q4",
        "ket-qua-2022-Q4.json",
        &(serde_json::to_string_pretty(&json).unwrap() + "\n"),
    );
}

#[test]
fn every_fixture_folder_is_used_by_a_test() {
    let dir = repo().join("tests/fixtures");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            CASES.contains(&name.as_str()),
            "tests/fixtures/{name} is not used by any test"
        );
    }
}
