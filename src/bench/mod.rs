//! The benchmark: synthetic organisations of N units (reproducible from a
//! seed), and the whole quarter run on them, stage by stage, in a child
//! process each, so that peak memory is that of one run.
//!
//! `tthc bench` (run it from a release build) prints, per N and per stage,
//! the wall time, files and megabytes per second, and the peak resident
//! memory, with the floor: inflating and scanning the workbooks' XML and
//! nothing else, which any reader must at least do.

pub mod peer;
pub mod synth;

use crate::bench::synth::{Rng, profile, quarter_content, received_at, seed_of};
use crate::config::Config;
use crate::domain::{Period, Unit};
use crate::report;
use crate::rules::RuleBook;
use crate::settings::{PathOverrides, Settings};
use crate::store::Store;
use anyhow::{Context, Result, anyhow};
use chrono::Days;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The quarter every benchmark organisation reports.
pub const PERIOD: Period = Period::Quarter {
    year: 2022,
    quarter: 4,
};

const SYLLABLES: [&str; 20] = [
    "An", "Bình", "Hòa", "Phú", "Tân", "Thạnh", "Long", "Phước", "Hưng", "Thuận", "Đông", "Tây",
    "Nam", "Bắc", "Trung", "Mỹ", "Hải", "Sơn", "Thanh", "Quang",
];

const OFFICES: [&str; 12] = [
    "Văn phòng HĐND và UBND",
    "Phòng Nội vụ",
    "Phòng Tư pháp",
    "Phòng Tài chính - Kế hoạch",
    "Phòng Tài nguyên và Môi trường",
    "Phòng Lao động - Thương binh và Xã hội",
    "Phòng Văn hóa và Thông tin",
    "Phòng Giáo dục và Đào tạo",
    "Phòng Y tế",
    "Thanh tra",
    "Phòng Kinh tế và Hạ tầng",
    "Phòng Nông nghiệp và Phát triển nông thôn",
];

/// The config of an organisation of `n` units: one office in ten, the
/// rest communes, each with a distinct Vietnamese name.
fn config_text(n: usize, rules_dir: &Path) -> String {
    let offices = n.div_ceil(10).max(1);
    let mut t = format!(
        r#"# Tổ chức giả lập cho đo hiệu năng: {n} đơn vị.
[organisation]
name = "Ủy ban nhân dân tỉnh Thử Nghiệm"
superior = "Văn phòng Chính phủ"
place = "Thử Nghiệm"
document_prefix = "BC-UBND"
signer_on_behalf = "TM. ỦY BAN NHÂN DÂN"
signer_title = "CHỦ TỊCH"
signer_name = "Nguyễn Văn An"
email = "vanphong@thunghiem.gov.vn"
distribution = ["Văn phòng Chính phủ (để báo cáo)"]

[period]
window = "reporting"
deadline_days = {{ co_quan = 3, xa = 2 }}

[paths]
inbox = "inbox"
data = "data"
output = "out"

[rules]
dir = "{}"

[delivery]
from = "UBND tỉnh Thử Nghiệm <vanphong@thunghiem.gov.vn>"
recipients = ["kiemsoattthc@thunghiem.gov.vn"]
receipts = false
"#,
        rules_dir.display().to_string().replace('\\', "/")
    );
    for i in 0..n {
        let (code, name, kind) = if i < offices {
            let base = OFFICES[i % OFFICES.len()];
            let name = if i < OFFICES.len() {
                base.to_string()
            } else {
                format!("{base} (khu vực {})", i / OFFICES.len() + 1)
            };
            (format!("CQ{:04}", i + 1), name, "co_quan")
        } else {
            let k = i - offices;
            let a = SYLLABLES[k % 20];
            let b = SYLLABLES[(k / 20 + k % 7 + 1) % 20];
            let name = if k < 400 {
                format!("UBND xã {a} {b}")
            } else {
                format!("UBND xã {a} {b} {}", k / 400 + 1)
            };
            (format!("XA{:04}", k + 1), name, "xa")
        };
        let _ = write!(
            t,
            "\n[[units]]\ncode = \"{code}\"\nname = \"{name}\"\nkind = \"{kind}\"\nemail = \"{}@thunghiem.gov.vn\"\n",
            code.to_lowercase()
        );
    }
    t
}

