//! Where a unit stands for a period, from the store's submissions: on
//! time, late, rejected or missing, with the accepted figures; for a year,
//! the quarters combined as the rules of the year say.

use crate::config::Config;
use crate::domain::{Finding, Period, Submission, Unit, combine_year, merge_units};
use crate::rank::Status;
use crate::store::{Store, StoredSubmission};
use anyhow::{Context as _, Result};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::collections::HashMap;

/// A quarter's submissions in order of unit, each unit's in the order
/// they were received: a unit's are found without going through the
/// others' (at thousands of units, going through all of them for each was
/// quadratic).
#[derive(Default)]
pub(super) struct ByUnit(Vec<StoredSubmission>);

impl ByUnit {
    pub fn new(mut list: Vec<StoredSubmission>) -> ByUnit {
        // Stable: each unit's keep the order received.
        list.sort_by(|a, b| a.unit.cmp(&b.unit));
        ByUnit(list)
    }

    /// The submissions of the unit `code`, in the order received.
    pub fn of(&self, code: &str) -> &[StoredSubmission] {
        let from = self.0.partition_point(|s| s.unit.as_deref() < Some(code));
        let len = self.0[from..].partition_point(|s| s.unit.as_deref() == Some(code));
        &self.0[from..from + len]
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The quarters' submissions, by quarter and unit.
pub(super) type Received = HashMap<Period, ByUnit>;

/// What the store holds for `quarters`.
pub(super) fn received(
    store: &Store,
    quarters: impl IntoIterator<Item = Period>,
) -> Result<Received> {
    quarters
        .into_iter()
        .map(|q| Ok((q, ByUnit::new(store.submissions_for(&q.to_string())?))))
        .collect()
}

/// The submissions of `unit` for `quarter`.
pub(super) fn of<'a>(stored: &'a Received, unit: &Unit, quarter: Period) -> &'a [StoredSubmission] {
    stored
        .get(&quarter)
        .map(|l| l.of(&unit.code.0))
        .unwrap_or_default()
}

/// Where a unit stands for a period.
pub(super) struct Standing {
    pub status: Status,
    pub received_at: Option<DateTime<FixedOffset>>,
    pub deadline: NaiveDate,
    pub days_late: Option<i64>,
    pub findings: Vec<Finding>,
    pub submission: Option<Submission>,
    pub notes: Vec<String>,
}

/// Whether a unit reported a quarter on time, late, only rejected
/// workbooks or nothing, from the quarter's stored submissions.
pub fn status(
    cfg: &Config,
    unit: &Unit,
    quarter: Period,
    stored: &[StoredSubmission],
) -> Result<Status> {
    Ok(standing(cfg, unit, quarter, stored)?.status)
}

/// Where a unit stands for one quarter, from the store's submissions
/// (`stored`: the quarter's, or only the unit's).
pub(super) fn standing(
    cfg: &Config,
    unit: &Unit,
    quarter: Period,
    stored: &[StoredSubmission],
) -> Result<Standing> {
    let mine: Vec<&StoredSubmission> = stored
        .iter()
        .filter(|s| s.unit.as_deref() == Some(unit.code.0.as_str()))
        .collect();
    let deadline = cfg.settings.deadline(unit, quarter);
    let accepted = mine.iter().rev().find(|s| s.accepted);
    let tz = cfg.settings.time_zone();
    let (status, received_at, days_late) = match (accepted, mine.last()) {
        (Some(s), _) => {
            let local = s.received_at.with_timezone(&tz).date_naive();
            let late = local > deadline;
            let status = if late { Status::Late } else { Status::OnTime };
            (
                status,
                Some(s.received_at),
                late.then(|| (local - deadline).num_days()),
            )
        }
        (None, Some(s)) => (Status::Rejected, Some(s.received_at), None),
        (None, None) => (Status::Missing, None, None),
    };
    let shown = accepted.or(mine.last());
    let findings: Vec<Finding> = shown
        .map(|s| serde_json::from_str(&s.findings_json))
        .transpose()?
        .unwrap_or_default();
    let submission: Option<Submission> = accepted
        .map(|s| {
            serde_json::from_str(s.content_json.as_deref().unwrap_or("null"))
                .with_context(|| format!("đọc lại bài nộp {} của {}", s.file_name, unit.code))
        })
        .transpose()?;
    Ok(Standing {
        status,
        received_at,
        deadline,
        days_late,
        findings,
        submission,
        notes: Vec::new(),
    })
}

