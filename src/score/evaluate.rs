//! Scoring every unit of a period at once: the rules' expressions evaluated
//! by polars over one frame of all units' figures, then points, penalties,
//! totals and bands per unit.

use super::compliance::TargetResult;
use super::shape::{MeasureValue, criterion_points, round_half_away};
use super::{CriterionScore, ScoreCard};
use crate::rules::{Elsewhere, Measure, Ruleset, TargetSet};
use polars::prelude::*;
use std::collections::BTreeMap;

/// A unit to score: its league, its figures by field, and whether it was late.
#[derive(Debug, Clone)]
pub struct UnitInput {
    pub code: String,
    pub league: String,
    /// Form 06's totals and the indicators read; a field a rule names that
    /// is not here counts as 0.
    pub fields: BTreeMap<String, f64>,
    pub late: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("lỗi khi tính điểm bằng biểu thức quy tắc: {0}")]
pub struct ScoreError(#[from] PolarsError);

/// Evaluates named expressions over every unit at once; each result column
/// comes back as one `f64` per unit (NaN where the expression gave null).
fn evaluate(
    inputs: &[UnitInput],
    exprs: Vec<Expr>,
    fields: &[&str],
) -> Result<Vec<Vec<f64>>, ScoreError> {
    let columns: Vec<Column> = fields
        .iter()
        .map(|f| {
            let v: Vec<f64> = inputs
                .iter()
                .map(|u| u.fields.get(*f).copied().unwrap_or(0.0))
                .collect();
            Column::new((*f).into(), v)
        })
        .collect();
    let df = DataFrame::new(inputs.len(), columns)?;
    let out = df.lazy().select(exprs).collect()?;
    let mut result = Vec::with_capacity(out.width());
    for c in out.columns() {
        let c = c.cast(&DataType::Float64)?;
        let ca = c.f64()?;
        let mut v: Vec<f64> = (0..ca.len())
            .map(|i| ca.get(i).unwrap_or(f64::NAN))
            .collect();
        // A constant expression comes back as one value: spread it.
        if v.len() == 1 && inputs.len() > 1 {
            v = vec![v[0]; inputs.len()];
        }
        result.push(v);
    }
    Ok(result)
}

/// Scores every unit with a ruleset (and checks its targets).
pub fn score_units(
    inputs: &[UnitInput],
    rules: &Ruleset,
    targets: Option<&TargetSet>,
) -> Result<Vec<ScoreCard>, ScoreError> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let mut exprs = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut uses = |e: &crate::rules::CompiledExpr| {
        for f in &e.fields {
            if !fields.contains(f) {
                fields.push(f.clone());
            }
        }
        e.expr.clone()
    };
    for (i, c) in rules.criteria.iter().enumerate() {
        match &c.measure {
            Measure::Ratio {
                numerator,
                denominator,
            } => {
                exprs.push(uses(numerator).alias(format!("n{i}")));
                exprs.push(uses(denominator).alias(format!("d{i}")));
            }
            Measure::Value(v) => exprs.push(uses(v).alias(format!("v{i}"))),
        }
    }
    let target_list = targets.map(|t| t.targets.as_slice()).unwrap_or_default();
    for (j, t) in target_list.iter().enumerate() {
        exprs.push(uses(&t.expression).alias(format!("t{j}")));
    }
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let cols = evaluate(inputs, exprs, &fields)?;

    let mut cards = Vec::with_capacity(inputs.len());
    for (u, unit) in inputs.iter().enumerate() {
        let mut k = 0;
        let mut criteria = Vec::new();
        let mut groups: BTreeMap<String, f64> =
            rules.groups.iter().map(|g| (g.code.clone(), 0.0)).collect();
        let (mut got, mut possible) = (0.0, 0.0);
        for c in &rules.criteria {
            let (m, numerator, denominator) = match c.measure {
                Measure::Ratio { .. } => {
                    let (n, d) = (cols[k][u], cols[k + 1][u]);
                    k += 2;
                    (
                        MeasureValue::Ratio {
                            numerator: n,
                            denominator: d,
                        },
                        Some(n),
                        Some(d),
                    )
                }
                Measure::Value(_) => {
                    k += 1;
                    (MeasureValue::Value(cols[k - 1][u]), None, None)
                }
            };
            let measured = c.measures(&unit.league);
            let (numerator, denominator) = if measured {
                (numerator, denominator)
            } else {
                (None, None)
            };
            let (points, applicable, value) = if measured {
                criterion_points(&c.shape, c.points, c.zero_denominator, &unit.league, m)
            } else {
                match c.elsewhere {
                    Elsewhere::Full => (c.points, true, None),
                    Elsewhere::Exclude => (0.0, false, None),
                }
            };
            if applicable {
                got += points;
                possible += c.points;
                *groups.entry(c.group.clone()).or_default() += points;
            }
            criteria.push(CriterionScore {
                code: c.code.clone(),
                numerator,
                denominator,
                value,
                points,
                max_points: c.points,
                applicable,
            });
        }
        let scaled = if possible > 0.0 {
            100.0 * got / possible
        } else {
            0.0
        };
        let penalty = if unit.late {
            rules.late_penalty.min(scaled)
        } else {
            0.0
        };
        let total = round_half_away((scaled - penalty).max(0.0), 2);
        let targets = target_list
            .iter()
            .enumerate()
            .map(|(j, t)| {
                let value = cols[k + j][u];
                let threshold = t.threshold_for(&unit.league);
                TargetResult {
                    code: t.code.clone(),
                    value: value.is_finite().then_some(value),
                    threshold,
                    passed: value.is_finite() && t.comparison.holds(value, threshold),
                }
            })
            .collect();
        cards.push(ScoreCard {
            unit: unit.code.clone(),
            league: unit.league.clone(),
            criteria,
            groups,
            scaled,
            penalty,
            total,
            band: rules.band_for(total),
            targets,
        });
    }
    Ok(cards)
}