/// Writes (once: it is kept and reused) the organisation of `n` units in
/// `dir`: its config, and one workbook per unit for the quarter in the
/// inbox, with the register of when each arrived. About 2 in 100 units are
/// late, 1 in 100 sends nothing and 1 in 100 has an arithmetic error.
pub fn generate_org(dir: &Path, n: usize, seed: u64, rules_dir: &Path) -> Result<PathBuf> {
    let cfg = dir.join("tthc.toml");
    let done = dir.join(".generated");
    if done.exists() && std::fs::read_to_string(&done)? == format!("{n} {seed}") {
        return Ok(cfg);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("xóa {}", dir.display()))?;
    }
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).with_context(|| format!("tạo {}", inbox.display()))?;
    std::fs::write(&cfg, config_text(n, rules_dir))?;
    let s = Settings::load(&cfg, &PathOverrides::default()).map_err(|e| anyhow!("{e}"))?;
    let rules = crate::rules::load_dir(&s.rules_dir).map_err(|e| anyhow!("{e}"))?;
    let (_, end) = PERIOD.window(s.period.window);
    let register: Vec<Option<String>> = s
        .units
        .par_iter()
        .map(|unit| write_unit(&s, &rules, unit, &inbox, end, seed))
        .collect::<Result<_>>()?;
    let mut csv = String::from("Tên tệp,Thời điểm nhận\n");
    for line in register.into_iter().flatten() {
        csv.push_str(&line);
    }
    std::fs::write(inbox.join(crate::pipeline::REGISTER_FILE), csv)?;
    std::fs::write(done, format!("{n} {seed}"))?;
    Ok(cfg)
}

fn write_unit(
    s: &Settings,
    rules: &RuleBook,
    unit: &Unit,
    inbox: &Path,
    end: chrono::NaiveDate,
    seed: u64,
) -> Result<Option<String>> {
    let mut rng = Rng::new(seed_of(&format!("bench{}", unit.code), seed));
    let roll = rng.range(0.0, 1.0);
    if roll < 0.01 {
        return Ok(None); // sends nothing
    }
    let p = profile(unit, seed);
    let mut content = quarter_content(unit, &p, PERIOD, &mut HashMap::new(), rules, s, seed);
    if roll < 0.02
        && let Some((_, Some(v))) = content.rows.get_mut(0)
    {
        v[2] += 3;
    }
    let bytes = report::template::write_workbook(&content).map_err(|e| anyhow!(e))?;
    let name = format!("{}-{PERIOD}.xlsx", unit.code);
    std::fs::write(inbox.join(&name), bytes)?;
    let deadline = end + Days::new(u64::from(s.deadline_days(&unit.league)));
    let late = (roll > 0.98).then(|| rng.int(1, 5) as u64);
    let at = received_at(&mut rng, end, deadline, late);
    Ok(Some(format!("{name},{}\n", at.format("%Y-%m-%d %H:%M"))))
}

/// One stage's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub seconds: f64,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFigures {
    pub units: usize,
    pub files: usize,
    pub bytes: u64,
    /// Inflating and scanning every workbook's XML, in parallel.
    pub floor_seconds: f64,
    pub stages: Vec<Stage>,
    /// From the process's start to the end of the last stage.
    pub process_seconds: f64,
    pub peak_rss_bytes: u64,
    pub pdf_pages: usize,
    /// The inbox read again with nothing new in it: what every later run
    /// of the day does before it scores.
    #[serde(default)]
    pub reread_seconds: f64,
    /// The report typeset once more with nothing else running and
    /// typst's caches empty. With the floor it bounds any run from below:
    /// the PDF cannot start before every file is read.
    #[serde(default)]
    pub pdf_alone_seconds: f64,
}

