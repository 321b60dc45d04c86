//! `tthc` scores and ranks the units that handle administrative procedures
//! (thủ tục hành chính) and reports the result to the province.
//!
//! ```text
//!  workbook ──intake──▶ RawWorkbook ──validate──▶ Submission + Findings
//!                                                      │
//!  rules/ ──rules──▶ Ruleset, Targets, Tasks           ▼
//!                              └──────────────▶ score ──▶ ScoreCards ──rank──▶ Ranking
//!                                                                                │
//!                    store (SQLite + archive) ◀── pipeline ──▶ report: xlsx, pdf, json ──▶ deliver
//! ```
//!
//! `pipeline` is the one place that knows the order of the stages.

pub mod cli;
pub mod deliver;
pub mod domain;
pub mod intake;
pub mod located;
pub mod pipeline;
pub mod rank;
pub mod report;
pub mod rules;
pub mod score;
pub mod settings;
pub mod store;
pub mod synth;
pub mod validate;
