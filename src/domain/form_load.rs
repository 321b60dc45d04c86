//! Reading a form file (`kind = "form"`): what units report, checked as it
//! loads —
//! codes unique and fit to name in an expression, each column's group
//! known, each identity, part, weight and carry-over naming fields the form
//! has, each indicator's kind known and its bounds in order.

use super::{
    Column, ColumnGroup, Form, FormFile, Identity, Indicator, IndicatorKind, Parts, Period,
    YearRule, ascii_fold,
};
use serde::Deserialize;
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawForm {
    #[allow(dead_code)]
    kind: String,
    name: String,
    version: String,
    pub effective_from: Spanned<String>,
    #[serde(default)]
    pub effective_to: Option<Spanned<String>>,
    groups: Vec<RawGroup>,
    columns: Vec<RawColumn>,
    #[serde(default)]
    identities: Vec<RawIdentity>,
    #[serde(default)]
    indicators: Vec<RawIndicator>,
    #[serde(default)]
    parts: Vec<RawParts>,
    #[serde(default)]
    tasks: Option<RawTaskSheet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    code: Spanned<String>,
    label: String,
    words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    code: Spanned<String>,
    number: Spanned<u8>,
    group: Spanned<String>,
    #[serde(default)]
    sub: String,
    label: String,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    total: bool,
    #[serde(default)]
    year: Option<Spanned<RawYear>>,
    #[serde(default)]
    carried_from: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawYear {
    Word(String),
    Mean { mean_weighted_by: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    code: Spanned<String>,
    left: Spanned<String>,
    right: Spanned<Vec<String>>,
    what: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    code: Spanned<String>,
    label: String,
    kind: Spanned<String>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    leagues: Vec<String>,
    #[serde(default)]
    year: Option<Spanned<RawYear>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParts {
    parts: Spanned<Vec<String>>,
    whole: Spanned<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaskSheet {
    columns: Vec<String>,
}

/// The form of 2022–2024 as shipped in `rules/bieu-mau-2022.toml`, read
/// from a copy built in: what a workbook is checked against when no rule
/// folder is at hand (`tthc check` without a config).
pub fn builtin() -> &'static Form {
    static FORM: std::sync::LazyLock<Form> = std::sync::LazyLock::new(|| {
        let src = include_str!("../../rules/bieu-mau-2022.toml");
        let raw: RawForm = toml::from_str(src).expect("the built-in form parses");
        let mut problems = Vec::new();
        let effective = (Period::quarter(2022, 1), Some(Period::quarter(2024, 4)));
        let file = build_form(
            Path::new("bieu-mau-2022.toml"),
            String::new(),
            raw,
            effective,
            &mut |_, m| problems.push(m),
        );
        assert!(problems.is_empty(), "the built-in form: {problems:?}");
        file.form
    });
    &FORM
}

/// A field's code as expressions name it: lower-case ASCII letters,
/// digits and `_`, starting with a letter.
fn fit_code(code: &str) -> bool {
    code.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Builds the form of a file, saying every problem through `at`.
pub fn build_form(
    path: &Path,
    digest: String,
    raw: RawForm,
    effective: (Period, Option<Period>),
    at: &mut impl FnMut(Option<Range<usize>>, String),
) -> FormFile {
    let groups: Vec<ColumnGroup> = raw
        .groups
        .iter()
        .map(|g| ColumnGroup {
            code: g.code.get_ref().clone(),
            label: g.label.clone(),
            words: g.words.iter().map(|w| ascii_fold(w)).collect(),
        })
        .collect();
    let group_codes: HashSet<&str> = groups.iter().map(|g| g.code.as_str()).collect();
    let mut seen = HashSet::new();
    let mut numbers = HashSet::new();
    let mut columns = Vec::new();
    for c in &raw.columns {
        let code = c.code.get_ref();
        check_code(code, c.code.span(), &mut seen, at);
        if !numbers.insert(*c.number.get_ref()) {
            at(
                Some(c.number.span()),
                format!("cột số ({}) đã có ở một cột khác", c.number.get_ref()),
            );
        }
        if !group_codes.contains(c.group.get_ref().as_str()) {
            at(
                Some(c.group.span()),
                format!(
                    "cột {code}: nhóm \"{}\" không có trong [[groups]]",
                    c.group.get_ref()
                ),
            );
        }
        columns.push(Column {
            code: code.clone(),
            number: *c.number.get_ref(),
            group: c.group.get_ref().clone(),
            sub: c.sub.clone(),
            label: c.label.clone(),
            words: c.words.iter().map(|w| ascii_fold(w)).collect(),
            total: c.total,
            year: year_rule(c.year.as_ref(), YearRule::Sum, code, at),
            carried_from: c.carried_from.as_ref().map(|s| s.get_ref().clone()),
        });
    }
    let mut indicators = Vec::new();
    for i in &raw.indicators {
        let code = i.code.get_ref();
        check_code(code, i.code.span(), &mut seen, at);
        let kind = match i.kind.get_ref().as_str() {
            "count" => IndicatorKind::Count,
            "yes_no" => IndicatorKind::YesNo,
            "minutes" => IndicatorKind::Minutes,
            "ratio" => IndicatorKind::Ratio,
            other => {
                at(
                    Some(i.kind.span()),
                    format!(
                        "chỉ số {code}: kind = \"{other}\" không hợp lệ — dùng \"count\", \"yes_no\", \"minutes\" hoặc \"ratio\""
                    ),
                );
                IndicatorKind::Count
            }
        };
        if let (Some(lo), Some(hi)) = (i.min, i.max)
            && lo > hi
        {
            at(
                Some(i.code.span()),
                format!("chỉ số {code}: min ({lo}) lớn hơn max ({hi})"),
            );
        }
        let default_year = match kind {
            IndicatorKind::YesNo => YearRule::Last,
            IndicatorKind::Count => YearRule::Sum,
            IndicatorKind::Minutes | IndicatorKind::Ratio => {
                YearRule::MeanWeightedBy(first_total(&columns))
            }
        };
        indicators.push(Indicator {
            code: code.clone(),
            label: i.label.clone(),
            kind,
            min: i.min,
            max: i.max,
            leagues: i.leagues.clone(),
            year: year_rule(i.year.as_ref(), default_year, code, at),
        });
    }
    let column_codes: HashSet<&str> = columns.iter().map(|c| c.code.as_str()).collect();
    let fields: HashSet<&str> = column_codes
        .iter()
        .copied()
        .chain(indicators.iter().map(|i| i.code.as_str()))
        .collect();
    let mut identities = Vec::new();
    for i in &raw.identities {
        let code = i.code.get_ref();
        for (name, span) in std::iter::once((i.left.get_ref(), i.left.span()))
            .chain(i.right.get_ref().iter().map(|r| (r, i.right.span())))
        {
            if !column_codes.contains(name.as_str()) {
                at(
                    Some(span),
                    format!("đẳng thức {code}: cột \"{name}\" không có trong [[columns]]"),
                );
            }
        }
        identities.push(Identity {
            code: code.clone(),
            left: i.left.get_ref().clone(),
            right: i.right.get_ref().clone(),
            what: i.what.clone(),
        });
    }
    let mut parts = Vec::new();
    for p in &raw.parts {
        for (list, span) in [
            (p.parts.get_ref(), p.parts.span()),
            (p.whole.get_ref(), p.whole.span()),
        ] {
            for name in list {
                if !fields.contains(name.as_str()) {
                    at(
                        Some(span.clone()),
                        format!("[[parts]]: trường \"{name}\" không có trong biểu mẫu"),
                    );
                }
            }
        }
        parts.push(Parts {
            parts: p.parts.get_ref().clone(),
            whole: p.whole.get_ref().clone(),
        });
    }
    // What a year rule or a carry-over names must be there too.
    for (c, raw_c) in columns.iter().zip(&raw.columns) {
        let span = || Some(raw_c.code.span());
        match &c.year {
            YearRule::FromParts if !identities.iter().any(|i| i.left == c.code) => at(
                span(),
                format!(
                    "cột {}: year = \"from_parts\" cần một đẳng thức có left = \"{}\"",
                    c.code, c.code
                ),
            ),
            YearRule::MeanWeightedBy(f) if !fields.contains(f.as_str()) => at(
                span(),
                format!(
                    "cột {}: mean_weighted_by = \"{f}\" không có trong biểu mẫu",
                    c.code
                ),
            ),
            _ => {}
        }
        if let Some(from) = &c.carried_from
            && !column_codes.contains(from.as_str())
        {
            at(
                span(),
                format!(
                    "cột {}: carried_from = \"{from}\" không có trong [[columns]]",
                    c.code
                ),
            );
        }
    }
    for (i, raw_i) in indicators.iter().zip(&raw.indicators) {
        match &i.year {
            YearRule::MeanWeightedBy(f) if !fields.contains(f.as_str()) => at(
                Some(raw_i.code.span()),
                format!(
                    "chỉ số {}: mean_weighted_by = \"{f}\" không có trong biểu mẫu",
                    i.code
                ),
            ),
            YearRule::FromParts => at(
                Some(raw_i.code.span()),
                format!(
                    "chỉ số {}: year = \"from_parts\" chỉ dùng cho cột của Biểu 06",
                    i.code
                ),
            ),
            _ => {}
        }
    }
    // Column numbers (1) and (2) are the form's STT and lĩnh vực.
    for raw_c in &raw.columns {
        if *raw_c.number.get_ref() < 3 {
            at(
                Some(raw_c.number.span()),
                format!(
                    "cột {}: number = {} — cột (1) là STT, (2) là lĩnh vực; cột số bắt đầu từ (3)",
                    raw_c.code.get_ref(),
                    raw_c.number.get_ref()
                ),
            );
        }
    }
    // The tasks sheet is read by position: code, content, status, date of
    // completion, document; a form words the headings.
    if let Some(t) = &raw.tasks
        && t.columns.len() != 5
    {
        at(
            None,
            format!(
                "[tasks] columns có {} tiêu đề; cần đúng 5: mã, nội dung, tình trạng, ngày hoàn thành, văn bản",
                t.columns.len()
            ),
        );
    }
    if columns.is_empty() {
        at(
            None,
            "biểu mẫu chưa có cột số nào ([[columns]])".to_string(),
        );
    }
    FormFile {
        file: path.to_path_buf(),
        name: raw.name,
        version: raw.version,
        effective,
        form: Form {
            groups,
            columns,
            identities,
            indicators,
            parts,
            task_columns: raw.tasks.map(|t| t.columns).unwrap_or_else(|| {
                [
                    "Mã",
                    "Nội dung nhiệm vụ",
                    "Tình trạng",
                    "Ngày hoàn thành",
                    "Số, ký hiệu văn bản",
                ]
                .map(String::from)
                .to_vec()
            }),
        },
        digest,
    }
}

/// The first total column, the default weight of a mean (dossiers received).
fn first_total(columns: &[Column]) -> String {
    columns
        .iter()
        .find(|c| c.total)
        .or(columns.first())
        .map(|c| c.code.clone())
        .unwrap_or_default()
}

fn check_code(
    code: &str,
    span: Range<usize>,
    seen: &mut HashSet<String>,
    at: &mut impl FnMut(Option<Range<usize>>, String),
) {
    if !fit_code(code) {
        at(
            Some(span.clone()),
            format!(
                "mã \"{code}\" không dùng được trong biểu thức — chỉ chữ thường không dấu, số và '_', bắt đầu bằng chữ"
            ),
        );
    }
    if !seen.insert(code.to_string()) {
        at(Some(span), format!("mã \"{code}\" bị trùng trong biểu mẫu"));
    }
}

fn year_rule(
    raw: Option<&Spanned<RawYear>>,
    default: YearRule,
    code: &str,
    at: &mut impl FnMut(Option<Range<usize>>, String),
) -> YearRule {
    let Some(raw) = raw else {
        return default;
    };
    match raw.get_ref() {
        RawYear::Word(w) => match w.as_str() {
            "sum" => YearRule::Sum,
            "first" => YearRule::First,
            "last" => YearRule::Last,
            "from_parts" => YearRule::FromParts,
            other => {
                at(
                    Some(raw.span()),
                    format!(
                        "{code}: year = \"{other}\" không hợp lệ — dùng \"sum\", \"first\", \"last\", \"from_parts\" hoặc {{ mean_weighted_by = \"…\" }}"
                    ),
                );
                default
            }
        },
        RawYear::Mean { mean_weighted_by } => YearRule::MeanWeightedBy(mean_weighted_by.clone()),
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{IndicatorKind, YearRule};

    /// The shipped form of 2022–2024 is Form 06 of Circular 01/2020 with
    /// the indicators the 2022 criteria use; the built-in copy is the
    /// shipped file.
    #[test]
    #[cfg(feature = "engine")]
    fn the_shipped_2022_form_is_the_form_the_code_reads() {
        let book =
            crate::rules::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"))
                .unwrap();
        assert_eq!(
            super::builtin(),
            book.form_for(crate::domain::Period::quarter(2022, 4))
                .unwrap()
        );
        for year in 2022..=2024 {
            let form = book
                .form_for(crate::domain::Period::quarter(year, 2))
                .unwrap();
            let numbers: Vec<u8> = form.columns.iter().map(|c| c.number).collect();
            assert_eq!(numbers, (3..=13).collect::<Vec<u8>>());
            let online = form.column("nhan_truc_tuyen").unwrap();
            let group = form.groups.iter().find(|g| g.code == online.group).unwrap();
            assert_eq!(
                (
                    group.label.as_str(),
                    online.sub.as_str(),
                    online.label.as_str()
                ),
                ("Số hồ sơ nhận giải quyết", "Trong kỳ", "Trực tuyến")
            );
            assert_eq!(form.indicators.len(), 19);
            let kind = |code: &str| form.indicator(code).unwrap().kind;
            assert_eq!(kind("cong_khai_pakn"), IndicatorKind::YesNo);
            assert_eq!(kind("cho_tb_phut"), IndicatorKind::Minutes);
            assert_eq!(kind("tthc_tong"), IndicatorKind::Count);
            let codes: Vec<&str> = form.identities.iter().map(|i| i.code.as_str()).collect();
            assert_eq!(
                codes,
                [
                    "bieu06_nhan",
                    "bieu06_nhan_xu_ly",
                    "bieu06_da_giai_quyet",
                    "bieu06_dang_giai_quyet"
                ]
            );
            assert_eq!(form.parts.len(), 12);
            assert!(form.parts.iter().any(
                |p| p.parts == ["pakn_dung_han", "pakn_trong_han"] && p.whole == ["pakn_tong"]
            ));
            // How a year combines them, as `combine_year` does.
            let year_of = |code: &str| form.column(code).unwrap().year.clone();
            assert_eq!(year_of("nhan_ky_truoc"), YearRule::First);
            assert_eq!(year_of("dang_giai_quyet"), YearRule::Last);
            assert_eq!(year_of("nhan_tong"), YearRule::FromParts);
            assert_eq!(
                form.indicator("cho_tb_phut").unwrap().year,
                YearRule::MeanWeightedBy("nhan_tong".into())
            );
            assert_eq!(
                form.indicator("cong_khai_pakn").unwrap().year,
                YearRule::Last
            );
        }
    }
}
