//! The report to the province: one letter per recipient, with the
//! version's workbook and PDF attached, through the ledger.

use super::{Batch, ClaimMode, Letter, Outcome, deliver, in_round, report_message};
use crate::config::Config;
use crate::domain::LedgerKey;
use crate::report::Publication;
use crate::store::Store;
use anyhow::{Context, Result};
use std::path::Path;

/// Delivers a report version to every recipient that does not have it yet
/// (with `ClaimMode::Manual` also those it failed to reach; with
/// `ClaimMode::Force` to all, as a new copy with its own Message-ID).
pub fn deliver_report(
    cfg: &Config,
    store: &Store,
    publication: &Publication,
    mode: ClaimMode,
) -> Result<Vec<Outcome>> {
    let r = &publication.results;
    in_round(cfg, store, || {
        let attachments: Vec<(String, Vec<u8>)> = publication
            .files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "xlsx" || e == "pdf"))
            .map(|p| {
                Ok((
                    file_name(p),
                    std::fs::read(p).with_context(|| format!("đọc {}", p.display()))?,
                ))
            })
            .collect::<Result<_>>()?;
        let letters = cfg
            .settings
            .delivery
            .recipients
            .iter()
            .map(|recipient| {
                let (message, message_id) = report_message(
                    &cfg.settings,
                    r,
                    recipient,
                    &attachments,
                    mode == ClaimMode::Force,
                )?;
                Ok(Letter {
                    recipient: recipient.clone(),
                    message,
                    message_id,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let batch = Batch::new(
            LedgerKey::Report {
                period: r.period,
                version: r.version,
            },
            format!("bao-cao-{}-v{}", r.period, r.version),
            format!("báo cáo {} (phiên bản {})", r.period.label_vi(), r.version),
            true,
        );
        deliver(cfg, store, &batch, letters, mode)
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}
