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
            format!("giá trị không hợp lệ: {detail}")
        };
        FileError::at(path, source, err.span(), message)
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
    fn offsets_become_lines_and_columns() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 9), (2, 3));
    }
}
