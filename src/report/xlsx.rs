//! `xep-hang-<period>.xlsx`: the ranking workbook. Six sheets, each a plain
//! table with real number formats, a frozen header, a filter, column widths
//! that fit and A4 landscape printing.

use super::narrative::int_vi;
use super::{ReportError, Results};
use crate::domain::fold;
use crate::rank::UnitResult;
use rust_xlsxwriter::{
    ConditionalFormatFormula, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder,
    Workbook, Worksheet,
};
use std::collections::BTreeMap;

/// A cell of a table.
enum V {
    T(String),
    I(i64),
    D(f64),
    Pct(f64),
    None,
}

fn t(s: impl Into<String>) -> V {
    V::T(s.into())
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> V) -> V {
    x.filter(|v| v.is_finite()).map(f).unwrap_or(V::None)
}

struct Table {
    name: &'static str,
    title: String,
    headers: Vec<(String, f64)>,
    rows: Vec<Vec<V>>,
    /// Rows drawn bold (section and total rows).
    bold_rows: Vec<usize>,
    /// Lines under the table.
    footnotes: Vec<String>,
}

fn cols(list: &[(&str, f64)]) -> Vec<(String, f64)> {
    list.iter().map(|(h, w)| (h.to_string(), *w)).collect()
}

/// The report's font at the size of the tables' cells.
fn font() -> Format {
    Format::new()
        .set_font_name("Times New Roman")
        .set_font_size(11)
}

fn base() -> Format {
    font().set_border(FormatBorder::Thin)
}

fn write_table(ws: &mut Worksheet, tb: &Table, subtitle: &str) -> Result<(), ReportError> {
    ws.set_name(tb.name)?;
    let last_col = tb.headers.len().saturating_sub(1) as u16;
    let title = Format::new()
        .set_font_name("Times New Roman")
        .set_font_size(13)
        .set_bold()
        .set_align(FormatAlign::Center);
    ws.merge_range(0, 0, 0, last_col, &tb.title, &title)?;
    ws.merge_range(
        1,
        0,
        1,
        last_col,
        subtitle,
        &Format::new()
            .set_font_name("Times New Roman")
            .set_italic()
            .set_align(FormatAlign::Center),
    )?;
    let head = base()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color("DDEBF7");
    for (c, (h, w)) in tb.headers.iter().enumerate() {
        ws.write_with_format(2, c as u16, h, &head)?;
        ws.set_column_width(c as u16, *w)?;
    }
    ws.set_row_height(2, 32)?;
    // The cells' formats, made once per table rather than once per cell:
    // (text, whole, decimal, percent, blank), plain and bold.
    let formats = |bold: bool| {
        let b = |f: Format| if bold { f.set_bold() } else { f };
        [
            b(base().set_text_wrap()),
            b(base().set_num_format("#,##0")),
            b(base().set_num_format("#,##0.00")),
            b(base().set_num_format("0.00%")),
            b(base()),
        ]
    };
    let (plain, bold) = (formats(false), formats(true));
    let bold_rows: std::collections::HashSet<usize> = tb.bold_rows.iter().copied().collect();
    // Each column gets the format of the kind of value most of its cells
    // hold (without borders: a column's format reaches the foot of the
    // sheet). Such cells are written without a format of their own and
    // take the column's, so the writer does not look a format up for each
    // of the detail sheet's 600,000 cells; the others, and bold rows, carry
    // theirs. The borders of the table's body are one conditional format.
    let kinds = column_kinds(tb, &bold_rows);
    for (c, kind) in kinds.iter().enumerate() {
        if let Some(k) = kind {
            ws.set_column_format(c as u16, &column_format(*k))?;
        }
    }
    for (i, row) in tb.rows.iter().enumerate() {
        let r = 3 + i as u32;
        let is_bold = bold_rows.contains(&i);
        let [text, whole, decimal, percent, blank] = if is_bold { &bold } else { &plain };
        for (c, v) in row.iter().enumerate() {
            let own = !is_bold && kinds.get(c).copied().flatten() == kind_of(v);
            let c = c as u16;
            match v {
                V::T(s) if own => ws.write_string(r, c, s)?,
                V::I(n) if own => ws.write_number(r, c, *n as f64)?,
                V::D(x) | V::Pct(x) if own => ws.write_number(r, c, *x)?,
                V::None if !is_bold => ws,
                V::T(s) => ws.write_with_format(r, c, s, text)?,
                V::I(n) => ws.write_number_with_format(r, c, *n as f64, whole)?,
                V::D(x) => ws.write_number_with_format(r, c, *x, decimal)?,
                V::Pct(x) => ws.write_number_with_format(r, c, *x, percent)?,
                V::None => ws.write_blank(r, c, blank)?,
            };
        }
    }
    let last_row = 2 + tb.rows.len() as u32;
    for (i, note) in tb.footnotes.iter().enumerate() {
        let r = last_row + 2 + i as u32;
        ws.merge_range(
            r,
            0,
            r,
            last_col,
            note,
            &base().set_italic().set_text_wrap(),
        )?;
    }
    if !tb.rows.is_empty() {
        let borders = ConditionalFormatFormula::new()
            .set_rule("TRUE")
            .set_format(Format::new().set_border(FormatBorder::Thin));
        ws.add_conditional_format(3, 0, last_row, last_col, &borders)?;
    }
    ws.autofilter(2, 0, last_row.max(3), last_col)?;
    ws.set_freeze_panes(3, 0)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(2, 2)?;
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    Ok(())
}

