//! The indicator sheet ("Chỉ số") checked: each value of the kind its
//! indicator is (count, yes/no, minutes, ratio), within its bounds, and no
//! part larger than its whole.

use super::numbers::read_number;
use crate::domain::{
    CellRef, Finding, Form, Form06Row, Indicator, IndicatorKind, Parts, TaskReport, TaskStatus,
    ascii_fold,
};
use crate::intake::{Form06Table, KeyedRow, RawCell};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The indicator values read, with where each stands.
pub struct Indicators {
    pub values: BTreeMap<String, f64>,
    pub cells: BTreeMap<String, CellRef>,
}

/// Reads the indicators `form` has, for a unit of `league` (an indicator
/// only some leagues report is neither asked of nor read from another).
pub fn check(
    sheet: &str,
    rows: &[KeyedRow],
    form: &Form,
    league: Option<&str>,
    findings: &mut Vec<Finding>,
) -> Indicators {
    let mut values = BTreeMap::new();
    let mut cells = BTreeMap::new();
    for spec in &form.indicators {
        if !spec.leagues.is_empty() && league.is_some_and(|l| !spec.leagues.iter().any(|x| x == l))
        {
            continue;
        }
        let found: Vec<&KeyedRow> = rows.iter().filter(|r| r.key == spec.code).collect();
        let Some(row) = found.first() else {
            findings.push(Finding::error(
                "thieu_chi_so",
                Some(CellRef::new(sheet, 0, 0)),
                None,
                format!("Sheet \"{sheet}\" thiếu chỉ số \"{}\" ({}). Thêm dòng này với giá trị của đơn vị.", spec.label, spec.code),
            ));
            continue;
        };
        if found.len() > 1 {
            findings.push(Finding::error(
                "chi_so_trung",
                Some(found[1].at.clone()),
                Some(found[1].value.display()),
                format!(
                    "Chỉ số \"{}\" được ghi hai lần. Chỉ giữ một dòng.",
                    spec.label
                ),
            ));
        }
        let what = format!("Giá trị chỉ số \"{}\"", spec.label);
        let whole = matches!(spec.kind, IndicatorKind::Count | IndicatorKind::YesNo);
        match read_number(&row.value, whole) {
            Ok(v) => {
                if row.value.is_empty() {
                    findings.push(Finding::warning(
                        "chi_so_trong",
                        Some(row.at.clone()),
                        None,
                        format!(
                            "{what} để trống, được tính là 0. Nếu không phải 0, hãy ghi số liệu."
                        ),
                    ));
                }
                if let Some(why) = out_of_bounds(spec, v) {
                    findings.push(Finding::error(
                        "chi_so_vuot",
                        Some(row.at.clone()),
                        Some(row.value.display()),
                        format!("{what} {why}."),
                    ));
                }
                values.insert(spec.code.to_string(), v);
                cells.insert(spec.code.to_string(), row.at.clone());
            }
            Err(p) => findings.push(Finding::error(
                p.code(),
                Some(row.at.clone()),
                Some(row.value.display()),
                p.message(&what),
            )),
        }
    }
    Indicators { values, cells }
}

/// Why a value is outside what its indicator allows, if it is.
fn out_of_bounds(spec: &Indicator, v: f64) -> Option<String> {
    let num = |x: f64| format!("{x}").replace('.', ",");
    match spec.kind {
        IndicatorKind::YesNo if v > 1.0 => return Some("chỉ nhận 0 (không) hoặc 1 (có)".into()),
        IndicatorKind::Ratio if v > 1.0 => {
            return Some("là một tỷ lệ, từ 0 đến 1 (ví dụ 0,85 cho 85%)".into());
        }
        _ => {}
    }
    match (spec.min, spec.max) {
        (Some(lo), _) if v < lo => Some(format!("phải từ {} trở lên", num(lo))),
        (_, Some(hi)) if v > hi => Some(format!("không được quá {}", num(hi))),
        _ => None,
    }
}

