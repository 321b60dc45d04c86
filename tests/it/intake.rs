//! Intake and validation of workbooks made by the template writer.

use tthc::domain::{Period, WindowMode};
use tthc::settings::{PathOverrides, Settings};
use tthc::validate::{Context, check_bytes};

fn settings() -> Settings {
    Settings::load(&crate::sample_config(), &PathOverrides::default()).unwrap()
}

fn ctx(s: &Settings) -> Context<'_> {
    Context {
        units: &s.units,
        expected_unit: None,
        expected_period: None,
        window_mode: WindowMode::Reporting,
        file_name: None,
        forms: &[],
    }
}

fn content(s: &Settings, code: &str) -> tthc::report::template::WorkbookContent {
    let rules = tthc::rules::load_dir(&s.rules_dir).unwrap();
    let u = s.unit(code).unwrap();
    tthc::bench::synth::quarter_content(
        u,
        &tthc::bench::synth::profile(u, 1),
        Period::quarter(2022, 4),
        &mut Default::default(),
        &rules,
        s,
        1,
    )
}

#[test]
fn a_written_workbook_reads_back_to_the_same_figures() {
    let s = settings();
    let c = content(&s, "CQ05");
    let checked = check_bytes(
        &tthc::report::template::write_workbook(&c).unwrap(),
        &ctx(&s),
    );
    assert!(
        checked.findings.iter().all(|f| !f.is_error()),
        "{:?}",
        checked.findings
    );
    let sub = checked.submission.unwrap();
    assert_eq!(sub.unit, "CQ05");
    assert_eq!(sub.period, Period::quarter(2022, 4));
    let want: Vec<Vec<i64>> = c.rows.iter().map(|(_, v)| v.clone().unwrap()).collect();
    let got: Vec<Vec<i64>> = sub.rows.iter().map(|r| r.values.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(sub.indicators["cho_tb_phut"], c.indicators[18].unwrap());
    assert_eq!(sub.tasks.len(), c.tasks.len());
}

#[test]
fn every_broken_identity_and_bad_cell_is_reported_at_once() {
    let s = settings();
    let mut c = content(&s, "XA03");
    if let Some((_, Some(v))) = c.rows.get_mut(0) {
        v[4] += 1; // (7) no longer (8)+(9)+(10), and (3) ≠ (7)+(11)
    }
    if let Some((_, Some(v))) = c.rows.get_mut(2) {
        v[9] += 2; // (11) ≠ (12)+(13)
    }
    c.total_formulas = false;
    let checked = check_bytes(
        &tthc::report::template::write_workbook(&c).unwrap(),
        &ctx(&s),
    );
    let codes: Vec<(&str, String)> = checked
        .findings
        .iter()
        .map(|f| {
            (
                f.code.as_str(),
                f.cell.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        codes.contains(&("bieu06_da_giai_quyet", "Biểu 06!G9".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("bieu06_nhan_xu_ly", "Biểu 06!C9".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("bieu06_dang_giai_quyet", "Biểu 06!K11".into())),
        "{codes:?}"
    );
    assert!(checked.submission.is_none());
    assert_eq!(
        checked.unit.as_deref(),
        Some("XA03"),
        "who sent it is still known"
    );
}

#[test]
fn a_workbook_from_another_unit_than_the_uploader_is_refused() {
    let s = settings();
    let bytes = tthc::report::template::write_workbook(&content(&s, "XA03")).unwrap();
    let checked = check_bytes(
        &bytes,
        &Context {
            expected_unit: Some("XA04"),
            ..ctx(&s)
        },
    );
    assert!(
        checked
            .findings
            .iter()
            .any(|f| f.code == "sai_don_vi" && f.is_error())
    );
}

#[test]
fn an_unknown_unit_code_is_refused_with_its_cell() {
    let s = settings();
    let mut c = content(&s, "XA03");
    c.unit_code = "XA99".into();
    c.unit_name = "UBND xã Không Có".into();
    let checked = check_bytes(
        &tthc::report::template::write_workbook(&c).unwrap(),
        &ctx(&s),
    );
    let f = checked
        .findings
        .iter()
        .find(|f| f.code == "don_vi_khong_ton_tai")
        .expect("a finding");
    assert_eq!(f.cell.as_ref().unwrap().to_string(), "Thông tin!B2");
}

#[test]
fn the_same_workbook_five_times_in_one_inbox_is_read_every_time_and_archived_once() {
    let src = crate::sample_inbox().join("2022-Q4/XA01-2022-Q4.xlsx");
    for round in 0..10 {
        let tmp = tempfile::tempdir().unwrap();
        let inbox = tmp.path().join("inbox");
        std::fs::create_dir_all(&inbox).unwrap();
        for n in 0..5 {
            std::fs::copy(&src, inbox.join(format!("ban-sao-{n}-XA01-2022-Q4.xlsx"))).unwrap();
        }
        let engine = crate::sample_engine_with_inbox(tmp.path(), &inbox);
        let summary = engine
            .ingest()
            .unwrap_or_else(|e| panic!("round {round}: {e:#}"));
        assert_eq!(summary.new, 5, "round {round}");
        let archive = tmp.path().join("data/archive");
        assert_eq!(crate::count_files(&archive, "xlsx"), 0);
        let stored: usize = std::fs::read_dir(&archive)
            .unwrap()
            .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
            .sum();
        assert_eq!(stored, 1, "round {round}: one archived file");
    }
}

#[test]
fn a_register_names_files_in_nfc_while_the_disk_holds_nfd_and_says_which_lines_matched_nothing() {
    use unicode_normalization::UnicodeNormalization;
    let tmp = tempfile::tempdir().unwrap();
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let name = "Báo cáo quý IV Xã Trực Đại.xlsx";
    let on_disk: String = name.nfd().collect();
    assert_ne!(on_disk, name, "the two forms differ byte for byte");
    std::fs::copy(
        crate::sample_inbox().join("2022-Q4/XA01-2022-Q4.xlsx"),
        inbox.join(&on_disk),
    )
    .unwrap();
    let register: String = name.nfc().collect();
    std::fs::write(
        inbox.join("so-nhan.csv"),
        format!(
            "Tên tệp,Thời điểm nhận\n{register},2022-12-15 08:30\nXA99-khong-co.xlsx,2022-12-16 09:00\n"
        ),
    )
    .unwrap();
    let engine = crate::sample_engine_with_inbox(tmp.path(), &inbox);
    let summary = engine.ingest().unwrap();
    assert_eq!(summary.accepted, 1, "{:?}", summary.rejected);
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert!(
        summary.warnings[0].contains("dòng 3")
            && summary.warnings[0].contains("XA99-khong-co.xlsx"),
        "{:?}",
        summary.warnings
    );
    let results = engine
        .results(Period::quarter(2022, 4), false)
        .unwrap()
        .unwrap();
    let xa01 = results.units().find(|u| u.code == "XA01").unwrap();
    assert_eq!(
        xa01.received_at
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
        Some("2022-12-15 08:30".to_string()),
        "the register's time counts, not the file's"
    );
    assert_eq!(xa01.days_late, None);
}

/// The workbook with each worksheet's XML passed through `edit`.
fn edit_sheets(xlsx: &[u8], edit: impl Fn(&str, String) -> String) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        if name.starts_with("xl/worksheets/") {
            bytes = edit(&name, String::from_utf8(bytes).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// `<f>…</f><v>…</v>` becomes `<f>…</f><v></v>`, as a program that writes
/// formulas without computing them (openpyxl filling a template) saves it.
fn without_formula_values(_: &str, xml: String) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml.as_str();
    while let Some(at) = rest.find("</f><v>") {
        let (head, tail) = rest.split_at(at + "</f><v>".len());
        out.push_str(head);
        rest = &tail[tail.find("</v>").unwrap()..];
    }
    out.push_str(rest);
    out
}

/// The first lĩnh vực row's (3), cell C9 of Biểu 06, becomes a formula with
/// no saved value.
fn uncalculated_c9(name: &str, xml: String) -> String {
    if name != "xl/worksheets/sheet1.xml" {
        return xml;
    }
    let start = xml.find("<c r=\"C9\"").expect("C9 is written");
    let end = start + xml[start..].find("</c>").unwrap() + "</c>".len();
    format!(
        "{}<c r=\"C9\"><f>D9+E9+F9</f><v></v></c>{}",
        &xml[..start],
        &xml[end..]
    )
}

#[test]
fn an_uncalculated_total_row_is_set_aside_with_one_warning_but_an_uncalculated_figure_is_refused() {
    let s = settings();
    let mut c = content(&s, "XA03");
    c.total_formulas = true;
    let good = tthc::report::template::write_workbook(&c).unwrap();
    let checked = check_bytes(&edit_sheets(&good, without_formula_values), &ctx(&s));
    let errors: Vec<_> = checked.findings.iter().filter(|f| f.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let warned: Vec<_> = checked
        .findings
        .iter()
        .filter(|f| f.code == "tong_chua_tinh")
        .collect();
    assert_eq!(
        warned.len(),
        1,
        "one warning for the row: {:?}",
        checked.findings
    );
    assert!(
        warned[0].message.contains("11 công thức"),
        "{}",
        warned[0].message
    );
    let read = checked.submission.expect("accepted");
    let direct = check_bytes(&good, &ctx(&s)).submission.unwrap();
    assert_eq!(
        read.rows, direct.rows,
        "the figures come from the lĩnh vực rows"
    );

    // A lĩnh vực cell whose formula has no value is a figure that would be
    // used: still refused, at its cell.
    let mut c = content(&s, "XA03");
    c.total_formulas = false;
    let bytes = tthc::report::template::write_workbook(&c).unwrap();
    let checked = check_bytes(&edit_sheets(&bytes, uncalculated_c9), &ctx(&s));
    assert!(
        checked
            .findings
            .iter()
            .any(|f| f.is_error() && f.code == "cong_thuc_chua_tinh"),
        "{:?}",
        checked.findings
    );
    assert!(checked.submission.is_none());
}

/// ASCII words of four letters or more that are not names of formats or
/// programs: English left in a message meant for a unit.
fn english_words(message: &str) -> Vec<String> {
    const NAMES: [&str; 8] = [
        "xlsx",
        "Excel",
        "LibreOffice",
        "sheet",
        "worksheets",
        "Biểu",
        "bieu",
        "content",
    ];
    message
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .filter(|w| !NAMES.iter().any(|n| n.eq_ignore_ascii_case(w)))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_broken_zip_is_explained_in_vietnamese() {
    let s = settings();
    let good = tthc::report::template::write_workbook(&content(&s, "XA01")).unwrap();
    // Cut short, as an upload that did not finish.
    let truncated = good[..good.len() / 2].to_vec();
    // One part unpacks to more than its header says: the declared sizes
    // (local header and central directory) of a stored entry made smaller.
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zw.start_file("[Content_Types].xml", stored).unwrap();
    std::io::Write::write_all(&mut zw, &[b'x'; 4000]).unwrap();
    let mut lying = zw.finish().unwrap().into_inner();
    let size = 4000u32.to_le_bytes();
    let smaller = 100u32.to_le_bytes();
    let mut at = 0;
    let mut patched = 0;
    while let Some(i) = lying[at..]
        .windows(8)
        .position(|w| w == [size, size].concat())
    {
        let i = at + i;
        lying[i + 4..i + 8].copy_from_slice(&smaller);
        at = i + 8;
        patched += 1;
    }
    assert_eq!(patched, 2, "both headers carry the sizes");
    for (what, bytes) in [("truncated", truncated), ("lying sizes", lying)] {
        let checked = check_bytes(&bytes, &ctx(&s));
        assert!(!checked.accepted(), "{what}");
        for f in &checked.findings {
            assert!(
                english_words(&f.message).is_empty(),
                "{what}: English in {:?}: {:?}",
                f.message,
                english_words(&f.message)
            );
        }
    }
}