/// The kinds of value a cell holds, as far as its format goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Whole,
    Decimal,
    Percent,
}

fn kind_of(v: &V) -> Option<Kind> {
    match v {
        V::T(_) => Some(Kind::Text),
        V::I(_) => Some(Kind::Whole),
        V::D(_) => Some(Kind::Decimal),
        V::Pct(_) => Some(Kind::Percent),
        V::None => None,
    }
}

/// Each column's most frequent kind of value among the rows not drawn
/// bold; `None` for a column of blanks.
fn column_kinds(tb: &Table, bold_rows: &std::collections::HashSet<usize>) -> Vec<Option<Kind>> {
    let mut counts = vec![[0usize; 4]; tb.headers.len()];
    for (i, row) in tb.rows.iter().enumerate() {
        if bold_rows.contains(&i) {
            continue;
        }
        for (c, v) in row.iter().enumerate() {
            if let (Some(k), Some(n)) = (kind_of(v), counts.get_mut(c)) {
                n[k as usize] += 1;
            }
        }
    }
    const ALL: [Kind; 4] = [Kind::Text, Kind::Whole, Kind::Decimal, Kind::Percent];
    counts
        .iter()
        .map(|n| {
            let (at, most) = n
                .iter()
                .enumerate()
                .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))?;
            (*most > 0).then_some(ALL[at])
        })
        .collect()
}

fn column_format(k: Kind) -> Format {
    let f = font();
    match k {
        Kind::Text => f.set_text_wrap(),
        Kind::Whole => f.set_num_format("#,##0"),
        Kind::Decimal => f.set_num_format("#,##0.00"),
        Kind::Percent => f.set_num_format("0.00%"),
    }
}

fn status_text(u: &UnitResult) -> String {
    crate::words::status_label(u.status).to_string()
}

