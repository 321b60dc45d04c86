//! Finding Form 06 in a sheet: the header by its words (one to three rows,
//! merged or not, columns in any order) or by the official column numbers,
//! then the lĩnh vực rows, the subtotal and section rows, and the total.

use super::form_words::FormWords;
use super::workbook::{RawCell, RawSheet, folded, text, trimmed};
use crate::domain::{CellRef, Finding};

/// A row of Form 06 as found: the lĩnh vực cell and the figure cells.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub row: u32,
    pub linh_vuc: RawCell,
    /// In the order of the table's `columns`, with their sheet columns.
    pub values: Vec<(u32, RawCell)>,
}

/// A subtotal or section row, and the detail rows (indices into `rows`) it sums.
#[derive(Debug, Clone)]
pub struct Subtotal {
    pub row: TableRow,
    pub covers: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Form06Table {
    pub sheet: String,
    pub linh_vuc_col: u32,
    /// The codes of the columns found, in the order of each row's values.
    pub columns: Vec<String>,
    /// The last header row (zero-based), where a missing column is reported.
    pub last_header_row: u32,
    pub rows: Vec<TableRow>,
    pub subtotals: Vec<Subtotal>,
    /// The "Tổng cộng" row, if the unit kept one.
    pub total: Option<TableRow>,
}

/// Where the columns are: lĩnh vực, the figures (by `FormWords::columns`),
/// the last header row.
struct Header {
    linh_vuc_col: u32,
    cols: Vec<Option<u32>>,
    last_header_row: usize,
    extra: Vec<(u32, usize, String)>,
}

/// How much a sheet looks like Form 06, to find it when it is renamed.
pub fn score(sheet: &RawSheet, words: &FormWords) -> usize {
    match header(sheet, words) {
        Some(h) => 1 + h.cols.iter().flatten().count(),
        None => 0,
    }
}

fn column_number(c: &RawCell, last: u32) -> Option<u32> {
    match c {
        RawCell::Number(n) if n.fract() == 0.0 && (1.0..=f64::from(last)).contains(n) => {
            Some(*n as u32)
        }
        RawCell::Text(t) => {
            let s = t
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            s.parse::<u32>().ok().filter(|n| (1..=last).contains(n))
        }
        _ => None,
    }
}

/// The row "(1) (2) … (13)" (up to a form's last column), with the column
/// of each number.
fn column_number_row(
    sheet: &RawSheet,
    words: &FormWords,
    from: usize,
    to: usize,
) -> Option<(usize, Vec<Option<u32>>)> {
    let (fewest, most) = words.last_number;
    (from..to.min(sheet.rows.len())).find_map(|r| {
        let nums: Vec<Option<u32>> = sheet.rows[r]
            .iter()
            .map(|c| column_number(c, most))
            .collect();
        let found: Vec<u32> = nums.iter().flatten().copied().collect();
        let last = found.iter().copied().max().unwrap_or(0);
        let once = (1..=last).all(|n| found.iter().filter(|x| **x == n).count() == 1);
        (once && last >= fewest.max(3) && found.len() == last as usize).then_some((r, nums))
    })
}

fn has_letters(c: &RawCell) -> bool {
    matches!(c, RawCell::Text(t) if t.chars().any(char::is_alphabetic))
}

fn header(sheet: &RawSheet, words: &FormWords) -> Option<Header> {
    let is_lv = |c: &RawCell| {
        let f = folded(c);
        f == "linh vuc" || f.starts_with("linh vuc ") || f == "ten linh vuc"
    };
    let top = (0..sheet.rows.len().min(60)).find(|&r| sheet.rows[r].iter().any(is_lv))?;
    let lv_col = sheet.rows[top].iter().position(is_lv)? as u32;
    let numbers = column_number_row(sheet, words, top + 1, top + 5);
    // Header rows: from the top while they carry words beyond the lĩnh vực column.
    let mut end = top + 1;
    while end < sheet.rows.len() && end < top + 4 && numbers.as_ref().is_none_or(|(r, _)| end < *r)
    {
        if !sheet.rows[end]
            .iter()
            .skip(lv_col as usize + 1)
            .any(has_letters)
            || !sheet.cell(end, lv_col as usize).is_empty()
        {
            break;
        }
        end += 1;
    }
    let width = (top..end).map(|r| sheet.rows[r].len()).max().unwrap_or(0);
    let mut cols: Vec<Option<u32>> = vec![None; words.columns.len()];
    let mut extra = Vec::new();
    let mut group: Option<usize> = None;
    for c in (lv_col as usize + 1)..width {
        let texts: Vec<(usize, String)> = (top..end)
            .map(|r| (r, folded(sheet.cell(r, c))))
            .filter(|(_, t)| !t.is_empty())
            .collect();
        for (_, t) in &texts {
            if let Some(g) = words.group_of(t) {
                group = Some(g);
            }
        }
        let Some((leaf_row, leaf)) = texts.last() else {
            continue;
        };
        let field = group.and_then(|g| words.classify(g, leaf));
        match field {
            Some(i) if cols[i].is_none() => cols[i] = Some(c as u32),
            _ => {
                let shown = text(sheet.cell(*leaf_row, c)).unwrap_or_default();
                extra.push((c as u32, *leaf_row, shown));
            }
        }
    }
    // The column numbers settle what the words did not.
    if let Some((r, nums)) = &numbers {
        for (i, f) in words.columns.iter().enumerate() {
            if cols[i].is_none() {
                cols[i] = nums
                    .iter()
                    .position(|x| *x == Some(f.number))
                    .map(|c| c as u32)
                    .filter(|c| !cols.contains(&Some(*c)));
            }
        }
        extra.retain(|(c, _, _)| !cols.contains(&Some(*c)));
        end = end.max(r + 1);
    }
    if cols.iter().all(Option::is_none) {
        return None;
    }
    Some(Header {
        linh_vuc_col: lv_col,
        cols,
        last_header_row: end - 1,
        extra,
    })
}

/// A header found only by the official column numbers (no words at all).
fn header_by_numbers(sheet: &RawSheet, words: &FormWords) -> Option<Header> {
    let (r, nums) = column_number_row(sheet, words, 0, 60)?;
    let col_of = |n: u32| nums.iter().position(|x| *x == Some(n)).map(|c| c as u32);
    let mut cols: Vec<Option<u32>> = Vec::new();
    for f in &words.columns {
        let c = col_of(f.number).filter(|c| !cols.contains(&Some(*c)));
        cols.push(c);
    }
    Some(Header {
        linh_vuc_col: col_of(2)?,
        cols,
        last_header_row: r,
        extra: Vec::new(),
    })
}

/// A cell that holds something other than blank or zero: an unfilled
/// template's total row is all zeros and must not pass for a report.
fn has_figure(c: &RawCell) -> bool {
    match c {
        RawCell::Number(n) => *n != 0.0,
        RawCell::Empty => false,
        RawCell::Text(t) => !t.trim().is_empty() && t.trim() != "0",
        _ => true,
    }
}

fn is_total_label(s: &str) -> bool {
    s.starts_with("tong cong") || s == "tong" || s.starts_with("tong so") || s == "cong tong"
}

/// "Cộng", "Cộng lĩnh vực …": a subtotal. Read with diacritics, since
/// "Công chức, viên chức" is a lĩnh vực, not a sum.
fn is_subtotal_label(cell: &RawCell) -> bool {
    let Some(t) = trimmed(cell) else { return false };
    let f = crate::domain::fold(t);
    f == "cộng" || f == "cong" || f.starts_with("cộng ") || f.starts_with("tổng phụ")
}

fn is_roman(s: &str) -> bool {
    !s.is_empty() && s.len() <= 4 && s.chars().all(|c| matches!(c, 'i' | 'v' | 'x'))
}

/// Finds Form 06 in a sheet; the findings are about its layout.
pub fn locate_form06(
    sheet: &RawSheet,
    words: &FormWords,
) -> Result<(Form06Table, Vec<Finding>), Finding> {
    let h = header(sheet, words).or_else(|| header_by_numbers(sheet, words)).ok_or_else(|| {
        Finding::error(
            "thieu_tieu_de",
            Some(CellRef::new(&sheet.name, 0, 0)),
            None,
            format!(
                "Không tìm thấy dòng tiêu đề của Biểu 06 (STT, Lĩnh vực, Số hồ sơ nhận giải quyết …) trong sheet \"{}\". Hãy giữ nguyên phần tiêu đề của mẫu.",
                sheet.name
            ),
        )
    })?;
    // The columns found, by code: whether they are all the columns of the
    // form in force is the check's to say, once the period is known.
    let (codes, cols): (Vec<String>, Vec<u32>) = words
        .columns
        .iter()
        .zip(&h.cols)
        .filter_map(|(w, c)| Some((w.code.clone(), (*c)?)))
        .unzip();
    let mut findings: Vec<Finding> = h
        .extra
        .iter()
        .map(|(c, r, t)| {
            Finding::warning(
                "cot_thua",
                Some(CellRef::new(&sheet.name, *r as u32, *c)),
                Some(t.clone()),
                format!("Cột \"{t}\" không thuộc Biểu 06 nên không được đọc."),
            )
        })
        .collect();
    let mut rows = Vec::new();
    let mut subtotals = Vec::new();
    let mut total = None;
    let mut since_subtotal: Vec<usize> = Vec::new();
    let mut section: Option<(TableRow, Vec<usize>)> = None;
    let lv = h.linh_vuc_col as usize;
    for r in (h.last_header_row + 1)..sheet.rows.len() {
        let values: Vec<(u32, RawCell)> = cols
            .iter()
            .map(|&c| (c, sheet.cell(r, c as usize).clone()))
            .collect();
        let row = TableRow {
            row: r as u32,
            linh_vuc: sheet.cell(r, lv).clone(),
            values,
        };
        let label = folded(&row.linh_vuc);
        let left = (0..lv)
            .map(|c| folded(sheet.cell(r, c)))
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let empty = row.values.iter().all(|(_, c)| c.is_empty());
        if is_total_label(&label) || is_total_label(&left) {
            total = Some(row);
            // What follows the total is notes and signatures, not figures.
            break;
        }
        let left_cell = (0..lv).map(|c| sheet.cell(r, c)).find(|c| !c.is_empty());
        if is_subtotal_label(&row.linh_vuc) || left_cell.is_some_and(is_subtotal_label) {
            if !empty {
                subtotals.push(Subtotal {
                    row,
                    covers: std::mem::take(&mut since_subtotal),
                });
            }
            continue;
        }
        if is_roman(&left) {
            if let Some((row, covers)) = section.take() {
                subtotals.push(Subtotal { row, covers });
            }
            if !empty {
                section = Some((row, Vec::new()));
            }
            continue;
        }
        if empty {
            continue;
        }
        since_subtotal.push(rows.len());
        if let Some((_, covers)) = &mut section {
            covers.push(rows.len());
        }
        rows.push(row);
    }
    if let Some((row, covers)) = section.take() {
        subtotals.push(Subtotal { row, covers });
    }
    if rows.is_empty()
        && let Some(mut t) = total.take_if(|t| t.values.iter().any(|(_, c)| has_figure(c)))
    {
        t.linh_vuc = RawCell::Text("Tổng cộng".into());
        // Only the total was kept: its figures are the unit's, unambiguous.
        findings.push(Finding::warning(
            "chi_co_tong",
            Some(CellRef::new(&sheet.name, t.row, h.linh_vuc_col)),
            None,
            "Biểu 06 chỉ có dòng \"Tổng cộng\", không có từng lĩnh vực: số liệu được lấy từ dòng tổng. Nên ghi theo từng lĩnh vực.",
        ));
        rows.push(t);
    }
    if rows.is_empty() {
        findings.push(Finding::error(
            "bieu06_trong",
            Some(CellRef::new(&sheet.name, h.last_header_row as u32 + 1, h.linh_vuc_col)),
            None,
            "Biểu 06 chưa có dòng số liệu nào. Ghi mỗi lĩnh vực một dòng; lĩnh vực không phát sinh hồ sơ ghi 0.",
        ));
    }
    Ok((
        Form06Table {
            sheet: sheet.name.clone(),
            linh_vuc_col: h.linh_vuc_col,
            columns: codes,
            last_header_row: h.last_header_row as u32,
            rows,
            subtotals,
            total,
        },
        findings,
    ))
}
