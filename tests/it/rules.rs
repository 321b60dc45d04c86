//! Rule files: the shipped ones load; mistakes are found at load with their place.

use tthc::rules::load_dir;

#[test]
fn the_shipped_rules_are_in_force_for_every_quarter_from_2022() {
    let book = load_dir(&crate::repo().join("rules")).unwrap();
    let p = "2022-Q4".parse().unwrap();
    let r = book.ruleset_for(p).unwrap();
    assert_eq!(r.criteria.len(), 15);
    assert_eq!(r.criteria.iter().map(|c| c.points).sum::<f64>(), 100.0);
    for year in 2022..=2026 {
        for q in 1..=4 {
            let p = tthc::domain::Period::quarter(year, q);
            let (r, t, k) = (book.ruleset_for(p), book.targets_for(p), book.tasks_for(p));
            assert!(
                book.form_for(p).is_some() && r.is_some() && t.is_some() && k.is_some(),
                "{p}: a form, a ruleset, targets and tasks"
            );
            let first = if year >= 2025 { 2025 } else { year };
            assert!(r.unwrap().version.starts_with(&first.to_string()), "{p}");
            assert!(k.unwrap().name.contains(&year.to_string()), "{p}");
            assert!(t.unwrap().name.contains(&year.to_string()), "{p}");
        }
    }
    let r2025 = book.ruleset_for("2025-Q1".parse().unwrap()).unwrap();
    assert_eq!(r2025.criteria.len(), 21);
    assert_eq!(r2025.criteria.iter().map(|c| c.points).sum::<f64>(), 100.0);
    assert!(book.ruleset_for("2021-Q4".parse().unwrap()).is_none());
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
    crate::with_form(dir.path());
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
    crate::with_form(dir.path());
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
    crate::with_form(dir.path());
    let err = load_dir(dir.path()).unwrap_err();
    let line = src.lines().position(|l| l.contains("percnt")).unwrap() + 1;
    assert_eq!(err.0[0].line, line, "{err}");
}

/// `tthc` with the sample config, its inbox, data and output in `tmp`.
fn sample_in(tmp: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let dir = |d: &str| tmp.join(d).to_string_lossy().to_string();
    let (inbox, data, out) = (dir("inbox"), dir("data"), dir("out"));
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--config",
        "samples/truc-ninh/tthc.toml",
        "--inbox",
        &inbox,
        "--data",
        &data,
        "--out",
        &out,
    ]);
    crate::tthc(&all)
}

/// `tthc rules check` on a folder of rule files.
fn rules_check(dir: &std::path::Path) -> (i32, String, String) {
    crate::tthc(&[
        "rules",
        "check",
        "--config",
        "samples/truc-ninh/tthc.toml",
        "--dir",
        dir.to_str().unwrap(),
    ])
}

/// Rule files as an office copies them for a new year: the ruleset kept in
/// force with no end, the targets still 2022's, the tasks file moved to
/// 2023 with 2022's due dates left in it.
fn copied_rules(dir: &std::path::Path) {
    let rules = crate::repo().join("rules");
    let read = |f: &str| std::fs::read_to_string(rules.join(f)).unwrap();
    let ruleset = read("chi-so-2022.toml").replace("effective_to = \"2022-Q4\"\n", "");
    assert!(!ruleset.contains("effective_to"));
    std::fs::write(dir.join("chi-so.toml"), ruleset).unwrap();
    std::fs::write(dir.join("muc-tieu-2022.toml"), read("muc-tieu-2022.toml")).unwrap();
    let tasks = read("nhiem-vu-2022.toml")
        .replace(
            "effective_from = \"2022-Q1\"",
            "effective_from = \"2023-Q1\"",
        )
        .replace("effective_to = \"2022-Q4\"", "effective_to = \"2023-Q4\"");
    std::fs::write(dir.join("nhiem-vu-2023.toml"), tasks).unwrap();
    // The form kept in force with no end, like the ruleset.
    let form = read("bieu-mau-2022.toml").replace("effective_to = \"2024-Q4\"\n", "");
    std::fs::write(dir.join("bieu-mau.toml"), form).unwrap();
}

