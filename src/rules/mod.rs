//! The rule files in `rules/`: rulesets (groups, criteria, bands, leagues,
//! late penalty), targets (pass/fail checks) and tasks (the plan's tasks).
//! Each file says which periods it is in force for, so an old quarter is
//! always scored with the rules of its time. Loading is strict: every error
//! names the file, line and column, and a criterion that uses a field that
//! does not exist is refused here, never found out while scoring.

pub mod coverage;
mod expr;
mod load;
mod model;
pub mod new_year;

pub use expr::{CompiledExpr, compile_expression};
pub use load::{RuleBook, load_dir};
/// No ruleset is in force for a period: a problem of the rules (exit 3),
/// wherever it is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInForce {
    pub period: crate::domain::Period,
    pub dir: std::path::PathBuf,
}

impl std::fmt::Display for NotInForce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "không có bộ quy tắc nào có hiệu lực cho {} trong {} — thêm một tệp kind = \"ruleset\" có effective_from phù hợp",
            self.period.label_vi(),
            self.dir.display()
        )
    }
}

impl std::error::Error for NotInForce {}

pub use model::{
    Band, Comparison, Criterion, Due, Elsewhere, FormFile, Group, League, Measure, Ruleset, Shape,
    Step, StepBound, Target, TargetSet, Task, TaskSet, ZeroPolicy,
};
