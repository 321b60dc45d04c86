//! Rule files: the shipped ones load; mistakes are found at load with their place.

use tthc::rules::load_dir;

#[test]
fn the_shipped_rules_are_in_force_for_2022() {
    let book = load_dir(&crate::repo().join("rules")).unwrap();
    let p = "2022-Q4".parse().unwrap();
    let r = book.ruleset_for(p).unwrap();
    assert_eq!(r.criteria.len(), 15);
    assert_eq!(r.criteria.iter().map(|c| c.points).sum::<f64>(), 100.0);
    assert!(book.targets_for(p).is_some() && book.tasks_for(p).is_some());
    assert!(book.ruleset_for("2023-Q1".parse().unwrap()).is_none());
}

#[test]
fn a_misspelt_field_is_refused_at_load_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(crate::repo().join("rules/chi-so-2022.toml"))
        .unwrap()
        .replace(
            "numerator = \"ho_so_so_hoa\"",
            "numerator = \"ho_so_so_hao\"",
        );
    std::fs::write(dir.path().join("r.toml"), &src).unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    let line = src
        .lines()
        .position(|l| l.contains("ho_so_so_hao"))
        .unwrap()
        + 1;
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].line, line, "{err}");
    assert!(
        err.0[0].message.contains("ho_so_so_hoa"),
        "suggests the right name: {err}"
    );
}

#[test]
fn every_error_of_a_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(crate::repo().join("rules/chi-so-2022.toml"))
        .unwrap()
        .replace("shape = \"linear\"", "shape = \"lineal\"")
        .replace("group = \"HL\"", "group = \"XX\"");
    std::fs::write(dir.path().join("r.toml"), &src).unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    assert!(err.0.len() >= 8, "every bad shape and group: {err}");
}

#[test]
fn an_unknown_key_in_a_rule_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(crate::repo().join("rules/muc-tieu-2022.toml"))
        .unwrap()
        .replace("percent = true", "percnt = true");
    std::fs::write(dir.path().join("t.toml"), &src).unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    let line = src.lines().position(|l| l.contains("percnt")).unwrap() + 1;
    assert_eq!(err.0[0].line, line, "{err}");
}
