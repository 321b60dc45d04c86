//! A new year's rule files started from the year before: each file in force
//! at the end of the last year copied with its dates moved — in force for
//! the new year's four quarters, version `YEAR.1`, "năm 2025" in names and
//! contents made "năm 2026", the plan's due dates a year on — its comments
//! kept, and a first line saying where it came from, for the office to
//! review before it is used.

use super::load::RuleBook;
use crate::domain::Period;
use chrono::Datelike as _;
use std::path::{Path, PathBuf};

/// The end of the lines a new file starts with.
const HEADER_END: &str = "ba dòng này.";

/// A file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile {
    /// The file it was made from.
    pub from: PathBuf,
    /// Where it goes (beside its source).
    pub path: PathBuf,
    pub text: String,
}

/// Why a new year cannot be started.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NewYearError {
    #[error("không có tệp quy tắc nào có hiệu lực cho {}: không có gì để chép sang năm {year}", .last.label_vi())]
    NothingInForce { last: Period, year: i32 },
}

/// The files of `year`, made from those in force for the last quarter of
/// the year before. A kind that already has a file in force in `year` is
/// left alone (said in `kept`), as is a file with no end date: it is in
/// force in `year` already.
pub fn plan(book: &RuleBook, year: i32) -> Result<Plan, NewYearError> {
    let last = Period::quarter(year - 1, 4);
    let first = Period::quarter(year, 1);
    let mut plan = Plan::default();
    let form = |p: Period| book.form_file_for(p);
    let sources: [(Option<(&PathBuf, bool)>, bool); 4] = [
        (
            form(last).map(|f| (&f.file, f.effective.1.is_none())),
            form(first).is_some(),
        ),
        (
            book.ruleset_for(last)
                .map(|r| (&r.file, r.effective.1.is_none())),
            book.ruleset_for(first).is_some(),
        ),
        (
            book.targets_for(last)
                .map(|r| (&r.file, r.effective.1.is_none())),
            book.targets_for(first).is_some(),
        ),
        (
            book.tasks_for(last)
                .map(|r| (&r.file, r.effective.1.is_none())),
            book.tasks_for(first).is_some(),
        ),
    ];
    if sources.iter().all(|(s, _)| s.is_none()) {
        return Err(NewYearError::NothingInForce { last, year });
    }
    for (source, already) in sources {
        let Some((file, open)) = source else { continue };
        if already || open {
            plan.kept.push(file.clone());
            continue;
        }
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        plan.files.push(NewFile {
            from: file.clone(),
            path: file.with_file_name(file_name(file, year)),
            text: moved(&text, file, year - 1, year),
        });
    }
    Ok(plan)
}

/// What `plan` decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub files: Vec<NewFile>,
    /// Files that already cover the new year, left as they are.
    pub kept: Vec<PathBuf>,
}

/// `chi-so-2025.toml` → `chi-so-2026.toml` (a file that covered several
/// years, `bieu-mau-2022.toml`, → `bieu-mau-2026.toml`); a name without a
/// year gets it added.
fn file_name(path: &Path, to: i32) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let bytes = stem.as_bytes();
    let year_at = (0..bytes.len().saturating_sub(3)).rev().find(|&i| {
        bytes[i..i + 4].iter().all(u8::is_ascii_digit)
            && (i == 0 || !bytes[i - 1].is_ascii_digit())
            && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit())
            && matches!(&stem[i..i + 2], "19" | "20")
    });
    let stem = match year_at {
        Some(i) => format!("{}{to}{}", &stem[..i], &stem[i + 4..]),
        None => format!("{stem}-{to}"),
    };
    format!("{stem}.toml")
}

/// The text of a rule file moved from year `from` to year `to`.
fn moved(text: &str, source: &Path, from: i32, to: i32) -> String {
    let source_name = source
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut out = format!(
        "# Lập từ {source_name} bằng `tthc rules new-year {to}`: hiệu lực, phiên bản, năm trong\n\
         # tên và nội dung, và hạn nhiệm vụ đã dời sang năm {to}. Xem lại mục tiêu, chỉ\n\
         # tiêu và nhiệm vụ theo kế hoạch năm {to} trước khi dùng, rồi xóa {HEADER_END}\n"
    );
    let (old, new) = (from.to_string(), to.to_string());
    // A file made this way and not yet reviewed: its own such lines go.
    let body = match text.find(HEADER_END) {
        Some(i) if text.starts_with("# Lập từ ") => {
            text[i..].split_once('\n').map_or("", |(_, r)| r)
        }
        _ => text,
    };
    for line in body.lines() {
        let t = line.trim_start();
        let key = t.split('=').next().unwrap_or_default().trim();
        let moved_line = if t.starts_with('#') {
            // A comment speaks of the plan's year as "năm 2025"; other
            // years (a decision's) are left as they are.
            line.replace(&format!("năm {old}"), &format!("năm {new}"))
        } else if !t.contains('=') {
            line.to_string()
        } else {
            match key {
                "effective_from" => format!("effective_from = \"{to}-Q1\""),
                "effective_to" => format!("effective_to = \"{to}-Q4\""),
                "version" => format!("version = \"{to}.1\""),
                "name" => replace_year(line, &old, &new),
                "content" | "label" => line.replace(&format!("năm {old}"), &format!("năm {new}")),
                "due" => move_date(line, from, to),
                _ => line.to_string(),
            }
        };
        out.push_str(&moved_line);
        out.push('\n');
    }
    out
}

