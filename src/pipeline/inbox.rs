//! The inbox: every spreadsheet under the inbox folder not read before is
//! read, hashed, checked and archived in parallel, then recorded in one
//! transaction. When each arrived comes from the folder's register
//! (`so-nhan.csv`), else from the file's modification time.

use super::IngestSummary;
use crate::config::Config;
use crate::domain::sha256_hex;
use crate::store::{NewSubmission, Store, StoredSubmission};
use crate::validate::{Checked, Context, check_bytes_with};
use anyhow::{Context as _, Result, anyhow};
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The incoming-document register an inbox folder may carry.
pub const REGISTER_FILE: &str = "so-nhan.csv";

/// A file of the inbox, with when it arrived.
struct Listed {
    path: PathBuf,
    /// Its path under the inbox, as recorded.
    rel: String,
    /// Its file name, as findings name it.
    base: String,
    received_at: DateTime<FixedOffset>,
}

/// A file not read before, with its bytes and their hash.
struct Fresh {
    listed: Listed,
    bytes: Vec<u8>,
    sha: String,
}

/// Reads every spreadsheet in the inbox (any depth, any file name) that
/// was not read before, archives it and records what it holds. Files
/// are read, hashed, checked and archived in parallel, on every core;
/// then all new submissions are recorded in one transaction, so a crash
/// records all of them or none (and the next run reads them again).
pub fn ingest(cfg: &Config, store: &Store) -> Result<IngestSummary> {
    let mut summary = IngestSummary::default();
    if !cfg.settings.paths.inbox.exists() {
        return Ok(summary);
    }
    let started = Instant::now();
    let listed = list_inbox(cfg, &mut summary.warnings)?;
    summary.seen = listed.len();
    let fresh = read_new(store, listed, &mut summary)?;
    summary.new = fresh.len();
    summary
        .timings
        .push(("list, read, hash", started.elapsed()));
    let (checked, paths) = check_and_archive(cfg, store, &fresh, &mut summary.timings)?;
    let started = Instant::now();
    let batch = to_record(cfg, fresh, checked, paths, &mut summary)?;
    summary.recorded = store.record_submissions(&batch)?;
    summary.timings.push(("record (SQLite)", started.elapsed()));
    Ok(summary)
}

/// Every file of the inbox, in order, with when it arrived: from its
/// folder's register, else its modification time. The registers' lines
/// that match no file, or several, are warnings.
fn list_inbox(cfg: &Config, warnings: &mut Vec<String>) -> Result<Vec<Listed>> {
    let inbox = &cfg.settings.paths.inbox;
    let mut files = Vec::new();
    collect_files(inbox, &mut files)
        .with_context(|| format!("đọc thư mục nhận {}", inbox.display()))?;
    files.sort();
    let tz = cfg.settings.time_zone();
    let mut registers: BTreeMap<PathBuf, Register> = BTreeMap::new();
    let mut listed = Vec::with_capacity(files.len());
    for path in files {
        let dir = path.parent().unwrap_or(inbox).to_path_buf();
        if !registers.contains_key(&dir) {
            let reg = Register::read(&dir.join(REGISTER_FILE), tz)?;
            registers.insert(dir.clone(), reg);
        }
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let registered = registers.get_mut(&dir).and_then(|r| r.take(&base));
        let received_at = match registered {
            Some(t) => t,
            None => mtime(&path, tz)?,
        };
        let rel = path
            .strip_prefix(inbox)
            .unwrap_or(&path)
            .to_string_lossy()
            .to_string();
        listed.push(Listed {
            path,
            rel,
            base,
            received_at,
        });
    }
    for (dir, reg) in &registers {
        warnings.extend(reg.warnings(&dir.join(REGISTER_FILE)));
    }
    Ok(listed)
}

