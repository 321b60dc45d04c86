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
