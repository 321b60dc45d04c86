//! `tthc` scores and ranks the units that handle administrative procedures
//! (thủ tục hành chính) and reports the result to the province.
//!
//! ```text
//!  workbook ──intake──▶ RawWorkbook ──validate──▶ Checked (Submission + Findings)
//!                                                      │
//!  tthc.toml + rules/ ──config──▶ Config               ▼
//!    (Settings, RuleBook)            │          pipeline: inbox ─▶ store (SQLite + archive)
//!                                    │                    standing ─▶ results ──score──▶ rank
//!                                    └────────────▶       publish ──report──▶ xlsx, pdf, json
//!                                                              │
//!                                                         Publication
//!                                                              │
//!                        cli · schedule (jobs, worker) · web ──┴──▶ deliver ──▶ ledger, SMTP / outbox
//!                                   └──────── app: the service (lease, worker, scheduler, portal)
//! ```
//!
//! Below the line of stages, each module knows only those beneath it:
//! `domain` is the vocabulary; `intake` reads a workbook; `validate` checks
//! it; `rules` loads the rule files; `settings` the config file; `config`
//! is the two loaded together, shared read-only; `score` and `rank` turn
//! figures into points and places; `report` writes the outputs; `store`
//! keeps everything durable. `pipeline` is the one place that knows the
//! order of the stages and returns plain data (`Publication`); `deliver`
//! sends it through the ledger; `schedule` holds the jobs (what `tthc run`,
//! the service and the portal do); `web` is the portal; `words` says every
//! state for people; `app` wires the service; `cli` is the command line;
//! `bench` generates organisations and measures. No module imports one
//! that imports it back (a test checks it).

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
pub mod progress;
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
