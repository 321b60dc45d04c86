//! Findings: one thing wrong (an error, which refuses the workbook) or
//! doubtful (a warning) in a workbook, with its cell, the value found and
//! what to do, in Vietnamese.

use super::CellRef;
use std::fmt;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Rejects the workbook.
    Error,
    /// Kept and shown; the workbook is still accepted.
    Warning,
}

/// One thing found wrong (or doubtful) in a workbook.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: String,
    pub cell: Option<CellRef>,
    /// The value as seen in the file.
    pub value: Option<String>,
    /// A plain Vietnamese sentence: what is wrong and what to do.
    pub message: String,
}

impl Finding {
    pub fn error(
        code: &str,
        cell: Option<CellRef>,
        value: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Error,
            code: code.into(),
            cell,
            value,
            message: message.into(),
        }
    }

    pub fn warning(
        code: &str,
        cell: Option<CellRef>,
        value: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            code: code.into(),
            cell,
            value,
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "LỖI",
            Severity::Warning => "CẢNH BÁO",
        };
        write!(f, "{sev} [{}]", self.code)?;
        if let Some(c) = &self.cell {
            write!(f, " {c}")?;
        }
        if let Some(v) = &self.value {
            write!(f, " (giá trị: \"{v}\")")?;
        }
        write!(f, ": {}", self.message)
    }
}
