//! The ranking workbook, read back by its cell values.

use crate::sample_quarter::sample_run;
use calamine::{Data, DataType, Reader, Xlsx, open_workbook};

fn workbook() -> Xlsx<std::io::BufReader<std::fs::File>> {
    open_workbook(sample_run().dir.join("xep-hang-2022-Q4.xlsx")).expect("the workbook opens")
}

#[test]
fn the_ranking_workbook_has_the_six_sheets() {
    assert_eq!(
        workbook().sheet_names(),
        [
            "Xếp hạng",
            "Chi tiết điểm",
            "Tình hình nộp báo cáo",
            "Mục tiêu",
            "Nhiệm vụ",
            "Tổng hợp Biểu 06"
        ]
    );
}

#[test]
fn the_ranking_sheet_agrees_with_the_json() {
    let mut wb = workbook();
    let range = wb.worksheet_range("Xếp hạng").unwrap();
    let header: Vec<String> = range
        .rows()
        .nth(2)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let total_col = header
        .iter()
        .position(|h| h == "Tổng điểm")
        .expect("a total column");
    let rows: Vec<&[Data]> = range.rows().skip(3).collect();
    assert_eq!(rows.len(), 33);
    for u in sample_run().json["units"].as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r[2] == *u["code"].as_str().unwrap())
            .unwrap();
        match u["total"].as_f64() {
            Some(t) => assert_eq!(row[total_col], Data::Float(t), "{}", u["code"]),
            None => assert_eq!(row[total_col], Data::Empty),
        }
    }
}

#[test]
fn the_district_form_06_total_is_the_sum_of_its_sections() {
    let mut wb = workbook();
    let range = wb.worksheet_range("Tổng hợp Biểu 06").unwrap();
    let rows: Vec<&[Data]> = range.rows().skip(3).collect();
    let sections: Vec<&&[Data]> = rows
        .iter()
        .filter(|r| matches!(r[0].to_string().as_str(), "I" | "II"))
        .collect();
    let total = rows.last().unwrap();
    assert_eq!(total[1].to_string(), "Tổng cộng");
    assert_eq!(sections.len(), 2);
    for col in 2..13 {
        let sum: f64 = sections.iter().map(|r| r[col].as_f64().unwrap()).sum();
        assert_eq!(total[col].as_f64().unwrap(), sum);
    }
    // Form 06 arithmetic holds on the district's own total.
    let v: Vec<f64> = (2..13).map(|c| total[c].as_f64().unwrap()).collect();
    assert_eq!(v[0], v[1] + v[2] + v[3]);
    assert_eq!(v[0], v[4] + v[8]);
}

#[test]
fn the_submission_sheet_shows_days_late() {
    let mut wb = workbook();
    let range = wb.worksheet_range("Tình hình nộp báo cáo").unwrap();
    let late: Vec<(String, f64)> = range
        .rows()
        .skip(3)
        .filter(|r| r[5] == *"Nộp muộn")
        .map(|r| (r[0].to_string(), r[6].as_f64().unwrap()))
        .collect();
    assert_eq!(late, [("CQ09".to_string(), 3.0), ("XA08".to_string(), 1.0)]);
}

/// The lines of a PDF page's text, trimmed, without blanks or the page number.
fn page_lines(page: &str) -> Vec<&str> {
    page.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

#[test]
fn a_league_table_never_starts_at_a_page_foot_with_a_single_row() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = crate::sample_engine(tmp.path());
    engine.ingest().unwrap();
    let results = engine
        .results("2022-Q4".parse().unwrap(), true)
        .unwrap()
        .unwrap();
    let base = tthc::report::pdf::template_data(&results);
    let intro = base["intro"].as_str().unwrap().to_string();
    let filler = " Nội dung thêm để đẩy bảng xếp hạng xuống dần cuối trang.";
    let mut splits = 0;
    // Each step pushes the tables a little further down, so that in some
    // steps a table starts near a page's foot.
    for step in 0..14 {
        let mut data = base.clone();
        data["intro"] = format!("{intro}{}", filler.repeat(step * 2)).into();
        let pdf = tthc::report::pdf::write_data(&data).unwrap();
        let pages: Vec<Vec<String>> = pdf_extract::extract_text_from_mem_by_pages(&pdf)
            .unwrap()
            .iter()
            .map(|p| page_lines(p).into_iter().map(str::to_string).collect())
            .collect();
        for n in 0..pages.len().saturating_sub(1) {
            let (page, next) = (&pages[n], &pages[n + 1]);
            // A table that goes on to the next page repeats its header there.
            if !next.first().is_some_and(|l| l.starts_with("Hạng")) {
                continue;
            }
            let Some(h) = page.iter().rposition(|l| l.starts_with("Hạng")) else {
                continue;
            };
            if h == 0 {
                continue; // the table started on an earlier page
            }
            splits += 1;
            let below = page.len() - h - 1;
            assert!(
                below >= 2,
                "step {step}, page {}: the table starts at the foot with one row: {:?}",
                n + 1,
                &page[h..]
            );
        }
    }
    assert!(
        splits > 0,
        "some step starts a table on one page and goes on to the next"
    );
}