impl RunFigures {
    /// The least a run can take: the floor, then the report typeset alone.
    pub fn bound_seconds(&self) -> f64 {
        self.floor_seconds + self.pdf_alone_seconds
    }
}

/// The least any reader must do: every file read, every zip entry
/// inflated, every XML event scanned. Returns (files, bytes, time).
pub fn floor(inbox: &Path) -> Result<(usize, u64, Duration)> {
    let files: Vec<PathBuf> = std::fs::read_dir(inbox)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xlsx"))
        .collect();
    let start = Instant::now();
    let bytes: u64 = files
        .par_iter()
        .map(|p| -> Result<u64> {
            let raw = std::fs::read(p)?;
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&raw))?;
            let mut events = 0u64;
            for i in 0..zip.len() {
                let mut entry = zip.by_index(i)?;
                let mut xml = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut xml)?;
                let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
                let mut buf = Vec::new();
                loop {
                    match reader.read_event_into(&mut buf) {
                        Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                        Ok(_) => events += 1,
                    }
                    buf.clear();
                }
            }
            std::hint::black_box(events);
            Ok(raw.len() as u64)
        })
        .collect::<Result<Vec<u64>>>()?
        .into_iter()
        .sum();
    Ok((files.len(), bytes, start.elapsed()))
}

