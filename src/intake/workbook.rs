//! A workbook as read, format aside: xlsx, xls and ods become the same grid
//! of cells per sheet, within bounds on size that refuse a zip bomb or a
//! sheet of a million rows rather than read it for minutes. An xlsx sheet
//! is read in one pass over its XML, values and formulas together.

use calamine::{Data, Reader, Sheets};
use std::io::Cursor;

/// The largest grid read from one sheet; a file past it is refused rather
/// than read for minutes.
const MAX_ROWS: usize = 20_000;
const MAX_COLS: usize = 200;
/// The largest file read at all.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Bounds on what a zipped workbook may unpack to: a unit's real workbook
/// is well under a megabyte of XML, a zip bomb is gigabytes.
const MAX_ENTRY_BYTES: u64 = 10 * 1024 * 1024;
const MAX_UNPACKED_BYTES: u64 = 40 * 1024 * 1024;
const MAX_ENTRIES: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("tệp rỗng")]
    Empty,
    #[error("tệp quá lớn ({0} byte) — tệp báo cáo không quá 20 MB")]
    TooLarge(usize),
    #[error("không phải bảng tính Excel (.xlsx, .xls) hay LibreOffice (.ods)")]
    NotASpreadsheet,
    #[error("tệp bảng tính bị hỏng, không đọc được: {0}")]
    Unreadable(String),
    #[error("{0}")]
    Expands(String),
    #[error("tệp được đặt mật khẩu — gỡ mật khẩu rồi gửi lại")]
    Encrypted,
    #[error(
        "tệp nén bất thường: giải nén ra quá lớn ({0} MB) — lưu lại bảng tính bằng Excel rồi gửi lại"
    )]
    TooLargeUnpacked(u64),
    #[error("sheet \"{sheet}\" quá lớn ({rows} dòng × {cols} cột) — xóa các dòng, cột thừa")]
    SheetTooLarge {
        sheet: String,
        rows: usize,
        cols: usize,
    },
}

/// One cell as the file holds it (formulas by their cached value).
#[derive(Debug, Clone, PartialEq)]
pub enum RawCell {
    Empty,
    Number(f64),
    Text(String),
    Bool(bool),
    /// A date, as a spreadsheet serial day number.
    Date(f64),
    /// An error value such as `#REF!`.
    Error(String),
    /// A formula the file holds no computed value for (saved by a program
    /// that does not calculate): its number is unknown, never taken as 0.
    Uncached(String),
}

impl RawCell {
    pub fn is_empty(&self) -> bool {
        match self {
            RawCell::Empty => true,
            RawCell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as a person would read it.
    pub fn display(&self) -> String {
        match self {
            RawCell::Empty => String::new(),
            RawCell::Number(n) | RawCell::Date(n) => {
                if n.abs() >= 1e15 {
                    format!("{n:e}")
                } else if n.fract() == 0.0 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            RawCell::Text(t) => t.clone(),
            RawCell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            RawCell::Error(e) => e.clone(),
            RawCell::Uncached(f) => format!("={}", f.trim_start_matches('=')),
        }
    }
}

/// A cell's text, trimmed, if it holds any.
pub(super) fn text(c: &RawCell) -> Option<String> {
    trimmed(c).map(str::to_string)
}

/// A cell's text without the spaces around it, if it has any other.
pub(super) fn trimmed(c: &RawCell) -> Option<&str> {
    match c {
        RawCell::Text(t) => Some(t.trim()).filter(|t| !t.is_empty()),
        _ => None,
    }
}

/// A cell's text folded for comparing words (see `domain::ascii_fold`),
/// folded from the cell's own text rather than a copy of it.
pub(super) fn folded(c: &RawCell) -> String {
    trimmed(c)
        .map(crate::domain::ascii_fold)
        .unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct RawSheet {
    pub name: String,
    /// Rows from the sheet's first row (row 0 = spreadsheet row 1).
    pub rows: Vec<Vec<RawCell>>,
}

impl RawSheet {
    pub fn cell(&self, row: usize, col: usize) -> &RawCell {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .unwrap_or(&RawCell::Empty)
    }
}

#[derive(Debug, Clone)]
pub struct RawWorkbook {
    pub sheets: Vec<RawSheet>,
}

enum Kind {
    Zip,
    Ole,
}

fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Some(Kind::Ole)
    } else {
        None
    }
}

/// Reads every sheet of a workbook, whatever its file name says.
pub fn read_workbook(bytes: &[u8]) -> Result<RawWorkbook, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(IntakeError::TooLarge(bytes.len()));
    }
    let kind = sniff(bytes).ok_or(IntakeError::NotASpreadsheet)?;
    // What the reader is given: for an xlsx, the file without its theme.
    let shown = match kind {
        Kind::Zip => {
            let theme = check_zip(bytes)?;
            super::ods::check(bytes).map_err(IntakeError::Expands)?;
            // An xlsx sheet is read cell by cell (`stream_sheet`), never as
            // a rectangle, so a stray far cell cannot ask for billions.
            theme.map(|at| without_theme(bytes, at))
        }
        Kind::Ole => {
            if is_encrypted_package(bytes) {
                return Err(IntakeError::Encrypted);
            }
            super::cfb::check(bytes).map_err(IntakeError::Unreadable)?;
            None
        }
    };
    let bytes = shown.as_deref().unwrap_or(bytes);
    // The reader is another crate's code: should it panic on a file no one
    // foresaw, the unit still gets a finding and the service goes on.
    std::panic::catch_unwind(|| read_sheets(&kind, bytes))
        .unwrap_or_else(|_| Err(IntakeError::Unreadable("cấu trúc tệp không hợp lệ".into())))
}

