//! What units report comes from the form file in force: an indicator added
//! to it, with no change to the code, is in the template, read, checked,
//! scored by a criterion that names it, listed in the ranking workbook and
//! added up for the year.

use calamine::{Data, DataType, Reader, Xlsx, open_workbook};
use std::path::Path;
use tthc::domain::Period;
use tthc::settings::{PathOverrides, Settings};

const CODE: &str = "ho_so_toan_trinh";

/// The shipped 2022 files, the form as `edit` makes it, the ruleset with
/// one more criterion (`criterion`: its TOML lines).
fn local_rules(dir: &Path, edit: impl Fn(&str) -> String, criterion: &str) {
    let rules = crate::repo().join("rules");
    let read = |f: &str| std::fs::read_to_string(rules.join(f)).unwrap();
    let shipped = read("bieu-mau-2022.toml");
    let form = edit(&shipped);
    assert_ne!(form, shipped);
    std::fs::write(dir.join("bieu-mau-2022.toml"), form).unwrap();
    let ruleset = format!("{}\n[[criteria]]\n{criterion}", read("chi-so-2022.toml"));
    std::fs::write(dir.join("chi-so-2022.toml"), ruleset).unwrap();
    for f in ["muc-tieu-2022.toml", "nhiem-vu-2022.toml"] {
        std::fs::write(dir.join(f), read(f)).unwrap();
    }
}

/// The sample district's settings with the rules of `tmp/rules` and its
/// own inbox, data and output.
fn settings_in(tmp: &Path) -> Settings {
    let overrides = PathOverrides {
        inbox: Some(tmp.join("inbox")),
        data: Some(tmp.join("data")),
        output: Some(tmp.join("out")),
    };
    let mut settings = Settings::load(&crate::sample_config(), &overrides).unwrap();
    settings.rules_dir = tmp.join("rules");
    settings
}

/// The rules `make` writes in `tmp/rules`, the settings, unit XA01 and
/// its 2022-Q4 template, opened.
fn xa01_template(
    tmp: &Path,
    make: fn(&Path),
) -> (
    Settings,
    tthc::rules::RuleBook,
    tthc::domain::Unit,
    Xlsx<std::io::BufReader<std::fs::File>>,
) {
    let rules_dir = tmp.join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    make(&rules_dir);
    let settings = settings_in(tmp);
    let rules = tthc::rules::load_dir(&rules_dir).unwrap();
    let unit = settings.unit("XA01").unwrap().clone();
    let (_, template) =
        tthc::report::template::unit_template(&settings, &rules, &unit, Period::quarter(2022, 4))
            .unwrap();
    let path = tmp.join("mau.xlsx");
    std::fs::write(&path, &template).unwrap();
    (settings, rules, unit, open_workbook(&path).unwrap())
}

/// The ranking workbook a run wrote, opened.
fn ranking_workbook(ran: &tthc::schedule::Ran) -> Xlsx<std::io::BufReader<std::fs::File>> {
    let xlsx = ran
        .files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "xlsx"))
        .unwrap();
    open_workbook(xlsx).unwrap()
}

/// The form with one more indicator, and a criterion on it.
fn rules_with_an_indicator(dir: &Path) {
    local_rules(
        dir,
        |form| {
            form.replace(
                "\n# Phần không thể lớn hơn tổng",
                &format!(
                    "\n[[indicators]]\ncode = \"{CODE}\"\nlabel = \"Số hồ sơ trực tuyến toàn trình\"\nkind = \"count\"\n\n[[parts]]\nparts = [\"{CODE}\"]\nwhole = [\"nhan_tong\"]\n\n# Phần không thể lớn hơn tổng"
                ),
            )
        },
        &format!(
            "code = \"DV4\"\ngroup = \"DV\"\nlabel = \"Tỷ lệ hồ sơ trực tuyến toàn trình\"\nnumerator = \"{CODE}\"\ndenominator = \"nhan_tong\"\npoints = 5\nshape = \"linear\"\nzero_denominator = \"exclude\"\n"
        ),
    );
}

