//! The tables of a workbook found by what they say, not where they are:
//! Form 06, the indicator sheet, the plan's tasks and the unit's details, by
//! their sheet names and header words.

use super::form_words::FormWords;
use super::form06::{Form06Table, locate_form06};
use super::workbook::{RawCell, RawSheet, RawWorkbook, folded, text};
use crate::domain::{CellRef, Finding, ascii_fold};

/// A row found by a key (a code or a label) with its value.
#[derive(Debug, Clone)]
pub struct KeyedRow {
    pub key: String,
    pub value: RawCell,
    pub at: CellRef,
    /// Further cells of the row, for the tasks sheet (date, document).
    pub extra: Vec<(RawCell, CellRef)>,
}

/// The unit's details: what the file says about who and when.
#[derive(Debug, Clone, Default)]
pub struct InfoTable {
    pub unit_code: Option<(String, CellRef)>,
    pub unit_name: Option<(String, CellRef)>,
    pub period: Option<(String, CellRef)>,
    pub preparer: Option<String>,
    pub phone: Option<String>,
    /// The unit line and period line in Form 06's title, if any.
    pub form_unit: Option<(String, CellRef)>,
    pub form_period: Option<(String, CellRef)>,
}

#[derive(Debug, Clone, Default)]
pub struct RawTables {
    pub form06: Option<Form06Table>,
    pub indicators: Option<(String, Vec<KeyedRow>)>,
    pub tasks: Option<(String, Vec<KeyedRow>)>,
    pub info: InfoTable,
    /// Problems of layout: a sheet or a header that cannot be found.
    pub findings: Vec<Finding>,
}

/// Finds the sheet by its name, else the sheet whose cells score best.
fn find_sheet<'a>(
    wb: &'a RawWorkbook,
    names: &[&str],
    score: impl Fn(&RawSheet) -> usize,
) -> Option<&'a RawSheet> {
    if let Some(s) = wb.sheets.iter().find(|s| {
        names
            .iter()
            .any(|n| ascii_fold(&s.name).replace(' ', "") == n.replace(' ', ""))
    }) {
        return Some(s);
    }
    wb.sheets
        .iter()
        .map(|s| (score(s), s))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map(|(_, s)| s)
}

/// Finds every table of a workbook; the indicator sheet's rows by `words`.
pub fn locate_tables(wb: &RawWorkbook, words: &FormWords) -> RawTables {
    let mut t = RawTables::default();
    if wb.sheets.iter().all(|s| s.rows.is_empty()) {
        t.findings.push(Finding::error(
            "bang_tinh_rong",
            None,
            None,
            "Bảng tính không có dữ liệu. Hãy dùng mẫu báo cáo của kỳ và điền số liệu.",
        ));
        return t;
    }
    match find_sheet(wb, &["bieu 06", "bieu06", "bm06", "bieu so 06", "mau 06"], |s| {
        super::form06::score(s, words)
    }) {
        Some(sheet) => match locate_form06(sheet, words) {
            Ok((table, mut found)) => {
                t.findings.append(&mut found);
                t.form06 = Some(table);
            }
            Err(f) => t.findings.push(f),
        },
        None => t.findings.push(Finding::error(
            "thieu_sheet",
            None,
            None,
            "Không tìm thấy sheet \"Biểu 06\" (tình hình, kết quả giải quyết TTHC). Hãy dùng mẫu báo cáo của kỳ.",
        )),
    }
    let is_indicator = |c: &RawCell| {
        let f = folded(c);
        !f.is_empty() && words.key(&f).is_some()
    };
    let indicator_score =
        |s: &RawSheet| s.rows.iter().flatten().filter(|c| is_indicator(c)).count();
    match find_sheet(wb, &["chi so"], indicator_score) {
        Some(sheet) => t.indicators = Some((sheet.name.clone(), read_indicators(sheet, words))),
        None => t.findings.push(Finding::error(
            "thieu_sheet",
            None,
            None,
            "Không tìm thấy sheet \"Chỉ số\" (các chỉ số công khai, trực tuyến, số hóa, hài lòng). Hãy dùng mẫu báo cáo của kỳ.",
        )),
    }
    match find_sheet(wb, &["nhiem vu"], |s| read_tasks(s).len()) {
        Some(sheet) => t.tasks = Some((sheet.name.clone(), read_tasks(sheet))),
        None => t.findings.push(Finding::warning(
            "thieu_nhiem_vu",
            None,
            None,
            "Không có sheet \"Nhiệm vụ\": các nhiệm vụ của kế hoạch được tính là chưa thực hiện. Dùng mẫu báo cáo của kỳ để báo cáo nhiệm vụ.",
        )),
    }
    if let Some(sheet) = find_sheet(wb, &["thong tin"], |_| 0) {
        read_info(sheet, &mut t.info);
    }
    if let Some(f) = &t.form06
        && let Some(sheet) = wb.sheets.iter().find(|s| s.name == f.sheet)
    {
        read_title_lines(sheet, &mut t.info);
    }
    t
}

