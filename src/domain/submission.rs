use super::{FORM06_FIELDS, Period};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Form 06 figures, in the order of the form's columns (3) to (13).
pub type Form06Values = [i64; 11];

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
    pub rows: Vec<Form06Row>,
    pub indicators: BTreeMap<String, f64>,
    pub tasks: Vec<TaskReport>,
    pub preparer: Option<String>,
    pub phone: Option<String>,
}

impl Submission {
    /// Form 06 totals: the sums over the rows.
    pub fn totals(&self) -> Form06Values {
        let mut t = [0i64; 11];
        for r in &self.rows {
            for (a, v) in t.iter_mut().zip(r.values) {
                *a += v;
            }
        }
        t
    }

    /// Every field a rule may use, by name.
    pub fn fields(&self) -> BTreeMap<&'static str, f64> {
        let mut m: BTreeMap<&'static str, f64> = FORM06_FIELDS
            .iter()
            .zip(self.totals())
            .map(|(f, v)| (f.code, v as f64))
            .collect();
        for spec in super::INDICATOR_FIELDS {
            m.insert(
                spec.code,
                self.indicators.get(spec.code).copied().unwrap_or(0.0),
            );
        }
        m
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
