use crate::domain::{CellRef, Finding, Period, Unit, fold};
use crate::intake::InfoTable;

use super::Context;

pub struct Who {
    pub unit: Option<String>,
    pub period: Option<Period>,
}

/// Finds the registry unit a text names: its code, its exact name, or a
/// line such as "Đơn vị báo cáo: UBND xã Trực Hùng (mã TRUCHUNG)". Two
/// units matching is no match: the caller reports it rather than guess.
pub fn unit_from_text<'a>(text: &str, units: &'a [Unit]) -> Vec<&'a Unit> {
    let t = text.trim();
    if let Some(u) = units.iter().find(|u| u.code.0.eq_ignore_ascii_case(t)) {
        return vec![u];
    }
    let f = fold(t);
    let by_name: Vec<&Unit> = units.iter().filter(|u| fold(&u.name) == f).collect();
    if !by_name.is_empty() {
        return by_name;
    }
    // "Xã Trực Hùng" for "UBND xã Trực Hùng": the name without the body's prefix.
    let core = |s: &str| -> String {
        let f = fold(s);
        ["ủy ban nhân dân ", "ubnd "]
            .iter()
            .find_map(|p| f.strip_prefix(p).map(str::to_string))
            .unwrap_or(f)
    };
    let by_core: Vec<&Unit> = units.iter().filter(|u| core(&u.name) == core(t)).collect();
    if !by_core.is_empty() {
        return by_core;
    }
    // "(mã CODE)" inside a longer line.
    for part in t.split('(').skip(1) {
        let inner = part.split(')').next().unwrap_or_default();
        if let Some(code) = fold(inner).strip_prefix("mã ")
            && let Some(u) = units
                .iter()
                .find(|u| u.code.0.eq_ignore_ascii_case(code.trim()))
        {
            return vec![u];
        }
    }
    let after_colon = f
        .split_once(':')
        .map(|(_, r)| r.trim().to_string())
        .unwrap_or_default();
    units
        .iter()
        .filter(|u| !after_colon.is_empty() && after_colon.starts_with(&fold(&u.name)))
        .collect()
}

pub fn identify(info: &InfoTable, ctx: &Context, findings: &mut Vec<Finding>) -> Who {
    let unit = identify_unit(info, ctx, findings);
    let period = identify_period(info, ctx, findings);
    if let (Some(code), Some(p)) = (&unit, period)
        && let Some(u) = ctx.units.iter().find(|u| &u.code.0 == code)
    {
        let (from, to) = p.window(ctx.window_mode);
        if !u.active_during(from, to) {
            findings.push(Finding::error(
                "don_vi_het_hieu_luc",
                info.unit_code.as_ref().map(|(_, c)| c.clone()),
                Some(code.clone()),
                format!("Đơn vị {} không còn (hoặc chưa) hoạt động trong {}; không nhận báo cáo của đơn vị này cho kỳ đó.", u.name, p.label_vi()),
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
    let upper = stem.to_uppercase();
    let bounded = |code: &str| {
        upper.match_indices(code).any(|(i, _)| {
            let before = upper[..i].chars().next_back();
            let after = upper[i + code.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        })
    };
    if let Some(unit) = unit {
        let named: Vec<&Unit> = ctx
            .units
            .iter()
            .filter(|u| bounded(&u.code.0.to_uppercase()))
            .collect();
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
            format!("Mã đơn vị \"{text}\" không có trong danh sách đơn vị của huyện. Dùng mẫu báo cáo do hệ thống cấp cho đơn vị."),
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
