//! The units registry kept in a spreadsheet: a CSV, xlsx, xls or ods file
//! the config names (`[registry] file`), one unit per row under a header
//! row. Its columns are found by their headings, in Vietnamese or as the
//! config's keys, in any order; every problem names the file, the row and
//! the column. The rows become the same entries as `[[units]]` blocks.

use super::UnitEntry;
use crate::domain::ascii_fold;
use crate::located::FileError;
use chrono::NaiveDate;
use std::path::Path;

/// What a column of the registry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Code,
    Name,
    Kind,
    Email,
    ValidFrom,
    ValidTo,
    Predecessors,
    Successor,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Code,
        Field::Name,
        Field::Kind,
        Field::Email,
        Field::ValidFrom,
        Field::ValidTo,
        Field::Predecessors,
        Field::Successor,
    ];

    /// The heading the template writes.
    pub fn heading(self) -> &'static str {
        match self {
            Field::Code => "Mã đơn vị",
            Field::Name => "Tên đơn vị",
            Field::Kind => "Loại (khối)",
            Field::Email => "Thư điện tử",
            Field::ValidFrom => "Hiệu lực từ",
            Field::ValidTo => "Hiệu lực đến",
            Field::Predecessors => "Đơn vị tiền thân",
            Field::Successor => "Đơn vị kế thừa",
        }
    }

    /// What the template's instructions say of the column.
    pub fn help(self) -> &'static str {
        match self {
            Field::Code => {
                "Bắt buộc. Mã ổn định của đơn vị: chữ không dấu, số, '-' và '_'; không đổi qua các năm."
            }
            Field::Name => "Bắt buộc. Tên đầy đủ, ví dụ \"UBND xã Cổ Lễ\" hoặc \"Sở Tư pháp\".",
            Field::Kind => {
                "Bắt buộc. Mã khối trong bộ quy tắc, ví dụ co_quan (sở, ban, ngành) hoặc xa (xã, phường, đặc khu); hoặc cách gọi của văn phòng (\"Phường\", \"Sở\") nếu cấu hình khai [registry] kinds."
            }
            Field::Email => "Bắt buộc. Địa chỉ thư nhận nhắc hạn, biên nhận và mã truy cập.",
            Field::ValidFrom => {
                "Không bắt buộc. Ngày đơn vị bắt đầu có (dd/mm/yyyy hoặc yyyy-mm-dd), ví dụ 01/07/2025 với đơn vị mới sau sắp xếp."
            }
            Field::ValidTo => {
                "Không bắt buộc. Ngày cuối đơn vị còn có, ví dụ 30/06/2025 với đơn vị đã hợp nhất."
            }
            Field::Predecessors => {
                "Không bắt buộc. Mã các đơn vị hợp thành đơn vị này, cách nhau bởi dấu ';'. Số liệu các quý trước được cộng từ các đơn vị này."
            }
            Field::Successor => {
                "Không bắt buộc. Mã đơn vị nhận lại đơn vị này sau sắp xếp (cách ghi khác của cột tiền thân)."
            }
        }
    }

    /// The folded headings that name the column.
    fn words(self) -> &'static [&'static str] {
        match self {
            Field::Code => &["ma don vi", "ma", "code", "ma dv"],
            Field::Name => &["ten don vi", "ten", "name", "ten dv"],
            Field::Kind => &[
                "loai (khoi)",
                "loai",
                "khoi",
                "loai don vi",
                "kind",
                "league",
            ],
            Field::Email => &["thu dien tu", "email", "e-mail", "dia chi thu"],
            Field::ValidFrom => &[
                "hieu luc tu",
                "tu ngay",
                "ngay bat dau",
                "thanh lap",
                "valid_from",
                "valid from",
            ],
            Field::ValidTo => &[
                "hieu luc den",
                "den ngay",
                "ngay ket thuc",
                "het hieu luc",
                "valid_to",
                "valid to",
            ],
            Field::Predecessors => &[
                "don vi tien than",
                "tien than",
                "hop nhat tu",
                "predecessors",
            ],
            Field::Successor => &[
                "don vi ke thua",
                "ke thua",
                "hop nhat vao",
                "sap nhap vao",
                "successor",
            ],
        }
    }

    /// The field a folded heading names: one of its words exactly; else
    /// a heading that holds one of the longer words ("Đơn vị tiền thân
    /// (mã)", "Địa chỉ email"), those of merges first so that "Mã đơn vị
    /// tiền thân" is not taken for the code; else one that starts with a
    /// short word ("Tên cơ quan, đơn vị", "Mã số").
    fn named_by(heading: &str) -> Option<Field> {
        let h = heading.trim();
        if h.is_empty() {
            return None;
        }
        if let Some(f) = Field::ALL.into_iter().find(|k| k.words().contains(&h)) {
            return Some(f);
        }
        let order = [
            Field::Predecessors,
            Field::Successor,
            Field::ValidFrom,
            Field::ValidTo,
            Field::Email,
            Field::Kind,
            Field::Name,
            Field::Code,
        ];
        let long = |w: &str| w.contains(' ') || w.len() > 4;
        if let Some(f) = order
            .into_iter()
            .find(|k| k.words().iter().any(|w| long(w) && h.contains(w)))
        {
            return Some(f);
        }
        order.into_iter().find(|k| {
            k.words().iter().any(|w| {
                h.strip_prefix(w)
                    .is_some_and(|rest| rest.starts_with([' ', ',', '(', '.', ':']))
            })
        })
    }

    fn required(self) -> bool {
        matches!(self, Field::Code | Field::Name | Field::Kind | Field::Email)
    }
}

