//! Whose report a workbook is, and for which quarter: the unit and period
//! the file names (in its details sheet or Form 06's title), matched to the
//! registry and to what the caller expects.

use crate::domain::{CellRef, Finding, Period, Registry, Unit, fold, name_core};
use crate::intake::InfoTable;

use super::Context;

pub struct Who {
    pub unit: Option<String>,
    pub period: Option<Period>,
}

/// Finds the registry unit a text names: its code, its exact name, or a
/// line such as "Đơn vị báo cáo: UBND xã Trực Hùng (mã TRUCHUNG)". Two
/// units matching is no match: the caller reports it rather than guess.
pub fn unit_from_text<'a>(text: &str, units: &'a Registry) -> Vec<&'a Unit> {
    let t = text.trim();
    if let Some(u) = units.by_code_any_case(t) {
        return vec![u];
    }
    let f = fold(t);
    let by_name = units.by_folded_name(&f);
    if !by_name.is_empty() {
        return by_name;
    }
    // "Xã Trực Hùng" for "UBND xã Trực Hùng": the name without the body's prefix.
    let by_core = units.by_name_core(name_core(&f));
    if !by_core.is_empty() {
        return by_core;
    }
    // "(mã CODE)" inside a longer line.
    for part in t.split('(').skip(1) {
        let inner = part.split(')').next().unwrap_or_default();
        if let Some(code) = fold(inner).strip_prefix("mã ")
            && let Some(u) = units.by_code_any_case(code.trim())
        {
            return vec![u];
        }
    }
    match f.split_once(':').map(|(_, r)| r.trim()) {
        Some(after_colon) if !after_colon.is_empty() => units.named_at_start_of(after_colon),
        _ => Vec::new(),
    }
}

pub fn identify(info: &InfoTable, ctx: &Context, findings: &mut Vec<Finding>) -> Who {
    let unit = identify_unit(info, ctx, findings);
    let period = identify_period(info, ctx, findings);
    if let (Some(code), Some(p)) = (&unit, period)
        && let Some(u) = ctx.units.unit(code)
    {
        let (_, to) = p.window(ctx.window_mode);
        if !u.reports_at(to) {
            let successor = u
                .successor
                .as_ref()
                .and_then(|s| ctx.units.unit(s.as_str()))
                .filter(|_| u.valid_to.is_some_and(|t| t < to));
            let message = match successor {
                Some(s) => format!(
                    "{} đã hợp nhất vào {} (hiệu lực đến {}); {} báo cáo cả {}, gồm số liệu của đơn vị cũ. Gửi số liệu qua {}.",
                    u.name,
                    s.name,
                    u.valid_to
                        .map(|d| d.format("%d/%m/%Y").to_string())
                        .unwrap_or_default(),
                    s.name,
                    p.label_vi(),
                    s.name
                ),
                None => format!(
                    "Đơn vị {} không còn (hoặc chưa) hoạt động vào cuối kỳ số liệu của {}; không nhận báo cáo của đơn vị này cho kỳ đó.",
                    u.name,
                    p.label_vi()
                ),
            };
            findings.push(Finding::error(
                "don_vi_het_hieu_luc",
                info.unit_code.as_ref().map(|(_, c)| c.clone()),
                Some(code.clone()),
                message,
            ));
        }
    }
    if let Some(name) = ctx.file_name {
        check_file_name(name, unit.as_deref(), period, ctx, findings);
    }
    Who { unit, period }
}

/// A file named for another unit or another quarter than it holds is
/// most likely the wrong file: say so rather than guess which is right.
fn check_file_name(
    name: &str,
    unit: Option<&str>,
    period: Option<Period>,
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    let stem = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = stem.rsplit_once('.').map(|(s, _)| s).unwrap_or(stem);
    if let Some(unit) = unit {
        let named = codes_in(stem, ctx.units);
        if !named.is_empty() && !named.iter().any(|u| u.code.0 == unit) {
            findings.push(Finding::error(
                "ten_tep_khac_don_vi",
                None,
                Some(name.to_string()),
                format!(
                    "Tên tệp \"{name}\" mang mã đơn vị {} nhưng nội dung là báo cáo của {unit}. Kiểm tra lại có gửi nhầm tệp không.",
                    named[0].code
                ),
            ));
        }
    }
    if let (Some(p), Some(named)) = (period, Period::parse_vi(stem))
        && named != p
        && matches!(named, Period::Quarter { .. })
    {
        findings.push(Finding::error(
            "ten_tep_khac_ky",
            None,
            Some(name.to_string()),
            format!(
                "Tên tệp \"{name}\" ghi {} nhưng nội dung là báo cáo {}. Kiểm tra lại có gửi nhầm tệp không.",
                named.label_vi(),
                p.label_vi()
            ),
        ));
    }
}

