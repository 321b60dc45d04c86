//! The one place that knows the order of the stages, each in a file:
//! the inbox and its register (`inbox`), where each unit stands for a
//! period (`standing`), the period's scored and ranked results
//! (`results`) and the report version written from them (`publish`).
//! Every stage takes the shared configuration and a store connection and
//! returns plain data; sending what was written is the caller's next step
//! (`deliver`), not the pipeline's.

mod inbox;
mod publish;
mod results;
mod standing;

pub use inbox::{REGISTER_FILE, Register, ingest};
pub use publish::{latest, publish};
pub use results::{history, places_over, results};
pub use standing::status;

use crate::domain::{Finding, Period};
pub use crate::report::Publication;

/// What an ingest did.
#[derive(Debug, Default)]
pub struct IngestSummary {
    pub seen: usize,
    pub new: usize,
    pub accepted: usize,
    /// (file, unit if known, findings) of the newly rejected files.
    pub rejected: Vec<(String, Option<String>, Vec<Finding>)>,
    /// The ids of the submissions recorded by this ingest.
    pub recorded: Vec<i64>,
    /// Bytes of workbook read.
    pub bytes: u64,
    /// What the office should know about this read beyond each file's
    /// findings: register lines that match no file, or several.
    pub warnings: Vec<String>,
    /// How long each step took, for the benchmark.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Why the pipeline would not make or send a report: the person asking
/// has something to do first.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("không có dữ liệu cho {0}")]
    NoData(Period),
    #[error("chưa có báo cáo {} nào: chạy tthc run --period {} trước", .0.label_vi(), .0)]
    NoVersion(Period),
    #[error(
        "dữ liệu {} đã thay đổi từ phiên bản {version}: chạy tthc run --period {period} để lập phiên bản mới rồi gửi",
        period.label_vi()
    )]
    Changed { period: Period, version: i64 },
}