fn read_sheets(kind: &Kind, bytes: &[u8]) -> Result<RawWorkbook, IntakeError> {
    let cursor = Cursor::new(bytes);
    let mut book: Sheets<Cursor<&[u8]>> = match kind {
        Kind::Ole => calamine::open_workbook_from_rs::<calamine::Xls<_>, _>(cursor)
            .map(Sheets::Xls)
            .map_err(|e| IntakeError::Unreadable(super::words::reader_error(e)))?,
        Kind::Zip => calamine::open_workbook_auto_from_rs(cursor)
            .map_err(|e| IntakeError::Unreadable(super::words::reader_error(e)))?,
    };
    let mut sheets = Vec::new();
    if let Sheets::Xlsx(x) = &mut book {
        for name in x.sheet_names() {
            if let Some(sheet) = stream_sheet(x, name)? {
                sheets.push(sheet);
            }
        }
        return Ok(RawWorkbook { sheets });
    }
    // xls and ods, read whole (their guards bound the rectangle first).
    for name in book.sheet_names() {
        let range = match book.worksheet_range(&name) {
            Ok(r) => r,
            // A chart sheet or similar holds no cells; skip it.
            Err(_) => continue,
        };
        let formulas = book.worksheet_formula(&name).ok();
        let (h, w) = range.get_size();
        let (r0, c0) = range
            .start()
            .map(|(r, c)| (r as usize, c as usize))
            .unwrap_or((0, 0));
        if h + r0 > MAX_ROWS || w + c0 > MAX_COLS {
            return Err(IntakeError::SheetTooLarge {
                sheet: name,
                rows: h + r0,
                cols: w + c0,
            });
        }
        let mut rows = vec![Vec::new(); r0];
        for (i, row) in range.rows().enumerate() {
            let mut cells = vec![RawCell::Empty; c0];
            for (j, d) in row.iter().enumerate() {
                let cell = match (d, &formulas) {
                    (Data::Empty, Some(f)) => match f.get_value(((r0 + i) as u32, (c0 + j) as u32))
                    {
                        Some(text) if !text.trim().is_empty() => RawCell::Uncached(text.clone()),
                        _ => RawCell::Empty,
                    },
                    _ => convert(d),
                };
                cells.push(cell);
            }
            while cells.last().is_some_and(RawCell::is_empty) {
                cells.pop();
            }
            rows.push(cells);
        }
        while rows.last().is_some_and(|r| r.is_empty()) {
            rows.pop();
        }
        sheets.push(RawSheet { name, rows });
    }
    Ok(RawWorkbook { sheets })
}