/// One cell's text and where it is (row and column from 1).
#[derive(Debug, Clone)]
struct Cell {
    text: String,
    date: Option<NaiveDate>,
}

/// The registry's rows as text (and dates, for a spreadsheet's date cells).
fn read_rows(path: &Path) -> Result<Vec<Vec<Cell>>, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if ext == "csv" {
        let bytes = std::fs::read(path).map_err(|e| format!("không đọc được tệp: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            "tệp CSV phải lưu bằng mã UTF-8 (Excel: Lưu thành → CSV UTF-8)".to_string()
        })?;
        let text = text.trim_start_matches('\u{feff}');
        // A semicolon-separated file (Excel in a Vietnamese locale) or a
        // comma-separated one, by what the header row uses.
        let first = text.lines().next().unwrap_or("");
        let sep = if first.matches(';').count() > first.matches(',').count() {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(sep)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for r in reader.records() {
            let r = r.map_err(|e| format!("tệp CSV không đọc được: {e}"))?;
            rows.push(
                r.iter()
                    .map(|t| Cell {
                        text: t.trim().to_string(),
                        date: None,
                    })
                    .collect(),
            );
        }
        return Ok(rows);
    }
    use calamine::{Data, Reader, open_workbook_auto};
    let mut wb = open_workbook_auto(path)
        .map_err(|e| format!("không mở được bảng tính (dùng .csv, .xlsx, .xls hoặc .ods): {e}"))?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or("bảng tính không có sheet nào")?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| format!("không đọc được sheet \"{sheet}\": {e}"))?;
    // Rows and columns as the sheet numbers them, from A1.
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<Cell>> = (0..top).map(|_| Vec::new()).collect();
    for r in range.rows() {
        let mut cells: Vec<Cell> = (0..left)
            .map(|_| Cell {
                text: String::new(),
                date: None,
            })
            .collect();
        for c in r {
            let (text, date) = match c {
                Data::Empty => (String::new(), None),
                Data::String(s) => (s.trim().to_string(), None),
                Data::Float(f) if f.fract() == 0.0 => (format!("{}", *f as i64), None),
                Data::Int(i) => (i.to_string(), None),
                Data::DateTime(dt) => {
                    // Days since 30/12/1899, as Excel counts them.
                    let d = NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|base| {
                        base.checked_add_days(chrono::Days::new(dt.as_f64().floor() as u64))
                    });
                    (d.map(|d| d.to_string()).unwrap_or_default(), d)
                }
                other => (other.to_string().trim().to_string(), None),
            };
            cells.push(Cell { text, date });
        }
        rows.push(cells);
    }
    Ok(rows)
}

/// A date written as dd/mm/yyyy, d/m/yyyy or yyyy-mm-dd.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d-%m-%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
}