pub fn write(r: &Results) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    // Cells and columns without a format of their own are in the report's
    // font too.
    wb.set_default_format(&font(), 20, 64)?;
    // The fastest deflate: the sheets are text that compresses well
    // anyway, and at 3,355 units the default level is a third of the time.
    wb.set_zip_compression_level(1);
    let (y, m, d) = {
        use chrono::Datelike;
        (
            r.window.1.year() as u16,
            r.window.1.month() as u8,
            r.window.1.day() as u8,
        )
    };
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("Xếp hạng giải quyết TTHC {}", r.period.label_vi()))
            .set_author(r.organisation.name.clone())
            .set_creation_datetime(&ExcelDateTime::from_ymd(y, m, d)?),
    );
    let subtitle = format!(
        "{} — {} (từ {} đến {}) — bộ chỉ số {} phiên bản {} — báo cáo phiên bản {}",
        r.organisation.name,
        r.period.label_vi(),
        r.window.0.format("%d/%m/%Y"),
        r.window.1.format("%d/%m/%Y"),
        r.ruleset.name,
        r.ruleset.version,
        r.version
    );
    for table in [
        ranking(r),
        details(r),
        submissions(r),
        targets(r),
        tasks(r),
        form06(r),
    ] {
        // Rows are written in order and each sheet streams to a temporary
        // file as it goes, so memory grows with the distinct texts only
        // (shared, as Excel writes them: the detail sheet repeats each
        // criterion's name for every unit).
        write_table(wb.add_worksheet_with_low_memory()?, &table, &subtitle)?;
    }
    Ok(wb.save_to_buffer()?)
}

fn ranking(r: &Results) -> Table {
    let mut headers = cols(&[
        ("Khối", 18.0),
        ("Xếp hạng", 9.0),
        ("Mã", 12.0),
        ("Đơn vị", 34.0),
    ]);
    let groups: Vec<(String, String)> = r
        .ruleset
        .groups
        .iter()
        .map(|g| (g.code.clone(), g.label.clone()))
        .collect();
    for (code, label) in &groups {
        headers.push((
            format!("{label} ({} điểm)", r.ruleset.group_points(code)),
            13.0,
        ));
    }
    headers.extend(cols(&[
        ("Tổng điểm", 10.0),
        ("Xếp loại", 12.0),
        ("Tình trạng nộp", 14.0),
        ("Thay đổi hạng", 10.0),
    ]));
    let at = headers.len() - 1;
    headers.insert(at, (format!("Hạng {}", r.previous_word()), 10.0));
    headers.insert(at + 1, (format!("Điểm {}", r.previous_word()), 10.0));
    let mut rows = Vec::new();
    for l in &r.leagues {
        for u in &l.units {
            let mut row = vec![
                t(&l.label),
                u.rank.map(|x| V::I(i64::from(x))).unwrap_or(V::None),
                t(&u.code.0),
                t(super::marked_name(u)),
            ];
            for (g, _) in &groups {
                row.push(opt(
                    u.card.as_ref().and_then(|c| c.groups.get(g).copied()),
                    V::D,
                ));
            }
            row.push(opt(u.card.as_ref().map(|c| c.total), V::D));
            row.push(match &u.card {
                Some(c) => t(&c.band),
                None => t("Chưa nộp báo cáo"),
            });
            row.push(t(status_text(u)));
            row.push(
                u.previous
                    .map(|p| V::I(i64::from(p.rank)))
                    .unwrap_or(V::None),
            );
            row.push(opt(u.previous.map(|p| p.total), V::D));
            row.push(match (u.rank, u.previous) {
                (Some(now), Some(p)) => V::I(i64::from(p.rank) - i64::from(now)),
                _ => V::None,
            });
            rows.push(row);
        }
    }
    Table {
        name: "Xếp hạng",
        title: format!(
            "XẾP HẠNG KẾT QUẢ GIẢI QUYẾT TTHC {}",
            r.period.label_vi().to_uppercase()
        ),
        headers,
        rows,
        bold_rows: vec![],
        footnotes: super::merge_footnote(r).into_iter().collect(),
    }
}