/// One xlsx sheet in a single pass over its XML: each cell's value, or its
/// formula where the file holds no value for it. A cell past the bounds
/// refuses the sheet as soon as it is met. `None` for a sheet that holds
/// no cells (a chart sheet).
fn stream_sheet(
    book: &mut calamine::Xlsx<Cursor<&[u8]>>,
    name: String,
) -> Result<Option<RawSheet>, IntakeError> {
    let unreadable =
        |e: calamine::XlsxError| IntakeError::Unreadable(super::words::reader_error(e));
    let Ok(mut cells) = book.worksheet_cells_reader(&name) else {
        return Ok(None);
    };
    let mut rows: Vec<Vec<RawCell>> = Vec::new();
    while let Some(c) = cells.next_cell_with_formula().map_err(unreadable)? {
        let (r, col) = (c.pos.0 as usize, c.pos.1 as usize);
        let cell = match (&c.value, c.formula) {
            (calamine::DataRef::Empty, Some(f)) if !f.trim().is_empty() => RawCell::Uncached(f),
            (v, _) => convert_ref(v),
        };
        if cell == RawCell::Empty {
            continue;
        }
        if r >= MAX_ROWS || col >= MAX_COLS {
            return Err(IntakeError::SheetTooLarge {
                sheet: name,
                rows: r + 1,
                cols: col + 1,
            });
        }
        if rows.len() <= r {
            rows.resize(r + 1, Vec::new());
        }
        let row = &mut rows[r];
        if row.len() <= col {
            row.resize(col + 1, RawCell::Empty);
        }
        row[col] = cell;
    }
    drop(cells);
    for row in &mut rows {
        while row.last().is_some_and(RawCell::is_empty) {
            row.pop();
        }
    }
    while rows.last().is_some_and(|r| r.is_empty()) {
        rows.pop();
    }
    Ok(Some(RawSheet { name, rows }))
}

fn convert_ref(d: &calamine::DataRef) -> RawCell {
    use calamine::DataRef;
    match d {
        DataRef::Empty => RawCell::Empty,
        DataRef::Int(i) => RawCell::Number(*i as f64),
        DataRef::Float(f) => RawCell::Number(*f),
        DataRef::String(s) => RawCell::Text(s.clone()),
        DataRef::SharedString(s) => RawCell::Text((*s).to_string()),
        DataRef::Bool(b) => RawCell::Bool(*b),
        DataRef::DateTime(dt) => RawCell::Date(dt.as_f64()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => RawCell::Text(s.clone()),
        DataRef::Error(e) => RawCell::Error(e.to_string()),
    }
}

/// Refuses a zip whose entries would unpack to more than any workbook
/// needs; returns where, in its central directory, the name of the
/// workbook's theme part is (see `without_theme`).
fn check_zip(bytes: &[u8]) -> Result<Option<usize>, IntakeError> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| IntakeError::Unreadable(super::words::reader_error(e)))?;
    if z.len() > MAX_ENTRIES {
        return Err(IntakeError::Unreadable(format!(
            "{} tệp con trong tệp nén",
            z.len()
        )));
    }
    let mut total = 0u64;
    let mut theme = None;
    for i in 0..z.len() {
        let entry = z
            .by_index_raw(i)
            .map_err(|e| IntakeError::Unreadable(super::words::reader_error(e)))?;
        if entry.name_raw().eq_ignore_ascii_case(THEME) {
            let at = usize::try_from(entry.central_header_start())
                .ok()
                .and_then(|h| h.checked_add(CENTRAL_NAME_AT));
            // Only where the name really is: a zip with data before it
            // (offsets shifted) is read as it is.
            theme = at.filter(|&at| {
                bytes
                    .get(at..at + THEME.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(THEME))
            });
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if size > MAX_ENTRY_BYTES || total > MAX_UNPACKED_BYTES {
            return Err(IntakeError::TooLargeUnpacked(
                total.max(size) / (1024 * 1024),
            ));
        }
    }
    Ok(theme)
}

/// The theme part of an xlsx: the palette its styles' colours refer to.
const THEME: &[u8] = b"xl/theme/theme1.xml";
/// Where an entry's name starts in its central directory header.
const CENTRAL_NAME_AT: usize = 46;

/// The workbook with its theme part hidden from the reader. Nothing read
/// from a workbook depends on colours, yet the reader parses the theme to
/// resolve them whenever the part is there: about 6 % of the time it
/// takes to read a unit's workbook, by the profile of a run. Renaming the
/// part in a copy of the central directory (same length, so no offset
/// moves) makes the reader fall back to its default palette; the cells,
/// formats and dates read are the same.
fn without_theme(bytes: &[u8], name_at: usize) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    // "theme1.xml" becomes "theme1.xm_": no part of an xlsx is called that.
    copy[name_at + THEME.len() - 1] = b'_';
    copy
}

