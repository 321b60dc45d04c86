//! The rule files as tthc holds them once loaded and checked: leagues,
//! groups, criteria and how each one measures and scores, bands, targets and
//! the plan's tasks, each file with the quarters it is in force for.

use super::expr::CompiledExpr;
use crate::domain::Period;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A league: units ranked together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct League {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// The least rounded total of the band.
    pub min: f64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub code: String,
    pub label: String,
}

/// What a criterion measures.
#[derive(Debug, Clone)]
pub enum Measure {
    Ratio {
        numerator: CompiledExpr,
        denominator: CompiledExpr,
    },
    Value(CompiledExpr),
}

/// What to do when a ratio's denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroPolicy {
    /// Full points: nothing to do was done perfectly.
    Full,
    /// No points.
    Zero,
    /// Not applicable: the criterion leaves the scale.
    Exclude,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepBound {
    AtMost(f64),
    AtLeast(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub bound: StepBound,
    pub points: f64,
}

/// How a ratio or value becomes points.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `points × ratio`.
    Linear,
    /// Full points at or above the target, else `points × ratio / target`.
    Target {
        target: f64,
        by_league: BTreeMap<String, f64>,
    },
    /// The first step whose bound holds gives its points, else `otherwise`.
    Steps { steps: Vec<Step>, otherwise: f64 },
}

impl Shape {
    pub fn describe(&self) -> String {
        match self {
            Shape::Linear => "tuyến tính".into(),
            Shape::Target { target, by_league } if by_league.is_empty() => {
                format!("mục tiêu {target}")
            }
            Shape::Target { target, by_league } => {
                let per: Vec<String> = by_league.iter().map(|(l, t)| format!("{l}: {t}")).collect();
                format!("mục tiêu {target} ({})", per.join(", "))
            }
            Shape::Steps { steps, otherwise } => {
                let parts: Vec<String> = steps
                    .iter()
                    .map(|s| match s.bound {
                        StepBound::AtMost(x) => format!("≤ {x} → {}", s.points),
                        StepBound::AtLeast(x) => format!("≥ {x} → {}", s.points),
                    })
                    .collect();
                format!("bậc: {}, còn lại → {otherwise}", parts.join("; "))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Criterion {
    pub code: String,
    pub label: String,
    pub group: String,
    pub measure: Measure,
    pub points: f64,
    pub shape: Shape,
    pub zero_denominator: ZeroPolicy,
    /// The leagues it measures; empty for every league.
    pub leagues: Vec<String>,
    /// What a unit of another league gets.
    pub elsewhere: Elsewhere,
}

/// What a criterion that measures only some leagues gives the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elsewhere {
    /// Its full points, as the national portal does for a "province only"
    /// indicator at a commune.
    Full,
    /// Nothing: it leaves the unit's scale, like a zero denominator with
    /// `exclude`.
    Exclude,
}

impl Criterion {
    /// Whether it measures a unit of this league.
    pub fn measures(&self, league: &str) -> bool {
        self.leagues.is_empty() || self.leagues.iter().any(|l| l == league)
    }
}

/// A scoring ruleset.
#[derive(Debug, Clone)]
pub struct Ruleset {
    pub file: PathBuf,
    pub name: String,
    pub version: String,
    pub effective: (Period, Option<Period>),
    pub late_penalty: f64,
    pub leagues: Vec<League>,
    pub bands: Vec<Band>,
    pub groups: Vec<Group>,
    pub criteria: Vec<Criterion>,
    /// SHA-256 of the file's text: part of a report version's identity.
    pub digest: String,
}

impl Ruleset {
    pub fn league_label(&self, code: &str) -> String {
        self.leagues
            .iter()
            .find(|l| l.code == code)
            .map(|l| l.label.clone())
            .unwrap_or_else(|| code.to_string())
    }

    pub fn group_label(&self, code: &str) -> String {
        self.groups
            .iter()
            .find(|g| g.code == code)
            .map(|g| g.label.clone())
            .unwrap_or_else(|| code.to_string())
    }

    /// The band of a rounded total: the first band whose minimum it reaches.
    pub fn band_for(&self, total: f64) -> String {
        self.bands
            .iter()
            .find(|b| total >= b.min)
            .map(|b| b.label.clone())
            .unwrap_or_default()
    }

    /// Maximum points of a group.
    pub fn group_points(&self, group: &str) -> f64 {
        self.criteria
            .iter()
            .filter(|c| c.group == group)
            .map(|c| c.points)
            .sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum Comparison {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "=")]
    Equal,
}

impl Comparison {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= threshold,
            Comparison::Above => value > threshold,
            Comparison::AtMost => value <= threshold,
            Comparison::Below => value < threshold,
            Comparison::Equal => (value - threshold).abs() < 1e-9,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::Above => ">",
            Comparison::AtMost => "≤",
            Comparison::Below => "<",
            Comparison::Equal => "=",
        }
    }
}

/// A pass/fail compliance check.
#[derive(Debug, Clone)]
pub struct Target {
    pub code: String,
    pub label: String,
    pub expression: CompiledExpr,
    pub comparison: Comparison,
    pub threshold: f64,
    pub by_league: BTreeMap<String, f64>,
    /// Show the value and threshold as percentages.
    pub percent: bool,
}

impl Target {
    pub fn threshold_for(&self, league: &str) -> f64 {
        self.by_league
            .get(league)
            .copied()
            .unwrap_or(self.threshold)
    }
}

#[derive(Debug, Clone)]
pub struct TargetSet {
    pub file: PathBuf,
    pub name: String,
    pub version: String,
    pub effective: (Period, Option<Period>),
    pub targets: Vec<Target>,
    pub digest: String,
}

/// When a task is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Date(NaiveDate),
    /// Due again every quarter, by the end of the quarter's window.
    Quarterly,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub code: String,
    pub content: String,
    pub leagues: Vec<String>,
    pub due: Due,
}

#[derive(Debug, Clone)]
pub struct TaskSet {
    pub file: PathBuf,
    pub name: String,
    pub version: String,
    pub effective: (Period, Option<Period>),
    pub tasks: Vec<Task>,
    pub digest: String,
}

pub use crate::domain::FormFile;

pub use crate::domain::in_force;
