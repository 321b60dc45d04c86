//! The `tthc` binary as a user runs it.

use crate::tthc;

const CONFIG: &str = "samples/truc-ninh/tthc.toml";

#[test]
fn check_on_the_rejected_sample_names_the_cell_and_exits_2() {
    let (code, out, _) = tthc(&[
        "check",
        "samples/truc-ninh/inbox/2022-Q4/XA15-2022-Q4.xlsx",
        "--config",
        CONFIG,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Biểu 06!C10"), "{out}");
    assert!(out.contains("(3) = (4) + (5) + (6)"), "{out}");
    assert!(out.contains("KHÔNG HỢP LỆ"), "{out}");
}

#[test]
fn check_on_a_good_workbook_exits_0() {
    let (code, out, _) = tthc(&[
        "check",
        "samples/truc-ninh/inbox/2022-Q4/XA10-2022-Q4.xlsx",
        "--config",
        CONFIG,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hợp lệ"), "{out}");
}

#[test]
fn check_against_the_wrong_period_is_an_error() {
    let (code, out, _) = tthc(&[
        "check",
        "samples/truc-ninh/inbox/2022-Q3/XA10-2022-Q3.xlsx",
        "--config",
        CONFIG,
        "--period",
        "2022-Q4",
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("sai_ky"), "{out}");
}

#[test]
fn check_of_a_file_that_is_not_a_spreadsheet_is_refused_cleanly() {
    let (code, out, _) = tthc(&[
        "check",
        "samples/truc-ninh/inbox/2022-Q4/so-nhan.csv",
        "--config",
        CONFIG,
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("khong_phai_bang_tinh"), "{out}");
}

#[test]
fn rules_check_accepts_the_shipped_rules() {
    let (code, out, err) = tthc(&["rules", "check", "--config", CONFIG]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("15 tiêu chí, 100 điểm"), "{out}");
}

#[test]
fn a_broken_config_exits_3_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(crate::sample_config())
        .unwrap()
        .replace("place = \"Trực Ninh\"", "place = \"Trực Ninh\"\nplaec = 1");
    let path = dir.path().join("tthc.toml");
    std::fs::write(&path, src).unwrap();
    let (code, _, err) = tthc(&[
        "run",
        "--config",
        path.to_str().unwrap(),
        "--period",
        "2022-Q4",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("tthc.toml:9:1"), "{err}");
    assert!(err.contains("plaec"), "{err}");
}

/// The rules are read while the store is opened: when both fail, the
/// rule file's located error is the one reported (exit 3), not the store.
#[test]
fn a_broken_rule_file_is_reported_even_when_the_store_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    crate::copy_dir(&crate::repo().join("rules"), &rules);
    let broken = rules.join("chi-so-2022.toml");
    let src = std::fs::read_to_string(&broken).unwrap();
    std::fs::write(&broken, format!("{src}\n[[khong_co]]\nx = \n")).unwrap();
    let path = crate::sample_config_with_rules(dir.path(), &rules);
    // A file where the data dir should be: the store cannot be opened.
    let data = dir.path().join("data");
    std::fs::write(&data, "not a directory").unwrap();
    let out_dir = dir.path().join("out");
    let run = || {
        tthc(&[
            "run",
            "--config",
            path.to_str().unwrap(),
            "--period",
            "2022-Q4",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ])
    };
    let (code, out, err) = run();
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("chi-so-2022.toml:"), "{err}");
    // With the rules mended, the same run fails on the store (exit 1).
    std::fs::write(&broken, src).unwrap();
    let (code, out, err) = run();
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("mở kho dữ liệu"), "{err}");
}

#[test]
fn template_writes_a_workbook_that_check_reads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mau.xlsx");
    let (code, out, err) = tthc(&[
        "template",
        "--config",
        CONFIG,
        "--unit",
        "XA10",
        "--period",
        "2022-Q4",
        "--file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = tthc(&["check", file.to_str().unwrap(), "--config", CONFIG]);
    assert_eq!(code, 2, "an empty template is not a report: {out}");
    assert!(out.contains("bieu06_trong"), "{out}");
    assert!(
        out.contains("XA10, Quý IV/2022"),
        "unit and period are prefilled: {out}"
    );
}

#[test]
fn run_prints_a_summary_of_the_rejected_units() {
    let dir = tempfile::tempdir().unwrap();
    let (out_dir, data_dir) = (dir.path().join("out"), dir.path().join("data"));
    let (code, out, err) = tthc(&[
        "run",
        "--config",
        CONFIG,
        "--period",
        "2022-Q4",
        "--out",
        out_dir.to_str().unwrap(),
        "--data",
        data_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Bị từ chối: UBND xã Trực Thái (XA15)"),
        "{out}"
    );
    for f in [
        "xep-hang-2022-Q4.xlsx",
        "bao-cao-2022-Q4.pdf",
        "ket-qua-2022-Q4.json",
    ] {
        assert!(out_dir.join("2022-Q4").join(f).exists(), "{f}");
    }
    let emails = |dir: &std::path::Path| crate::count_files(dir, "eml");
    assert_eq!(
        emails(&out_dir.join("outbox/bien-nhan")),
        131,
        "a receipt for every workbook read"
    );
    assert_eq!(emails(&out_dir.join("outbox")), 2);
}

#[test]
fn check_annotate_writes_the_units_own_figures_with_a_findings_sheet_first() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("da-danh-dau.xlsx");
    let (code, _, _) = tthc(&[
        "check",
        "samples/truc-ninh/inbox/2022-Q4/XA15-2022-Q4.xlsx",
        "--config",
        CONFIG,
        "--annotate",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    assert_eq!(wb.sheet_names()[0], "Lỗi cần sửa");
    assert!(wb.sheet_names().contains(&"Biểu 06".to_string()));
    let findings = wb.worksheet_range("Lỗi cần sửa").unwrap();
    let listed: Vec<String> = findings.rows().skip(4).map(|r| r[3].to_string()).collect();
    assert_eq!(listed, ["Biểu 06!C10"]);
    let form = wb.worksheet_range("Biểu 06").unwrap();
    assert_eq!(
        form.get_value((9, 2)),
        Some(&Data::Float(35.0)),
        "the unit's own figure is kept"
    );
}

#[test]
fn a_file_named_for_another_unit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("XA11-2022-Q4.xlsx");
    std::fs::copy(
        crate::repo().join("samples/truc-ninh/inbox/2022-Q4/XA10-2022-Q4.xlsx"),
        &file,
    )
    .unwrap();
    let (code, out, _) = tthc(&["check", file.to_str().unwrap(), "--config", CONFIG]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("ten_tep_khac_don_vi"), "{out}");
}

#[test]
fn a_quarter_no_ruleset_is_in_force_for_is_a_rules_problem_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = tthc(&[
        "run",
        "--config",
        CONFIG,
        "--period",
        "2019-Q1",
        "--data",
        dir.path().join("data").to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(err.contains("Lỗi cấu hình hoặc quy tắc"), "{err}");
    assert!(err.contains("Quý I/2019"), "{err}");
}