/// Office puts a password-protected workbook in an OLE container with an
/// `EncryptedPackage` stream; its name is stored in UTF-16.
fn is_encrypted_package(bytes: &[u8]) -> bool {
    let name: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    bytes.windows(name.len()).any(|w| w == name.as_slice())
}

fn convert(d: &Data) -> RawCell {
    match d {
        Data::Empty => RawCell::Empty,
        Data::Int(i) => RawCell::Number(*i as f64),
        Data::Float(f) => RawCell::Number(*f),
        Data::String(s) => RawCell::Text(s.clone()),
        Data::Bool(b) => RawCell::Bool(*b),
        Data::DateTime(dt) => RawCell::Date(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => RawCell::Text(s.clone()),
        Data::Error(e) => RawCell::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_not_a_spreadsheet_is_refused() {
        assert!(matches!(
            read_workbook(b"STT,Linh vuc\n1,2\n"),
            Err(IntakeError::NotASpreadsheet)
        ));
        assert!(matches!(read_workbook(b""), Err(IntakeError::Empty)));
    }

    /// A stray far cell with a value refuses the sheet as soon as it is
    /// met; one that only carries a style is never read, and allocates
    /// nothing.
    #[test]
    #[cfg(feature = "engine")]
    fn a_far_cell_is_refused_and_a_far_style_is_ignored() {
        let book = |value: bool| {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            ws.write(0, 0, 1.0).unwrap();
            let far = (1_048_575, 16_383);
            if value {
                ws.write(far.0, far.1, 2.0).unwrap();
            } else {
                let bold = rust_xlsxwriter::Format::new().set_bold();
                ws.write_blank(far.0, far.1, &bold).unwrap();
            }
            wb.save_to_buffer().unwrap()
        };
        assert!(matches!(
            read_workbook(&book(true)),
            Err(IntakeError::SheetTooLarge {
                rows: 1_048_576,
                ..
            })
        ));
        let styled = read_workbook(&book(false)).unwrap();
        assert_eq!(styled.sheets[0].rows.len(), 1);
        assert_eq!(styled.sheets[0].rows[0], vec![RawCell::Number(1.0)]);
    }

    /// The theme is hidden from the reader and nothing read changes: the
    /// same cells, a date still a date (its format is in the styles, which
    /// stay), a coloured cell's value its value.
    #[test]
    #[cfg(feature = "engine")]
    fn a_workbook_reads_the_same_without_its_theme() {
        use rust_xlsxwriter::{Color, ExcelDateTime, Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("Nhiệm vụ").unwrap();
        let date = Format::new().set_num_format("dd/mm/yyyy");
        let coloured = Format::new()
            .set_font_color(Color::Theme(4, 2))
            .set_background_color(Color::Theme(5, 1));
        ws.write(0, 0, "Ngày hoàn thành").unwrap();
        ws.write_with_format(1, 0, ExcelDateTime::from_ymd(2022, 11, 30).unwrap(), &date)
            .unwrap();
        ws.write_with_format(1, 1, 12.0, &coloured).unwrap();
        ws.write_formula(1, 2, "=B2*2").unwrap();
        let bytes = wb.save_to_buffer().unwrap();

        let at = check_zip(&bytes)
            .unwrap()
            .expect("an xlsx has its theme part");
        let hidden = without_theme(&bytes, at);
        assert_eq!(hidden.len(), bytes.len());
        assert!(hidden.windows(19).any(|w| w == b"xl/theme/theme1.xm_"));
        let kind = Kind::Zip;
        let (a, b) = (
            read_sheets(&kind, &bytes).unwrap(),
            read_sheets(&kind, &hidden).unwrap(),
        );
        let rows = |w: &RawWorkbook| -> Vec<(String, Vec<Vec<RawCell>>)> {
            w.sheets
                .iter()
                .map(|s| (s.name.clone(), s.rows.clone()))
                .collect()
        };
        assert_eq!(rows(&a), rows(&b));
        assert!(matches!(b.sheets[0].cell(1, 0), RawCell::Date(d) if *d == 44895.0));
        assert_eq!(b.sheets[0].cell(1, 1), &RawCell::Number(12.0));
        // And the public reader is the one that hides it.
        assert_eq!(rows(&read_workbook(&bytes).unwrap()), rows(&b));
    }

    #[test]
    fn a_broken_zip_is_refused_not_panicked_on() {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 200));
        assert!(matches!(
            read_workbook(&bytes),
            Err(IntakeError::Unreadable(_))
        ));
    }
}