fn read_indicators(sheet: &RawSheet, words: &FormWords) -> Vec<KeyedRow> {
    let value_col = sheet.rows.iter().take(10).find_map(|row| {
        row.iter().position(|c| {
            let f = folded(c);
            [
                "gia tri",
                "so lieu",
                "so luong",
                "ket qua",
                "ket qua thuc hien",
            ]
            .contains(&f.as_str())
        })
    });
    let mut out = Vec::new();
    for (r, row) in sheet.rows.iter().enumerate() {
        let Some((kc, key)) = row.iter().enumerate().find_map(|(c, cell)| {
            let f = folded(cell);
            words.key(&f).map(|code| (c, code))
        }) else {
            continue;
        };
        // Without a value header: the first cell right of the code or label
        // that is not itself a label.
        let is_label = |c: &RawCell| {
            let f = folded(c);
            words.key(&f).is_some()
        };
        let vc = value_col.unwrap_or_else(|| {
            (kc + 1..row.len())
                .find(|&c| !row[c].is_empty() && !is_label(&row[c]))
                .unwrap_or(kc + 1)
        });
        out.push(KeyedRow {
            key: key.to_string(),
            value: sheet.cell(r, vc).clone(),
            at: CellRef::new(&sheet.name, r as u32, vc as u32),
            extra: Vec::new(),
        });
    }
    out
}

fn read_tasks(sheet: &RawSheet) -> Vec<KeyedRow> {
    let Some((hr, cols)) = sheet.rows.iter().take(10).enumerate().find_map(|(r, row)| {
        let find = |words: &[&str]| {
            row.iter()
                .position(|c| words.iter().any(|w| folded(c).starts_with(w)))
        };
        let code = find(&["ma"])?;
        let status = find(&["tinh trang", "trang thai"])?;
        Some((
            r,
            [
                code,
                status,
                find(&["ngay"]).unwrap_or(status + 1),
                find(&["so", "van ban"]).unwrap_or(status + 2),
            ],
        ))
    }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in hr + 1..sheet.rows.len() {
        let Some(code) = text(sheet.cell(r, cols[0])).or_else(|| match sheet.cell(r, cols[0]) {
            RawCell::Number(n) => Some(format!("{n}")),
            _ => None,
        }) else {
            continue;
        };
        let cell = |c: usize| {
            (
                sheet.cell(r, c).clone(),
                CellRef::new(&sheet.name, r as u32, c as u32),
            )
        };
        out.push(KeyedRow {
            key: code,
            value: sheet.cell(r, cols[1]).clone(),
            at: CellRef::new(&sheet.name, r as u32, cols[1] as u32),
            extra: vec![cell(cols[2]), cell(cols[3])],
        });
    }
    out
}

fn read_info(sheet: &RawSheet, info: &mut InfoTable) {
    for (r, row) in sheet.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let raw = cell.display();
            // "Mã đơn vị: XA10" in one cell, or the key and its value side by side.
            let (key, inline) = match raw.split_once(':') {
                Some((k, v)) if !v.trim().is_empty() => (ascii_fold(k), Some(v.trim().to_string())),
                _ => (folded(cell), None),
            };
            if key.is_empty() {
                continue;
            }
            let val = match inline {
                Some(v) => (v, CellRef::new(&sheet.name, r as u32, c as u32)),
                None => {
                    let value = row
                        .iter()
                        .enumerate()
                        .skip(c + 1)
                        .find(|(_, v)| !v.is_empty());
                    let Some((vc, v)) = value else { continue };
                    (
                        v.display().trim().to_string(),
                        CellRef::new(&sheet.name, r as u32, vc as u32),
                    )
                }
            };
            match key.as_str() {
                "ma don vi" => info.unit_code = Some(val),
                "ten don vi" => info.unit_name = Some(val),
                "ky bao cao" => info.period = Some(val),
                k if k.starts_with("nguoi lap") => info.preparer = Some(val.0),
                k if k.contains("dien thoai") => info.phone = Some(val.0),
                _ => continue,
            }
            break;
        }
    }
}

fn read_title_lines(sheet: &RawSheet, info: &mut InfoTable) {
    for (r, row) in sheet.rows.iter().enumerate().take(8) {
        for (c, cell) in row.iter().enumerate() {
            let Some(t) = text(cell) else { continue };
            let at = CellRef::new(&sheet.name, r as u32, c as u32);
            let f = ascii_fold(&t);
            if f.starts_with("ky bao cao") {
                info.form_period = Some((t.clone(), at.clone()));
            } else if f.starts_with("don vi bao cao") {
                info.form_unit = Some((t.clone(), at));
            }
        }
    }
}
