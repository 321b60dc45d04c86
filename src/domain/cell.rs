//! A cell's place, as findings name it: sheet, row and column, shown as
//! `Biểu 06!H12`.

use std::fmt;

/// A located cell, shown as `Biểu 06!H12`. Rows and columns are zero-based
/// inside, one-based and lettered when shown.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct CellRef {
    pub sheet: String,
    pub row: u32,
    pub col: u32,
}

impl CellRef {
    pub fn new(sheet: impl Into<String>, row: u32, col: u32) -> Self {
        Self {
            sheet: sheet.into(),
            row,
            col,
        }
    }

    /// The A1-style address without the sheet, e.g. `H12`.
    pub fn a1(&self) -> String {
        format!("{}{}", column_letters(self.col), self.row + 1)
    }
}

/// Spreadsheet column letters for a zero-based index: 0 → A, 26 → AA.
pub fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}!{}", self.sheet, self.a1())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_refs_read_like_spreadsheet_addresses() {
        assert_eq!(CellRef::new("Biểu 06", 11, 7).to_string(), "Biểu 06!H12");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
    }
}
