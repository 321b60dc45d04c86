//! What a unit reported for a quarter once it is accepted: Form 06's rows,
//! the indicators and the tasks; and a year made of its quarters.

use super::Period;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Form 06 figures, in the order of the submission's `columns`.
pub type Form06Values = Vec<i64>;

/// One lĩnh vực row of Form 06.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Form06Row {
    pub linh_vuc: String,
    pub values: Form06Values,
}

/// How the unit reports one of the plan's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Done,
    InProgress,
    NotStarted,
}

impl TaskStatus {
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Done => "Đã hoàn thành",
            TaskStatus::InProgress => "Đang thực hiện",
            TaskStatus::NotStarted => "Chưa thực hiện",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskReport {
    pub code: String,
    pub status: TaskStatus,
    pub done_on: Option<NaiveDate>,
    pub document: Option<String>,
}

/// A unit's checked quarterly workbook: everything scoring needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Submission {
    pub unit: String,
    pub period: Period,
    /// Form 06's column codes, in the order of each row's values: those of
    /// the form the workbook was checked against. (Submissions kept before
    /// forms were data have the columns of the 2022 form.)
    #[serde(default = "first_form_columns")]
    pub columns: Vec<String>,
    pub rows: Vec<Form06Row>,
    pub indicators: BTreeMap<String, f64>,
    pub tasks: Vec<TaskReport>,
    pub preparer: Option<String>,
    pub phone: Option<String>,
}

fn first_form_columns() -> Vec<String> {
    super::form_load::builtin().column_codes()
}

impl Submission {
    /// Form 06 totals: the sums over the rows, in the order of `columns`.
    pub fn totals(&self) -> Form06Values {
        let mut t = vec![0i64; self.columns.len()];
        for r in &self.rows {
            for (a, v) in t.iter_mut().zip(&r.values) {
                *a += v;
            }
        }
        t
    }

    /// A Form 06 column's total, by its code.
    pub fn total(&self, code: &str) -> Option<i64> {
        let i = self.columns.iter().position(|c| c == code)?;
        Some(self.rows.iter().filter_map(|r| r.values.get(i)).sum())
    }

    /// Every field a rule may use, by name: Form 06's totals and the
    /// indicators read.
    pub fn fields(&self) -> BTreeMap<String, f64> {
        let mut m: BTreeMap<String, f64> = self
            .columns
            .iter()
            .cloned()
            .zip(self.totals().into_iter().map(|v| v as f64))
            .collect();
        for (code, v) in &self.indicators {
            m.insert(code.clone(), *v);
        }
        m
    }
}