#[test]
fn rules_check_says_what_each_quarter_has_in_force_and_warns_of_gaps_and_copied_dates() {
    let dir = tempfile::tempdir().unwrap();
    copied_rules(dir.path());
    let (code, out, err) = rules_check(dir.path());
    assert_eq!(code, 0, "warnings do not fail the check: {out}{err}");
    let line = |start: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?}: {out}"))
            .to_string()
    };
    let y2022 = line("Quý I/2022 – Quý IV/2022:");
    assert!(
        y2022.contains("mục tiêu \"Mục tiêu kiểm soát TTHC năm 2022\""),
        "{y2022}"
    );
    assert!(y2022.contains("không có nhiệm vụ"), "{y2022}");
    let y2023 = line("Quý I/2023 – Quý IV/2023:");
    assert!(y2023.contains("không có mục tiêu"), "{y2023}");
    assert!(
        y2023.contains("nhiệm vụ \"Nhiệm vụ kiểm soát TTHC năm 2022\""),
        "{y2023}"
    );
    let later = line("từ Quý I/2024:");
    assert!(
        later.contains("bộ chỉ số") && later.contains("không có nhiệm vụ"),
        "{later}"
    );
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("Cảnh báo:")).collect();
    let about = |what: &str| warnings.iter().filter(|w| w.contains(what)).count();
    assert_eq!(
        about("không có tệp nhiệm vụ"),
        2,
        "2022 and from 2024: {warnings:#?}"
    );
    assert_eq!(
        about("không có tệp mục tiêu"),
        2,
        "2023 and from 2024: {warnings:#?}"
    );
    // The four dated tasks still carry 2022's dates in a 2023 file.
    assert_eq!(about("nằm ngoài thời gian hiệu lực"), 4, "{warnings:#?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("10/01/2022") && w.contains("năm 2023")),
        "{warnings:#?}"
    );
    assert!(out.contains("có 8 cảnh báo"), "{out}");

    // The shipped rules: everything in force, nothing to warn of.
    let (code, out, _) =
        crate::tthc(&["rules", "check", "--config", "samples/truc-ninh/tthc.toml"]);
    assert_eq!(code, 0);
    assert!(!out.contains("Cảnh báo"), "{out}");
    assert!(out.contains("Quý I/2023 – Quý IV/2023"), "{out}");
    assert!(out.contains("Trước Quý I/2022 và sau"), "{out}");
}

#[test]
fn a_template_for_a_quarter_with_no_tasks_in_force_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    copied_rules(&rules);
    let config_path = crate::sample_config_with_rules(dir.path(), &rules);
    let file = dir.path().join("mau.xlsx");
    let template = |period: &str| {
        crate::tthc(&[
            "template",
            "--config",
            config_path.to_str().unwrap(),
            "--unit",
            "XA01",
            "--period",
            period,
            "--file",
            file.to_str().unwrap(),
        ])
    };
    let (code, out, err) = template("2022-Q4");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("không có tệp nhiệm vụ"), "{out}");
    assert!(out.contains("Quý IV/2022"), "{out}");
    let (code, out, err) = template("2023-Q2");
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("Lưu ý"), "tasks are in force in 2023: {out}");
}

/// The shipped rules copied to a folder of their own.
fn shipped_rules_in(dir: &std::path::Path) {
    for e in std::fs::read_dir(crate::repo().join("rules")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn a_new_year_starts_from_the_last_years_files_with_the_dates_moved() {
    let dir = tempfile::tempdir().unwrap();
    shipped_rules_in(dir.path());
    let last = std::fs::read_dir(dir.path()).unwrap().count();
    let new_year = || {
        crate::tthc(&[
            "rules",
            "new-year",
            "2027",
            "--config",
            "samples/truc-ninh/tthc.toml",
            "--dir",
            dir.path().to_str().unwrap(),
        ])
    };
    let (code, out, err) = new_year();
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        last + 4,
        "{out}"
    );
    let form = std::fs::read_to_string(dir.path().join("bieu-mau-2027.toml")).unwrap();
    assert!(form.contains("effective_from = \"2027-Q1\""), "{form}");
    let tasks = std::fs::read_to_string(dir.path().join("nhiem-vu-2027.toml")).unwrap();
    assert!(tasks.starts_with("# Lập từ nhiem-vu-2026.toml"), "{tasks}");
    assert!(tasks.contains("effective_from = \"2027-Q1\""));
    assert!(tasks.contains("due = 2027-01-15"), "{tasks}");
    assert!(!tasks.contains("2026-01-15"));
    let book = load_dir(dir.path()).unwrap();
    let q = "2027-Q3".parse().unwrap();
    assert_eq!(book.ruleset_for(q).unwrap().version, "2027.1");
    assert!(book.targets_for(q).is_some() && book.tasks_for(q).is_some());

    // Run again: the year has its files, nothing is written over.
    let (code, out, err) = new_year();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Giữ nguyên"), "{out}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), last + 4);
}

#[test]
fn a_year_left_out_between_two_rule_files_of_a_kind_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    shipped_rules_in(dir.path());
    std::fs::remove_file(dir.path().join("chi-so-2023.toml")).unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    assert_eq!(err.0.len(), 1, "{err}");
    let e = &err.0[0];
    assert!(e.path.ends_with("chi-so-2024.toml"), "{err}");
    assert!(
        e.message.contains("Quý I/2023 – Quý IV/2023") && e.message.contains("chi-so-2022.toml"),
        "{err}"
    );
    let (code, _, err) = rules_check(dir.path());
    assert_eq!(code, 3, "{err}");
}

