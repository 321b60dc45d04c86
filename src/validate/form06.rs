//! Form 06 checked row by row: every figure a number, each row's identities
//! (received = handled + pending, and so on), and the total and subtotal rows
//! against the rows they sum.

use super::numbers::read_number;
use crate::domain::{CellRef, Finding, Form, Form06Row};
use crate::intake::{Form06Table, RawCell, TableRow};

fn row_name(r: &TableRow) -> String {
    let lv = r.linh_vuc.display();
    let lv = lv.trim();
    if lv.is_empty() {
        format!("dòng {}", r.row + 1)
    } else {
        format!("dòng {} ({lv})", r.row + 1)
    }
}

/// Where each of the form's columns is among the table's, or the finding
/// that names those missing; the table's columns the form does not have
/// are not read, and said so.
fn place_columns(t: &Form06Table, form: &Form, findings: &mut Vec<Finding>) -> Option<Vec<usize>> {
    let at: Vec<Option<usize>> = form
        .columns
        .iter()
        .map(|c| t.columns.iter().position(|k| *k == c.code))
        .collect();
    let missing: Vec<String> = form
        .columns
        .iter()
        .zip(&at)
        .filter(|(_, a)| a.is_none())
        .map(|(c, _)| format!("({}) {}", c.number, c.label))
        .collect();
    if !missing.is_empty() {
        findings.push(Finding::error(
            "thieu_cot",
            Some(CellRef::new(&t.sheet, t.last_header_row, t.linh_vuc_col)),
            None,
            format!(
                "Biểu 06 thiếu cột: {}. Giữ đủ {} cột của mẫu (có thể đổi thứ tự, nhưng không bỏ cột).",
                missing.join(", "),
                form.columns.len() + 2
            ),
        ));
        return None;
    }
    let header_row = t.last_header_row;
    for (j, code) in t.columns.iter().enumerate() {
        if form.column(code).is_none()
            && let Some((col, _)) = t.rows.first().and_then(|r| r.values.get(j))
        {
            findings.push(Finding::warning(
                "cot_thua",
                Some(CellRef::new(&t.sheet, header_row, *col)),
                None,
                format!(
                    "Cột {} không thuộc Biểu 06 của kỳ này nên không được đọc.",
                    crate::domain::column_letters(*col)
                ),
            ));
        }
    }
    Some(at.into_iter().flatten().collect())
}

/// The row as the form has it: its cells in the order of the form's columns.
/// Borrowed as it is when the table already holds the form's columns in
/// the form's order, as nearly every workbook does.
fn form_row<'a>(r: &'a TableRow, at: &[usize]) -> std::borrow::Cow<'a, TableRow> {
    if at.len() == r.values.len() && at.iter().enumerate().all(|(i, &j)| i == j) {
        return std::borrow::Cow::Borrowed(r);
    }
    std::borrow::Cow::Owned(TableRow {
        row: r.row,
        linh_vuc: r.linh_vuc.clone(),
        values: at.iter().map(|&j| r.values[j].clone()).collect(),
    })
}

/// Reads the figures of every row, then checks the identities and the
/// total; `None` when the table lacks some of the form's columns.
pub fn check(t: &Form06Table, form: &Form, findings: &mut Vec<Finding>) -> Option<Vec<Form06Row>> {
    let at = place_columns(t, form, findings)?;
    let mut out = Vec::new();
    for r in &t.rows {
        let r = &form_row(r, &at);
        let (values, ok) = read_row(t, form, r, findings);
        if r.linh_vuc.is_empty() {
            findings.push(Finding::warning(
                "thieu_linh_vuc",
                Some(CellRef::new(&t.sheet, r.row, t.linh_vuc_col)),
                None,
                format!("Dòng {} có số liệu nhưng chưa ghi tên lĩnh vực.", r.row + 1),
            ));
        }
        if ok {
            check_identities(t, form, r, &values, findings);
        }
        out.push(Form06Row {
            linh_vuc: r.linh_vuc.display().trim().to_string(),
            values,
        });
    }
    for sub in &t.subtotals {
        let row = form_row(&sub.row, &at);
        let covered: Vec<Form06Row> = sub
            .covers
            .iter()
            .filter_map(|i| out.get(*i).cloned())
            .collect();
        check_sum(
            t,
            form,
            &row,
            &covered,
            "tong_phu_lech",
            "Dòng cộng",
            findings,
        );
    }
    if let Some(total) = &t.total {
        check_sum(
            t,
            form,
            &form_row(total, &at),
            &out,
            "tong_cong_lech",
            "Dòng \"Tổng cộng\"",
            findings,
        );
    }
    Some(out)
}