/// Combines a unit's quarters into its year: counts are added, except the
/// dossiers carried in (from the first quarter) and those pending (from the
/// last); totals (3) and (7) follow from their parts; the waiting time is
/// the mean weighted by dossiers received; a yes/no indicator is the last
/// quarter's. Returns the notes on carry-overs that do not match.
pub fn combine_year(
    quarters: &[(Period, &Submission)],
    form: &super::Form,
) -> (Submission, Vec<String>) {
    let (first_p, first) = quarters[0];
    let (_, last) = quarters[quarters.len() - 1];
    let key = |s: &str| super::fold(s);
    let mut order: Vec<String> = Vec::new();
    let mut rows: BTreeMap<String, Form06Row> = BTreeMap::new();
    // Form 06's columns as the form combines them: added up, the first
    // quarter's, the last quarter's, or the sum of their parts.
    let n = form.columns.len();
    let index = |code: &str| form.columns.iter().position(|c| c.code == code);
    // Where each of the form's columns is in a quarter's rows (a quarter
    // checked against another form may keep them in another order).
    let place = |s: &Submission| -> Vec<Option<usize>> {
        form.columns
            .iter()
            .map(|c| s.columns.iter().position(|x| *x == c.code))
            .collect()
    };
    let value = |r: &Form06Row, at: Option<usize>| at.and_then(|j| r.values.get(j)).copied();
    for (_, s) in quarters {
        let at = place(s);
        for r in &s.rows {
            let k = key(&r.linh_vuc);
            let e = rows.entry(k.clone()).or_insert_with(|| {
                order.push(k.clone());
                Form06Row {
                    linh_vuc: r.linh_vuc.clone(),
                    values: vec![0; n],
                }
            });
            for (i, c) in form.columns.iter().enumerate() {
                if c.year == super::YearRule::Sum {
                    e.values[i] += value(r, at[i]).unwrap_or(0);
                }
            }
        }
    }
    for (from, which) in [
        (first, super::YearRule::First),
        (last, super::YearRule::Last),
    ] {
        let at = place(from);
        for r in &from.rows {
            if let Some(e) = rows.get_mut(&key(&r.linh_vuc)) {
                for (i, c) in form.columns.iter().enumerate() {
                    if c.year == which {
                        e.values[i] = value(r, at[i]).unwrap_or(0);
                    }
                }
            }
        }
    }
    for e in rows.values_mut() {
        for (i, c) in form.columns.iter().enumerate() {
            if c.year != super::YearRule::FromParts {
                continue;
            }
            let parts: Vec<usize> = form
                .identities
                .iter()
                .find(|id| id.left == c.code)
                .map(|id| id.right.iter().filter_map(|r| index(r)).collect())
                .unwrap_or_default();
            e.values[i] = parts.iter().map(|&p| e.values[p]).sum();
        }
    }
    let mut indicators = BTreeMap::new();
    let fields: Vec<BTreeMap<String, f64>> = quarters.iter().map(|(_, s)| s.fields()).collect();
    for spec in &form.indicators {
        let reported = quarters
            .iter()
            .any(|(_, s)| s.indicators.contains_key(&spec.code));
        if !reported && !spec.leagues.is_empty() {
            // Not one this unit's league reports.
            continue;
        }
        let get = |s: &Submission| s.indicators.get(&spec.code).copied().unwrap_or(0.0);
        let v = match &spec.year {
            super::YearRule::MeanWeightedBy(field) => {
                let weights: Vec<f64> = fields
                    .iter()
                    .map(|f| f.get(field).copied().unwrap_or(0.0))
                    .collect();
                let w: f64 = weights.iter().sum();
                if w > 0.0 {
                    quarters
                        .iter()
                        .zip(&weights)
                        .map(|((_, s), w)| get(s) * w)
                        .sum::<f64>()
                        / w
                } else {
                    quarters.iter().map(|(_, s)| get(s)).sum::<f64>() / quarters.len() as f64
                }
            }
            super::YearRule::Last => get(last),
            super::YearRule::First => get(first),
            super::YearRule::Sum | super::YearRule::FromParts => {
                quarters.iter().map(|(_, s)| get(s)).sum()
            }
        };
        indicators.insert(spec.code.clone(), v);
    }
    let mut notes = Vec::new();
    for pair in quarters.windows(2) {
        let ((p, a), (q, b)) = (pair[0], pair[1]);
        if q != p.next() {
            continue;
        }
        let carry = form
            .columns
            .iter()
            .find_map(|c| Some((c.code.as_str(), c.carried_from.as_deref()?)));
        let Some((carried_col, pending_col)) = carry else {
            continue;
        };
        let (Some(pending), Some(carried)) = (a.total(pending_col), b.total(carried_col)) else {
            continue;
        };
        if pending != carried {
            notes.push(format!(
                "{}: số hồ sơ từ kỳ trước ({carried}) khác số hồ sơ đang giải quyết cuối {} ({pending}).",
                q.label_vi(),
                p.label_vi()
            ));
        }
    }
    let combined = Submission {
        unit: first.unit.clone(),
        period: Period::Year {
            year: first_p.year(),
        },
        columns: form.column_codes(),
        rows: order.into_iter().filter_map(|k| rows.remove(&k)).collect(),
        indicators,
        tasks: last.tasks.clone(),
        preparer: last.preparer.clone(),
        phone: last.phone.clone(),
    };
    (combined, notes)
}

