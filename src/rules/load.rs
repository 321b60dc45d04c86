//! Loading `rules/`: every `*.toml` read and checked, each problem located in
//! its file and line, all of them reported at once; the rule book then says
//! which ruleset, targets and tasks are in force for a period.

use super::expr::compile_expression;
use super::model::*;
use crate::domain::Period;
use crate::located::{FileError, FileErrors};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Deserialize)]
struct Head {
    kind: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleset {
    #[allow(dead_code)]
    kind: String,
    name: String,
    version: String,
    effective_from: Spanned<String>,
    #[serde(default)]
    effective_to: Option<Spanned<String>>,
    late_penalty: f64,
    leagues: Vec<League>,
    bands: Vec<Band>,
    groups: Vec<Group>,
    criteria: Vec<RawCriterion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(default)]
    at_most: Option<f64>,
    #[serde(default)]
    at_least: Option<f64>,
    points: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    code: Spanned<String>,
    label: String,
    group: Spanned<String>,
    #[serde(default)]
    numerator: Option<Spanned<String>>,
    #[serde(default)]
    denominator: Option<Spanned<String>>,
    #[serde(default)]
    value: Option<Spanned<String>>,
    points: f64,
    shape: Spanned<String>,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    target_by_league: BTreeMap<String, f64>,
    #[serde(default)]
    steps: Vec<RawStep>,
    #[serde(default)]
    otherwise: f64,
    #[serde(default)]
    zero_denominator: Option<ZeroPolicy>,
    /// Only these leagues are measured by it (empty: every league).
    #[serde(default)]
    leagues: Vec<String>,
    /// Where it does not apply: `full` points or `exclude` from the scale.
    #[serde(default)]
    elsewhere: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    #[allow(dead_code)]
    kind: String,
    name: String,
    version: String,
    effective_from: Spanned<String>,
    #[serde(default)]
    effective_to: Option<Spanned<String>>,
    targets: Vec<RawTarget>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    code: Spanned<String>,
    label: String,
    expression: Spanned<String>,
    comparison: Comparison,
    threshold: f64,
    #[serde(default)]
    threshold_by_league: BTreeMap<String, f64>,
    #[serde(default)]
    percent: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTasks {
    #[allow(dead_code)]
    kind: String,
    name: String,
    version: String,
    effective_from: Spanned<String>,
    #[serde(default)]
    effective_to: Option<Spanned<String>>,
    tasks: Vec<RawTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    code: Spanned<String>,
    content: String,
    leagues: Vec<String>,
    due: Spanned<toml::Value>,
}

/// Every rule file of a folder, checked.
#[derive(Debug, Clone, Default)]
pub struct RuleBook {
    pub forms: Vec<FormFile>,
    pub rulesets: Vec<Ruleset>,
    pub targets: Vec<TargetSet>,
    pub tasks: Vec<TaskSet>,
}

impl RuleBook {
    /// The form in force for a period: what units report.
    pub fn form_for(&self, period: Period) -> Option<&crate::domain::Form> {
        crate::domain::form_for(&self.forms, period)
    }

    /// The form in force for a period; without one, the built-in form of
    /// 2022 (what a workbook is checked against without a rule folder).
    pub fn form_in_force(&self, period: Period) -> &crate::domain::Form {
        self.form_for(period)
            .unwrap_or_else(|| crate::domain::form_load::builtin())
    }

    /// The form file in force for a period.
    pub fn form_file_for(&self, period: Period) -> Option<&FormFile> {
        self.forms.iter().find(|f| f.in_force(period))
    }