#[test]
fn the_2022_quarters_and_year_give_the_same_results_with_the_later_years_files_added() {
    let tmp = tempfile::tempdir().unwrap();
    let only_2022 = tmp.path().join("rules-2022");
    std::fs::create_dir_all(&only_2022).unwrap();
    for f in [
        "bieu-mau-2022.toml",
        "chi-so-2022.toml",
        "muc-tieu-2022.toml",
        "nhiem-vu-2022.toml",
    ] {
        std::fs::copy(crate::repo().join("rules").join(f), only_2022.join(f)).unwrap();
    }
    let json = |rules: &std::path::Path, data: &str, period: &str| {
        let mut engine = crate::sample_engine(&tmp.path().join(data));
        engine.config.rules = load_dir(rules).unwrap();
        engine.ingest().unwrap();
        let mut r = engine
            .results(period.parse().unwrap(), true)
            .unwrap()
            .unwrap();
        r.version = 1;
        r.generated_at = "2023-01-05T08:00:00+07:00".into();
        tthc::report::json::to_string(&r).unwrap()
    };
    for period in ["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4", "2022"] {
        assert_eq!(
            json(&only_2022, "a", period),
            json(&crate::repo().join("rules"), "b", period),
            "{period}"
        );
    }
}

#[test]
fn a_2025_quarter_is_scored_with_the_national_index_and_its_form() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| sample_in(tmp.path(), args);
    let (code, out, err) = run(&["generate", "--year", "2025"]);
    assert_eq!(code, 0, "{out}{err}");
    // The district's communes exist until 30/06/2025: the second quarter
    // (its data ends on 14/06) is their last.
    let (code, out, err) = run(&["run", "--period", "2025-Q2"]);
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/2025-Q2/ket-qua-2025-Q2.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["ruleset"]["version"], "2025.1");
    let units = json["units"].as_array().unwrap();
    let scored: Vec<&serde_json::Value> = units.iter().filter(|u| u["total"].is_number()).collect();
    assert!(scored.len() > 20, "most units scored: {}", scored.len());
    // A commune gets the province-only criteria in full; an office is
    // measured on them.
    let commune = scored.iter().find(|u| u["league"] == "xa").unwrap();
    assert_eq!(commune["criteria"]["4.5a"]["points"], 2.0);
    assert!(commune["criteria"]["4.5a"]["value"].is_null());
    let office = scored.iter().find(|u| u["league"] == "co_quan").unwrap();
    assert!(office["criteria"]["4.5a"]["value"].is_number(), "{office}");
}

#[test]
fn a_2023_quarter_is_scored_with_the_2023_files() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| sample_in(tmp.path(), args);
    let (code, out, err) = run(&["generate", "--year", "2023"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["run", "--period", "2023-Q2"]);
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/2023-Q2/ket-qua-2023-Q2.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["ruleset"]["version"], "2023.1");
    let scored = json["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["total"].is_number())
        .count();
    assert!(scored > 20, "most units scored: {scored}");
}

#[test]
fn a_form_naming_an_unknown_column_or_field_and_overlapping_forms_are_load_errors() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(crate::repo().join("rules/bieu-mau-2022.toml")).unwrap();
    let src = shipped
        .replace(
            "right = [\"trong_han\", \"dang_qua_han\"]",
            "right = [\"trong_han\", \"dang_qua_hn\"]",
        )
        .replace(
            "parts = [\"phieu_hai_long\"]",
            "parts = [\"phieu_hai_lng\"]",
        );
    std::fs::write(dir.path().join("bieu-mau.toml"), &src).unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    let line_of = |needle: &str| src.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let found = |needle: &str, line: usize| {
        err.0
            .iter()
            .any(|e| e.message.contains(needle) && e.line == line && e.column > 1)
    };
    assert!(found("dang_qua_hn", line_of("dang_qua_hn")), "{err}");
    assert!(found("phieu_hai_lng", line_of("phieu_hai_lng")), "{err}");
    assert_eq!(err.0.len(), 2, "{err}");

    // Two forms for the same quarters.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), &shipped).unwrap();
    std::fs::write(dir.path().join("b.toml"), &shipped).unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    assert!(
        err.0
            .iter()
            .any(|e| e.path.ends_with("b.toml") && e.message.contains("trùng")),
        "{err}"
    );

    // A ruleset whose quarters no form covers cannot know its fields.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::repo().join("rules/chi-so-2022.toml"),
        dir.path().join("chi-so.toml"),
    )
    .unwrap();
    let err = load_dir(dir.path()).unwrap_err();
    assert_eq!(err.0.len(), 1, "one error, not one per field: {err}");
    assert!(err.0[0].message.contains("kind = \"form\""), "{err}");
}