/// A unit's year from its quarters: figures combined as the spec says,
/// the year's status from its quarters, and notes on what is missing or
/// does not carry over.
pub(super) fn year_standing(
    cfg: &Config,
    unit: &Unit,
    year: i32,
    stored: &Received,
) -> Result<Standing> {
    let mut quarters = Vec::new();
    let mut notes = Vec::new();
    for q in (Period::Year { year }).quarters() {
        let (_, to) = q.window(cfg.settings.period.window);
        if !unit.reports_at(to) {
            // A quarter before the unit existed counts with its
            // predecessors' figures added up, where it has predecessors.
            match merged(cfg, unit, q, stored, 0)? {
                Some(m) if m.missing.is_empty() => {
                    notes.push(format!(
                        "{}: số liệu là tổng của các đơn vị tiền thân ({}).",
                        q.label_vi(),
                        m.names.join(", ")
                    ));
                    quarters.push((
                        q,
                        Standing {
                            status: Status::OnTime,
                            received_at: None,
                            deadline: cfg.settings.deadline(unit, q),
                            days_late: None,
                            findings: Vec::new(),
                            submission: Some(m.submission),
                            notes: Vec::new(),
                        },
                    ));
                }
                Some(m) => notes.push(format!(
                    "{}: chưa có báo cáo hợp lệ của đơn vị tiền thân {}; điểm năm tính trên các quý còn lại.",
                    q.label_vi(),
                    m.missing.join(", ")
                )),
                None => {}
            }
            continue;
        }
        let st = standing(cfg, unit, q, of(stored, unit, q))?;
        if st.submission.is_none() {
            notes.push(format!(
                "Không có báo cáo hợp lệ {}: điểm năm tính trên các quý còn lại.",
                q.label_vi()
            ));
        }
        quarters.push((q, st));
    }
    let accepted: Vec<(Period, &Submission)> = quarters
        .iter()
        .filter_map(|(q, st)| st.submission.as_ref().map(|s| (*q, s)))
        .collect();
    let (submission, mut carry) = match accepted.as_slice() {
        [] => (None, Vec::new()),
        list => {
            let form = cfg.rules.form_in_force(Period::quarter(year, 4));
            let (s, n) = combine_year(list, form);
            (Some(s), n)
        }
    };
    notes.append(&mut carry);
    let any = |s: Status| quarters.iter().any(|(_, st)| st.status == s);
    let status = match &submission {
        Some(_) if any(Status::Late) => Status::Late,
        Some(_) => Status::OnTime,
        None if any(Status::Rejected) => Status::Rejected,
        None => Status::Missing,
    };
    let last = quarters.last();
    Ok(Standing {
        status,
        received_at: quarters.iter().filter_map(|(_, st)| st.received_at).max(),
        deadline: last
            .map(|(_, st)| st.deadline)
            .unwrap_or_else(|| cfg.settings.deadline(unit, Period::quarter(year, 4))),
        days_late: quarters
            .iter()
            .filter_map(|(_, st)| st.days_late)
            .reduce(|a, b| a + b),
        findings: quarters
            .iter()
            .flat_map(|(_, st)| st.findings.iter().cloned())
            .collect(),
        submission,
        notes,
    })
}

/// A unit's figures for a period before it existed, from its predecessors.
pub(super) struct Merged {
    pub submission: Submission,
    /// The predecessors whose figures are added up, by name.
    pub names: Vec<String>,
    /// Those with no accepted figures for the period: the sum is then not
    /// the merged unit's and is not compared with.
    pub missing: Vec<String>,
}

/// The figures of `unit`'s predecessors for `period`, added up: each
/// predecessor's own where it reported the period, or its own
/// predecessors' for a merge of merges. `None` for a unit without
/// predecessors.
pub(super) fn merged(
    cfg: &Config,
    unit: &Unit,
    period: Period,
    stored: &Received,
    depth: u8,
) -> Result<Option<Merged>> {
    let before = cfg.settings.units.predecessors(&unit.code);
    if before.is_empty() || depth > 8 {
        return Ok(None);
    }
    let (_, end) = period.window(cfg.settings.period.window);
    let mut subs = Vec::new();
    let (mut names, mut missing) = (Vec::new(), Vec::new());
    for p in before {
        let own = match period {
            Period::Year { year } if p.reports_at(end) => {
                year_standing(cfg, p, year, stored)?.submission
            }
            Period::Quarter { .. } if p.reports_at(end) => {
                standing(cfg, p, period, of(stored, p, period))?.submission
            }
            _ => None,
        };
        match own {
            Some(s) => {
                subs.push(s);
                names.push(p.name.clone());
            }
            None => match merged(cfg, p, period, stored, depth + 1)? {
                Some(m) => {
                    subs.push(m.submission);
                    names.extend(m.names);
                    missing.extend(m.missing);
                }
                None => missing.push(p.name.clone()),
            },
        }
    }
    let form = cfg.rules.form_in_force(period);
    let parts: Vec<&Submission> = subs.iter().collect();
    Ok(Some(Merged {
        submission: merge_units(&unit.code.0, period, &parts, form),
        names,
        missing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(id: i64, unit: Option<&str>) -> StoredSubmission {
        StoredSubmission {
            id,
            sha256: String::new(),
            source: String::new(),
            file_name: format!("{id}.xlsx"),
            unit: unit.map(str::to_string),
            period: None,
            received_at: DateTime::parse_from_rfc3339("2022-12-10T08:00:00+07:00").unwrap(),
            accepted: true,
            findings_json: "[]".into(),
            content_json: None,
        }
    }

    #[test]
    fn a_units_submissions_are_all_of_its_own_in_the_order_received() {
        let list = ByUnit::new(vec![
            sub(1, Some("XA02")),
            sub(2, None),
            sub(3, Some("XA01")),
            sub(4, Some("XA02")),
            sub(5, Some("XA10")),
            sub(6, Some("XA02")),
        ]);
        let ids = |code: &str| list.of(code).iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids("XA02"), [1, 4, 6]);
        assert_eq!(ids("XA01"), [3]);
        assert_eq!(ids("XA10"), [5]);
        assert!(ids("XA03").is_empty());
        assert!(ids("").is_empty());
        assert!(ByUnit::default().of("XA01").is_empty());
    }
}