/// Parts that cannot exceed their whole (the form's `[[parts]]`): a ratio
/// above 1 is a warning, located at the part.
pub fn check_ratios(
    table: &Form06Table,
    rows: &[Form06Row],
    form: &Form,
    ind: &Indicators,
    findings: &mut Vec<Finding>,
) {
    let mut totals = vec![0i64; form.columns.len()];
    for r in rows {
        for (t, v) in totals.iter_mut().zip(&r.values) {
            *t += v;
        }
    }
    let value = |code: &str| -> Option<f64> {
        form.columns
            .iter()
            .position(|f| f.code == code)
            .and_then(|i| totals.get(i))
            .map(|v| *v as f64)
            .or_else(|| ind.values.get(code).copied())
    };
    let label = |code: &str| -> String {
        form.column(code)
            .map(|c| format!("cột ({}) Biểu 06", c.number))
            .or_else(|| form.indicator(code).map(|i| format!("\"{}\"", i.label)))
            .unwrap_or_default()
    };
    for Parts { parts, whole } in &form.parts {
        let (Some(p), Some(w)) = (
            parts.iter().map(|c| value(c)).sum::<Option<f64>>(),
            whole.iter().map(|c| value(c)).sum::<Option<f64>>(),
        ) else {
            continue;
        };
        if p > w {
            let at = ind
                .cells
                .get(&parts[0])
                .cloned()
                .or_else(|| Some(CellRef::new(&table.sheet, 0, 0)));
            let names: Vec<String> = parts.iter().map(|c| label(c)).collect();
            findings.push(Finding::warning(
                "ty_le_vuot_1",
                at,
                Some(format!("{p}")),
                format!(
                    "{} ({p}) lớn hơn {} ({w}): tỷ lệ vượt 100% và được tính là 100%. Kiểm tra lại số liệu.",
                    names.join(" + "),
                    whole.iter().map(|c| label(c)).collect::<Vec<_>>().join(" + ")
                ),
            ));
        }
    }
}

fn serial_to_date(serial: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_days(chrono::Days::new(serial.floor().max(0.0) as u64))
}

fn read_date(c: &RawCell) -> Result<Option<NaiveDate>, ()> {
    match c {
        RawCell::Empty => Ok(None),
        RawCell::Date(n) | RawCell::Number(n) => serial_to_date(*n).map(Some).ok_or(()),
        RawCell::Text(t) if t.trim().is_empty() => Ok(None),
        RawCell::Text(t) => {
            let t = t.trim();
            NaiveDate::parse_from_str(t, "%d/%m/%Y")
                .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
                .or_else(|_| NaiveDate::parse_from_str(t, "%d-%m-%Y"))
                .map(Some)
                .map_err(|_| ())
        }
        _ => Err(()),
    }
}

pub fn tasks(rows: &[KeyedRow], findings: &mut Vec<Finding>) -> Vec<TaskReport> {
    let mut out = Vec::new();
    for r in rows {
        let status = match ascii_fold(&r.value.display()).as_str() {
            "da hoan thanh" | "hoan thanh" => TaskStatus::Done,
            "dang thuc hien" => TaskStatus::InProgress,
            "chua thuc hien" | "" => TaskStatus::NotStarted,
            _ => {
                findings.push(Finding::warning(
                    "tinh_trang_la",
                    Some(r.at.clone()),
                    Some(r.value.display()),
                    "Tình trạng nhiệm vụ không rõ, được tính là \"Chưa thực hiện\". Chọn một trong: Đã hoàn thành, Đang thực hiện, Chưa thực hiện.",
                ));
                TaskStatus::NotStarted
            }
        };
        let (date_cell, date_at) = r
            .extra
            .first()
            .cloned()
            .unwrap_or((RawCell::Empty, r.at.clone()));
        let done_on = match read_date(&date_cell) {
            Ok(d) => d,
            Err(()) => {
                findings.push(Finding::warning(
                    "ngay_khong_hop_le",
                    Some(date_at),
                    Some(date_cell.display()),
                    "Ngày hoàn thành không đọc được. Ghi theo dạng ngày/tháng/năm, ví dụ 10/01/2022.",
                ));
                None
            }
        };
        let document = r
            .extra
            .get(1)
            .map(|(c, _)| c.display().trim().to_string())
            .filter(|s| !s.is_empty());
        out.push(TaskReport {
            code: r.key.trim().to_string(),
            status,
            done_on,
            document,
        });
    }
    out
}