/// The registry's units whose code stands in `stem` as a word of its own
/// (not inside a longer run of letters and digits), in the order found.
fn codes_in<'a>(stem: &str, units: &'a Registry) -> Vec<&'a Unit> {
    let upper = stem.to_ascii_uppercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let bounds: Vec<usize> = upper
        .char_indices()
        .map(|(i, _)| i)
        .chain([upper.len()])
        .collect();
    let starts = bounds
        .iter()
        .filter(|&&i| !word(upper[..i].chars().next_back()) && word(upper[i..].chars().next()));
    let mut found: Vec<&Unit> = Vec::new();
    for &i in starts {
        for &j in bounds.iter().filter(|&&j| j > i) {
            if !word(upper[j..].chars().next())
                && let Some(u) = units.by_code_any_case(&upper[i..j])
                && !found.iter().any(|f| f.code == u.code)
            {
                found.push(u);
            }
        }
    }
    found
}

fn identify_unit(info: &InfoTable, ctx: &Context, findings: &mut Vec<Finding>) -> Option<String> {
    if ctx.units.is_empty() {
        // No registry to check against (`tthc check` without a config):
        // take the code the file gives, if any.
        return info
            .unit_code
            .as_ref()
            .map(|(code, _)| code.trim().to_string());
    }
    let mut candidates: Vec<(String, CellRef, &Unit)> = Vec::new();
    for (text, at) in [&info.unit_code, &info.unit_name, &info.form_unit]
        .into_iter()
        .flatten()
    {
        let found = unit_from_text(text, ctx.units);
        match found.as_slice() {
            [u] => candidates.push((text.clone(), at.clone(), u)),
            [] => {}
            // A name many units share (communes of different provinces)
            // is no problem when the code already said which one.
            many if candidates
                .iter()
                .any(|(_, _, c)| many.iter().any(|m| m.code == c.code)) => {}
            _ if let Some((_, _, by_code)) = candidates.first() => {
                findings.push(Finding::error(
                    "hai_don_vi",
                    Some(at.clone()),
                    Some(text.clone()),
                    format!(
                        "Tệp ghi mã đơn vị {} ({}) nhưng tên \"{text}\" là của đơn vị khác. Mỗi tệp chỉ báo cáo cho một đơn vị; kiểm tra lại mã và tên.",
                        by_code.code, by_code.name
                    ),
                ));
                return None;
            }
            many => findings.push(Finding::error(
                "don_vi_mo_ho",
                Some(at.clone()),
                Some(text.clone()),
                format!(
                    "\"{text}\" khớp với nhiều đơn vị ({}). Ghi đúng mã đơn vị.",
                    many.iter()
                        .map(|u| u.code.0.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    if let Some((text, at)) = &info.unit_code
        && !candidates.iter().any(|(_, c, _)| c == at)
    {
        findings.push(Finding::error(
            "don_vi_khong_ton_tai",
            Some(at.clone()),
            Some(text.clone()),
            format!("Mã đơn vị \"{text}\" không có trong danh sách đơn vị. Dùng mẫu báo cáo do hệ thống cấp cho đơn vị."),
        ));
        return None;
    }
    let Some((_, _, first)) = candidates.first() else {
        findings.push(Finding::error(
            "khong_ro_don_vi",
            None,
            None,
            "Không xác định được đơn vị báo cáo: sheet \"Thông tin\" cần ghi mã đơn vị. Dùng mẫu báo cáo do hệ thống cấp cho đơn vị.",
        ));
        return None;
    };
    if let Some((text, at, other)) = candidates.iter().find(|(_, _, u)| u.code != first.code) {
        findings.push(Finding::error(
            "hai_don_vi",
            Some(at.clone()),
            Some(text.clone()),
            format!(
                "Tệp ghi hai đơn vị khác nhau: {} và {}. Mỗi tệp chỉ báo cáo cho một đơn vị.",
                first.name, other.name
            ),
        ));
        return None;
    }
    if let Some(expected) = ctx.expected_unit
        && expected != first.code.0
    {
        let at = candidates.first().map(|(_, c, _)| c.clone());
        findings.push(Finding::error(
            "sai_don_vi",
            at,
            Some(first.code.0.clone()),
            format!("Tệp là báo cáo của {}, không phải của đơn vị gửi ({expected}). Gửi đúng tệp của đơn vị mình.", first.name),
        ));
        return None;
    }
    Some(first.code.0.clone())
}

fn identify_period(info: &InfoTable, ctx: &Context, findings: &mut Vec<Finding>) -> Option<Period> {
    let mut seen: Vec<(Period, String, CellRef)> = Vec::new();
    for (text, at) in [&info.period, &info.form_period].into_iter().flatten() {
        match Period::parse_vi(text).or_else(|| Period::from_window_text(text, ctx.window_mode)) {
            Some(p) => seen.push((p, text.clone(), at.clone())),
            None => findings.push(Finding::error(
                "ky_khong_doc_duoc",
                Some(at.clone()),
                Some(text.clone()),
                "Không đọc được kỳ báo cáo. Ghi theo dạng \"Quý IV/2022\".",
            )),
        }
    }
    let Some((first, _, _)) = seen.first().cloned() else {
        if !findings.iter().any(|f| f.code == "ky_khong_doc_duoc") {
            findings.push(Finding::error(
                "khong_ro_ky",
                None,
                None,
                "Không xác định được kỳ báo cáo: sheet \"Thông tin\" cần ghi kỳ báo cáo, ví dụ \"Quý IV/2022\".",
            ));
        }
        return None;
    };
    if let Some((p, text, at)) = seen.iter().find(|(p, _, _)| *p != first) {
        findings.push(Finding::error(
            "hai_ky",
            Some(at.clone()),
            Some(text.clone()),
            format!(
                "Tệp ghi hai kỳ báo cáo khác nhau: {} và {}. Mỗi tệp chỉ báo cáo một quý.",
                first.label_vi(),
                p.label_vi()
            ),
        ));
        return None;
    }
    if !matches!(first, Period::Quarter { .. }) {
        findings.push(Finding::error(
            "ky_khong_phai_quy",
            seen.first().map(|s| s.2.clone()),
            None,
            "Kỳ báo cáo phải là một quý, ví dụ \"Quý IV/2022\".",
        ));
        return None;
    }
    if let Some(expected) = ctx.expected_period
        && expected != first
    {
        findings.push(Finding::error(
            "sai_ky",
            seen.first().map(|s| s.2.clone()),
            Some(seen[0].1.clone()),
            format!(
                "Tệp là báo cáo {}, không phải {} đang nhận. Gửi đúng báo cáo của kỳ.",
                first.label_vi(),
                expected.label_vi()
            ),
        ));
        return None;
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LeagueCode, UnitCode, WindowMode};

    fn unit(code: &str, name: &str) -> Unit {
        Unit {
            code: UnitCode(code.into()),
            name: name.into(),
            league: LeagueCode("xa".into()),
            email: String::new(),
            valid_from: None,
            valid_to: None,
            successor: None,
        }
    }

    fn who(code: Option<&str>, name: &str, units: &Registry) -> (Option<String>, Vec<Finding>) {
        let at = |c| CellRef::new("Thông tin", 2, c);
        let info = InfoTable {
            unit_code: code.map(|c| (c.to_string(), at(1))),
            unit_name: Some((name.to_string(), at(2))),
            ..InfoTable::default()
        };
        let ctx = Context {
            units,
            expected_unit: None,
            expected_period: None,
            window_mode: WindowMode::Reporting,
            file_name: None,
            forms: &[],
        };
        let mut findings = Vec::new();
        (identify_unit(&info, &ctx, &mut findings), findings)
    }

    #[test]
    fn a_shared_name_is_settled_by_the_code_and_ambiguous_without_it() {
        let units = Registry::new(vec![
            unit("XA0001", "UBND xã Phước Mỹ"),
            unit("XA0002", "UBND xã Phước Mỹ"),
            unit("XA0003", "UBND xã Bình Hòa"),
        ]);
        let (found, findings) = who(Some("xa0002"), "UBND xã Phước Mỹ", &units);
        assert_eq!(found.as_deref(), Some("XA0002"));
        assert!(findings.is_empty(), "{findings:?}");

        let (found, findings) = who(None, "Xã Phước Mỹ", &units);
        assert_eq!(found, None);
        assert!(findings.iter().any(|f| f.code == "don_vi_mo_ho"));

        let (found, findings) = who(Some("XA0003"), "UBND xã Phước Mỹ", &units);
        assert_eq!(found, None);
        assert!(findings.iter().any(|f| f.code == "hai_don_vi"));

        // Old tone placement and the body's prefix left out still find it.
        let (found, _) = who(None, "xã Bình Hoà", &units);
        assert_eq!(found.as_deref(), Some("XA0003"));
    }

    #[test]
    fn a_code_in_the_file_name_is_found_only_as_a_word_of_its_own() {
        let units = Registry::new(vec![unit("XA01", "A"), unit("XA0100", "B")]);
        let codes = |s| {
            codes_in(s, &units)
                .iter()
                .map(|u| u.code.0.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("bao-cao_xa01 Q4"), ["XA01"]);
        assert_eq!(codes("XA0100-2022"), ["XA0100"]);
        assert!(codes("XA012").is_empty());
        assert!(codes("Báo cáo quý").is_empty());
    }
}