fn read_row(
    t: &Form06Table,
    form: &Form,
    r: &TableRow,
    findings: &mut Vec<Finding>,
) -> (Vec<i64>, bool) {
    let mut values = vec![0i64; r.values.len()];
    let mut ok = true;
    for (i, (col, cell)) in r.values.iter().enumerate() {
        match read_number(cell, true) {
            Ok(v) => values[i] = v as i64,
            Err(p) => {
                ok = false;
                let f = &form.columns[i];
                let what = format!("Ô cột ({}) \"{}\" {}", f.number, f.label, row_name(r));
                findings.push(Finding::error(
                    p.code(),
                    Some(CellRef::new(&t.sheet, r.row, *col)),
                    Some(cell.display()),
                    p.message(&what),
                ));
            }
        }
    }
    (values, ok)
}

/// The form's identities on one row. A column the form names is found by
/// its code among Form 06's columns; one that is not there is not checked.
fn check_identities(
    t: &Form06Table,
    form: &Form,
    r: &TableRow,
    v: &[i64],
    findings: &mut Vec<Finding>,
) {
    let index = |code: &str| form.columns.iter().position(|f| f.code == code);
    let number = |i: usize| form.columns[i].number;
    for id in &form.identities {
        let (Some(left), Some(right)) = (
            index(&id.left),
            id.right
                .iter()
                .map(|c| index(c))
                .collect::<Option<Vec<usize>>>(),
        ) else {
            continue;
        };
        let sum: i64 = right.iter().map(|&i| v[i]).sum();
        let lv = v[left];
        if lv != sum {
            let parts: Vec<String> = right.iter().map(|&i| format!("({})", number(i))).collect();
            let col = r.values[left].0;
            let (what, n) = (&id.what, number(left));
            findings.push(Finding::error(
                &id.code,
                Some(CellRef::new(&t.sheet, r.row, col)),
                Some(lv.to_string()),
                format!(
                    "{}: {what} ({n}) là {lv} nhưng {} = {sum}. Sửa lại để ({n}) = {}.",
                    crate::domain::capitalise(&row_name(r)),
                    parts.join(" + "),
                    parts.join(" + ")
                ),
            ));
        }
    }
}

/// Checks a total or subtotal row against the rows it sums; it is never added to them.
fn check_sum(
    t: &Form06Table,
    form: &Form,
    total: &TableRow,
    rows: &[Form06Row],
    code: &str,
    what: &str,
    findings: &mut Vec<Finding>,
) {
    // A row that is only checked may hold formulas a program wrote without
    // computing them (a template filled by a script): those cells are
    // treated as blank, with one warning for the row. A cell whose value is
    // used (a lĩnh vực row, or a total standing alone) is still refused.
    let uncached: Vec<(u32, &str)> = total
        .values
        .iter()
        .filter_map(|(col, cell)| match cell {
            RawCell::Uncached(f) => Some((*col, f.as_str())),
            _ => None,
        })
        .collect();
    if let Some((col, formula)) = uncached.first() {
        findings.push(Finding::warning(
            "tong_chua_tinh",
            Some(CellRef::new(&t.sheet, total.row, *col)),
            Some(format!("={}", formula.trim_start_matches('='))),
            format!(
                "{what} (dòng {}) có {} công thức chưa có giá trị đã tính (tệp được lưu bởi một chương trình không tính công thức), nên không được đối chiếu với các lĩnh vực. Số liệu lấy từ các dòng lĩnh vực. Để dòng này được đối chiếu, mở tệp bằng Excel hoặc LibreOffice và lưu lại.",
                total.row + 1,
                uncached.len()
            ),
        ));
    }
    for (i, (col, cell)) in total.values.iter().enumerate() {
        if matches!(cell, RawCell::Empty | RawCell::Uncached(_)) {
            continue;
        }
        let at = CellRef::new(&t.sheet, total.row, *col);
        let sum: i64 = rows.iter().map(|r| r.values[i]).sum();
        match read_number(cell, true) {
            Ok(v) if v as i64 == sum => {}
            Ok(v) => findings.push(Finding::error(
                code,
                Some(at),
                Some(cell.display()),
                format!(
                    "{what} (dòng {}), cột ({}): ghi {} nhưng cộng các lĩnh vực được {sum}. Sửa dòng này hoặc số liệu các dòng lĩnh vực.",
                    total.row + 1,
                    form.columns[i].number,
                    v as i64
                ),
            )),
            Err(p) => findings.push(Finding::error(p.code(), Some(at), Some(cell.display()), p.message(&format!("Ô cột ({}) của {what} (dòng {})", form.columns[i].number, total.row + 1)))),
        }
    }
}
