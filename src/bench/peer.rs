//! Side by side with the straightforward script: `tthc run` and
//! `scripts/peer_calamine.py` on the same generated organisation, each a
//! whole process, in pairs (one of each, in turn, so that a busy moment of
//! the machine falls on both), the median of each side reported with the
//! CPU time the process used.

use anyhow::{Context, Result, anyhow};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// One side's whole-process figures: wall and CPU seconds of each run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Side {
    pub wall: Vec<f64>,
    pub cpu: Vec<f64>,
}

impl Side {
    pub fn median_wall(&self) -> f64 {
        median(&self.wall)
    }

    pub fn median_cpu(&self) -> f64 {
        median(&self.cpu)
    }
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// The pairs of one organisation: tthc first, then the script.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pairs {
    pub units: usize,
    pub tthc: Side,
    pub script: Side,
    /// The least any run of tthc can take on these files: the floor, then
    /// the report typeset alone (`RunFigures::bound_seconds`).
    pub bound: Option<f64>,
}

impl Pairs {
    /// How many times faster tthc is, by the medians of the wall time.
    pub fn ratio(&self) -> f64 {
        self.script.median_wall() / self.tthc.median_wall()
    }
}

/// CPU seconds (user and system) of the children waited for so far.
fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) } != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

/// Runs a command to its end: its wall and CPU seconds.
fn timed(cmd: &mut Command, what: &str) -> Result<(f64, f64)> {
    let cpu = children_cpu();
    let t = Instant::now();
    let out = cmd.output().with_context(|| format!("chạy {what}"))?;
    let wall = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(anyhow!(
            "{what} thất bại:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((wall, children_cpu() - cpu))
}

/// `repeat` pairs on the organisation whose config is `cfg`, after one
/// pair that warms the file cache. tthc's data and output are emptied
/// before each run, so every run reads every file.
pub fn pairs(exe: &Path, cfg: &Path, script: &Path, units: usize, repeat: usize) -> Result<Pairs> {
    let dir = cfg.parent().unwrap_or(Path::new("."));
    let mut result = Pairs {
        units,
        tthc: Side::default(),
        script: Side::default(),
        bound: None,
    };
    for i in 0..=repeat.max(1) {
        for sub in ["data", "out"] {
            let p = dir.join(sub);
            if p.exists() {
                std::fs::remove_dir_all(&p)?;
            }
        }
        let (w, c) = timed(
            Command::new(exe)
                .args(["run", "--period", &super::PERIOD.to_string(), "--config"])
                .arg(cfg)
                .env("TTHC_LOG", "error"),
            "tthc run",
        )?;
        let (pw, pc) = timed(
            Command::new("python3").arg(script).arg(dir),
            "scripts/peer_calamine.py (cần: pip install python-calamine xlsxwriter typst)",
        )?;
        if i > 0 {
            result.tthc.wall.push(w);
            result.tthc.cpu.push(c);
            result.script.wall.push(pw);
            result.script.cpu.push(pc);
        }
    }
    Ok(result)
}

/// The side-by-side table.
pub fn table(all: &[Pairs]) -> String {
    let mut t = String::from(
        "\n| N | tthc run | CPU | the Python script | CPU | tthc is | at most (floor + PDF alone) |\n|---|---|---|---|---|---|---|\n",
    );
    for p in all {
        let r = p.ratio();
        let verdict = if r >= 1.0 {
            format!("{r:.1}× faster")
        } else {
            format!("{:.1}× slower", 1.0 / r)
        };
        let most = p.bound.map_or_else(
            || "—".to_string(),
            |b| format!("{b:.2} s, {:.1}×", p.script.median_wall() / b),
        );
        t.push_str(&format!(
            "| {} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {verdict} | {most} |\n",
            p.units,
            p.tthc.median_wall(),
            p.tthc.median_cpu(),
            p.script.median_wall(),
            p.script.median_cpu(),
        ));
    }
    t
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_gives_the_most_any_run_could_gain_beside_the_ratio() {
        let side = |w: &[f64]| super::Side {
            wall: w.to_vec(),
            cpu: w.to_vec(),
        };
        let mut p = super::Pairs {
            units: 350,
            tthc: side(&[0.2, 0.25, 0.3]),
            script: side(&[0.5, 0.6]),
            bound: Some(0.15),
        };
        let t = super::table(std::slice::from_ref(&p));
        assert!(t.contains("| 350 | 0.25 s |"), "{t}");
        assert!(t.contains("2.2× faster | 0.15 s, 3.7× |"), "{t}");
        p.bound = None;
        assert!(super::table(&[p]).contains("faster | — |"));
    }

    #[test]
    fn the_median_is_the_middle_run() {
        assert_eq!(super::median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