#[test]
fn the_issuing_body_breaks_between_the_body_and_the_place() {
    use tthc::report::pdf::header_lines;
    assert_eq!(
        header_lines("Ủy ban nhân dân tỉnh Ninh Bình"),
        ["Ủy ban nhân dân", "tỉnh Ninh Bình"]
    );
    assert_eq!(
        header_lines("Ủy ban nhân dân thành phố Hồ Chí Minh"),
        ["Ủy ban nhân dân", "thành phố Hồ Chí Minh"]
    );
    assert_eq!(
        header_lines("Văn phòng Ủy ban nhân dân tỉnh Ninh Bình"),
        ["Văn phòng Ủy ban nhân dân", "tỉnh Ninh Bình"]
    );
    assert_eq!(
        header_lines("Ủy ban nhân dân xã Trực Đại"),
        ["Ủy ban nhân dân", "xã Trực Đại"]
    );
    assert_eq!(header_lines("Ban Quản lý"), ["Ban Quản lý"]);
}

#[test]
fn a_province_report_names_its_leagues_from_the_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let mut engine = crate::sample_engine(tmp.path());
    engine.settings.organisation.name = "Ủy ban nhân dân tỉnh Ninh Bình".into();
    engine.settings.organisation.distribution = vec!["Bộ Nội vụ (để báo cáo)".into()];
    for r in &mut engine.rules.rulesets {
        for l in &mut r.leagues {
            l.label = if l.code == "xa" {
                "UBND xã, phường".into()
            } else {
                "Sở, ban, ngành".into()
            };
        }
    }
    let (_, outcome) = engine.run("2022-Q4".parse().unwrap()).unwrap();
    let text = crate::pdf_text(&outcome.dir.join("bao-cao-2022-Q4.pdf"));
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        !flat.contains("xã, thị trấn"),
        "no league the rules do not name: {flat}"
    );
    assert!(
        flat.contains("các sở, ban, ngành và UBND xã, phường"),
        "{flat}"
    );
    assert!(flat.contains("ỦY BAN NHÂN DÂN TỈNH NINH BÌNH"), "{flat}");
}

/// A part of the ranking workbook's zip, as text.
fn part(name: &str) -> String {
    let bytes = std::fs::read(sample_run().dir.join("xep-hang-2022-Q4.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
    text
}

/// The values of `attr` on each `<tag …>` of `xml`, in order (`None` where
/// the element lacks it).
fn attrs(xml: &str, tag: &str, attr: &str) -> Vec<Option<String>> {
    let open = format!("<{tag} ");
    xml.match_indices(&open)
        .map(|(at, _)| {
            let head = &xml[at..at + xml[at..].find('>').unwrap()];
            let key = format!(" {attr}=\"");
            head.find(&key).map(|k| {
                let v = &head[k + key.len()..];
                v[..v.find('"').unwrap()].to_string()
            })
        })
        .collect()
}

#[test]
fn every_figure_of_the_detail_sheet_has_a_number_format_and_every_cell_a_border() {
    let styles = part("xl/styles.xml");
    let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
    let fmt_of_xf = attrs(xfs, "xf", "numFmtId");
    let ids = attrs(&styles, "numFmt", "numFmtId");
    let codes = attrs(&styles, "numFmt", "formatCode");
    let code = |id: &str| {
        ids.iter()
            .position(|i| i.as_deref() == Some(id))
            .and_then(|k| codes[k].clone())
            .unwrap_or_else(|| format!("built-in {id}"))
    };
    let sheet = part("xl/worksheets/sheet2.xml");
    let body = &sheet[sheet.find("<row r=\"4\"").unwrap()..sheet.find("</sheetData>").unwrap()];
    let mut figures = 0;
    for cell in body.split("<c ").skip(1) {
        if cell.contains(" t=\"") || !cell.contains("<v>") {
            continue; // text
        }
        figures += 1;
        let s: usize = attrs(&format!("<c {cell}"), "c", "s")[0]
            .as_deref()
            .unwrap()
            .parse()
            .unwrap();
        let id = fmt_of_xf[s].clone().unwrap();
        let c = code(&id);
        assert!(
            ["#,##0", "#,##0.00", "0.00%"].contains(&c.as_str()),
            "a figure in format {c}"
        );
    }
    assert!(figures > 100, "{figures} figures");
    // The table's body is bordered by one conditional format over all of it.
    let rows = attrs(body, "row", "r");
    let last = rows.last().unwrap().clone().unwrap();
    assert!(
        sheet.contains(&format!(
            "<conditionalFormatting sqref=\"A4:L{last}\"><cfRule type=\"expression\" dxfId=\"0\""
        )),
        "no border rule over A4:L{last}"
    );
    assert!(sheet.contains("<formula>TRUE</formula>"));
    let dxf = &styles[styles.find("<dxfs").unwrap()..styles.find("</dxfs>").unwrap()];
    for side in ["left", "right", "top", "bottom"] {
        assert!(
            dxf.contains(&format!("<{side} style=\"thin\">")),
            "no {side} border"
        );
    }
}