fn details(r: &Results) -> Table {
    let headers = cols(&[
        ("Mã", 12.0),
        ("Đơn vị", 30.0),
        ("Nhóm", 22.0),
        ("Tiêu chí", 8.0),
        ("Nội dung", 44.0),
        ("Tử số", 10.0),
        ("Mẫu số", 10.0),
        ("Tỷ lệ / giá trị", 11.0),
        ("Điểm", 9.0),
        ("Điểm tối đa", 9.0),
        ("Áp dụng", 9.0),
        ("Cách tính", 26.0),
    ]);
    let mut rows = Vec::new();
    for u in r.units() {
        let Some(card) = &u.card else { continue };
        for (c, k) in r.ruleset.criteria.iter().zip(&card.criteria) {
            let value = match c.measure {
                crate::rules::Measure::Ratio { .. } => opt(k.value, V::Pct),
                crate::rules::Measure::Value(_) => opt(k.value, V::D),
            };
            rows.push(vec![
                t(&u.code.0),
                t(&u.name),
                t(r.ruleset.group_label(&c.group)),
                t(&c.code),
                t(&c.label),
                opt(k.numerator, V::D),
                opt(k.denominator, V::D),
                value,
                V::D(k.points),
                V::D(k.max_points),
                t(if k.applicable { "Có" } else { "Không" }),
                t(c.shape.describe()),
            ]);
        }
    }
    Table {
        name: "Chi tiết điểm",
        title: "CHI TIẾT ĐIỂM THEO TIÊU CHÍ".into(),
        headers,
        rows,
        bold_rows: vec![],
        footnotes: vec![],
    }
}

fn submissions(r: &Results) -> Table {
    let headers = cols(&[
        ("Mã", 12.0),
        ("Đơn vị", 34.0),
        ("Khối", 18.0),
        ("Hạn nộp", 12.0),
        ("Thời điểm nhận", 18.0),
        ("Tình trạng", 14.0),
        ("Số ngày muộn", 10.0),
        ("Số lỗi", 8.0),
        ("Số cảnh báo", 9.0),
        ("Ghi chú", 50.0),
    ]);
    let rows = r
        .leagues
        .iter()
        .flat_map(|l| l.units.iter().map(move |u| (l, u)))
        .map(|(l, u)| {
            let errors = u.findings.iter().filter(|f| f.is_error()).count() as i64;
            let warnings = u.findings.len() as i64 - errors;
            vec![
                t(&u.code.0),
                t(&u.name),
                t(&l.label),
                t(u.deadline.format("%d/%m/%Y").to_string()),
                u.received_at
                    .map(|x| t(x.format("%d/%m/%Y %H:%M").to_string()))
                    .unwrap_or(V::None),
                t(status_text(u)),
                u.days_late.map(V::I).unwrap_or(V::None),
                V::I(errors),
                V::I(warnings),
                t(u.notes.join(" ")),
            ]
        })
        .collect();
    Table {
        name: "Tình hình nộp báo cáo",
        title: "TÌNH HÌNH NỘP BÁO CÁO CỦA CÁC ĐƠN VỊ".into(),
        headers,
        rows,
        bold_rows: vec![],
        footnotes: vec![],
    }
}

fn targets(r: &Results) -> Table {
    let headers = cols(&[
        ("Mã", 12.0),
        ("Đơn vị", 32.0),
        ("Mục tiêu", 8.0),
        ("Nội dung", 50.0),
        ("Giá trị", 11.0),
        ("Ngưỡng", 11.0),
        ("Kết quả", 12.0),
    ]);
    let mut rows = Vec::new();
    if let Some(set) = &r.targets {
        for u in r.units() {
            let Some(card) = &u.card else { continue };
            for (def, res) in set.targets.iter().zip(&card.targets) {
                let num = |x: f64| if def.percent { V::Pct(x) } else { V::D(x) };
                rows.push(vec![
                    t(&u.code.0),
                    t(&u.name),
                    t(&def.code),
                    t(&def.label),
                    opt(res.value, num),
                    t(format!(
                        "{} {}",
                        def.comparison.symbol(),
                        if def.percent {
                            format!("{}%", res.threshold * 100.0)
                        } else {
                            res.threshold.to_string()
                        }
                    )),
                    t(if res.passed {
                        "Đạt"
                    } else {
                        "Không đạt"
                    }),
                ]);
            }
        }
    }
    Table {
        name: "Mục tiêu",
        title: "KẾT QUẢ THỰC HIỆN CÁC MỤC TIÊU".into(),
        headers,
        rows,
        bold_rows: vec![],
        footnotes: vec![],
    }
}

