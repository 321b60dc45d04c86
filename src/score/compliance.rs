//! Targets and plan tasks: each target checked for a unit, and each task due
//! by the end of the period matched with how the unit reports it.

use crate::domain::{Period, Submission, TaskStatus, WindowMode};
use crate::rules::{Due, TaskSet};
use chrono::NaiveDate;

/// A target checked for one unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TargetResult {
    pub code: String,
    /// None where the expression has no value (a zero denominator).
    pub value: Option<f64>,
    pub threshold: f64,
    pub passed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    Done,
    Late,
    InProgress,
    NotDone,
}

impl TaskOutcome {
    pub fn label(self) -> &'static str {
        match self {
            TaskOutcome::Done => "Hoàn thành đúng hạn",
            TaskOutcome::Late => "Hoàn thành muộn",
            TaskOutcome::InProgress => "Đang thực hiện (quá hạn)",
            TaskOutcome::NotDone => "Chưa thực hiện",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskResult {
    pub code: String,
    pub due: NaiveDate,
    pub outcome: TaskOutcome,
    pub done_on: Option<NaiveDate>,
}

/// The plan's tasks due for a unit by the end of the period, with how the
/// unit reports them: a dated task is due from its date on (in its year),
/// a quarterly task by the end of each quarter's window.
pub fn evaluate_tasks(
    set: &TaskSet,
    league: &str,
    period: Period,
    mode: WindowMode,
    sub: &Submission,
) -> Vec<TaskResult> {
    let (_, end) = period.window(mode);
    set.tasks
        .iter()
        .filter(|t| t.leagues.iter().any(|l| l == league))
        .filter_map(|t| {
            let due = match t.due {
                Due::Date(d)
                    if d <= end && d.format("%Y").to_string() == period.year().to_string() =>
                {
                    d
                }
                Due::Date(_) => return None,
                Due::Quarterly => end,
            };
            let report = sub
                .tasks
                .iter()
                .find(|r| r.code.eq_ignore_ascii_case(&t.code));
            let (outcome, done_on) = match report {
                Some(r) if r.status == TaskStatus::Done => (
                    if r.done_on.is_some_and(|d| d > due) {
                        TaskOutcome::Late
                    } else {
                        TaskOutcome::Done
                    },
                    r.done_on,
                ),
                Some(r) if r.status == TaskStatus::InProgress => (TaskOutcome::InProgress, None),
                _ => (TaskOutcome::NotDone, None),
            };
            Some(TaskResult {
                code: t.code.clone(),
                due,
                outcome,
                done_on,
            })
        })
        .collect()
}