/// One measured run of the organisation of `n` units whose config is
/// `cfg`, in a child process of its own (`exe bench-run`).
pub fn measured_run(exe: &Path, cfg: &Path, n: usize) -> Result<RunFigures> {
    let out = std::process::Command::new(exe)
        .args(["bench-run", "--config"])
        .arg(cfg)
        .env("TTHC_LOG", "error")
        .output()
        .context("chạy lần đo")?;
    if !out.status.success() {
        return Err(anyhow!(
            "lần đo N = {n} thất bại:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).context("đọc kết quả lần đo")
}

/// Runs the whole quarter on an organisation, timing each stage: the
/// child side of `tthc bench`. The data and output folders are emptied
/// first, so every run reads every file.
pub fn run_once(cfg: &Path, started: Instant) -> Result<RunFigures> {
    let dir = cfg.parent().unwrap_or(Path::new("."));
    for sub in ["data", "out"] {
        let p = dir.join(sub);
        if p.exists() {
            std::fs::remove_dir_all(&p)?;
        }
    }
    let (files, bytes, floor_time) = floor(&dir.join("inbox"))?;
    let mut stages = Vec::new();
    let mut stage = |name: &str, d: Duration| {
        stages.push(Stage {
            name: name.to_string(),
            seconds: d.as_secs_f64(),
        })
    };
    let t = Instant::now();
    // As the command does: the rules read while the store is created.
    let (config, store) = Config::load_beside(cfg, &PathOverrides::default(), Store::open)
        .map_err(|e| anyhow!("{e}"))?;
    let store = store?;
    stage("config, rules, store", t.elapsed());
    let summary = crate::pipeline::ingest(&config, &store)?;
    for (name, d) in &summary.timings {
        stage(name, *d);
    }
    let t = Instant::now();
    let mut results = crate::pipeline::results(&config, &store, PERIOD, true)?
        .ok_or_else(|| anyhow!("không có dữ liệu"))?;
    results.version = 1;
    results.generated_at = "2022-12-20T08:00:00+07:00".into();
    stage("score, rank (polars)", t.elapsed());
    let out = dir.join("out");
    std::fs::create_dir_all(&out)?;
    let t = Instant::now();
    let (written, made) = report::write_all_timed(&results, &out, None, None)?;
    stage("xlsx, pdf, json (at once)", t.elapsed());
    for (name, d) in made {
        stage(name, d);
    }
    let pdf = written
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "pdf"))
        .map(std::fs::read)
        .transpose()?
        .unwrap_or_default();
    let pdf_pages = count_pages(&pdf);
    let process_seconds = started.elapsed().as_secs_f64();
    let peak_rss_bytes = peak_rss();
    let t = Instant::now();
    let again = crate::pipeline::ingest(&config, &store)?;
    let reread = t.elapsed();
    if again.new != 0 {
        return Err(anyhow!(
            "đọc lại hộp thư thấy {} tệp mới, lẽ ra không có",
            again.new
        ));
    }
    report::pdf::empty_caches();
    let t = Instant::now();
    report::pdf::write(&results)?;
    let pdf_alone = t.elapsed();
    Ok(RunFigures {
        units: config.settings.units.len(),
        files,
        bytes,
        floor_seconds: floor_time.as_secs_f64(),
        stages,
        process_seconds,
        peak_rss_bytes,
        pdf_pages,
        reread_seconds: reread.as_secs_f64(),
        pdf_alone_seconds: pdf_alone.as_secs_f64(),
    })
}

/// Pages of a PDF: its `/Type /Page` objects (not `/Pages`).
fn count_pages(pdf: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(at) = find(&pdf[i..], b"/Type") {
        let mut j = i + at + 5;
        while j < pdf.len() && pdf[j].is_ascii_whitespace() {
            j += 1;
        }
        if pdf[j..].starts_with(b"/Page") && !pdf[j + 5..].starts_with(b"s") {
            n += 1;
        }
        i = j;
    }
    n
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The process's peak resident memory (VmHWM), on Linux.
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Formats the figures of every N as the table `tthc bench` prints.
pub fn table(all: &[RunFigures]) -> String {
    let mut t = String::new();
    for f in all {
        let mb = f.bytes as f64 / 1e6;
        let _ = writeln!(
            t,
            "\nN = {} đơn vị: {} tệp, {:.1} MB, báo cáo PDF {} trang",
            f.units, f.files, mb, f.pdf_pages
        );
        let _ = writeln!(
            t,
            "  {:<24} {:>9} {:>10} {:>9}",
            "giai đoạn", "giây", "tệp/giây", "MB/giây"
        );
        let row = |t: &mut String, name: &str, secs: f64, per_file: bool| {
            let (fps, mbps) = if per_file && secs > 0.0 {
                (
                    format!("{:.0}", f.files as f64 / secs),
                    format!("{:.1}", mb / secs),
                )
            } else {
                ("".into(), "".into())
            };
            let _ = writeln!(t, "  {name:<24} {secs:>9.3} {fps:>10} {mbps:>9}");
        };
        row(&mut t, "(sàn: giải nén + quét XML)", f.floor_seconds, true);
        let mut sum = 0.0;
        for s in &f.stages {
            let part = s.name.starts_with('·');
            let per_file = part || s.name.starts_with("list") || s.name.starts_with("check");
            row(&mut t, &s.name, s.seconds, per_file);
            if !part {
                sum += s.seconds;
            }
        }
        let intake: f64 = f
            .stages
            .iter()
            .filter(|s| s.name.starts_with("list") || s.name.starts_with("check"))
            .map(|s| s.seconds)
            .sum();
        row(&mut t, "tổng các giai đoạn", sum, true);
        row(&mut t, "đọc lại, không tệp mới", f.reread_seconds, true);
        row(&mut t, "riêng PDF, máy rảnh", f.pdf_alone_seconds, false);
        let _ = writeln!(
            t,
            "  cả tiến trình: {:.3} s; bộ nhớ đỉnh: {:.0} MiB; đọc + kiểm tra = {:.1} × sàn; giới hạn dưới (sàn + riêng PDF): {:.3} s",
            f.process_seconds,
            f.peak_rss_bytes as f64 / (1024.0 * 1024.0),
            if f.floor_seconds > 0.0 {
                intake / f.floor_seconds
            } else {
                0.0
            },
            f.bound_seconds()
        );
    }
    t
}
