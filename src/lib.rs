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

#[cfg(feature = "engine")]
pub mod app;
#[cfg(feature = "engine")]
pub mod bench;
#[cfg(feature = "engine")]
pub mod cli;
#[cfg(feature = "engine")]
pub mod config;
#[cfg(feature = "engine")]
pub mod deliver;
pub mod domain;
pub mod intake;
pub mod located;
#[cfg(feature = "engine")]
pub mod pipeline;
#[cfg(feature = "engine")]
pub mod rank;
#[cfg(feature = "engine")]
pub mod report;
#[cfg(feature = "engine")]
pub mod rules;
#[cfg(feature = "engine")]
pub mod schedule;
#[cfg(feature = "engine")]
pub mod score;
#[cfg(feature = "engine")]
pub mod settings;
#[cfg(feature = "engine")]
pub mod store;
pub mod validate;
#[cfg(feature = "engine")]
pub mod web;
#[cfg(feature = "engine")]
pub mod words;