/// Reads and hashes every file (in parallel); keeps those not recorded
/// before.
fn read_new(store: &Store, listed: Vec<Listed>, summary: &mut IngestSummary) -> Result<Vec<Fresh>> {
    let read: Vec<Result<(Vec<u8>, String)>> = listed
        .par_iter()
        .map(|l| {
            let bytes =
                std::fs::read(&l.path).with_context(|| format!("đọc {}", l.path.display()))?;
            let sha = sha256_hex(&bytes);
            Ok((bytes, sha))
        })
        .collect();
    let mut fresh = Vec::new();
    for (listed, r) in listed.into_iter().zip(read) {
        let (bytes, sha) = r?;
        summary.bytes += bytes.len() as u64;
        if !store.has_submission(&sha, "inbox", &listed.rel, &listed.received_at)? {
            fresh.push(Fresh { listed, bytes, sha });
        }
    }
    Ok(fresh)
}

/// What a check found, with the JSON the store keeps of it (written by
/// the thread that checked the file).
struct Found {
    checked: Checked,
    findings_json: String,
    content_json: Option<String>,
}

/// Checks the new files on every core while another thread archives them:
/// checking is bound by the processor, archiving by waiting for the disk.
/// Returns what each check found and where each file is archived.
fn check_and_archive(
    cfg: &Config,
    store: &Store,
    fresh: &[Fresh],
    timings: &mut Vec<(&'static str, std::time::Duration)>,
) -> Result<(Vec<Found>, Vec<PathBuf>)> {
    let started = Instant::now();
    let archive = store.archive_root();
    let ctx = cfg.check_context();
    let words = ctx.form_words();
    let ((checked, checked_in), (paths, archived_in)) = std::thread::scope(|s| {
        let archiver = s.spawn(|| {
            let items: Vec<(&str, &[u8])> = fresh
                .iter()
                .map(|f| (f.sha.as_str(), f.bytes.as_slice()))
                .collect();
            let paths = crate::store::archive_write_all(&archive, &items);
            (paths, started.elapsed())
        });
        let bar = crate::progress::bar(fresh.len() as u64, "Kiểm tra tệp");
        let checked: Result<Vec<Found>> = fresh
            .par_iter()
            .map(|f| {
                let ctx = Context {
                    file_name: Some(&f.listed.base),
                    ..ctx
                };
                let checked = check_bytes_with(&f.bytes, &ctx, &words);
                let (findings_json, content_json) = checked.stored_json()?;
                let found = Found {
                    checked,
                    findings_json,
                    content_json,
                };
                bar.inc();
                Ok(found)
            })
            .collect();
        drop(bar);
        let checked_in = started.elapsed();
        let archived = archiver
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        ((checked, checked_in), archived)
    });
    // The stage lasts as long as the slower of the two; each is shown
    // too, marked "·" as part of the stage rather than a stage.
    timings.push(("check, archive", checked_in.max(archived_in)));
    timings.push(("· check", checked_in));
    timings.push(("· archive (fsync)", archived_in));
    Ok((checked?, paths?))
}

/// The rows to record for the new files, each with the receipt it is owed;
/// counts what was accepted and rejected.
fn to_record(
    cfg: &Config,
    fresh: Vec<Fresh>,
    checked: Vec<Found>,
    paths: Vec<PathBuf>,
    summary: &mut IngestSummary,
) -> Result<Vec<NewSubmission>> {
    let channel = cfg.settings.channel();
    let today = chrono::Utc::now()
        .with_timezone(&cfg.settings.time_zone())
        .date_naive();
    let mut batch = Vec::with_capacity(fresh.len());
    for ((f, found), path) in fresh.into_iter().zip(checked).zip(paths) {
        let Found {
            checked,
            findings_json,
            content_json,
        } = found;
        let receipt_to = checked
            .unit
            .as_deref()
            .and_then(|c| cfg.settings.unit(c))
            .filter(|u| cfg.settings.receipt_owed(u, checked.period, today))
            .map(|u| u.email.clone());
        if checked.accepted() {
            summary.accepted += 1;
        } else {
            summary.rejected.push((
                f.listed.rel.clone(),
                checked.unit.clone(),
                checked.findings.clone(),
            ));
        }
        batch.push(NewSubmission {
            submission: StoredSubmission {
                id: 0,
                sha256: f.sha,
                source: "inbox".into(),
                file_name: f.listed.rel,
                unit: checked.unit.clone(),
                period: checked.period.map(|p| p.to_string()),
                received_at: f.listed.received_at,
                accepted: checked.accepted(),
                findings_json,
                content_json,
            },
            size: f.bytes.len() as u64,
            archived_at: path,
            receipt: receipt_to.map(|to| (to, channel)),
        });
    }
    Ok(batch)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name == REGISTER_FILE {
            continue;
        }
        if entry.file_type()?.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn mtime(path: &Path, tz: chrono_tz::Tz) -> Result<DateTime<FixedOffset>> {
    let t = std::fs::metadata(path)?.modified()?;
    let utc: DateTime<chrono::Utc> = t.into();
    Ok(utc.with_timezone(&tz).fixed_offset())
}

/// An inbox folder's `so-nhan.csv`: when each file was received, by file
/// name. Names are compared through the project's text folding, so a name
/// written in NFD on disk (as a Mac writes it) matches the same name typed
/// in NFC in the register.
#[derive(Debug, Default)]
pub struct Register {
    /// Folded file name → the line that registers it.
    lines: HashMap<String, RegisterLine>,
    /// Lines naming a file an earlier line named (the later line counts).
    repeated: Vec<String>,
}

#[derive(Debug)]
struct RegisterLine {
    line: usize,
    name: String,
    at: DateTime<FixedOffset>,
    matched: usize,
}

impl Register {
    /// Reads the register: a header row, then file name and the time it
    /// was received ("2022-12-15 08:30" or "15/12/2022 08:30", local time).
    /// A folder without one has an empty register.
    pub fn read(path: &Path, tz: chrono_tz::Tz) -> Result<Register> {
        let mut out = Register::default();
        if !path.exists() {
            return Ok(out);
        }
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("mở sổ nhận {}", path.display()))?;
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.with_context(|| format!("{}: dòng {line}", path.display()))?;
            let (Some(name), Some(at)) = (rec.get(0), rec.get(1)) else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let at = parse_received_at(at.trim(), tz)
                .map_err(|why| anyhow!("{}: dòng {line}: {why}", path.display()))?;
            let key = crate::domain::fold(name);
            if let Some(earlier) = out.lines.get(&key) {
                out.repeated.push(format!(
                    "{}: dòng {line}: tệp \"{name}\" đã ghi ở dòng {}; dùng thời điểm của dòng {line}",
                    path.display(),
                    earlier.line
                ));
            }
            out.lines.insert(
                key,
                RegisterLine {
                    line,
                    name: name.to_string(),
                    at: at.fixed_offset(),
                    matched: 0,
                },
            );
        }
        Ok(out)
    }

    /// The time registered for this file name, if any; counts the match.
    pub fn take(&mut self, file_name: &str) -> Option<DateTime<FixedOffset>> {
        let line = self.lines.get_mut(&crate::domain::fold(file_name))?;
        line.matched += 1;
        Some(line.at)
    }

    /// A line that matched no file, or more than one, after the inbox was
    /// listed: said in the run's summary, since a unit's lateness then
    /// comes from the file's modification time or is shared.
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let mut lines: Vec<&RegisterLine> = self.lines.values().collect();
        lines.sort_by_key(|l| l.line);
        let mut out = self.repeated.clone();
        out.extend(lines.into_iter().filter_map(|l| match l.matched {
                1 => None,
                0 => Some(format!(
                    "{}: dòng {}: không có tệp nào tên \"{}\" trong thư mục",
                    path.display(),
                    l.line,
                    l.name
                )),
                n => Some(format!(
                    "{}: dòng {}: \"{}\" khớp {n} tệp trong thư mục; thời điểm nhận được dùng cho cả {n}",
                    path.display(),
                    l.line,
                    l.name
                )),
            }));
        out
    }
}

/// A register's time of receipt, local time, in one of the forms offices type.
fn parse_received_at(at: &str, tz: chrono_tz::Tz) -> Result<DateTime<chrono_tz::Tz>, String> {
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(at, f).ok())
    .ok_or_else(|| format!("thời điểm nhận \"{at}\" không đúng dạng \"2022-12-15 08:30\""))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| "thời điểm không tồn tại theo giờ địa phương".to_string())
}
