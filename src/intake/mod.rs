//! Spreadsheets in, raw tables out. `workbook` reads `.xlsx`, `.xls` and
//! `.ods` (told apart by content) into a grid of raw cells per sheet;
//! `tables` finds Form 06, the indicators, the tasks and the unit's details
//! in that grid. Intake knows spreadsheets and the form's layout, never the
//! rules; what the figures mean is `validate`'s business.

mod cfb;
mod form06;
mod form_words;
mod ods;
mod tables;
mod words;
mod workbook;

pub use form_words::FormWords;
pub use form06::{Form06Table, Subtotal, TableRow};
pub use tables::{InfoTable, KeyedRow, RawTables, locate_tables};
pub use workbook::{IntakeError, RawCell, RawSheet, RawWorkbook, read_workbook};

/// Reads a file's bytes into located raw tables, or says why it cannot;
/// the indicator sheet's rows are found by `words`.
pub fn read_tables(bytes: &[u8], words: &FormWords) -> Result<RawTables, IntakeError> {
    Ok(locate_tables(&read_workbook(bytes)?, words))
}
