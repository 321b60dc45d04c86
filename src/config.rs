//! What a process works with, loaded once and shared read-only: the
//! settings file and the rule book it names, checked against each other
//! (every unit's league is one the rules rank). The service and the portal
//! hold it behind an `Arc`; nothing changes it after it is loaded.

use crate::located::FileErrors;
use crate::rules::RuleBook;
use crate::settings::{PathOverrides, Settings};
use crate::validate::Context;
use std::path::Path;
use std::sync::Arc;

/// The settings and the rules.
#[derive(Debug)]
pub struct Config {
    pub settings: Settings,
    pub rules: RuleBook,
}

/// Why a configuration could not be used: every problem, located in its
/// file (the settings or a rule file).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(#[from] pub FileErrors);

impl Config {
    /// Reads the settings file and the rules it names.
    pub fn load(path: &Path, overrides: &PathOverrides) -> Result<Config, ConfigError> {
        Config::new(Settings::load(path, overrides)?)
    }

    /// `load`, with `beside` run on another thread meanwhile, given the
    /// data dir: the store is opened (on a first run, created, a dozen
    /// syncs to disk) while the rules are read, as neither needs the
    /// other. A problem in the config is the one reported.
    pub fn load_beside<T: Send>(
        path: &Path,
        overrides: &PathOverrides,
        beside: impl FnOnce(&Path) -> T + Send,
    ) -> Result<(Config, T), ConfigError> {
        let settings = Settings::load(path, overrides)?;
        let data = settings.paths.data.clone();
        let (config, other) = std::thread::scope(|s| {
            let other = s.spawn(|| beside(&data));
            let config = Config::new(settings);
            let other = other
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (config, other)
        });
        Ok((config?, other))
    }

    /// Loads the rules these settings name and checks the two together.
    pub fn new(settings: Settings) -> Result<Config, ConfigError> {
        let rules = crate::rules::load_dir(&settings.rules_dir)?;
        let leagues = rules.league_codes();
        settings.check_leagues(leagues.iter().map(String::as_str))?;
        Ok(Config { settings, rules })
    }

    /// For sharing between tasks.
    pub fn shared(self) -> Arc<Config> {
        Arc::new(self)
    }

    /// What checking a workbook from the inbox needs to know.
    pub fn check_context(&self) -> Context<'_> {
        Context {
            units: &self.settings.units,
            expected_unit: None,
            expected_period: None,
            window_mode: self.settings.period.window,
            file_name: None,
            forms: &self.rules.forms,
        }
    }
}
