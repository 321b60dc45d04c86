//! Jobs and when they run. Each job is one call into the pipeline and
//! delivery (`jobs`), every run recorded in the store; `due` says which
//! period a report job is for; `worker` runs the jobs of `tthc serve` one
//! after another as their times come, making up those missed while no
//! instance was working; `process` names this process in leases and runs.
//! The service that wires the worker, the scheduler and the portal
//! together is `crate::app`.

mod due;
mod jobs;
mod process;
mod worker;

pub use jobs::{
    PeriodLease, Ran, collect, finish_report_of, last_portal_report, receipts, run_job, run_period,
    start_report_of,
};
pub use process::{holder, holder_is_dead, serving};
pub use worker::{FIRST_START, Message, missed, start_scheduler, work};

use std::fmt;
use std::str::FromStr;

/// The jobs there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Read new workbooks from the inbox folder.
    Collect,
    /// Remind the units that have not sent, before the deadline.
    Remind,
    /// The latest quarter whose deadline has passed: score, write, send.
    Report,
    /// The latest year whose last deadline has passed.
    Yearly,
    /// Deliveries whose retry time has come, or whose sender died.
    Retry,
}

impl Job {
    pub const ALL: [Job; 5] = [
        Job::Collect,
        Job::Remind,
        Job::Report,
        Job::Yearly,
        Job::Retry,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Collect => "collect",
            Job::Remind => "remind",
            Job::Report => "report",
            Job::Yearly => "yearly",
            Job::Retry => "retry",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Job::ALL.into_iter().find(|j| j.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Job::ALL.iter().map(|j| j.name()).collect();
            format!(
                "không có việc \"{s}\" — chọn một trong: {}",
                names.join(", ")
            )
        })
    }
}
