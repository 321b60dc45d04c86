//! The indicator sheet ("Chỉ số") checked: each value of the kind its
//! indicator is (count, yes/no, minutes, ratio), within its bounds, and no
//! part larger than its whole.

use super::numbers::read_number;
use crate::domain::{
    CellRef, FORM06_FIELDS, Finding, Form06Row, INDICATOR_FIELDS, TaskReport, TaskStatus,
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

pub fn check(sheet: &str, rows: &[KeyedRow], findings: &mut Vec<Finding>) -> Indicators {
    let mut values = BTreeMap::new();
    let mut cells = BTreeMap::new();
    for spec in INDICATOR_FIELDS {
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
        match read_number(&row.value, spec.whole) {
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
                if let Some(max) = spec.max
                    && v > f64::from(max)
                {
                    findings.push(Finding::error(
                        "chi_so_vuot",
                        Some(row.at.clone()),
                        Some(row.value.display()),
                        format!("{what} chỉ nhận 0 (không) hoặc 1 (có)."),
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

/// Parts that cannot exceed their whole: a ratio above 1 is a warning,
/// located at the part. (part fields, whole fields)
pub(crate) const PARTS: [(&[&str], &[&str]); 12] = [
    (&["tthc_cong_khai"], &["tthc_tong"]),
    (&["tthc_truc_tuyen"], &["tthc_tong"]),
    (&["tthc_co_phi"], &["tthc_tong"]),
    (&["dvctt_co_ho_so"], &["tthc_truc_tuyen"]),
    (&["tthc_thanh_toan_tt"], &["tthc_co_phi"]),
    (&["ho_so_thanh_toan_tt"], &["ho_so_co_phi"]),
    (&["ho_so_dong_bo"], &["nhan_tong"]),
    (&["ket_qua_dien_tu"], &["da_giai_quyet"]),
    (&["ho_so_so_hoa"], &["nhan_tong"]),
    (&["ho_so_tai_su_dung"], &["nhan_tong"]),
    (&["pakn_dung_han", "pakn_trong_han"], &["pakn_tong"]),
    (&["phieu_hai_long"], &["phieu_danh_gia"]),
];

pub fn check_ratios(
    form: &Form06Table,
    rows: &[Form06Row],
    ind: &Indicators,
    findings: &mut Vec<Finding>,
) {
    let mut totals = [0i64; 11];
    for r in rows {
        for (t, v) in totals.iter_mut().zip(r.values) {
            *t += v;
        }
    }
    let value = |code: &str| -> Option<f64> {
        FORM06_FIELDS
            .iter()
            .position(|f| f.code == code)
            .map(|i| totals[i] as f64)
            .or_else(|| ind.values.get(code).copied())
    };
    let label = |code: &str| -> String {
        FORM06_FIELDS
            .iter()
            .find(|f| f.code == code)
            .map(|f| format!("cột ({}) Biểu 06", f.column))
            .or_else(|| {
                INDICATOR_FIELDS
                    .iter()
                    .find(|i| i.code == code)
                    .map(|i| format!("\"{}\"", i.label))
            })
            .unwrap_or_default()
    };
    for (parts, whole) in PARTS {
        let (Some(p), Some(w)) = (
            parts.iter().map(|c| value(c)).sum::<Option<f64>>(),
            whole.iter().map(|c| value(c)).sum::<Option<f64>>(),
        ) else {
            continue;
        };
        if p > w {
            let at = ind
                .cells
                .get(parts[0])
                .cloned()
                .or_else(|| Some(CellRef::new(&form.sheet, 0, 0)));
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
