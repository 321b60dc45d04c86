use chrono::NaiveDate;
use serde::Deserialize;
use std::fmt;

/// A unit's stable code from the registry, e.g. `TRUCHUNG`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct UnitCode(pub String);

/// A league's code from the ruleset, e.g. `co_quan` or `xa`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct LeagueCode(pub String);

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for LeagueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reporting unit as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub league: LeagueCode,
    pub email: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub successor: Option<UnitCode>,
}

impl Unit {
    /// Whether the unit existed at some point of the window.
    pub fn active_during(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= to) && self.valid_to.is_none_or(|t| t >= from)
    }
}
