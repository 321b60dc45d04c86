use super::workbook::{RawCell, RawSheet, RawWorkbook};
use crate::domain::{CellRef, FORM06_FIELDS, Finding, INDICATOR_FIELDS, ascii_fold};

/// A row of Form 06 as found: the lĩnh vực cell and the eleven figure cells.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub row: u32,
    pub linh_vuc: RawCell,
    /// In the order of `FORM06_FIELDS`, with their columns.
    pub values: Vec<(u32, RawCell)>,
}

#[derive(Debug, Clone)]
pub struct Form06Table {
    pub sheet: String,
    pub linh_vuc_col: u32,
    pub rows: Vec<TableRow>,
    /// The "Tổng cộng" row, if the unit kept one.
    pub total: Option<TableRow>,
}

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

fn text(c: &RawCell) -> Option<String> {
    match c {
        RawCell::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => None,
    }
}

fn folded(c: &RawCell) -> String {
    text(c).map(|t| ascii_fold(&t)).unwrap_or_default()
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

pub fn locate_tables(wb: &RawWorkbook) -> RawTables {
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
    match find_sheet(wb, &["bieu 06", "bieu06", "bm06", "bieu so 06"], |s| usize::from(form06_header(s).is_some())) {
        Some(sheet) => match form06_header(sheet) {
            Some(h) => t.form06 = Some(read_form06(sheet, &h)),
            None => t.findings.push(Finding::error(
                "thieu_tieu_de",
                Some(CellRef::new(&sheet.name, 0, 0)),
                None,
                format!("Không tìm thấy dòng tiêu đề của Biểu 06 (STT, Lĩnh vực, Số hồ sơ nhận giải quyết …) trong sheet \"{}\". Hãy giữ nguyên phần tiêu đề của mẫu.", sheet.name),
            )),
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
        !f.is_empty()
            && INDICATOR_FIELDS
                .iter()
                .any(|i| i.code == f || ascii_fold(i.label) == f)
    };
    let indicator_score =
        |s: &RawSheet| s.rows.iter().flatten().filter(|c| is_indicator(c)).count();
    match find_sheet(wb, &["chi so"], indicator_score) {
        Some(sheet) => t.indicators = Some((sheet.name.clone(), read_indicators(sheet))),
        None => t.findings.push(Finding::error(
            "thieu_sheet",
            None,
            None,
            "Không tìm thấy sheet \"Chỉ số\" (các chỉ số công khai, trực tuyến, số hóa, hài lòng). Hãy dùng mẫu báo cáo của kỳ.",
        )),
    }
    if let Some(sheet) = find_sheet(wb, &["nhiem vu"], |_| 0) {
        t.tasks = Some((sheet.name.clone(), read_tasks(sheet)));
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

/// Where Form 06's columns are: lĩnh vực, the eleven figures, and the last header row.
struct Header {
    linh_vuc_col: u32,
    cols: [u32; 11],
    last_header_row: usize,
}

/// Finds the header by its words (one to three rows, merged or not), or
/// failing that by the row of official column numbers "(1)" … "(13)".
fn form06_header(sheet: &RawSheet) -> Option<Header> {
    by_words(sheet).or_else(|| by_column_numbers(sheet))
}

fn column_number(c: &RawCell) -> Option<u32> {
    match c {
        RawCell::Number(n) if n.fract() == 0.0 && (1.0..=13.0).contains(n) => Some(*n as u32),
        RawCell::Text(t) => {
            let s = t
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            s.parse::<u32>().ok().filter(|n| (1..=13).contains(n))
        }
        _ => None,
    }
}

fn column_number_row(
    sheet: &RawSheet,
    from: usize,
    to: usize,
) -> Option<(usize, Vec<Option<u32>>)> {
    (from..to.min(sheet.rows.len())).find_map(|r| {
        let nums: Vec<Option<u32>> = sheet.rows[r].iter().map(column_number).collect();
        let mut seen: Vec<u32> = nums.iter().flatten().copied().collect();
        seen.dedup();
        (seen.len() >= 13
            && (1..=13).all(|n| seen.contains(&n))
            && sheet.rows[r].iter().any(|c| matches!(c, RawCell::Text(_))))
        .then_some((r, nums))
    })
}

fn by_column_numbers(sheet: &RawSheet) -> Option<Header> {
    let (r, nums) = column_number_row(sheet, 0, 60)?;
    let col_of = |n: u32| nums.iter().position(|x| *x == Some(n)).map(|c| c as u32);
    let mut cols = [0u32; 11];
    for (i, f) in FORM06_FIELDS.iter().enumerate() {
        cols[i] = col_of(u32::from(f.column))?;
    }
    Some(Header {
        linh_vuc_col: col_of(2)?,
        cols,
        last_header_row: r,
    })
}

fn by_words(sheet: &RawSheet) -> Option<Header> {
    let top = (0..sheet.rows.len().min(60))
        .find(|&r| sheet.rows[r].iter().any(|c| folded(c) == "linh vuc"))?;
    let lv_col = sheet.rows[top]
        .iter()
        .position(|c| folded(c) == "linh vuc")? as u32;
    let width = (top..(top + 3).min(sheet.rows.len()))
        .map(|r| sheet.rows[r].len())
        .max()
        .unwrap_or(0);
    // Carry merged group headers rightwards, as a reader's eye does.
    let mut group = String::new();
    let mut sub = String::new();
    let mut cols: [Option<u32>; 11] = [None; 11];
    let mut last_header_row = top;
    for c in (lv_col as usize + 1)..width {
        let g = folded(sheet.cell(top, c));
        if !g.is_empty() {
            group = g;
            sub.clear();
        }
        let s = folded(sheet.cell(top + 1, c));
        let leaf3 = folded(sheet.cell(top + 2, c));
        if !s.is_empty() {
            sub = s.clone();
            last_header_row = last_header_row.max(top + 1);
        }
        if !leaf3.is_empty() && column_number(sheet.cell(top + 2, c)).is_none() {
            last_header_row = last_header_row.max(top + 2);
        }
        let leaf = if !leaf3.is_empty() && column_number(sheet.cell(top + 2, c)).is_none() {
            leaf3
        } else if !s.is_empty() {
            s
        } else {
            sub.clone()
        };
        if let Some(i) = classify(&group, &leaf) {
            cols[i].get_or_insert(c as u32);
        }
    }
    let mut out = [0u32; 11];
    for (o, c) in out.iter_mut().zip(cols) {
        *o = c?;
    }
    if let Some((r, _)) = column_number_row(sheet, top + 1, top + 5) {
        last_header_row = r;
    }
    Some(Header {
        linh_vuc_col: lv_col,
        cols: out,
        last_header_row,
    })
}

/// Which Form 06 field a header column is, from its group and leaf words.
fn classify(group: &str, leaf: &str) -> Option<usize> {
    let g = if group.contains("dang giai quyet") {
        2
    } else if group.contains("da giai quyet") {
        1
    } else if group.contains("nhan") {
        0
    } else {
        return None;
    };
    let pos = |code: &str| FORM06_FIELDS.iter().position(|f| f.code == code);
    match (g, leaf) {
        (0, l) if l.contains("truc tuyen") => pos("nhan_truc_tuyen"),
        (0, l) if l.contains("truc tiep") || l.contains("buu chinh") => pos("nhan_truc_tiep"),
        (0, l) if l.contains("ky truoc") => pos("nhan_ky_truoc"),
        (0, l) if l.contains("tong") => pos("nhan_tong"),
        (1, l) if l.contains("truoc han") => pos("truoc_han"),
        (1, l) if l.contains("dung han") => pos("dung_han"),
        (1, l) if l.contains("qua han") => pos("qua_han"),
        (1, l) if l.contains("tong") => pos("da_giai_quyet"),
        (2, l) if l.contains("trong han") => pos("trong_han"),
        (2, l) if l.contains("qua han") => pos("dang_qua_han"),
        (2, l) if l.contains("tong") => pos("dang_giai_quyet"),
        _ => None,
    }
}

fn is_total_label(s: &str) -> bool {
    s.starts_with("tong cong") || s == "tong" || s == "cong" || s.starts_with("tong so")
}

fn read_form06(sheet: &RawSheet, h: &Header) -> Form06Table {
    let mut rows = Vec::new();
    let mut total = None;
    for r in (h.last_header_row + 1)..sheet.rows.len() {
        let lv = sheet.cell(r, h.linh_vuc_col as usize).clone();
        let values: Vec<(u32, RawCell)> = h
            .cols
            .iter()
            .map(|&c| (c, sheet.cell(r, c as usize).clone()))
            .collect();
        let label = folded(&lv);
        let label_left = (0..h.linh_vuc_col as usize)
            .map(|c| folded(sheet.cell(r, c)))
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let row = TableRow {
            row: r as u32,
            linh_vuc: lv,
            values,
        };
        if is_total_label(&label) || is_total_label(&label_left) {
            total = Some(row);
            // What follows the total is notes and signatures, not figures.
            break;
        }
        if row.values.iter().all(|(_, c)| c.is_empty()) {
            continue;
        }
        rows.push(row);
    }
    Form06Table {
        sheet: sheet.name.clone(),
        linh_vuc_col: h.linh_vuc_col,
        rows,
        total,
    }
}

fn read_indicators(sheet: &RawSheet) -> Vec<KeyedRow> {
    let value_col = sheet
        .rows
        .iter()
        .take(10)
        .find_map(|row| row.iter().position(|c| folded(c) == "gia tri"));
    let mut out = Vec::new();
    for (r, row) in sheet.rows.iter().enumerate() {
        let Some((kc, key)) = row.iter().enumerate().find_map(|(c, cell)| {
            let f = folded(cell);
            INDICATOR_FIELDS
                .iter()
                .find(|i| i.code == f || ascii_fold(i.label) == f)
                .map(|i| (c, i.code))
        }) else {
            continue;
        };
        let vc = value_col.unwrap_or_else(|| row.len().saturating_sub(1).max(kc + 1));
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
            let key = folded(cell);
            if key.is_empty() {
                continue;
            }
            let value = row
                .iter()
                .enumerate()
                .skip(c + 1)
                .find(|(_, v)| !v.is_empty());
            let Some((vc, v)) = value else { continue };
            let val = (
                v.display().trim().to_string(),
                CellRef::new(&sheet.name, r as u32, vc as u32),
            );
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
