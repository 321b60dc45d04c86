//! The readers' own error texts (the zip, XML and spreadsheet crates speak
//! English) said in Vietnamese, with what it means for the person who sent
//! the file. A text not foreseen here becomes a plain "không hợp lệ": the
//! unit is never shown a foreign sentence; the original goes to the log.

/// What went wrong inside a reader, for a unit to read.
pub fn reader_error(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let said = if has(&["larger than its declared", "declared uncompressed size"]) {
        "một phần trong tệp nén dài hơn kích thước tệp ghi cho nó (tệp bị hỏng hoặc bị sửa)"
    } else if has(&["checksum", "crc"]) {
        "dữ liệu trong tệp nén bị sai (mã kiểm tra không khớp), có thể tệp bị hỏng khi sao chép"
    } else if has(&["password", "encrypted"]) {
        "một phần của tệp nén được đặt mật khẩu"
    } else if has(&["compression method", "unsupported"]) {
        "tệp nén dùng cách nén không được hỗ trợ"
    } else if has(&[
        "eocd",
        "central directory",
        "end of central",
        "invalid zip",
        "not a zip",
    ]) {
        "tệp nén bị cắt cụt hoặc hỏng (không thấy mục lục của tệp nén)"
    } else if has(&[
        "unexpected end",
        "unexpectedeof",
        "fill whole buffer",
        "eof",
        "truncated",
    ]) {
        "tệp bị cắt cụt (thiếu phần cuối), có thể do tải lên hoặc sao chép chưa xong"
    } else if has(&["corrupt deflate", "invalid deflate", "deflate", "inflate"]) {
        "dữ liệu nén bên trong tệp bị hỏng"
    } else if has(&[
        "xml",
        "syntax",
        "ill-formed",
        "unclosed",
        "mismatch",
        "attribute",
    ]) {
        "nội dung bên trong tệp (XML) bị hỏng"
    } else if has(&["not found", "cannot find", "missing", "no such"]) {
        "thiếu một phần bắt buộc của bảng tính"
    } else if has(&["utf", "encoding", "decode"]) {
        "chữ trong tệp không đọc được (sai bảng mã)"
    } else if !text.is_ascii() {
        // Already ours (the compound-file checks speak Vietnamese).
        return text;
    } else {
        "cấu trúc tệp không hợp lệ"
    };
    tracing::debug!(reader = %text, "workbook not readable");
    said.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_english_becomes_vietnamese() {
        for (english, expect) in [
            (
                "File is larger than its declared uncompressed size",
                "dài hơn kích thước",
            ),
            (
                "invalid Zip archive: Could not find EOCD",
                "cắt cụt hoặc hỏng",
            ),
            ("Invalid checksum", "mã kiểm tra"),
            ("failed to fill whole buffer", "thiếu phần cuối"),
            ("something nobody foresaw", "không hợp lệ"),
        ] {
            let said = reader_error(english);
            assert!(said.contains(expect), "{english} → {said}");
            assert!(!said.is_ascii(), "{said}");
        }
        assert_eq!(
            reader_error("chuỗi sector không hợp lệ"),
            "chuỗi sector không hợp lệ"
        );
    }
}