/// Codes separated by ';', ',' or spaces.
fn codes(s: &str) -> Vec<String> {
    s.split([';', ',', ' ', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

/// "C5": a cell's name.
fn cell_name(row: usize, col: usize) -> String {
    format!("{}{}", crate::domain::column_letters(col as u32 - 1), row)
}

/// The registry file's units, and every problem of a cell found, located
/// (a file that cannot be read, or has no header, gives no units).
/// `kinds` maps an office's own words for a kind (compared without
/// accents or case) to the kind's code.
pub(crate) fn read(
    path: &Path,
    kinds: &std::collections::BTreeMap<String, String>,
) -> (Vec<UnitEntry>, Vec<FileError>) {
    let kind_of = |written: String| {
        let f = ascii_fold(&written);
        kinds
            .iter()
            .find(|(word, _)| ascii_fold(word) == f)
            .map(|(_, code)| code.clone())
            .unwrap_or(written)
    };
    let located = |row: usize, col: usize, message: String| FileError {
        path: path.to_path_buf(),
        line: row,
        column: col,
        message,
    };
    let rows = match read_rows(path) {
        Ok(rows) => rows,
        Err(m) => return (Vec::new(), vec![located(1, 1, m)]),
    };
    // The header: the first row that names a unit's code and name.
    let header = rows.iter().enumerate().take(20).find_map(|(i, r)| {
        let mut at: Vec<(Field, usize)> = Vec::new();
        for (c, cell) in r.iter().enumerate() {
            let f = ascii_fold(&cell.text);
            if let Some(field) = Field::named_by(&f)
                && !at.iter().any(|(k, _)| *k == field)
            {
                at.push((field, c));
            }
        }
        let has = |k: Field| at.iter().any(|(x, _)| *x == k);
        (has(Field::Code) && has(Field::Name)).then_some((i, at))
    });
    let Some((head, columns)) = header else {
        let want: Vec<&str> = Field::ALL.iter().map(|f| f.heading()).collect();
        return (
            Vec::new(),
            vec![located(
                1,
                1,
                format!(
                    "không thấy dòng tiêu đề của danh sách đơn vị — dòng đầu ghi các cột: {} (`tthc units template` viết sẵn một tệp mẫu)",
                    want.join(", ")
                ),
            )],
        );
    };
    let mut errors = Vec::new();
    for f in Field::ALL.into_iter().filter(|f| f.required()) {
        if !columns.iter().any(|(k, _)| *k == f) {
            errors.push(located(
                head + 1,
                1,
                format!("thiếu cột \"{}\" ở dòng tiêu đề", f.heading()),
            ));
        }
    }
    if !errors.is_empty() {
        return (Vec::new(), errors);
    }
    let col_of = |f: Field| columns.iter().find(|(k, _)| *k == f).map(|(_, c)| *c);
    let mut entries = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(head + 1) {
        let line = i + 1;
        let get = |f: Field| -> Option<&Cell> { col_of(f).and_then(|c| r.get(c)) };
        let text = |f: Field| get(f).map(|c| c.text.clone()).unwrap_or_default();
        if Field::ALL.iter().all(|f| text(*f).is_empty()) {
            continue;
        }
        let place = |f: Field| (line, col_of(f).map_or(1, |c| c + 1));
        let mut date = |f: Field| -> Option<NaiveDate> {
            let cell = get(f)?;
            if cell.text.is_empty() {
                return None;
            }
            let d = cell.date.or_else(|| parse_date(&cell.text));
            if d.is_none() {
                let (l, c) = place(f);
                errors.push(located(
                    l,
                    c,
                    format!(
                        "ô {}: \"{}\" không phải một ngày — ghi dd/mm/yyyy, ví dụ 01/07/2025",
                        cell_name(l, c),
                        cell.text
                    ),
                ));
            }
            d
        };
        let valid_from = date(Field::ValidFrom);
        let valid_to = date(Field::ValidTo);
        let successor = Some(text(Field::Successor)).filter(|s| !s.is_empty());
        let mut places = [(line, 1); 8];
        for (k, f) in Field::ALL.iter().enumerate() {
            places[k] = place(*f);
        }
        entries.push(UnitEntry {
            code: text(Field::Code),
            name: text(Field::Name),
            kind: kind_of(text(Field::Kind)),
            email: text(Field::Email),
            valid_from,
            valid_to,
            successor,
            predecessors: codes(&text(Field::Predecessors)),
            file: path.to_path_buf(),
            places: places.map(|(l, c)| Place::Cell(l, c)),
        });
    }
    if entries.is_empty() && errors.is_empty() {
        errors.push(located(
            head + 2,
            1,
            "danh sách đơn vị chưa có dòng nào dưới dòng tiêu đề".to_string(),
        ));
    }
    (entries, errors)
}

/// Where a value of an entry is written: a byte range of the config, or a
/// cell (row, column) of the registry file.
#[derive(Debug, Clone)]
pub enum Place {
    Span(std::ops::Range<usize>),
    Cell(usize, usize),
}

/// An empty registry workbook: the header row, an example row per kind,
/// and a sheet of instructions.
pub fn template(kinds: &[String]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatBorder, Workbook};
    let mut wb = Workbook::new();
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("D9E1F2");
    let ws = wb.add_worksheet();
    ws.set_name("Đơn vị")?;
    for (c, f) in Field::ALL.iter().enumerate() {
        ws.write_with_format(0, c as u16, f.heading(), &head)?;
        ws.set_column_width(c as u16, if c == 1 { 36 } else { 18 })?;
    }
    ws.set_freeze_panes(1, 0)?;
    let help = wb.add_worksheet();
    help.set_name("Hướng dẫn")?;
    help.set_column_width(0, 22)?;
    help.set_column_width(1, 100)?;
    help.write_with_format(0, 0, "Cột", &head)?;
    help.write_with_format(0, 1, "Cách ghi", &head)?;
    for (r, f) in Field::ALL.iter().enumerate() {
        help.write(r as u32 + 1, 0, f.heading())?;
        help.write(r as u32 + 1, 1, f.help())?;
    }
    let n = Field::ALL.len() as u32;
    help.write(
        n + 2,
        1,
        format!(
            "Mỗi dòng một đơn vị, ở sheet \"Đơn vị\"; có thể đổi thứ tự cột. Các khối của cấu hình: {}. Lưu tệp rồi ghi tên tệp vào [registry] file của tệp cấu hình; `tthc units list` cho xem danh sách như tthc đọc được.",
            if kinds.is_empty() {
                "—".to_string()
            } else {
                kinds.join(", ")
            }
        ),
    )?;
    help.write(
        n + 3,
        1,
        "Đơn vị hợp nhất: ghi đơn vị cũ với \"Hiệu lực đến\" là ngày cuối (ví dụ 30/06/2025) và đơn vị mới với \"Hiệu lực từ\" (01/07/2025) và \"Đơn vị tiền thân\" là mã các đơn vị cũ.",
    )?;
    wb.save_to_buffer()
}
