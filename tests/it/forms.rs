//! What units report comes from the form file in force: an indicator added
//! to it, with no change to the code, is in the template, read, checked,
//! scored by a criterion that names it, listed in the ranking workbook and
//! added up for the year.

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};
use std::path::Path;
use tthc::domain::Period;
use tthc::settings::{PathOverrides, Settings};

const CODE: &str = "ho_so_toan_trinh";

/// The shipped 2022 files, the form with one more indicator, the ruleset
/// with a criterion on it.
fn local_rules(dir: &Path) {
    let rules = crate::repo().join("rules");
    let read = |f: &str| std::fs::read_to_string(rules.join(f)).unwrap();
    let form = read("bieu-mau-2022.toml").replace(
        "\n# Phần không thể lớn hơn tổng",
        &format!(
            "\n[[indicators]]\ncode = \"{CODE}\"\nlabel = \"Số hồ sơ trực tuyến toàn trình\"\nkind = \"count\"\n\n[[parts]]\nparts = [\"{CODE}\"]\nwhole = [\"nhan_tong\"]\n\n# Phần không thể lớn hơn tổng"
        ),
    );
    assert!(form.contains(CODE));
    std::fs::write(dir.join("bieu-mau-2022.toml"), form).unwrap();
    let ruleset = format!(
        "{}\n[[criteria]]\ncode = \"DV4\"\ngroup = \"DV\"\nlabel = \"Tỷ lệ hồ sơ trực tuyến toàn trình\"\nnumerator = \"{CODE}\"\ndenominator = \"nhan_tong\"\npoints = 5\nshape = \"linear\"\nzero_denominator = \"exclude\"\n",
        read("chi-so-2022.toml")
    );
    std::fs::write(dir.join("chi-so-2022.toml"), ruleset).unwrap();
    for f in ["muc-tieu-2022.toml", "nhiem-vu-2022.toml"] {
        std::fs::write(dir.join(f), read(f)).unwrap();
    }
}

#[test]
fn an_indicator_added_by_the_form_file_alone_flows_from_template_to_year_total() {
    let tmp = tempfile::tempdir().unwrap();
    let rules_dir = tmp.path().join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    local_rules(&rules_dir);
    let overrides = PathOverrides {
        inbox: Some(tmp.path().join("inbox")),
        data: Some(tmp.path().join("data")),
        output: Some(tmp.path().join("out")),
    };
    let mut settings = Settings::load(&crate::sample_config(), &overrides).unwrap();
    settings.rules_dir = rules_dir.clone();
    let rules = tthc::rules::load_dir(&rules_dir).unwrap();
    let q4 = Period::quarter(2022, 4);

    // The template has the row, with the validation of a count.
    let unit = settings.unit("XA01").unwrap().clone();
    let (_, template) =
        tthc::report::template::unit_template(&settings, &rules, &unit, q4).unwrap();
    let path = tmp.path().join("mau.xlsx");
    std::fs::write(&path, &template).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = wb.worksheet_range("Chỉ số").unwrap();
    assert!(
        sheet
            .rows()
            .any(|r| r.first() == Some(&Data::String(CODE.into()))),
        "the template lists {CODE}"
    );

    // The units' workbooks, made as a unit fills the template in.
    tthc::bench::synth::write_year(&settings, &rules, 2022, 11).unwrap();
    let engine = crate::Opened::open(settings.clone()).unwrap();
    let (summary, ran) = engine.run(q4).unwrap();
    assert!(summary.accepted > 20, "{summary:?}");
    let card_of = |results: &tthc::report::Results, code: &str| {
        let u = results.units().find(|u| u.code == code).unwrap();
        let card = u.card.clone().unwrap();
        let k = card
            .criteria
            .iter()
            .find(|k| k.code == "DV4")
            .unwrap()
            .clone();
        (u.rows.clone(), k)
    };
    let (rows, dv4) = card_of(&ran.results, "XA01");
    let nhan: i64 = rows.iter().map(|r| r.values[0]).sum();
    let reported = dv4.numerator.expect("the criterion read the indicator");
    assert!(reported > 0.0);
    assert_eq!(dv4.denominator, Some(nhan as f64));
    assert!(
        (dv4.points - 5.0 * (reported / nhan as f64).min(1.0)).abs() < 1e-9,
        "{dv4:?}"
    );

    // The ranking workbook lists the criterion with the unit's figure.
    let xlsx = ran
        .files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "xlsx"))
        .unwrap();
    let mut wb: Xlsx<_> = open_workbook(xlsx).unwrap();
    let details = wb.worksheet_range("Chi tiết điểm").unwrap();
    let row = details
        .rows()
        .find(|r| {
            r.first() == Some(&Data::String("XA01".into()))
                && r.get(3) == Some(&Data::String("DV4".into()))
        })
        .expect("a DV4 line for XA01");
    assert_eq!(row.get(5).and_then(|c| c.as_f64()), Some(reported));

    // The year adds the four quarters' figures up.
    let year = engine
        .results("2022".parse().unwrap(), false)
        .unwrap()
        .unwrap();
    let (_, year_dv4) = card_of(&year, "XA01");
    let mut sum = 0.0;
    for q in 1..=4 {
        let r = engine
            .results(Period::quarter(2022, q), false)
            .unwrap()
            .unwrap();
        sum += card_of(&r, "XA01").1.numerator.unwrap();
    }
    assert_eq!(year_dv4.numerator, Some(sum));
}

