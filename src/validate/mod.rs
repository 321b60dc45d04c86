//! Raw tables in, a `Submission` and its findings out. Every problem of a
//! file is collected, never only the first: the unit fixes them all in one
//! go. Only error-severity findings reject the workbook.

pub(crate) mod form06;
mod identity;
pub(crate) mod indicators;
mod numbers;

pub use identity::unit_from_text;
pub use numbers::{NumberProblem, read_number};

use crate::domain::{Finding, Form, FormFile, Period, Registry, Submission, WindowMode, form_for};
use crate::intake::{FormWords, IntakeError, RawTables, read_tables};

/// What a workbook is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The units registry.
    pub units: &'a Registry,
    /// The unit that uploaded it, when known.
    pub expected_unit: Option<&'a str>,
    /// The period asked for, when known.
    pub expected_period: Option<Period>,
    pub window_mode: WindowMode,
    /// The file's name, when known: a unit code or period in it must agree.
    pub file_name: Option<&'a str>,
    /// The forms of the rule folder: a workbook is read and checked with
    /// the one in force for its period (the built-in 2022 form when there
    /// are none, or none is in force).
    pub forms: &'a [FormFile],
}

impl<'a> Context<'a> {
    /// The words intake finds the tables by: those of every form (the
    /// built-in one without a rule folder).
    pub fn form_words(&self) -> FormWords {
        let forms: Vec<&Form> = if self.forms.is_empty() {
            vec![crate::domain::form_load::builtin()]
        } else {
            self.forms.iter().map(|f| &f.form).collect()
        };
        FormWords::of(&forms)
    }

    /// The form a workbook of `period` is checked against.
    pub fn form(&self, period: Option<Period>) -> &'a Form {
        period
            .and_then(|p| form_for(self.forms, p))
            .unwrap_or_else(|| crate::domain::form_load::builtin())
    }
}

/// The outcome of checking one workbook.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Present only when no finding is an error.
    pub submission: Option<Submission>,
    /// Who and when, as far as the file tells, even when it is rejected.
    pub unit: Option<String>,
    pub period: Option<Period>,
    pub findings: Vec<Finding>,
}

impl Checked {
    pub fn accepted(&self) -> bool {
        self.submission.is_some()
    }

    /// What the store keeps of the check, as JSON: the findings, and the
    /// figures when accepted.
    pub fn stored_json(&self) -> serde_json::Result<(String, Option<String>)> {
        Ok((
            serde_json::to_string(&self.findings)?,
            self.submission
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
        ))
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }
}

/// Checks a file's bytes: intake, then every rule of the form.
pub fn check_bytes(bytes: &[u8], ctx: &Context) -> Checked {
    check_bytes_with(bytes, ctx, &ctx.form_words())
}

/// `check_bytes` with the words intake matches already made (once for a
/// whole inbox, rather than for each file).
pub fn check_bytes_with(bytes: &[u8], ctx: &Context, words: &FormWords) -> Checked {
    match read_tables(bytes, words) {
        Ok(t) => check_tables(&t, ctx),
        Err(e) => Checked {
            submission: None,
            unit: None,
            period: None,
            findings: vec![unreadable(&e)],
        },
    }
}

fn unreadable(e: &IntakeError) -> Finding {
    let (code, advice) = match e {
        IntakeError::Empty | IntakeError::NotASpreadsheet => (
            "khong_phai_bang_tinh",
            "Hãy gửi tệp báo cáo theo mẫu của kỳ (.xlsx, .xls hoặc .ods).",
        ),
        IntakeError::Encrypted => (
            "co_mat_khau",
            "Mở tệp, bỏ mật khẩu (Tệp → Thông tin → Bảo vệ sổ làm việc), lưu rồi gửi lại.",
        ),
        IntakeError::TooLarge(_)
        | IntakeError::TooLargeUnpacked(_)
        | IntakeError::SheetTooLarge { .. }
        | IntakeError::Expands(_) => (
            "qua_lon",
            "Xóa các dòng, cột, sheet thừa hoặc chép số liệu sang mẫu báo cáo của kỳ rồi gửi lại.",
        ),
        IntakeError::Unreadable(_) => (
            "khong_doc_duoc",
            "Hãy mở và lưu lại bằng Excel hoặc LibreOffice, hoặc dùng mẫu báo cáo của kỳ.",
        ),
    };
    Finding::error(
        code,
        None,
        None,
        format!("Không đọc được tệp: {e}. {advice}"),
    )
}

/// Checks located tables against the form's arithmetic and the registry.
pub fn check_tables(t: &RawTables, ctx: &Context) -> Checked {
    let mut findings = t.findings.clone();
    let who = identity::identify(&t.info, ctx, &mut findings);
    let form = ctx.form(who.period.or(ctx.expected_period));
    let league = who
        .unit
        .as_deref()
        .and_then(|u| ctx.units.unit(u))
        .map(|u| u.league.0.as_str());
    let read = t
        .form06
        .as_ref()
        .and_then(|f| Some((f, form06::check(f, form, &mut findings)?)));
    let indicators = t
        .indicators
        .as_ref()
        .map(|(sheet, rows)| indicators::check(sheet, rows, form, league, &mut findings));
    let tasks = t
        .tasks
        .as_ref()
        .map(|(_, rows)| indicators::tasks(rows, &mut findings))
        .unwrap_or_default();
    if let (Some((f, rows)), Some(ind)) = (&read, &indicators) {
        indicators::check_ratios(f, rows, form, ind, &mut findings);
    }
    let rows = read.map(|(_, rows)| rows).unwrap_or_default();
    findings.sort_by_key(|f| f.severity);
    let ok = !findings.iter().any(Finding::is_error);
    let submission = match (&who.unit, who.period, indicators) {
        (Some(unit), Some(period), Some(ind)) if ok => Some(Submission {
            unit: unit.clone(),
            period,
            columns: form.column_codes(),
            rows,
            indicators: ind.values,
            tasks,
            preparer: t.info.preparer.clone(),
            phone: t.info.phone.clone(),
        }),
        _ => None,
    };
    Checked {
        submission,
        unit: who.unit,
        period: who.period,
        findings,
    }
}
