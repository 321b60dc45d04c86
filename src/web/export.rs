//! The office's lists as files: a table a page shows, as CSV (UTF-8 with a
//! byte-order mark, so a spreadsheet opens the Vietnamese right) or as an
//! xlsx workbook of one sheet. Numbers stay numbers in the workbook.

use super::{Failure, XLSX, download};
use axum::response::Response;

/// A list as the page shows it, ready to be a file.
pub struct Export {
    /// The file name's stem, e.g. "bang-theo-doi-2026-Q3".
    pub file: String,
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A cell of an export.
pub enum Cell {
    Text(String),
    Number(f64),
    Blank,
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Blank, Cell::Number)
    }
}

impl Export {
    pub fn csv(&self) -> Vec<u8> {
        let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        let _ = out.write_record(&self.headers);
        for r in &self.rows {
            let texts: Vec<String> = r
                .iter()
                .map(|c| match c {
                    Cell::Text(t) => t.clone(),
                    Cell::Number(n) => format!("{n}"),
                    Cell::Blank => String::new(),
                })
                .collect();
            let _ = out.write_record(&texts);
        }
        out.into_inner().unwrap_or_default()
    }

    pub fn xlsx(&self) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let name: String = self
            .sheet
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        ws.set_name(name)?;
        let head = Format::new().set_bold().set_background_color("DDEBF7");
        for (c, h) in self.headers.iter().enumerate() {
            ws.write_with_format(0, c as u16, h, &head)?;
            ws.set_column_width(c as u16, if c == 0 { 14 } else { 22 })?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(t) => ws.write(r, c as u16, t)?,
                    Cell::Number(n) => ws.write(r, c as u16, *n)?,
                    Cell::Blank => ws,
                };
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(
            0,
            0,
            self.rows.len() as u32,
            self.headers.len().saturating_sub(1) as u16,
        )?;
        wb.save_to_buffer()
    }

    /// The file asked for by `?xuat=csv` or `?xuat=xlsx`; `None` for the page.
    pub fn respond(&self, kind: &str) -> Result<Option<Response>, Failure> {
        match kind {
            "csv" => Ok(Some(download(
                self.csv(),
                "text/csv; charset=utf-8",
                &format!("{}.csv", self.file),
            ))),
            "xlsx" => {
                let bytes = self
                    .xlsx()
                    .map_err(|e| Failure::Internal(anyhow::anyhow!("{e}")))?;
                Ok(Some(download(bytes, XLSX, &format!("{}.xlsx", self.file))))
            }
            _ => Ok(None),
        }
    }
}

/// A search of a list: its words folded once, without accents or case.
pub struct Search(String);

impl Search {
    pub fn new(query: &str) -> Search {
        Search(crate::domain::ascii_fold(query))
    }

    /// Whether a row matches: any of its texts holds the words.
    pub fn matches(&self, texts: &[&str]) -> bool {
        self.0.is_empty()
            || texts
                .iter()
                .any(|t| crate::domain::ascii_fold(t).contains(&self.0))
    }
}

/// One page of a long list: the rows of page `page` (from 1), and how many
/// pages there are.
pub fn page<T>(rows: Vec<T>, page: usize, per_page: usize) -> (Vec<T>, usize) {
    let pages = rows.len().div_ceil(per_page).max(1);
    let page = page.clamp(1, pages);
    let rows = rows
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    (rows, pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_export_opens_in_a_spreadsheet_with_its_accents() {
        let e = Export {
            file: "x".into(),
            sheet: "Bảng".into(),
            headers: vec!["Đơn vị".into(), "Điểm".into()],
            rows: vec![vec!["UBND xã Cổ Lễ".into(), Cell::Number(81.5)]],
        };
        let csv = e.csv();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        assert_eq!(text, "Đơn vị,Điểm\nUBND xã Cổ Lễ,81.5\n");
        assert!(e.xlsx().unwrap().starts_with(b"PK"));
    }

    #[test]
    fn a_search_ignores_accents_and_case_and_a_page_is_clamped() {
        assert!(Search::new("co le").matches(&["UBND xã Cổ Lễ", "COLE"]));
        assert!(Search::new("").matches(&["x"]));
        assert!(!Search::new("ninh").matches(&["UBND xã Cổ Lễ"]));
        let (rows, pages) = page((1..=120).collect::<Vec<_>>(), 9, 50);
        assert_eq!(
            (rows.first().copied(), rows.len(), pages),
            (Some(101), 20, 3)
        );
    }
}
