//! A unit's upload, apart from HTTP: what name it may be shown under,
//! whether it is a spreadsheet at all, the unit's quota, and accepting it
//! — checked and archived side by side with other uploads, then committed
//! to SQLite before it is acknowledged.

use crate::config::Config;
use crate::domain::{Finding, Period, Unit};
use crate::settings::Settings;
use crate::store::{NewSubmission, Store, StoredSubmission};
use crate::validate::{Checked, Context, check_bytes};
use anyhow::{Result, anyhow};
use chrono::{DateTime, FixedOffset, Utc};

/// Whether the bytes are a spreadsheet container at all: a zip (xlsx, ods)
/// or an OLE compound file (xls). What they hold is checked after.
pub fn looks_like_spreadsheet(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Characters that reorder the text around them (bidirectional embeddings,
/// overrides and isolates, and the marks): in a file name they can make
/// "hsoa.xlsx" show as "hs.xlsx" + hidden text, so they are dropped.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The client's file name as it may be shown: the last part of any path,
/// without control or bidirectional-control characters, at most 120
/// characters. Never used to name a stored file (those are named by their
/// hash).
pub fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(120)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() {
        "bao-cao.xlsx".into()
    } else {
        clean
    }
}

/// An upload checked and archived, not yet recorded.
#[derive(Debug)]
pub struct Prepared {
    pub checked: Checked,
    sha: String,
    path: std::path::PathBuf,
    size: u64,
}

/// Checks a unit's upload for `period` and archives it (synced, under its
/// hash). Needs no store connection, so uploads are checked side by side.
pub fn prepare_upload(
    cfg: &Config,
    unit: &Unit,
    period: Period,
    file_name: &str,
    bytes: &[u8],
) -> Result<Prepared> {
    let s = &cfg.settings;
    let checked = check_bytes(
        bytes,
        &Context {
            expected_unit: Some(&unit.code.0),
            expected_period: Some(period),
            file_name: Some(file_name),
            ..cfg.check_context()
        },
    );
    let sha = crate::domain::sha256_hex(bytes);
    let root = crate::store::archive_root_of(&s.paths.data);
    let path = crate::store::archive_write(&root, &sha, bytes)?;
    Ok(Prepared {
        checked,
        sha,
        path,
        size: bytes.len() as u64,
    })
}

/// Why one more upload of `size` bytes from `unit` for `period` is over
/// the unit's quota (`[web] upload_quota_files`, `upload_quota_mb`), if it is.
pub fn over_quota(
    s: &Settings,
    store: &Store,
    unit: &str,
    period: Period,
    size: u64,
) -> Result<Option<String>> {
    let web = &s.web;
    let (files, bytes) = store.portal_uploads(unit, &period.to_string())?;
    let mb = |b: u64| (b as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0;
    if files < web.upload_quota_files && bytes + size <= web.upload_quota_bytes {
        return Ok(None);
    }
    let limits = format!(
        "mỗi đơn vị gửi tối đa {} tệp, tổng {} MB cho một kỳ",
        web.upload_quota_files,
        mb(web.upload_quota_bytes)
    );
    let why = if files >= web.upload_quota_files {
        format!(
            "Đơn vị đã gửi {files} tệp cho {}: {limits}. Nếu thật sự cần gửi thêm, liên hệ văn phòng.",
            period.label_vi()
        )
    } else {
        format!(
            "Đơn vị đã gửi {} MB cho {}, thêm tệp này ({} MB) sẽ vượt giới hạn: {limits}. Nếu thật sự cần gửi thêm, liên hệ văn phòng.",
            mb(bytes),
            period.label_vi(),
            mb(size)
        )
    };
    Ok(Some(why))
}

/// Commits a prepared upload to SQLite; only when this returns is the
/// upload received. The uploader is known, so the upload counts for that
/// unit even when the file names another (that is one of its findings).
pub fn record_upload(
    s: &Settings,
    store: &Store,
    unit: &Unit,
    period: Period,
    file_name: &str,
    prepared: &Prepared,
    now: DateTime<Utc>,
) -> Result<i64> {
    let checked = &prepared.checked;
    let received_at: DateTime<FixedOffset> = now.with_timezone(&s.time_zone()).fixed_offset();
    let day = received_at.with_timezone(&s.time_zone()).date_naive();
    let receipt = s
        .receipt_owed(unit, Some(period), day)
        .then(|| (unit.email.clone(), s.channel()));
    let (findings_json, content_json) = checked.stored_json()?;
    let record = NewSubmission {
        submission: StoredSubmission {
            id: 0,
            sha256: prepared.sha.clone(),
            source: format!("web:{}", unit.code),
            file_name: file_name.to_string(),
            unit: Some(unit.code.0.clone()),
            period: Some(period.to_string()),
            received_at,
            accepted: checked.accepted(),
            findings_json,
            content_json,
        },
        size: prepared.size,
        archived_at: prepared.path.clone(),
        receipt,
    };
    store
        .record_submissions(std::slice::from_ref(&record))?
        .first()
        .copied()
        .ok_or_else(|| anyhow!("không ghi được lần gửi"))
}

/// Whether a stored submission belongs to `unit` (a portal upload is
/// recorded for its uploader, whatever the file says).
pub fn belongs_to(s: &StoredSubmission, unit: &str) -> bool {
    s.unit.as_deref() == Some(unit)
}

/// The findings a stored submission carries.
pub fn findings_of(s: &StoredSubmission) -> Vec<Finding> {
    serde_json::from_str(&s.findings_json).unwrap_or_default()
}

/// Findings as a person reads them: one per row and problem, with the
/// cells it covers. A subtotal row that is off in eleven columns is one
/// finding over eleven cells, not eleven findings.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingGroup {
    pub first: Finding,
    /// Every cell of the group, "C10", with the value found there.
    pub cells: Vec<(String, String)>,
}

pub fn grouped(findings: &[Finding]) -> Vec<FindingGroup> {
    let mut out: Vec<FindingGroup> = Vec::new();
    for f in findings {
        let key = |g: &Finding| {
            (
                g.severity,
                g.code.clone(),
                g.cell.as_ref().map(|c| (c.sheet.clone(), c.row)),
            )
        };
        let cell = f
            .cell
            .as_ref()
            .map(|c| (c.a1(), f.value.clone().unwrap_or_default()));
        match out
            .iter_mut()
            .find(|g| f.cell.is_some() && key(&g.first) == key(f))
        {
            Some(g) => g.cells.extend(cell),
            None => out.push(FindingGroup {
                first: f.clone(),
                cells: cell.into_iter().collect(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_of_one_row_and_problem_are_one_group_over_their_cells() {
        use crate::domain::CellRef;
        let off = |col: u32| {
            Finding::error(
                "tong_phu_lech",
                Some(CellRef::new("Biểu 06", 14, col)),
                Some(col.to_string()),
                format!("cột {col} lệch"),
            )
        };
        let other_row = Finding::error(
            "tong_phu_lech",
            Some(CellRef::new("Biểu 06", 20, 2)),
            None,
            "dòng khác",
        );
        let whole = Finding::error("thieu_sheet", None, None, "không có sheet");
        let again = Finding::error("thieu_sheet", None, None, "không có sheet khác");
        let groups = grouped(&[off(2), off(3), off(4), other_row, whole, again]);
        assert_eq!(groups.len(), 4, "{groups:?}");
        assert_eq!(
            groups[0].cells,
            [
                ("C15".to_string(), "2".to_string()),
                ("D15".into(), "3".into()),
                ("E15".into(), "4".into())
            ]
        );
        assert_eq!(groups[0].first.message, "cột 2 lệch");
        assert_eq!(groups[1].cells.len(), 1);
    }

    #[test]
    fn a_shown_file_name_has_no_path_no_controls_and_no_reordering_characters() {
        assert_eq!(display_name("C:\\Users\\a\\bao-cao.xlsx"), "bao-cao.xlsx");
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        // "bao-cao-\u{202E}xslx.exe" shows as "bao-cao-exe.xlsx" in a browser.
        assert_eq!(display_name("bao-cao-\u{202E}xslx.exe"), "bao-cao-xslx.exe");
        let every: String = ('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200E}', '\u{200F}', '\u{061C}', '\u{7}'])
            .collect();
        assert_eq!(display_name(&format!("Xã{every}01.xlsx")), "Xã01.xlsx");
        assert_eq!(display_name("\u{202E}"), "bao-cao.xlsx");
    }
}
