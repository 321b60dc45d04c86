//! The integration tests: one binary, a module per feature, shared helpers.
//! They drive the real library and the real `tthc` binary on real files,
//! with temporary data and output folders.

mod architecture;
mod browser;
mod cli;
mod config;
mod corpus;
mod delivery;
mod delivery_faults;
mod desk;
mod forms;
mod golden;
mod intake;
mod jobs;
mod mail;
mod peer;
mod province;
mod registry;
mod reports;
mod rules;
mod sample_quarter;
mod scale;
mod scoring;
mod serve;
mod versions;
mod web;
mod year;

use std::path::{Path, PathBuf};
use tthc::config::Config;
use tthc::pipeline::IngestSummary;
use tthc::schedule::Ran;
use tthc::settings::{PathOverrides, Settings};
use tthc::store::{Pool, Pooled};

/// A configuration opened as the command line opens it: loaded once, with
/// a connection to its store; `run` and `ingest` do what `tthc run` and
/// `tthc ingest` do.
pub struct Opened {
    pub config: Config,
    pub store: Pooled,
}

impl Opened {
    pub fn open(settings: Settings) -> anyhow::Result<Opened> {
        let config = Config::new(settings)?;
        let store = Pool::open(&config.settings.paths.data)?.get()?;
        Ok(Opened { config, store })
    }

    pub fn run(&self, period: tthc::domain::Period) -> anyhow::Result<(IngestSummary, Ran)> {
        tthc::schedule::run_period(&self.config, &self.store, period)
    }

    pub fn ingest(&self) -> anyhow::Result<IngestSummary> {
        tthc::schedule::collect(&self.config, &self.store)
    }

    pub fn results(
        &self,
        period: tthc::domain::Period,
        with_previous: bool,
    ) -> anyhow::Result<Option<tthc::report::Results>> {
        tthc::pipeline::results(&self.config, &self.store, period, with_previous)
    }

    pub fn context(&self) -> tthc::validate::Context<'_> {
        self.config.check_context()
    }
}

impl std::ops::Deref for Opened {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.config
    }
}

impl std::ops::DerefMut for Opened {
    fn deref_mut(&mut self) -> &mut Config {
        &mut self.config
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample_config() -> PathBuf {
    repo().join("samples/truc-ninh/tthc.toml")
}

pub fn sample_inbox() -> PathBuf {
    repo().join("samples/truc-ninh/inbox")
}

/// The sample district with its outputs and data in a temporary folder.
pub fn sample_engine(tmp: &Path) -> Opened {
    sample_engine_with_inbox(tmp, &sample_inbox())
}

pub fn sample_engine_with_inbox(tmp: &Path, inbox: &Path) -> Opened {
    let overrides = PathOverrides {
        inbox: Some(inbox.to_path_buf()),
        data: Some(tmp.join("data")),
        output: Some(tmp.join("out")),
    };
    let settings = Settings::load(&sample_config(), &overrides).expect("the sample config loads");
    Opened::open(settings).expect("the sample opens")
}

/// What a workbook is checked against: these settings' units and
/// window, these rules' forms; no unit, period or file name expected.
pub fn context_of<'a>(
    s: &'a Settings,
    rules: &'a tthc::rules::RuleBook,
) -> tthc::validate::Context<'a> {
    tthc::validate::Context {
        units: &s.units,
        expected_unit: None,
        expected_period: None,
        window_mode: s.period.window,
        file_name: None,
        forms: &rules.forms,
    }
}

/// The finding of a check with this code; all of them shown if none has it.
pub fn finding<'a>(checked: &'a tthc::validate::Checked, code: &str) -> &'a tthc::domain::Finding {
    checked
        .findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} among {:?}", checked.findings))
}

/// The shipped form of 2022–2024 put in a folder of rule files: the
/// fields rule expressions may name come from it.
pub fn with_form(dir: &Path) {
    std::fs::copy(
        repo().join("rules/bieu-mau-2022.toml"),
        dir.join("bieu-mau-2022.toml"),
    )
    .unwrap();
}

/// The sample district's config, written in `dir` with its rules read
/// from `rules`; returns its path.
pub fn sample_config_with_rules(dir: &Path, rules: &Path) -> PathBuf {
    let config = std::fs::read_to_string(sample_config()).unwrap().replace(
        "dir = \"../../rules\"",
        &format!("dir = {:?}", rules.display().to_string()),
    );
    let path = dir.join("tthc.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Copies a folder tree (the sample inbox, to change a file in it).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// How many files in `dir` (not below) end in `.ext`.
pub fn count_files(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == ext)
        })
        .count()
}

/// Runs the `tthc` binary; returns (exit code, stdout, stderr).
pub fn tthc(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tthc"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("the tthc binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The text of a PDF, extracted as a reader's copy-paste would.
pub fn pdf_text(path: &Path) -> String {
    pdf_extract::extract_text(path).unwrap_or_else(|e| panic!("text of {}: {e}", path.display()))
}

pub fn pdf_pages(path: &Path) -> usize {
    lopdf::Document::load(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .get_pages()
        .len()
}
