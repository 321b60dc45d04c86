//! What units report for a period, as the `form` rule file in force says:
//! Form 06's columns (code, official number, header words) and the
//! identities each row must satisfy, the indicators of the "Chỉ số" sheet
//! (kind, bounds, which leagues report them, how a year combines them), the
//! parts that cannot exceed their whole, and the tasks sheet's columns.
//! Plain data, read by every stage that handles a unit's figures.

use super::Period;

/// A form file of `rules/`: the form, and the quarters it is in force for.
#[derive(Debug, Clone)]
pub struct FormFile {
    pub file: std::path::PathBuf,
    pub name: String,
    pub version: String,
    pub effective: (Period, Option<Period>),
    pub form: Form,
    pub digest: String,
}

impl FormFile {
    /// Whether the form is in force for a period (a year: its last quarter).
    pub fn in_force(&self, period: Period) -> bool {
        super::in_force(&self.effective, period)
    }
}

/// The form in force for a period among `forms`.
pub fn form_for(forms: &[FormFile], period: Period) -> Option<&Form> {
    forms.iter().find(|f| f.in_force(period)).map(|f| &f.form)
}

/// A form in force for some periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    /// Form 06's column groups, in the order intake tries them: the first
    /// whose words a header names is its group.
    pub groups: Vec<ColumnGroup>,
    /// Form 06's numeric columns, in the order of the form.
    pub columns: Vec<Column>,
    pub identities: Vec<Identity>,
    /// The "Chỉ số" sheet, in its order.
    pub indicators: Vec<Indicator>,
    pub parts: Vec<Parts>,
    /// The tasks sheet's column headings, in order.
    pub task_columns: Vec<String>,
}

/// A group of Form 06's header ("Số hồ sơ nhận giải quyết").
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnGroup {
    pub code: String,
    pub label: String,
    /// Folded words that name the group in a header.
    pub words: Vec<String>,
}

/// A numeric column of Form 06.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The name rule expressions use, e.g. `nhan_tong`.
    pub code: String,
    /// The official column number, "(3)".
    pub number: u8,
    /// The group it sits under (a `ColumnGroup` code).
    pub group: String,
    /// The middle header row, where the form has one ("Trong kỳ").
    pub sub: String,
    /// The column's own heading ("Tổng số").
    pub label: String,
    /// Folded words that name the column under its group's heading.
    pub words: Vec<String>,
    /// The group's total: also named by "tổng" or by the group's own words.
    pub total: bool,
    /// How a year combines the quarters' values.
    pub year: YearRule,
    /// A column carried in from another at the end of the quarter before
    /// ("từ kỳ trước" from "đang giải quyết"): a year notes where they differ.
    pub carried_from: Option<String>,
}

/// A sum every row must satisfy: `left = right₁ + right₂ + …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The finding's code when it does not hold.
    pub code: String,
    pub left: String,
    pub right: Vec<String>,
    /// What the left side is, in a finding's words.
    pub what: String,
}

/// What an indicator's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorKind {
    /// A whole number, 0 or more.
    Count,
    /// 1 (yes) or 0 (no).
    YesNo,
    /// Minutes, a measurement (not necessarily whole).
    Minutes,
    /// A share between 0 and 1.
    Ratio,
}

/// A row of the "Chỉ số" sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub label: String,
    pub kind: IndicatorKind,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The leagues that report it; empty for every league.
    pub leagues: Vec<String>,
    pub year: YearRule,
}

/// How a year combines a field's quarters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YearRule {
    /// Added up.
    Sum,
    /// The first quarter's.
    First,
    /// The last quarter's.
    Last,
    /// The mean of the quarters, weighted by this field's value in each
    /// (a plain mean where all weights are 0).
    MeanWeightedBy(String),
    /// The sum of its parts (the right side of the identity it is the left
    /// side of), once those are combined.
    FromParts,
}

/// Fields that together cannot exceed their whole: a ratio above 1 is a
/// warning, located at the part.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    pub parts: Vec<String>,
    pub whole: Vec<String>,
}

impl Form {
    /// Every field rule expressions may name: Form 06's columns, then the
    /// indicators.
    pub fn field_codes(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .map(|c| c.code.as_str())
            .chain(self.indicators.iter().map(|i| i.code.as_str()))
    }

    pub fn knows(&self, field: &str) -> bool {
        self.field_codes().any(|f| f == field)
    }

    /// Form 06's column codes, in the form's order.
    pub fn column_codes(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.code.clone()).collect()
    }

    pub fn column(&self, code: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.code == code)
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }
}