#[test]
fn an_indicator_added_by_the_form_file_alone_flows_from_template_to_year_total() {
    let tmp = tempfile::tempdir().unwrap();
    let (settings, rules, _, mut wb) = xa01_template(tmp.path(), rules_with_an_indicator);
    let q4 = Period::quarter(2022, 4);

    // The template has the row, with the validation of a count.
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
    let mut wb = ranking_workbook(&ran);
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
    let ctx = crate::context_of(&s, &rules);
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

/// The form with a Form 06 column added by the form alone: (14) "Số hồ
/// sơ rút", in a group of its own; and a criterion on it.
fn rules_with_a_column(dir: &Path) {
    local_rules(
        dir,
        |form| {
            form.replacen(
                "\n# Đẳng thức phải đúng",
                "\n[[groups]]\ncode = \"rut\"\nlabel = \"Số hồ sơ rút\"\nwords = [\"ho so rut\"]\n\n[[columns]]\ncode = \"rut_tong\"\nnumber = 14\ngroup = \"rut\"\nlabel = \"Tổng số\"\ntotal = true\nyear = \"sum\"\n\n# Đẳng thức phải đúng",
                1,
            )
        },
        "code = \"DV5\"\ngroup = \"DV\"\nlabel = \"Tỷ lệ hồ sơ được rút\"\nnumerator = \"rut_tong\"\ndenominator = \"nhan_tong\"\npoints = 5\nshape = \"linear\"\nzero_denominator = \"exclude\"\n",
    );
}

#[test]
fn a_form_06_column_added_by_the_form_file_alone_is_in_the_template_read_scored_and_summed() {
    let tmp = tempfile::tempdir().unwrap();
    let (settings, rules, unit, mut wb) = xa01_template(tmp.path(), rules_with_a_column);
    let q4 = Period::quarter(2022, 4);

    // The template's Form 06 has the column under its own heading.
    let sheet = wb.worksheet_range("Biểu 06").unwrap();
    let cell = |r: u32, c: u32| sheet.get_value((r, c)).map(|v| v.to_string());
    assert_eq!(cell(4, 13).as_deref(), Some("Số hồ sơ rút"));
    assert_eq!(cell(7, 13).as_deref(), Some("(14)"));
    assert_eq!(
        cell(7, 12).as_deref(),
        Some("(13)"),
        "the others where they were"
    );

    // XA01 reports withdrawn dossiers in the column; the others' are 0.
    tthc::bench::synth::write_year(&settings, &rules, 2022, 11).unwrap();
    let mut c = tthc::bench::synth::quarter_content(
        &unit,
        &tthc::bench::synth::profile(&unit, 11),
        q4,
        &mut Default::default(),
        &rules,
        &settings,
        11,
    );
    let at = c.columns.iter().position(|k| k.code == "rut_tong").unwrap();
    let mut withdrawn = 0;
    for (i, (_, v)) in c.rows.iter_mut().enumerate() {
        let v = v.as_mut().unwrap();
        v[at] = i as i64 + 1;
        withdrawn += i as i64 + 1;
    }
    let bytes = tthc::report::template::write_workbook(&c).unwrap();
    std::fs::write(tmp.path().join("inbox/2022-Q4/XA01-2022-Q4.xlsx"), &bytes).unwrap();
    let ctx = crate::context_of(&settings, &rules);
    let checked = tthc::validate::check_bytes(&bytes, &ctx);
    let sub = checked
        .submission
        .unwrap_or_else(|| panic!("{:?}", checked.findings));
    assert_eq!(sub.columns.len(), 12);
    assert_eq!(sub.total("rut_tong"), Some(withdrawn));

    // A workbook of the form without the column is refused, naming it.
    let mut old = c.clone();
    old.columns.remove(at);
    for (_, v) in &mut old.rows {
        v.as_mut().unwrap().remove(at);
    }
    let old_bytes = tthc::report::template::write_workbook(&old).unwrap();
    let refused = tthc::validate::check_bytes(&old_bytes, &ctx);
    let missing = crate::finding(&refused, "thieu_cot");
    assert!(
        missing.message.contains("(14) Tổng số"),
        "{}",
        missing.message
    );
    assert!(refused.submission.is_none());

    // Scored by the criterion, and summed in "Tổng hợp Biểu 06".
    let engine = crate::Opened::open(settings.clone()).unwrap();
    let (_, ran) = engine.run(q4).unwrap();
    let u = ran.results.units().find(|u| u.code == "XA01").unwrap();
    let dv5 = u
        .card
        .as_ref()
        .unwrap()
        .criteria
        .iter()
        .find(|k| k.code == "DV5")
        .unwrap();
    assert_eq!(dv5.numerator, Some(withdrawn as f64));
    let mut wb = ranking_workbook(&ran);
    let form06 = wb.worksheet_range("Tổng hợp Biểu 06").unwrap();
    let header = form06
        .rows()
        .find(|r| r.iter().any(|c| c.to_string().starts_with("(14)")))
        .expect("a header names (14)");
    let col = header
        .iter()
        .position(|c| *c == Data::String("(14) Số hồ sơ rút - Tổng số".into()))
        .unwrap_or_else(|| panic!("{header:?}"));
    let total = form06
        .rows()
        .find(|r| r.get(1) == Some(&Data::String("Tổng cộng".into())))
        .unwrap();
    assert_eq!(total[col].as_f64(), Some(withdrawn as f64));
}

#[test]
fn a_form_whose_column_numbers_clash_is_refused_where_it_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(crate::repo().join("rules/bieu-mau-2022.toml")).unwrap();
    let src = shipped.replace(
        "code = \"dang_qua_han\"\nnumber = 13",
        "code = \"dang_qua_han\"\nnumber = 12",
    );
    assert_ne!(src, shipped);
    std::fs::write(tmp.path().join("bieu-mau.toml"), &src).unwrap();
    let err = tthc::rules::load_dir(tmp.path()).unwrap_err();
    assert_eq!(err.0.len(), 1, "{err}");
    assert!(err.0[0].message.contains("(12)"), "{err}");
    let line = src
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| *l == "number = 12")
        .unwrap()
        + 1;
    assert_eq!(err.0[0].line, line, "{err}");
}
