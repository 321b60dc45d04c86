//! The unit's own workbook handed back with its problems marked: a first
//! sheet lists every finding with a link to its cell, and every sheet of
//! the file follows with its values, each bad cell filled (red for an
//! error, yellow for a warning) and commented with what is wrong.

use super::ReportError;
use crate::domain::{Finding, Severity};
use crate::intake::{RawCell, RawWorkbook};
use rust_xlsxwriter::{Color, Format, FormatBorder, Note, Url, Workbook};
use std::collections::BTreeMap;

const FINDINGS_SHEET: &str = "Lỗi cần sửa";

/// Writes the annotated copy. `wb` is `None` when the file could not be
/// read at all: then only the findings sheet is written.
pub fn annotate(
    wb: Option<&RawWorkbook>,
    findings: &[Finding],
    file_name: &str,
) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    let names: Vec<String> = wb
        .map(|w| w.sheets.iter().map(|s| safe_name(&s.name)).collect())
        .unwrap_or_default();
    {
        let ws = book.add_worksheet();
        ws.set_name(FINDINGS_SHEET)?;
        let bold = Format::new().set_bold();
        let head = Format::new()
            .set_bold()
            .set_border(FormatBorder::Thin)
            .set_background_color("DDEBF7");
        let errors = findings.iter().filter(|f| f.is_error()).count();
        ws.write_with_format(0, 0, format!("KẾT QUẢ KIỂM TRA TỆP {file_name}"), &bold)?;
        ws.write(
            1,
            0,
            if errors > 0 {
                format!("{errors} lỗi phải sửa trước khi gửi lại; {} cảnh báo nên xem lại. Bấm vào vị trí để đến ô.", findings.len() - errors)
            } else {
                format!("Tệp hợp lệ; {} cảnh báo nên xem lại.", findings.len())
            },
        )?;
        for (c, h) in ["STT", "Mức độ", "Mã", "Vị trí", "Giá trị", "Nội dung"]
            .iter()
            .enumerate()
        {
            ws.write_with_format(3, c as u16, *h, &head)?;
        }
        for (i, f) in findings.iter().enumerate() {
            let r = 4 + i as u32;
            ws.write(r, 0, (i + 1) as f64)?;
            ws.write(r, 1, severity_label(f.severity))?;
            ws.write(r, 2, &f.code)?;
            match &f.cell {
                Some(c) if names.iter().any(|n| *n == safe_name(&c.sheet)) => {
                    let target = format!("internal:'{}'!{}", safe_name(&c.sheet), c.a1());
                    ws.write_url(r, 3, Url::new(target).set_text(c.to_string()))?;
                }
                Some(c) => {
                    ws.write(r, 3, c.to_string())?;
                }
                None => {
                    ws.write(r, 3, "(cả tệp)")?;
                }
            }
            ws.write(r, 4, f.value.clone().unwrap_or_default())?;
            ws.write_with_format(r, 5, &f.message, &Format::new().set_text_wrap())?;
        }
        ws.set_column_width(0, 5)?;
        ws.set_column_width(1, 10)?;
        ws.set_column_width(2, 22)?;
        ws.set_column_width(3, 16)?;
        ws.set_column_width(4, 12)?;
        ws.set_column_width(5, 90)?;
        ws.set_freeze_panes(4, 0)?;
    }
    let Some(wb) = wb else {
        return Ok(book.save_to_buffer()?);
    };
    for (sheet, name) in wb.sheets.iter().zip(&names) {
        let mut marks: BTreeMap<(u32, u32), Vec<&Finding>> = BTreeMap::new();
        for f in findings {
            if let Some(c) = f.cell.as_ref().filter(|c| c.sheet == sheet.name) {
                marks.entry((c.row, c.col)).or_default().push(f);
            }
        }
        let ws = book.add_worksheet();
        ws.set_name(name)?;
        let mut widest = 0;
        for (r, row) in sheet.rows.iter().enumerate() {
            widest = widest.max(row.len());
            for (c, cell) in row.iter().enumerate() {
                let key = (r as u32, c as u32);
                let fmt = match marks.get(&key).map(|fs| fs.iter().any(|f| f.is_error())) {
                    Some(true) => Format::new()
                        .set_background_color(Color::RGB(0xFF9999))
                        .set_border(FormatBorder::Medium),
                    Some(false) => Format::new()
                        .set_background_color(Color::RGB(0xFFEB84))
                        .set_border(FormatBorder::Thin),
                    None => Format::new(),
                };
                let (rr, cc) = (r as u32, c as u16);
                match cell {
                    RawCell::Empty => ws.write_blank(rr, cc, &fmt)?,
                    RawCell::Number(n) => ws.write_number_with_format(rr, cc, *n, &fmt)?,
                    RawCell::Date(n) => {
                        ws.write_number_with_format(rr, cc, *n, &fmt.set_num_format("dd/mm/yyyy"))?
                    }
                    RawCell::Bool(b) => ws.write_boolean_with_format(rr, cc, *b, &fmt)?,
                    other => ws.write_string_with_format(rr, cc, other.display(), &fmt)?,
                };
            }
        }
        for ((r, c), fs) in &marks {
            if *c as usize >= 16_384 || *r >= 1_048_576 {
                continue;
            }
            let text: Vec<String> = fs
                .iter()
                .map(|f| format!("{}: {}", severity_label(f.severity), f.message))
                .collect();
            let note = Note::new(text.join("\n"))
                .set_author("tthc")
                .set_width(360)
                .set_height(140);
            if sheet.cell(*r as usize, *c as usize).is_empty()
                && sheet
                    .rows
                    .get(*r as usize)
                    .is_none_or(|row| row.len() <= *c as usize)
            {
                ws.write_blank(
                    *r,
                    *c as u16,
                    &Format::new().set_background_color(Color::RGB(0xFF9999)),
                )?;
            }
            ws.insert_note(*r, *c as u16, &note)?;
        }
        for c in 0..widest.min(60) {
            ws.set_column_width(c as u16, if c == 1 { 30 } else { 13 })?;
        }
    }
    Ok(book.save_to_buffer()?)
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Lỗi",
        Severity::Warning => "Cảnh báo",
    }
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    let cleaned = cleaned.trim_matches('\'').to_string();
    if cleaned.is_empty() || cleaned == FINDINGS_SHEET {
        format!("{cleaned}_")
    } else {
        cleaned
    }
}