    /// The fields a rule file in force for `effective` may name: those of
    /// every form in force for some quarter of it (all of them, when more
    /// than one is). Empty when no form is in force for any of its quarters.
    fn fields_for(&self, effective: &(Period, Option<Period>)) -> Vec<&str> {
        let overlapping: Vec<&crate::domain::Form> = self
            .forms
            .iter()
            .filter(|f| crate::domain::overlap(&f.effective, effective))
            .map(|f| &f.form)
            .collect();
        let Some(first) = overlapping.first() else {
            return Vec::new();
        };
        first
            .field_codes()
            .filter(|c| overlapping.iter().all(|f| f.knows(c)))
            .collect()
    }

    /// The ruleset in force for a period.
    pub fn ruleset_for(&self, period: Period) -> Option<&Ruleset> {
        self.rulesets
            .iter()
            .find(|r| in_force(&r.effective, period))
    }

    pub fn targets_for(&self, period: Period) -> Option<&TargetSet> {
        self.targets.iter().find(|r| in_force(&r.effective, period))
    }

    pub fn tasks_for(&self, period: Period) -> Option<&TaskSet> {
        self.tasks.iter().find(|r| in_force(&r.effective, period))
    }

    /// Every league any ruleset knows.
    pub fn league_codes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .rulesets
            .iter()
            .flat_map(|r| r.leagues.iter().map(|l| l.code.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Loads and checks every `*.toml` in `dir`, collecting every error of every file.
pub fn load_dir(dir: &Path) -> Result<RuleBook, FileErrors> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        FileError::at(
            dir,
            "",
            None,
            format!("không mở được thư mục quy tắc: {e} — kiểm tra [rules] dir trong cấu hình"),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut book = RuleBook::default();
    let mut errors = Vec::new();
    let mut sources = Vec::new();
    for path in &files {
        match std::fs::read_to_string(path) {
            Ok(src) => sources.push((path, src)),
            Err(e) => errors.push(FileError::at(
                path,
                "",
                None,
                format!("không đọc được tệp: {e}"),
            )),
        }
    }
    // Forms first: the other files' expressions are checked against the
    // fields of the forms in force for them.
    let is_form = |src: &str| {
        toml::from_str::<Head>(src)
            .ok()
            .and_then(|h| h.kind)
            .is_some_and(|k| k.get_ref() == "form")
    };
    let (forms, others): (Vec<_>, Vec<_>) = sources.iter().partition(|(_, src)| is_form(src));
    for (path, src) in forms.into_iter().chain(others) {
        if let Err(mut e) = load_file(path, src, &mut book) {
            errors.append(&mut e);
        }
    }
    if files.is_empty() {
        errors.push(FileError::at(
            dir,
            "",
            None,
            "thư mục quy tắc không có tệp .toml nào",
        ));
    }
    check_overlaps(&book, &mut errors);
    check_gaps(&book, &mut errors);
    if errors.is_empty() {
        Ok(book)
    } else {
        Err(FileErrors(errors))
    }
}

fn digest(src: &str) -> String {
    hex::encode(Sha256::digest(src.as_bytes()))
}

fn load_file(path: &Path, src: &str, book: &mut RuleBook) -> Result<(), Vec<FileError>> {
    let head: Head = toml::from_str(src).map_err(|e| vec![FileError::from_toml(path, src, &e)])?;
    let Some(kind) = head.kind else {
        return Err(vec![FileError::at(
            path,
            src,
            None,
            "thiếu khóa kind — ghi kind = \"form\", \"ruleset\", \"targets\" hoặc \"tasks\"",
        )]);
    };
    let mut errs = Vec::new();
    let mut at =
        |span: Option<Range<usize>>, msg: String| errs.push(FileError::at(path, src, span, msg));
    match kind.get_ref().as_str() {
        "form" => {
            let raw: crate::domain::form_load::RawForm =
                toml::from_str(src).map_err(|e| vec![FileError::from_toml(path, src, &e)])?;
            let effective = effective(&raw.effective_from, raw.effective_to.as_ref(), &mut at);
            let form =
                crate::domain::form_load::build_form(path, digest(src), raw, effective, &mut at);
            if errs.is_empty() {
                book.forms.push(form);
            }
        }
        "ruleset" => {
            let raw: RawRuleset =
                toml::from_str(src).map_err(|e| vec![FileError::from_toml(path, src, &e)])?;
            let effective = effective(&raw.effective_from, raw.effective_to.as_ref(), &mut at);
            let fields = known_fields(book, &effective, &raw.effective_from, &mut at);
            let set = build_ruleset(path, src, raw, effective, &fields, &mut at);
            if errs.is_empty() {
                book.rulesets.push(set);
            }
        }
        "targets" => {
            let raw: RawTargets =
                toml::from_str(src).map_err(|e| vec![FileError::from_toml(path, src, &e)])?;
            let effective = effective(&raw.effective_from, raw.effective_to.as_ref(), &mut at);
            let fields = known_fields(book, &effective, &raw.effective_from, &mut at);
            let mut targets = Vec::new();
            let mut seen = HashSet::new();
            for t in raw.targets {
                if !seen.insert(t.code.get_ref().clone()) {
                    at(
                        Some(t.code.span()),
                        format!("mã mục tiêu \"{}\" bị trùng", t.code.get_ref()),
                    );
                }
                match compile_expression(t.expression.get_ref(), &fields) {
                    Ok(expression) => targets.push(Target {
                        code: t.code.into_inner(),
                        label: t.label,
                        expression,
                        comparison: t.comparison,
                        threshold: t.threshold,
                        by_league: t.threshold_by_league,
                        percent: t.percent,
                    }),
                    Err(m) => at(Some(t.expression.span()), m),
                }
            }
            if errs.is_empty() {
                book.targets.push(TargetSet {
                    file: path.to_path_buf(),
                    name: raw.name,
                    version: raw.version,
                    effective,
                    targets,
                    digest: digest(src),
                });
            }
        }
        "tasks" => {
            let raw: RawTasks =
                toml::from_str(src).map_err(|e| vec![FileError::from_toml(path, src, &e)])?;
            let effective = effective(&raw.effective_from, raw.effective_to.as_ref(), &mut at);
            let mut tasks = Vec::new();
            for t in raw.tasks {
                let due = match t.due.get_ref() {
                    toml::Value::String(s) if s == "quarterly" => Some(Due::Quarterly),
                    toml::Value::Datetime(d) => d
                        .date
                        .and_then(|x| {
                            chrono::NaiveDate::from_ymd_opt(
                                i32::from(x.year),
                                u32::from(x.month),
                                u32::from(x.day),
                            )
                        })
                        .map(Due::Date),
                    _ => None,
                };
                match due {
                    Some(due) => tasks.push(Task { code: t.code.into_inner(), content: t.content, leagues: t.leagues, due }),
                    None => at(
                        Some(t.due.span()),
                        "hạn của nhiệm vụ phải là một ngày (2022-01-10) hoặc \"quarterly\" (hằng quý)".into(),
                    ),
                }
            }
            if errs.is_empty() {
                book.tasks.push(TaskSet {
                    file: path.to_path_buf(),
                    name: raw.name,
                    version: raw.version,
                    effective,
                    tasks,
                    digest: digest(src),
                });
            }
        }
        other => {
            at(
                Some(kind.span()),
                format!(
                    "kind = \"{other}\" không hợp lệ — dùng \"form\", \"ruleset\", \"targets\" hoặc \"tasks\""
                ),
            );
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// The fields a file's expressions may name (see `RuleBook::fields_for`);
/// none, and an error at its start, when no form is in force for it.
fn known_fields<'b>(
    book: &'b RuleBook,
    effective: &(Period, Option<Period>),
    from: &Spanned<String>,
    at: &mut impl FnMut(Option<Range<usize>>, String),
) -> Vec<&'b str> {
    let fields = book.fields_for(effective);
    if fields.is_empty() {
        at(
            Some(from.span()),
            "không có biểu mẫu (kind = \"form\") nào có hiệu lực trong các quý của tệp này, nên không biết các trường — thêm tệp biểu mẫu cho các quý đó".into(),
        );
    }
    fields
}

fn effective(
    from: &Spanned<String>,
    to: Option<&Spanned<String>>,
    at: &mut impl FnMut(Option<Range<usize>>, String),
) -> (Period, Option<Period>) {
    let mut parse = |s: &Spanned<String>| match s.get_ref().parse::<Period>() {
        Ok(p) => Some(p),
        Err(e) => {
            at(Some(s.span()), e.to_string());
            None
        }
    };
    let start = parse(from).unwrap_or(Period::Year { year: 2000 });
    let end = to.and_then(parse);
    (start, end)
}

fn build_ruleset(
    path: &Path,
    src: &str,
    raw: RawRuleset,
    effective: (Period, Option<Period>),
    fields: &[&str],
    at: &mut impl FnMut(Option<Range<usize>>, String),
) -> Ruleset {
    let leagues: HashSet<&str> = raw.leagues.iter().map(|l| l.code.as_str()).collect();
    let groups: HashSet<&str> = raw.groups.iter().map(|g| g.code.as_str()).collect();
    let mut criteria = Vec::new();
    let mut seen = HashSet::new();
    for c in &raw.criteria {
        if !seen.insert(c.code.get_ref().clone()) {
            at(
                Some(c.code.span()),
                format!("mã tiêu chí \"{}\" bị trùng", c.code.get_ref()),
            );
        }
        criteria.extend(build_criterion(c, &leagues, &groups, fields, at));
    }
    let mut bands = raw.bands.clone();
    bands.sort_by(|a, b| b.min.total_cmp(&a.min));
    if bands.last().is_none_or(|b| b.min > 0.0) {
        at(
            None,
            "[[bands]] phải có một mức với min = 0 để mọi tổng điểm đều được xếp loại".into(),
        );
    }
    if raw.leagues.is_empty() {
        at(None, "cần ít nhất một khối trong [[leagues]]".into());
    }
    Ruleset {
        file: path.to_path_buf(),
        name: raw.name,
        version: raw.version,
        effective,
        late_penalty: raw.late_penalty,
        leagues: raw.leagues,
        bands,
        groups: raw.groups,
        criteria,
        digest: digest(src),
    }
}

/// One criterion, checked: its group known, its measure a ratio or a
/// value of compiled expressions, its shape well formed, its points
/// positive. None when it cannot be used (each problem is said).
fn build_criterion(
    c: &RawCriterion,
    leagues: &HashSet<&str>,
    groups: &HashSet<&str>,
    fields: &[&str],
    at: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<Criterion> {
    let code = c.code.get_ref();
    if !groups.contains(c.group.get_ref().as_str()) {
        at(
            Some(c.group.span()),
            format!(
                "nhóm \"{}\" của tiêu chí {code} không có trong [[groups]]",
                c.group.get_ref()
            ),
        );
    }
    let mut compile = |s: &Spanned<String>| match compile_expression(s.get_ref(), fields) {
        Ok(e) => Some(e),
        Err(m) => {
            at(Some(s.span()), format!("tiêu chí {code}: {m}"));
            None
        }
    };
    let measure = match (&c.numerator, &c.denominator, &c.value) {
        (Some(n), Some(d), None) => match (compile(n), compile(d)) {
            (Some(numerator), Some(denominator)) => Some(Measure::Ratio {
                numerator,
                denominator,
            }),
            _ => None,
        },
        (None, None, Some(v)) => compile(v).map(Measure::Value),
        _ => {
            at(
                Some(c.code.span()),
                format!("tiêu chí {code} cần hoặc cặp numerator và denominator, hoặc một value"),
            );
            None
        }
    };
    let shape = build_shape(c, code, leagues, at);
    let zero = match (&measure, c.zero_denominator) {
        (Some(Measure::Ratio { .. }), None) => {
            at(
                Some(c.code.span()),
                format!(
                    "tiêu chí {code} là tỷ lệ nên cần zero_denominator = \"full\", \"zero\" hoặc \"exclude\""
                ),
            );
            ZeroPolicy::Exclude
        }
        (_, z) => z.unwrap_or(ZeroPolicy::Zero),
    };
    if c.points <= 0.0 {
        at(
            Some(c.code.span()),
            format!("tiêu chí {code}: points phải lớn hơn 0"),
        );
    }
    for l in &c.leagues {
        if !leagues.contains(l.as_str()) {
            at(
                Some(c.code.span()),
                format!("tiêu chí {code}: khối \"{l}\" trong leagues không có trong [[leagues]]"),
            );
        }
    }
    let elsewhere = match (c.leagues.is_empty(), &c.elsewhere) {
        (true, None) => Elsewhere::Exclude,
        (true, Some(e)) => {
            at(
                Some(e.span()),
                format!(
                    "tiêu chí {code}: elsewhere chỉ dùng cùng leagues (các khối được chấm tiêu chí này)"
                ),
            );
            Elsewhere::Exclude
        }
        (false, Some(e)) => match e.get_ref().as_str() {
            "full" => Elsewhere::Full,
            "exclude" => Elsewhere::Exclude,
            other => {
                at(
                    Some(e.span()),
                    format!(
                        "tiêu chí {code}: elsewhere = \"{other}\" không hợp lệ — dùng \"full\" (đủ điểm) hoặc \"exclude\" (không tính vào thang điểm)"
                    ),
                );
                Elsewhere::Exclude
            }
        },
        (false, None) => {
            at(
                Some(c.code.span()),
                format!(
                    "tiêu chí {code} chỉ chấm một số khối (leagues): ghi elsewhere = \"full\" hoặc \"exclude\" cho các khối khác"
                ),
            );
            Elsewhere::Exclude
        }
    };
    Some(Criterion {
        code: code.clone(),
        label: c.label.clone(),
        group: c.group.get_ref().clone(),
        measure: measure?,
        points: c.points,
        shape: shape?,
        zero_denominator: zero,
        leagues: c.leagues.clone(),
        elsewhere,
    })
}

/// How a criterion scores what it measured: linear, against a target (by
/// league if need be), or by steps.
fn build_shape(
    c: &RawCriterion,
    code: &str,
    leagues: &HashSet<&str>,
    at: &mut impl FnMut(Option<Range<usize>>, String),
) -> Option<Shape> {
    match c.shape.get_ref().as_str() {
        "linear" => Some(Shape::Linear),
        "target" => match c.target {
            Some(t)
                if t > 0.0
                    && t <= 1.0
                    && c.target_by_league.values().all(|v| *v > 0.0 && *v <= 1.0) =>
            {
                for l in c.target_by_league.keys() {
                    if !leagues.contains(l.as_str()) {
                        at(
                            Some(c.shape.span()),
                            format!(
                                "tiêu chí {code}: khối \"{l}\" trong target_by_league không có trong [[leagues]]"
                            ),
                        );
                    }
                }
                Some(Shape::Target {
                    target: t,
                    by_league: c.target_by_league.clone(),
                })
            }
            _ => {
                at(
                    Some(c.shape.span()),
                    format!("tiêu chí {code}: hình thức \"target\" cần target trong khoảng (0, 1]"),
                );
                None
            }
        },
        "steps" => {
            let mut steps = Vec::new();
            for s in &c.steps {
                let bound = match (s.at_most, s.at_least) {
                    (Some(x), None) => StepBound::AtMost(x),
                    (None, Some(x)) => StepBound::AtLeast(x),
                    _ => {
                        at(
                            Some(c.shape.span()),
                            format!(
                                "tiêu chí {code}: mỗi bậc cần đúng một trong at_most, at_least"
                            ),
                        );
                        continue;
                    }
                };
                if s.points > c.points || s.points < 0.0 {
                    at(
                        Some(c.shape.span()),
                        format!(
                            "tiêu chí {code}: điểm của bậc ({}) vượt quá điểm tối đa {}",
                            s.points, c.points
                        ),
                    );
                }
                steps.push(Step {
                    bound,
                    points: s.points,
                });
            }
            if steps.is_empty() {
                at(
                    Some(c.shape.span()),
                    format!("tiêu chí {code}: hình thức \"steps\" cần ít nhất một bậc trong steps"),
                );
            }
            Some(Shape::Steps {
                steps,
                otherwise: c.otherwise,
            })
        }
        other => {
            at(
                Some(c.shape.span()),
                format!(
                    "tiêu chí {code}: hình thức \"{other}\" không hợp lệ — dùng \"linear\", \"target\" hoặc \"steps\""
                ),
            );
            None
        }
    }
}

/// Two files of one kind in force for the same quarter would make the choice
/// a guess; that is an error.
fn check_overlaps(book: &RuleBook, errors: &mut Vec<FileError>) {
    fn clash<'a>(
        items: impl Iterator<Item = (&'a PathBuf, &'a (Period, Option<Period>))> + Clone,
        errors: &mut Vec<FileError>,
    ) {
        let v: Vec<_> = items.collect();
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                if crate::domain::overlap(a.1, b.1) {
                    errors.push(FileError::at(
                        b.0,
                        "",
                        None,
                        format!(
                            "có hiệu lực trùng với {} — mỗi quý chỉ được một tệp mỗi loại",
                            a.0.display()
                        ),
                    ));
                }
            }
        }
    }
    clash(book.forms.iter().map(|r| (&r.file, &r.effective)), errors);
    clash(
        book.rulesets.iter().map(|r| (&r.file, &r.effective)),
        errors,
    );
    clash(book.targets.iter().map(|r| (&r.file, &r.effective)), errors);
    clash(book.tasks.iter().map(|r| (&r.file, &r.effective)), errors);
}

/// Files of one kind leave no quarter out between them: a year with no
/// ruleset between two that have one would stop that year's quarters.
fn check_gaps(book: &RuleBook, errors: &mut Vec<FileError>) {
    fn gaps<'a>(
        what: &str,
        items: impl Iterator<Item = (&'a PathBuf, &'a (Period, Option<Period>))>,
        errors: &mut Vec<FileError>,
    ) {
        let mut v: Vec<_> = items.collect();
        v.sort_by_key(|(_, e)| e.0.first_quarter());
        for pair in v.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let Some(end) = a.1.1.map(Period::last_quarter) else {
                continue;
            };
            let start = b.1.0.first_quarter();
            if end.next() < start {
                let (from, to) = (end.next(), start.previous());
                let span = if from == to {
                    from.label_vi()
                } else {
                    format!("{} – {}", from.label_vi(), to.label_vi())
                };
                errors.push(FileError::at(
                    b.0,
                    "",
                    None,
                    format!(
                        "không có tệp {what} nào cho {span}, giữa {} và tệp này — thêm tệp cho các quý đó (tthc rules new-year) hoặc sửa effective_from, effective_to",
                        a.0.display()
                    ),
                ));
            }
        }
    }
    gaps(
        "biểu mẫu",
        book.forms.iter().map(|r| (&r.file, &r.effective)),
        errors,
    );
    gaps(
        "bộ chỉ số",
        book.rulesets.iter().map(|r| (&r.file, &r.effective)),
        errors,
    );
    gaps(
        "mục tiêu",
        book.targets.iter().map(|r| (&r.file, &r.effective)),
        errors,
    );
    gaps(
        "nhiệm vụ",
        book.tasks.iter().map(|r| (&r.file, &r.effective)),
        errors,
    );
}
