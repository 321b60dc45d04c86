//! ScoreCards → Ranking. Units are ranked within their league by rounded
//! total, highest first, by polars' competition ranking (equal totals share
//! a rank: 1, 2, 2, 4) and listed by code within a rank; units without an
//! accepted workbook come last, unranked.

use crate::domain::{LeagueCode, UnitCode};
use crate::score::{ScoreCard, TaskResult};
use chrono::{DateTime, FixedOffset, NaiveDate};
use polars::prelude::*;
use std::collections::BTreeMap;

/// How a unit's report for the period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OnTime,
    Late,
    Missing,
    Rejected,
}

/// A unit's total and rank in the previous period.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Previous {
    pub total: f64,
    pub rank: u32,
    /// The unit did not exist then: the figures are its predecessors'.
    pub merged: bool,
}

/// Everything the outputs say about one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitResult {
    pub code: UnitCode,
    pub name: String,
    pub league: LeagueCode,
    pub status: Status,
    pub received_at: Option<DateTime<FixedOffset>>,
    pub deadline: NaiveDate,
    /// Whole days after the deadline, for a late report.
    pub days_late: Option<i64>,
    pub card: Option<ScoreCard>,
    pub rank: Option<u32>,
    pub previous: Option<Previous>,
    pub tasks: Vec<TaskResult>,
    /// The accepted workbook's Form 06 rows.
    pub rows: Vec<crate::domain::Form06Row>,
    /// Findings of the workbook that counts (or of the last rejected one).
    pub findings: Vec<crate::domain::Finding>,
    /// Remarks on the unit's figures, e.g. a quarter missing from a year.
    pub notes: Vec<String>,
    /// The predecessors (by name) whose figures the previous period's
    /// total and rank are made of, for a unit that did not exist then.
    pub compared_with: Vec<String>,
}

/// One league's table, in ranking order.
#[derive(Debug, Clone, PartialEq)]
pub struct LeagueTable {
    pub code: String,
    pub label: String,
    pub units: Vec<UnitResult>,
}

/// Competition ranks ("1224") of totals within leagues, computed by polars
/// over all units at once. `None` totals are not ranked.
pub fn competition_ranks(
    leagues: &[String],
    totals: &[Option<f64>],
) -> Result<Vec<Option<u32>>, PolarsError> {
    if totals.is_empty() {
        return Ok(Vec::new());
    }
    let df = DataFrame::new(
        totals.len(),
        vec![
            Column::new("league".into(), leagues.to_vec()),
            Column::new("total".into(), totals.to_vec()),
        ],
    )?;
    let rank = col("total")
        .rank(
            RankOptions {
                method: RankMethod::Min,
                descending: true,
            },
            None,
        )
        .over([col("league")])?;
    let out = df
        .lazy()
        .select([rank.cast(DataType::UInt32).alias("rank")])
        .collect()?;
    let ranks = out.column("rank")?.u32()?.clone();
    Ok((0..ranks.len()).map(|i| ranks.get(i)).collect())
}

/// Orders units into league tables: ranked by rank then code, then the
/// unranked by code.
pub fn league_tables(
    mut units: Vec<UnitResult>,
    leagues: &[(String, String)],
) -> Result<Vec<LeagueTable>, PolarsError> {
    let league_codes: Vec<String> = units.iter().map(|u| u.league.0.clone()).collect();
    let totals: Vec<Option<f64>> = units
        .iter()
        .map(|u| u.card.as_ref().map(|c| c.total))
        .collect();
    let ranks = competition_ranks(&league_codes, &totals)?;
    for (u, r) in units.iter_mut().zip(ranks) {
        u.rank = if u.card.is_some() { r } else { None };
    }
    let mut by_league: BTreeMap<String, Vec<UnitResult>> = BTreeMap::new();
    for u in units {
        by_league.entry(u.league.0.clone()).or_default().push(u);
    }
    let mut out = Vec::new();
    for (code, label) in leagues {
        let mut list = by_league.remove(code).unwrap_or_default();
        list.sort_by(|a, b| {
            let key = |u: &UnitResult| (u.rank.is_none(), u.rank.unwrap_or(u32::MAX));
            key(a).cmp(&key(b)).then_with(|| a.code.cmp(&b.code))
        });
        out.push(LeagueTable {
            code: code.clone(),
            label: label.clone(),
            units: list,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_totals_share_a_rank_and_the_next_rank_is_skipped() {
        let l = vec!["xa".to_string(); 4];
        let r = competition_ranks(&l, &[Some(90.0), Some(80.0), Some(95.5), Some(80.0)]).unwrap();
        assert_eq!(r, vec![Some(2), Some(3), Some(1), Some(3)]);
    }

    #[test]
    fn leagues_are_ranked_apart_and_unscored_units_are_unranked() {
        let l: Vec<String> = ["xa", "co_quan", "xa", "co_quan"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = competition_ranks(&l, &[Some(70.0), Some(60.0), None, Some(65.0)]).unwrap();
        assert_eq!(r[0], Some(1));
        assert_eq!(r[1], Some(2));
        assert_eq!(r[3], Some(1));
    }
}