#[test]
fn the_identities_checked_on_every_row_are_the_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shipped = std::fs::read_to_string(crate::repo().join("rules/bieu-mau-2022.toml")).unwrap();
    // The form words its first identity otherwise, and drops the last.
    let form = shipped
        .replace(
            "what = \"Tổng số hồ sơ nhận\"\n\n[[identities]]\ncode = \"bieu06_nhan_xu_ly\"",
            "what = \"Tổng số hồ sơ tiếp nhận trong kỳ và kỳ trước\"\n\n[[identities]]\ncode = \"bieu06_nhan_xu_ly\"",
        )
        .replace(
            "[[identities]]\ncode = \"bieu06_dang_giai_quyet\"\nleft = \"dang_giai_quyet\"\nright = [\"trong_han\", \"dang_qua_han\"]\nwhat = \"Số hồ sơ đang giải quyết\"\n",
            "",
        );
    assert_ne!(form, shipped);
    std::fs::write(dir.join("bieu-mau.toml"), &form).unwrap();
    let rules = tthc::rules::load_dir(dir).unwrap();
    assert_eq!(rules.forms[0].form.identities.len(), 3);

    let s = Settings::load(&crate::sample_config(), &PathOverrides::default()).unwrap();
    let u = s.unit("XA01").unwrap();
    let mut c = tthc::bench::synth::quarter_content(
        u,
        &tthc::bench::synth::profile(u, 1),
        Period::quarter(2022, 4),
        &mut Default::default(),
        &rules,
        &s,
        1,
    );
    c.total_formulas = false;
    // One row: (4) one more than it should be, (13) one more too.
    let row = c.rows.iter_mut().find_map(|(_, v)| v.as_mut()).unwrap();
    row[1] += 1;
    row[10] += 1;
    let bytes = tthc::report::template::write_workbook(&c).unwrap();
    let ctx = tthc::validate::Context {
        units: &s.units,
        expected_unit: None,
        expected_period: None,
        window_mode: s.period.window,
        file_name: None,
        forms: &rules.forms,
    };
    let checked = tthc::validate::check_bytes(&bytes, &ctx);
    let codes: Vec<&str> = checked.findings.iter().map(|f| f.code.as_str()).collect();
    let nhan = checked
        .findings
        .iter()
        .find(|f| f.code == "bieu06_nhan")
        .unwrap_or_else(|| panic!("{codes:?}"));
    assert!(
        nhan.message
            .contains("Tổng số hồ sơ tiếp nhận trong kỳ và kỳ trước"),
        "{}",
        nhan.message
    );
    assert!(
        !codes.contains(&"bieu06_dang_giai_quyet"),
        "an identity the form does not have is not checked: {codes:?}"
    );
}

#[test]
fn a_form_that_changes_form_06s_columns_is_refused_with_the_columns_it_must_have() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(crate::repo().join("rules/bieu-mau-2022.toml")).unwrap();
    let src = shipped.replace(
        "code = \"dang_qua_han\"\nnumber = 13",
        "code = \"dang_qua_han\"\nnumber = 14",
    );
    assert_ne!(src, shipped);
    std::fs::write(tmp.path().join("bieu-mau.toml"), &src).unwrap();
    let err = tthc::rules::load_dir(tmp.path()).unwrap_err();
    assert_eq!(err.0.len(), 1, "{err}");
    assert!(err.0[0].message.contains("(13) dang_qua_han"), "{err}");
    assert!(err.0[0].line > 1, "located: {err}");
}
