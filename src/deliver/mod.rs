//! Delivery of the quarter's report to the province. With no SMTP server
//! configured, each recipient's message is written as an `.eml` file to the
//! outbox folder. Every delivery is recorded per report version and
//! recipient, and a version already delivered to a recipient is not sent again.

mod message;

pub use message::{report_message, stable_message_id};

use crate::pipeline::Engine;
use crate::report::Results;
use crate::store::DeliveryRecord;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Delivers a report version to every recipient that does not have it yet;
/// returns the `.eml` files written.
pub fn deliver_report(engine: &Engine, r: &Results, files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let outbox = &engine.settings.paths.outbox;
    let period = r.period.to_string();
    let mut written = Vec::new();
    let attachments: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx" || e == "pdf"))
        .map(|p| {
            Ok((
                file_name(p),
                std::fs::read(p).with_context(|| format!("đọc {}", p.display()))?,
            ))
        })
        .collect::<Result<_>>()?;
    for recipient in &engine.settings.delivery.recipients {
        if engine
            .store
            .delivery_status(&period, r.version, recipient)?
            .is_some()
        {
            continue;
        }
        let (bytes, message_id) = report_message(&engine.settings, r, recipient, &attachments)?;
        std::fs::create_dir_all(outbox)
            .with_context(|| format!("tạo thư mục thư đi {}", outbox.display()))?;
        let path = outbox.join(format!(
            "bao-cao-{period}-v{}-{}.eml",
            r.version,
            ascii_slug(recipient)
        ));
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &bytes).with_context(|| format!("ghi {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("ghi {}", path.display()))?;
        engine.store.record_delivery(&DeliveryRecord {
            period: &period,
            version: r.version,
            recipient,
            channel: "outbox",
            status: "written",
            detail: &path.to_string_lossy(),
            message_id: &message_id,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// A file-name-safe ASCII form of an address.
fn ascii_slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
