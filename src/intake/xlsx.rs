//! A guard for Office Open XML workbooks before they reach the reader: the
//! reader allocates the rectangle from the first to the farthest cell, so
//! one stray cell at XFD1048576 asks for billions of cells. Every sheet's
//! cell references are scanned and a sheet whose rectangle is too large is
//! refused. Found by fuzzing the Excel 97–2003 reader, which has the same flaw.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::Read;

/// The largest rectangle of cells a sheet may span.
const MAX_CELLS: u64 = 4_000_000;

/// "AB12" → (row 11, column 27), zero-based.
fn cell_ref(r: &str) -> Option<(u64, u64)> {
    let letters = r.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let col = r[..letters].bytes().fold(0u64, |c, b| {
        c * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    }) - 1;
    let row: u64 = r[letters..].parse().ok()?;
    Some((row.checked_sub(1)?, col))
}

fn check_sheet(xml: &[u8], name: &str) -> Result<(), String> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut r0, mut r1, mut c0, mut c1) = (u64::MAX, 0u64, u64::MAX, 0u64);
    let mut seen = false;
    loop {
        match reader.read_event_into(&mut buf) {
            // Only cells with content (a start tag, holding a value or a
            // formula) count: a style-only `<c r="Z9" s="1"/>` is never read.
            Ok(Event::Start(e)) => {
                let tag = e.name();
                let tag = tag.as_ref();
                if tag == "c" || tag.ends_with(":c") {
                    for a in e.attributes().flatten() {
                        if a.key.as_ref() != "r" {
                            continue;
                        }
                        for part in a.value.split(':') {
                            if let Some((r, c)) = cell_ref(part.trim()) {
                                seen = true;
                                (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
                            }
                        }
                    }
                }
            }
            Ok(Event::Eof) => break,
            Err(e) => return Err(format!("{name}: {}", super::words::reader_error(e))),
            _ => {}
        }
        buf.clear();
    }
    if seen && (r1 - r0 + 1).saturating_mul(c1 - c0 + 1) > MAX_CELLS {
        return Err(format!(
            "sheet trải tới dòng {} cột {}: quá lớn",
            r1 + 1,
            c1 + 1
        ));
    }
    Ok(())
}

/// Checks every worksheet of an `.xlsx`; other zips pass untouched.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(super::words::reader_error)?;
    let names: Vec<String> = zip
        .file_names()
        .flatten()
        .filter(|n| n.starts_with("xl/worksheets/") && n.ends_with(".xml"))
        .map(|n| n.to_string())
        .collect();
    for name in names {
        let mut xml = Vec::new();
        let entry = zip.by_name(&name).map_err(super::words::reader_error)?;
        entry
            .take(16 * 1024 * 1024)
            .read_to_end(&mut xml)
            .map_err(|e| format!("{name}: {}", super::words::reader_error(e)))?;
        check_sheet(&xml, &name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_are_read() {
        assert_eq!(cell_ref("A1"), Some((0, 0)));
        assert_eq!(cell_ref("AB12"), Some((11, 27)));
        assert_eq!(cell_ref("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_ref("1A"), None);
    }

    #[test]
    fn a_stray_far_cell_is_refused() {
        let xml = br#"<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>"#;
        assert!(check_sheet(xml, "s").is_err());
        let styled = br#"<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576" s="1"/></row></sheetData></worksheet>"#;
        assert!(
            check_sheet(styled, "s").is_ok(),
            "a style-only cell is not read"
        );
    }
}