/// The year as a word of its own (not inside a longer number) replaced.
fn replace_year(line: &str, old: &str, new: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(old) {
        let before = rest[..i].chars().last();
        let after = rest[i + old.len()..].chars().next();
        let alone = !before.is_some_and(|c| c.is_ascii_digit())
            && !after.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..i]);
        out.push_str(if alone { new } else { old });
        rest = &rest[i + old.len()..];
    }
    out.push_str(rest);
    out
}

/// `due = 2025-01-10` a year on (29 February becomes the 28th); a due
/// date of another year, or `"quarterly"`, moves by the same years.
fn move_date(line: &str, from: i32, to: i32) -> String {
    let Some((key, value)) = line.split_once('=') else {
        return line.to_string();
    };
    let v = value.trim();
    let Ok(d) = chrono::NaiveDate::parse_from_str(v.get(..10).unwrap_or(v), "%Y-%m-%d") else {
        return line.to_string();
    };
    let years = to - from;
    let moved = d
        .with_year(chrono::Datelike::year(&d) + years)
        .or_else(|| chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&d) + years, 2, 28))
        .unwrap_or(d);
    format!(
        "{key}= {}{}",
        moved.format("%Y-%m-%d"),
        &v[10.min(v.len())..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_moved_a_year_on_with_its_comments_and_only_its_own_year_changed() {
        let src = "# Kế hoạch năm 2025, theo Quyết định 766/QĐ-TTg (2022)\n\
                   kind = \"tasks\"\n\
                   name = \"Nhiệm vụ năm 2025 (bản 12025)\"\n\
                   version = \"2025.3\"\n\
                   effective_from = \"2025-Q3\"\n\
                   effective_to = \"2025-Q4\"\n\
                   [[tasks]]\n\
                   code = \"NV1\"\n\
                   content = \"Ban hành kế hoạch năm 2025\"\n\
                   leagues = [\"xa\"]\n\
                   due = 2024-02-29\n\
                   [[tasks]]\n\
                   code = \"NV2\"\n\
                   content = \"Báo cáo hằng quý\"\n\
                   leagues = [\"xa\"]\n\
                   due = \"quarterly\"\n";
        let out = moved(src, Path::new("rules/nhiem-vu-2025.toml"), 2025, 2026);
        assert!(out.starts_with("# Lập từ nhiem-vu-2025.toml bằng `tthc rules new-year 2026`"));
        // Moved again before it was reviewed: one such header, not two.
        let again = moved(&out, Path::new("rules/nhiem-vu-2026.toml"), 2026, 2027);
        assert_eq!(again.matches("# Lập từ").count(), 1, "{again}");
        assert!(again.starts_with("# Lập từ nhiem-vu-2026.toml"));
        assert!(again.contains("# Kế hoạch năm 2027, theo Quyết định 766/QĐ-TTg (2022)\n"));
        assert!(
            out.contains("# Kế hoạch năm 2026, theo Quyết định 766/QĐ-TTg (2022)\n"),
            "comments kept, the plan's year moved, a decision's year not: {out}"
        );
        assert!(
            out.contains("name = \"Nhiệm vụ năm 2026 (bản 12025)\"\n"),
            "{out}"
        );
        assert!(out.contains("version = \"2026.1\"\n"));
        assert!(out.contains("effective_from = \"2026-Q1\"\neffective_to = \"2026-Q4\"\n"));
        assert!(out.contains("content = \"Ban hành kế hoạch năm 2026\"\n"));
        assert!(
            out.contains("due = 2025-02-28\n"),
            "29 February a year on: {out}"
        );
        assert!(out.contains("due = \"quarterly\"\n"));
        assert_eq!(
            file_name(Path::new("rules/nhiem-vu-2025.toml"), 2026),
            "nhiem-vu-2026.toml"
        );
        assert_eq!(
            file_name(Path::new("rules/bieu-mau-2022.toml"), 2026),
            "bieu-mau-2026.toml"
        );
        assert_eq!(
            file_name(Path::new("rules/chi-so.toml"), 2026),
            "chi-so-2026.toml"
        );
    }
}