/// The figures of units merged into one, for a quarter before the merge:
/// Form 06 added up lĩnh vực by lĩnh vực; counts added; a yes/no is yes
/// only where every unit says yes; minutes and ratios the mean weighted as
/// the form weights them over a year (dossiers received), a plain mean
/// where the weights are 0; each task as the least advanced unit has it.
pub fn merge_units(
    unit: &str,
    period: Period,
    parts: &[&Submission],
    form: &super::Form,
) -> Submission {
    let n = form.columns.len();
    let mut order: Vec<String> = Vec::new();
    let mut rows: BTreeMap<String, Form06Row> = BTreeMap::new();
    for s in parts {
        let at: Vec<Option<usize>> = form
            .columns
            .iter()
            .map(|c| s.columns.iter().position(|x| *x == c.code))
            .collect();
        for r in &s.rows {
            let k = super::fold(&r.linh_vuc);
            let e = rows.entry(k.clone()).or_insert_with(|| {
                order.push(k.clone());
                Form06Row {
                    linh_vuc: r.linh_vuc.clone(),
                    values: vec![0; n],
                }
            });
            for (i, j) in at.iter().enumerate() {
                e.values[i] += j.and_then(|j| r.values.get(j)).copied().unwrap_or(0);
            }
        }
    }
    let fields: Vec<BTreeMap<String, f64>> = parts.iter().map(|s| s.fields()).collect();
    let mut indicators = BTreeMap::new();
    let codes: std::collections::BTreeSet<&String> =
        parts.iter().flat_map(|s| s.indicators.keys()).collect();
    for code in codes {
        let values: Vec<(f64, &BTreeMap<String, f64>)> = parts
            .iter()
            .zip(&fields)
            .filter_map(|(s, f)| Some((*s.indicators.get(code)?, f)))
            .collect();
        let spec = form.indicator(code);
        let v = match spec.map(|i| (i.kind, &i.year)) {
            Some((super::IndicatorKind::YesNo, _)) => {
                values.iter().map(|(v, _)| *v).fold(f64::INFINITY, f64::min)
            }
            Some((
                super::IndicatorKind::Minutes | super::IndicatorKind::Ratio,
                super::YearRule::MeanWeightedBy(w),
            )) => {
                let total: f64 = values
                    .iter()
                    .map(|(_, f)| f.get(w).copied().unwrap_or(0.0))
                    .sum();
                if total > 0.0 {
                    values
                        .iter()
                        .map(|(v, f)| v * f.get(w).copied().unwrap_or(0.0))
                        .sum::<f64>()
                        / total
                } else {
                    values.iter().map(|(v, _)| v).sum::<f64>() / values.len() as f64
                }
            }
            Some((super::IndicatorKind::Minutes | super::IndicatorKind::Ratio, _)) => {
                values.iter().map(|(v, _)| v).sum::<f64>() / values.len() as f64
            }
            _ => values.iter().map(|(v, _)| v).sum(),
        };
        indicators.insert(code.clone(), v);
    }
    let rank = |t: TaskStatus| match t {
        TaskStatus::NotStarted => 0,
        TaskStatus::InProgress => 1,
        TaskStatus::Done => 2,
    };
    let mut tasks: Vec<TaskReport> = Vec::new();
    for s in parts {
        for t in &s.tasks {
            match tasks.iter_mut().find(|x| x.code == t.code) {
                Some(x) if rank(t.status) < rank(x.status) => *x = t.clone(),
                Some(x) if t.status == x.status => x.done_on = x.done_on.max(t.done_on),
                Some(_) => {}
                None => tasks.push(t.clone()),
            }
        }
    }
    // A task some unit did not report is not done by the merged unit.
    for t in &mut tasks {
        if parts
            .iter()
            .any(|s| !s.tasks.iter().any(|x| x.code == t.code))
        {
            t.status = TaskStatus::NotStarted;
            t.done_on = None;
        }
    }
    Submission {
        unit: unit.to_string(),
        period,
        columns: form.column_codes(),
        rows: order.into_iter().filter_map(|k| rows.remove(&k)).collect(),
        indicators,
        tasks,
        preparer: None,
        phone: None,
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(q: u8, rows: &[(&str, [i64; 11])], wait: f64) -> Submission {
        Submission {
            unit: "X".into(),
            period: Period::quarter(2022, q),
            columns: first_form_columns(),
            rows: rows
                .iter()
                .map(|(l, v)| Form06Row {
                    linh_vuc: l.to_string(),
                    values: v.to_vec(),
                })
                .collect(),
            indicators: BTreeMap::from([
                ("cho_tb_phut".to_string(), wait),
                ("tthc_tong".to_string(), 10.0),
            ]),
            tasks: vec![],
            preparer: None,
            phone: None,
        }
    }

    #[test]
    fn a_year_adds_counts_carries_in_from_the_first_quarter_and_pending_from_the_last() {
        // (3)  (4) (5) (6) (7) (8) (9) (10) (11) (12) (13)
        let q1 = sub(1, &[("Hộ tịch", [12, 5, 5, 2, 10, 4, 5, 1, 2, 2, 0])], 20.0);
        let q2 = sub(
            2,
            &[("Hộ tịch", [23, 10, 10, 3, 20, 10, 10, 0, 3, 1, 2])],
            10.0,
        );
        let (y, notes) = combine_year(
            &[(q1.period, &q1), (q2.period, &q2)],
            crate::domain::form_load::builtin(),
        );
        let v = &y.rows[0].values;
        assert_eq!(
            v[1..4],
            [15, 15, 2],
            "online and direct added, carried-in from Q1"
        );
        assert_eq!(v[8..11], [3, 1, 2], "pending from Q2");
        assert_eq!(v[5..8], [14, 15, 1]);
        assert_eq!((v[0], v[4]), (32, 30), "totals follow from their parts");
        assert_eq!(y.indicators["tthc_tong"], 20.0);
        // Waiting time weighted by dossiers received: (20×12 + 10×23) / 35.
        assert!((y.indicators["cho_tb_phut"] - 470.0 / 35.0).abs() < 1e-9);
        // Q2 carried in 3 but Q1 left 2 pending.
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("Quý II/2022"), "{notes:?}");

        // A form that takes the last quarter's online dossiers, and
        // another whose year is the sum of the rest: (3) still follows.
        let mut form = crate::domain::form_load::builtin().clone();
        form.columns[1].year = crate::domain::YearRule::Last;
        form.columns[3].carried_from = None;
        let (y, notes) = combine_year(&[(q1.period, &q1), (q2.period, &q2)], &form);
        let v = &y.rows[0].values;
        assert_eq!(v[1], 10, "the last quarter's, as the form says");
        assert_eq!(v[0], 10 + 15 + 2, "(3) from its parts");
        assert!(notes.is_empty(), "no carry-over to compare: {notes:?}");
    }
}
