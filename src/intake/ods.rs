//! A guard for OpenDocument spreadsheets before they reach the reader: a
//! row or cell may say it repeats a million times, and the reader expands
//! every repetition. Empty repeated rows (LibreOffice writes them to the
//! sheet's end) cost nothing; repeated rows and cells with content are
//! counted, and a sheet that would expand past the bounds is refused.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::Read;

/// The most cells with content, after repetition, a workbook may expand to.
const MAX_CELLS: u64 = 2_000_000;

fn repeat(e: &quick_xml::events::BytesStart, name: &str) -> u64 {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.value.trim().parse().ok())
        .unwrap_or(1)
}

fn has_value(e: &quick_xml::events::BytesStart) -> bool {
    e.attributes()
        .flatten()
        .any(|a| a.key.as_ref() == "office:value-type")
}

/// Counts the cells `content.xml` expands to; errors past the bounds.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(super::words::reader_error)?;
    let Ok(entry) = zip.by_name("content.xml") else {
        return Ok(());
    };
    let mut xml = Vec::new();
    entry
        .take(64 * 1024 * 1024)
        .read_to_end(&mut xml)
        .map_err(super::words::reader_error)?;
    let mut reader = Reader::from_reader(xml.as_slice());
    let mut buf = Vec::new();
    let (mut total, mut row_repeat, mut row_cells, mut pending, mut in_cell_repeat) =
        (0u64, 1u64, 0u64, 0u64, 0u64);
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("content.xml: {}", super::words::reader_error(e)))?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table-row" => {
                    row_repeat = repeat(e, "table:number-rows-repeated");
                    (row_cells, pending) = (0, 0);
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let n = repeat(e, "table:number-columns-repeated");
                    if has_value(e) {
                        // Empty cells before a filled one are expanded too.
                        row_cells = row_cells.saturating_add(pending).saturating_add(n);
                        pending = 0;
                    } else {
                        pending = pending.saturating_add(n);
                    }
                    in_cell_repeat = if matches!(ev, Event::Start(_)) { n } else { 0 };
                }
                "text:p" if in_cell_repeat > 0 => {
                    row_cells = row_cells
                        .saturating_add(pending)
                        .saturating_add(in_cell_repeat);
                    (pending, in_cell_repeat) = (0, 0);
                }
                _ => {}
            },
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                total = total.saturating_add(row_repeat.saturating_mul(row_cells));
                if total > MAX_CELLS {
                    return Err(format!("bảng tính mở ra hơn {MAX_CELLS} ô có dữ liệu"));
                }
            }
            Event::End(e) if e.name().as_ref() == "table:table-cell" => in_cell_repeat = 0,
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}
