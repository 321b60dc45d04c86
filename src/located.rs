//! Errors that point into a text file by line and column: the config file
//! and the rule files share them, so every message reads `file:line:col: …`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One located problem in a TOML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl FileError {
    /// Locates `span` (a byte range) in `source`; lines and columns count from 1.
    pub fn at(
        path: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = span.map(|s| line_col(source, s.start)).unwrap_or((1, 1));
        FileError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// Turns a TOML parse or shape error into a located one, in Vietnamese
    /// with the parser's own words kept for the detail.
    pub fn from_toml(path: &Path, source: &str, err: &toml::de::Error) -> Self {
        let detail = err.message().trim().to_string();
        let message = if let Some(rest) = detail.strip_prefix("unknown field") {
            format!("khóa không được phép{rest} — xóa hoặc sửa lại tên khóa")
        } else if let Some(rest) = detail.strip_prefix("missing field") {
            format!("thiếu khóa bắt buộc{rest} — bổ sung khóa này")
        } else {
            toml_words(&detail)
        };
        FileError::at(path, source, err.span(), message)
    }
}

/// The TOML reader's English, said in Vietnamese with what to write
/// instead. A message already in Vietnamese (from the project's own value
/// types) is kept; one not foreseen becomes a plain "không hợp lệ".
fn toml_words(detail: &str) -> String {
    if !detail.is_ascii() {
        return format!("giá trị không hợp lệ: {detail}");
    }
    if let Some(rest) = detail.strip_prefix("invalid type: ") {
        let (got, want) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "giá trị {} không đúng kiểu: ở đây cần {}",
            toml_value_words(got),
            toml_type_words(want)
        );
    }
    if let Some(rest) = detail.strip_prefix("unknown variant ") {
        let (got, allowed) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let allowed = allowed.trim_start_matches("one of ").replace('`', "\"");
        return format!(
            "giá trị {} không được phép; chọn một trong: {allowed}",
            got.replace('`', "\"")
        );
    }
    let d = detail.to_lowercase();
    let has = |w: &str| d.contains(w);
    let said = if has("duplicate key") {
        "khóa này đã khai báo ở trên — xóa một trong hai"
    } else if has("key with no value") {
        "khóa chưa có giá trị: viết khóa = giá trị"
    } else if has("string values must be quoted") {
        "chữ phải đặt trong ngoặc kép, ví dụ \"Quý IV\"; số viết liền, không kèm chữ"
    } else if has("invalid basic string") || has("invalid literal string") {
        "chuỗi chưa đóng ngoặc: thêm dấu ngoặc kép ở cuối"
    } else if has("unclosed table") {
        "tên bảng thiếu dấu ] đóng"
    } else if has("unclosed array") {
        "danh sách thiếu dấu ] đóng"
    } else if has("unclosed inline table") {
        "bảng viết trên một dòng thiếu dấu } đóng"
    } else if has("invalid date") || has("invalid time") || has("invalid offset") {
        "ngày giờ không hợp lệ: viết dạng 2022-12-15 (năm-tháng-ngày), tháng từ 01 đến 12"
    } else if has("invalid boolean") {
        "giá trị đúng/sai phải là true hoặc false"
    } else if has("unquoted keys cannot be empty") {
        "thiếu tên khóa trước dấu ="
    } else if has("unexpected key or value") {
        "mỗi khóa phải nằm trên một dòng riêng"
    } else if has("invalid unquoted key") {
        "tên khóa chỉ gồm chữ không dấu, số, - và _; tên khác phải đặt trong ngoặc kép"
    } else if has("escape") {
        "dấu \\ trong chuỗi phải đi kèm n, t, \", \\ hoặc u; muốn viết dấu \\ thì gõ hai lần"
    } else if has("as i128") || has("overflow") || has("too large") {
        "số quá lớn"
    } else if has("invalid length") {
        "danh sách không đủ hoặc thừa phần tử"
    } else {
        "cú pháp hoặc giá trị không hợp lệ; xem lại dòng này"
    };
    said.to_string()
}

/// "string \"x\"", "integer `1`" … as a reader says them.
fn toml_value_words(got: &str) -> String {
    let value = |prefix: &str| got.strip_prefix(prefix).map(|v| v.trim().replace('`', ""));
    if let Some(v) = value("string ") {
        format!("chuỗi {v}")
    } else if let Some(v) = value("integer ") {
        format!("số nguyên {}", v.trim_end_matches(" as i128"))
    } else if let Some(v) = value("floating point ") {
        format!("số thập phân {v}")
    } else if let Some(v) = value("boolean ") {
        format!("đúng/sai {v}")
    } else if got.starts_with("sequence") {
        "danh sách".into()
    } else if got.starts_with("map") {
        "bảng".into()
    } else {
        "này".into()
    }
}

/// What a field wants, from serde's "expected …".
fn toml_type_words(want: &str) -> &'static str {
    match want {
        w if (w.starts_with('i') || w.starts_with('u'))
            && w.len() > 1
            && w[1..].chars().all(|c| c.is_ascii_digit()) =>
        {
            "một số nguyên"
        }
        "f32" | "f64" => "một số",
        "a string" => "một chuỗi trong ngoặc kép",
        "a boolean" => "true hoặc false",
        "a sequence" => "một danh sách [ … ]",
        "a TOML datetime" => "một ngày viết liền, không ngoặc kép, ví dụ 2022-12-15",
        w if w.starts_with("struct") || w.starts_with("a map") || w.contains("table") => {
            "một bảng các khóa"
        }
        _ => "giá trị khác",
    }
}

fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for FileError {}

/// Every problem found in one or more files, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileErrors(pub Vec<FileError>);

impl fmt::Display for FileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FileErrors {}

impl From<FileError> for FileErrors {
    fn from(e: FileError) -> Self {
        FileErrors(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_toml_readers_english_becomes_vietnamese() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: Option<i64>,
            d: Option<toml::value::Datetime>,
            s: Option<String>,
            v: Option<Vec<i64>>,
            b: Option<bool>,
        }
        let path = Path::new("r.toml");
        for src in [
            "a b = 1",
            "a = ",
            "s = \"x",
            "a = 1\na = 2",
            "[x",
            "d = 2022-13-01",
            "v = [1, 2",
            "a = {b = 1",
            "b = tru",
            "a = 1x",
            "s = 'x",
            "= 1",
            "a = 1 b = 2",
            "d = \"2022\"",
            "a = \"x\"",
            "s = 1",
            "v = 1",
            "b = \"yes\"",
            "a = 1.5",
            "é = 1",
            "a = 99999999999999999999",
            "s = \"\\q\"",
        ] {
            let err = toml::from_str::<T>(src).unwrap_err();
            let said = FileError::from_toml(path, src, &err).message;
            const ENGLISH: [&str; 16] = [
                "invalid",
                "expected",
                "string",
                "value",
                "values",
                "key",
                "type",
                "unclosed",
                "duplicate",
                "quoted",
                "integer",
                "sequence",
                "boolean",
                "datetime",
                "escaped",
                "unexpected",
            ];
            let english: Vec<&str> = said
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| ENGLISH.contains(&w.to_lowercase().as_str()))
                .collect();
            assert!(english.is_empty(), "{src:?}: {said} ({english:?})");
        }
        let err = toml::from_str::<T>("d = \"2022\"").unwrap_err();
        let said = FileError::from_toml(path, "", &err).message;
        assert!(said.contains("2022-12-15"), "{said}");
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 9), (2, 3));
    }
}
