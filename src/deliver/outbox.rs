//! The outbox folder: with no mail server configured, each letter is an
//! `.eml` file there, written whole under a temporary name and renamed.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub(super) fn write_outbox(
    outbox: &Path,
    stem: &str,
    recipient: &str,
    bytes: &[u8],
) -> Result<PathBuf> {
    let path = outbox.join(format!("{stem}-{}.eml", ascii_slug(recipient)));
    let dir = path.parent().unwrap_or(outbox);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("tạo thư mục thư đi {}", dir.display()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("ghi {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("ghi {}", path.display()))?;
    Ok(path)
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