fn tasks(r: &Results) -> Table {
    let headers = cols(&[
        ("Mã", 12.0),
        ("Đơn vị", 32.0),
        ("Nhiệm vụ", 8.0),
        ("Nội dung", 50.0),
        ("Hạn", 12.0),
        ("Ngày hoàn thành", 14.0),
        ("Kết quả", 22.0),
    ]);
    let mut rows = Vec::new();
    if let Some(set) = &r.tasks {
        for u in r.units() {
            for res in &u.tasks {
                let content = set
                    .tasks
                    .iter()
                    .find(|x| x.code == res.code)
                    .map(|x| x.content.clone())
                    .unwrap_or_default();
                rows.push(vec![
                    t(&u.code.0),
                    t(&u.name),
                    t(&res.code),
                    t(content),
                    t(res.due.format("%d/%m/%Y").to_string()),
                    res.done_on
                        .map(|d| t(d.format("%d/%m/%Y").to_string()))
                        .unwrap_or(V::None),
                    t(res.outcome.label()),
                ]);
            }
        }
    }
    Table {
        name: "Nhiệm vụ",
        title: "KẾT QUẢ THỰC HIỆN NHIỆM VỤ THEO KẾ HOẠCH".into(),
        headers,
        rows,
        bold_rows: vec![],
        footnotes: vec![],
    }
}

/// The district's own Form 06: each lĩnh vực summed over the units of a
/// league, a section per league, and the grand total.
fn form06(r: &Results) -> Table {
    let mut headers = cols(&[("STT", 6.0), ("Lĩnh vực", 30.0)]);
    let form = &r.form;
    let n = form.columns.len();
    for f in &form.columns {
        // A group's total says which group it totals.
        let group = match form.groups.iter().find(|g| g.code == f.group) {
            Some(g) if f.total => format!("{} - ", g.label),
            _ => String::new(),
        };
        headers.push((format!("({}) {group}{}", f.number, f.label), 12.0));
    }
    let mut rows = Vec::new();
    let mut bold = Vec::new();
    let mut grand = vec![0i64; n];
    for (li, l) in r.leagues.iter().enumerate() {
        let mut by_lv: BTreeMap<String, (String, Vec<i64>)> = BTreeMap::new();
        for u in l.units.iter().filter(|u| u.card.is_some()) {
            for row in &u.rows {
                let e = by_lv
                    .entry(fold(&row.linh_vuc))
                    .or_insert_with(|| (row.linh_vuc.clone(), vec![0; n]));
                for (a, v) in e.1.iter_mut().zip(&row.values) {
                    *a += v;
                }
            }
        }
        let mut section = vec![0i64; n];
        for (_, v) in by_lv.values() {
            for (a, x) in section.iter_mut().zip(v) {
                *a += x;
            }
        }
        bold.push(rows.len());
        let roman = ["I", "II", "III", "IV", "V"].get(li).copied().unwrap_or("");
        let mut head = vec![t(roman), t(&l.label)];
        head.extend(section.iter().map(|x| V::I(*x)));
        rows.push(head);
        for (i, (_, (name, v))) in by_lv.iter().enumerate() {
            let mut row = vec![V::I(i as i64 + 1), t(name)];
            row.extend(v.iter().map(|x| V::I(*x)));
            rows.push(row);
        }
        for (a, x) in grand.iter_mut().zip(section) {
            *a += x;
        }
    }
    bold.push(rows.len());
    let mut total = vec![V::None, t("Tổng cộng")];
    total.extend(grand.iter().map(|x| V::I(*x)));
    rows.push(total);
    let title = format!(
        "TỔNG HỢP TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC (BIỂU 06) {} — {} HỒ SƠ",
        r.period.label_vi().to_uppercase(),
        int_vi(
            form.columns
                .iter()
                .position(|c| c.total)
                .and_then(|i| grand.get(i))
                .copied()
                .unwrap_or(0)
        )
    );
    Table {
        name: "Tổng hợp Biểu 06",
        title,
        headers,
        rows,
        bold_rows: bold,
        footnotes: vec![],
    }
}
