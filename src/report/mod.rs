//! Artifacts: the unit's workbook template, and the quarter's ranking
//! workbook, official PDF report and JSON results. Each writer is a function
//! from `Results` to bytes; `write_all` puts a version's files in place.

pub mod annotate;
pub mod json;
pub mod layout;
pub mod narrative;
pub mod pdf;
pub mod template;
pub mod xlsx;

pub use narrative::{Narrative, narrative_figures};

use crate::domain::Period;
use crate::rank::{LeagueTable, UnitResult};
use crate::rules::{Ruleset, TargetSet, TaskSet};
use crate::settings::Organisation;
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("không ghi được bảng tính: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("không tạo được báo cáo PDF: {0}")]
    Pdf(String),
    #[error("không tạo được JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("không ghi được {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A quarter's results: what every artifact is written from.
#[derive(Debug, Clone)]
pub struct Results {
    pub period: Period,
    pub window: (NaiveDate, NaiveDate),
    /// The report version (1, 2, …); 0 before it is assigned.
    pub version: i64,
    /// RFC 3339 time the version was first generated.
    pub generated_at: String,
    pub organisation: Organisation,
    pub ruleset: Ruleset,
    pub targets: Option<TargetSet>,
    pub tasks: Option<TaskSet>,
    /// The form in force: Form 06's columns the documents list.
    pub form: crate::domain::Form,
    /// The form file's digest, when the form is a rule file.
    pub form_digest: Option<String>,
    pub leagues: Vec<LeagueTable>,
}

/// A unit's name, marked "(*)" when its previous period is its
/// predecessors' figures (the footnote says which).
pub fn marked_name(u: &UnitResult) -> String {
    if u.compared_with.is_empty() {
        u.name.clone()
    } else {
        format!("{} (*)", u.name)
    }
}

/// The footnote of the ranking tables on units compared with their
/// predecessors, if any are.
pub fn merge_footnote(r: &Results) -> Option<String> {
    let merged: Vec<String> = r
        .units()
        .filter(|u| !u.compared_with.is_empty())
        .map(|u| format!("{} ({})", u.name, u.compared_with.join(", ")))
        .collect();
    (!merged.is_empty()).then(|| {
        format!(
            "(*) Đơn vị hình thành sau sắp xếp: hạng và điểm {} là của tổng số liệu các đơn vị tiền thân, chấm theo bộ chỉ số của kỳ đó — {}.",
            r.previous_word(),
            merged.join("; ")
        )
    })
}

impl Results {
    pub fn units(&self) -> impl Iterator<Item = &UnitResult> {
        self.leagues.iter().flat_map(|l| l.units.iter())
    }

    /// The identity of the inputs: results without version and time, and
    /// the rule files and organisation that shape the documents.
    pub fn digest(&self) -> Result<String, ReportError> {
        self.digest_of(&json::blank(self)?)
    }

    /// The digest from the results' text without version and time
    /// (`json::blank`, which `json::with_version` makes a version's file
    /// of).
    pub fn digest_of(&self, blank: &str) -> Result<String, ReportError> {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        hash.update(blank.as_bytes());
        hash.update(self.ruleset.digest.as_bytes());
        for d in [
            self.targets.as_ref().map(|t| &t.digest),
            self.tasks.as_ref().map(|t| &t.digest),
            self.form_digest.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            hash.update(d.as_bytes());
        }
        hash.update(serde_json::to_string(&self.organisation)?.as_bytes());
        Ok(hex::encode(hash.finalize()))
    }

    /// "quý trước" or "năm trước": what `previous` refers to.
    pub fn previous_word(&self) -> &'static str {
        match self.period {
            Period::Quarter { .. } => "quý trước",
            Period::Year { .. } => "năm trước",
        }
    }

    /// "bao-cao-2022-Q4.pdf" and the like.
    pub fn file_name(&self, stem: &str, ext: &str) -> String {
        format!("{stem}-{}.{ext}", self.period)
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Writes the version's three files into `dir/v<N>/` (kept for good) and
/// as the period's current files in `dir/`. Returns the current files.
/// The three are made at once, each on a thread of its own: the PDF's
/// layout is the longest and the others finish under it.
pub fn write_all(r: &Results, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    Ok(write_all_timed(r, dir, None, None)?.0)
}

/// How long each of the three took to make, side by side.
pub type Timings = Vec<(&'static str, std::time::Duration)>;

/// `write_all`, with how long each document took (they are made at once).
/// `json` is the results' JSON when the caller has it already (it is
/// what the store keeps of the version), `pdf_data` the PDF's template
/// data (`pdf::template_data` of `r`).
pub fn write_all_timed(
    r: &Results,
    dir: &Path,
    json: Option<String>,
    pdf_data: Option<serde_json::Value>,
) -> Result<(Vec<PathBuf>, Timings), ReportError> {
    use std::time::{Duration, Instant};
    let units = r.units().count();
    let spinner = crate::progress::spinner(units, &format!("Lập báo cáo ({units} đơn vị)"));
    let version_dir = dir.join(format!("v{}", r.version));
    // Each document is written into the version's folder by the thread
    // that made it, as soon as it is made (the workbook's bytes go to disk
    // while the PDF is still being laid out).
    let made = |name: String, f: &dyn Fn() -> Result<Vec<u8>, ReportError>| {
        let t = Instant::now();
        let bytes = f()?;
        let took = t.elapsed();
        let path = version_dir.join(&name);
        write_file(&path, &bytes)?;
        Ok::<_, ReportError>((name, took))
    };
    let (xlsx_made, pdf_made, json_made) = std::thread::scope(|s| {
        let xlsx = s.spawn(|| {
            yield_to_others();
            made(r.file_name("xep-hang", "xlsx"), &|| xlsx::write(r))
        });
        let pdf = s.spawn(|| {
            made(r.file_name("bao-cao", "pdf"), &|| match &pdf_data {
                Some(data) => pdf::write_data(data),
                None => pdf::write(r),
            })
        });
        let name = r.file_name("ket-qua", "json");
        let json = match json {
            Some(text) => {
                let path = version_dir.join(&name);
                write_file(&path, text.as_bytes()).map(|()| (name, Duration::ZERO))
            }
            None => made(name, &|| Ok(json::to_string(r)?.into_bytes())),
        };
        let join = |h: std::thread::ScopedJoinHandle<'_, Result<_, ReportError>>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        (join(xlsx), join(pdf), json)
    });
    drop(spinner);
    let ((xlsx_name, xt), (pdf_name, pt), (json_name, jt)) = (xlsx_made?, pdf_made?, json_made?);
    // The period's current files become this version's only once all
    // three are written: each is the version's file under a second name.
    let mut files = Vec::new();
    for name in [xlsx_name, pdf_name, json_name] {
        let current = dir.join(&name);
        link_or_copy(&version_dir.join(&name), &current)?;
        files.push(current);
    }
    Ok((files, vec![("· xlsx", xt), ("· pdf", pt), ("· json", jt)]))
}

/// Lowers the calling thread's priority. The workbook is made on one
/// thread while the PDF's layout runs on every core and its last step (the
/// PDF's bytes) on one: yielding to the layout, the workbook fills that
/// last step's idle core instead of delaying the layout. The thread ends
/// with its document, and its priority with it.
fn yield_to_others() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id; no memory is
    // shared with the call.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

/// Puts `from`'s file at `to` too, replacing what was there at once: a
/// hard link (no second copy of the bytes), or a copy where the file
/// system has none.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: to.to_path_buf(),
        source,
    };
    let tmp = to.with_extension("tmp");
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
        _ => {}
    }
    if std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp).map_err(io)?;
    }
    std::fs::rename(&tmp, to).map_err(io)
}

/// A report version as written: the results and the files.
#[derive(Debug)]
pub struct Publication {
    pub period: crate::domain::Period,
    pub version: i64,
    /// False when the inputs were unchanged and the existing version was rewritten.
    pub new_version: bool,
    pub dir: std::path::PathBuf,
    pub files: Vec<std::path::PathBuf>,
    pub results: Results,
}
