//! (Submissions, Ruleset) → ScoreCards. Every rule expression is evaluated
//! by polars over all units at once; the shapes, the rescaling over
//! applicable criteria, the late penalty and the rounding are plain
//! arithmetic here, exactly as the rules say, and tested with plain values.

mod compliance;
mod evaluate;
mod shape;

pub use compliance::{TargetResult, TaskOutcome, TaskResult, evaluate_tasks};
pub use evaluate::{ScoreError, UnitInput, score_units};
pub use shape::{MeasureValue, criterion_points, round_half_away};

use std::collections::BTreeMap;

/// One criterion's outcome for one unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CriterionScore {
    pub code: String,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// The ratio (or the value, for value criteria) as measured, before clamping.
    pub value: Option<f64>,
    pub points: f64,
    pub max_points: f64,
    pub applicable: bool,
}

/// A unit's scores for a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreCard {
    pub unit: String,
    pub league: String,
    pub criteria: Vec<CriterionScore>,
    /// Points per group (not rescaled).
    pub groups: BTreeMap<String, f64>,
    /// 100 × points / points of the applicable criteria, before the penalty.
    pub scaled: f64,
    pub penalty: f64,
    /// Rounded half away from zero to 2 decimals.
    pub total: f64,
    pub band: String,
    pub targets: Vec<TargetResult>,
}
