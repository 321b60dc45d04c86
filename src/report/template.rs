//! The unit's quarterly workbook: Form 06 with its official three-row header
//! and column numbers, the indicator sheet, the plan's tasks, the unit's
//! details and an instructions sheet. `tthc template` writes it empty and
//! prefilled with the unit and period; the sample generator writes it filled.

use super::ReportError;
use crate::domain::{Column, ColumnGroup, Form, Indicator, IndicatorKind, Period, TaskStatus};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    DataValidation, DataValidationRule, DocProperties, ExcelDateTime, Format, FormatAlign,
    FormatBorder, Formula, Workbook, Worksheet,
};

pub const SHEET_FORM06: &str = "Biểu 06";
pub const SHEET_INDICATORS: &str = "Chỉ số";
pub const SHEET_TASKS: &str = "Nhiệm vụ";
pub const SHEET_INFO: &str = "Thông tin";
pub const SHEET_HELP: &str = "Hướng dẫn";
pub const FORM06_TITLE: &str =
    "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC";
/// Zero-based row of the first lĩnh vực row in the template.
pub const FIRST_DATA_ROW: u32 = 8;

/// The lĩnh vực rows a template starts with, by league.
pub fn default_linh_vuc(league: &str) -> Vec<String> {
    let list: &[&str] = if league == "xa" {
        &[
            "Hộ tịch",
            "Chứng thực",
            "Đất đai",
            "Bảo trợ xã hội",
            "Người có công",
            "Nông nghiệp",
            "Văn hóa",
            "Tôn giáo",
        ]
    } else {
        &[
            "Lĩnh vực 1",
            "Lĩnh vực 2",
            "Lĩnh vực 3",
            "Lĩnh vực 4",
            "Lĩnh vực 5",
        ]
    };
    list.iter().map(|s| s.to_string()).collect()
}

/// One task row of the workbook.
#[derive(Debug, Clone)]
pub struct TaskLine {
    pub code: String,
    pub content: String,
    pub status: Option<TaskStatus>,
    pub done_on: Option<NaiveDate>,
    pub document: Option<String>,
}

/// What goes into a unit's workbook. `None` values leave the cell blank.
#[derive(Debug, Clone)]
pub struct WorkbookContent {
    pub unit_code: String,
    pub unit_name: String,
    pub period: Period,
    pub window: (NaiveDate, NaiveDate),
    /// Form 06's column groups and columns, as the form in force has them.
    pub groups: Vec<ColumnGroup>,
    pub columns: Vec<Column>,
    /// The lĩnh vực rows, with figures in the order of `columns`.
    pub rows: Vec<(String, Option<Vec<i64>>)>,
    /// The indicator sheet's rows (those of the form in force that the
    /// unit's league reports), and their values in the same order.
    pub indicator_rows: Vec<Indicator>,
    pub indicators: Vec<Option<f64>>,
    pub tasks: Vec<TaskLine>,
    /// The tasks sheet's headings: code, content, status, date, document.
    pub task_columns: Vec<String>,
    pub preparer: Option<String>,
    pub phone: Option<String>,
    /// Print the figures of the "Tổng cộng" row as formulas with cached values.
    pub total_formulas: bool,
}

fn dmy(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

/// Writes the workbook to bytes. The creation date is fixed to the window's
/// end so that the same content always gives the same file.
pub fn write_workbook(c: &WorkbookContent) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let (y, m, d) = (
        c.window.1.year() as u16,
        c.window.1.month() as u8,
        c.window.1.day() as u8,
    );
    let created = ExcelDateTime::from_ymd(y, m, d)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!(
                "Báo cáo TTHC {} - {}",
                c.period.label_vi(),
                c.unit_name
            ))
            .set_author(c.unit_name.clone())
            .set_creation_datetime(&created),
    );
    form06_sheet(wb.add_worksheet(), c)?;
    indicator_sheet(wb.add_worksheet(), c)?;
    task_sheet(wb.add_worksheet(), c)?;
    info_sheet(wb.add_worksheet(), c)?;
    help_sheet(wb.add_worksheet(), c)?;
    Ok(wb.save_to_buffer()?)
}

fn base() -> Format {
    Format::new()
        .set_font_name("Times New Roman")
        .set_font_size(12)
}

fn boxed() -> Format {
    base()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter)
}

fn form06_sheet(ws: &mut Worksheet, c: &WorkbookContent) -> Result<(), ReportError> {
    ws.set_name(SHEET_FORM06)?;
    let title = base()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let italic = base().set_italic().set_align(FormatAlign::Center);
    let head = boxed().set_bold().set_align(FormatAlign::Center);
    let num = boxed().set_num_format("#,##0").set_unlocked();
    let total_num = boxed().set_bold().set_num_format("#,##0");
    let n = c.columns.len() as u16;
    let last_col = 1 + n;
    let col_of = |i: usize| 2 + i as u16;
    ws.merge_range(0, 0, 0, last_col, FORM06_TITLE, &title)?;
    ws.set_row_height(0, 36)?;
    let (from, to) = c.window;
    ws.merge_range(
        1,
        0,
        1,
        last_col,
        &format!(
            "Kỳ báo cáo: {} (từ ngày {} đến ngày {})",
            c.period.label_vi(),
            dmy(from),
            dmy(to)
        ),
        &italic,
    )?;
    ws.merge_range(
        2,
        0,
        2,
        last_col,
        &format!("Đơn vị báo cáo: {} (mã {})", c.unit_name, c.unit_code),
        &base().set_align(FormatAlign::Center),
    )?;
    ws.merge_range(
        3,
        0,
        3,
        last_col,
        "Đơn vị tính: Số hồ sơ TTHC",
        &base().set_italic().set_align(FormatAlign::Right),
    )?;
    // The official three-row header.
    ws.merge_range(4, 0, 6, 0, "STT", &head)?;
    ws.merge_range(4, 1, 6, 1, "Lĩnh vực", &head)?;
    // Over the columns: their groups, then a column's middle row where
    // the form has one ("Trong kỳ"), then its own heading.
    let group_label = |code: &str| {
        c.groups
            .iter()
            .find(|g| g.code == code)
            .map_or(code.to_string(), |g| g.label.clone())
    };
    for (from, to) in runs(&c.columns, |a, b| a.group == b.group) {
        let label = group_label(&c.columns[from].group);
        merge_or_write(ws, (4, col_of(from)), (4, col_of(to)), &label, &head)?;
    }
    for (from, to) in runs(&c.columns, |a, b| a.sub == b.sub) {
        if c.columns[from].sub.is_empty() {
            for i in from..=to {
                let col = col_of(i);
                ws.merge_range(5, col, 6, col, &c.columns[i].label, &head)?;
            }
        } else {
            merge_or_write(
                ws,
                (5, col_of(from)),
                (5, col_of(to)),
                &c.columns[from].sub,
                &head,
            )?;
            for i in from..=to {
                ws.write_with_format(6, col_of(i), &c.columns[i].label, &head)?;
            }
        }
    }
    let numbers = ["(1)".to_string(), "(2)".to_string()]
        .into_iter()
        .chain(c.columns.iter().map(|k| format!("({})", k.number)));
    for (col, n) in numbers.enumerate() {
        ws.write_with_format(7, col as u16, n, &head.clone().set_italic())?;
    }
    let first = FIRST_DATA_ROW;
    for (i, (lv, values)) in c.rows.iter().enumerate() {
        let r = first + i as u32;
        ws.write_with_format(
            r,
            0,
            (i + 1) as f64,
            &boxed().set_align(FormatAlign::Center),
        )?;
        ws.write_with_format(r, 1, lv, &boxed().set_unlocked())?;
        for col in 0..n {
            match values.as_ref().and_then(|v| v.get(col as usize)) {
                Some(v) => ws.write_number_with_format(r, col + 2, *v as f64, &num)?,
                None => ws.write_blank(r, col + 2, &num)?,
            };
        }
    }
    let last = first + c.rows.len().max(1) as u32 - 1;
    let total_row = first + c.rows.len() as u32;
    ws.merge_range(
        total_row,
        0,
        total_row,
        1,
        "Tổng cộng",
        &boxed().set_bold().set_align(FormatAlign::Center),
    )?;
    for col in 0..n {
        let letter = crate::domain::column_letters(u32::from(col) + 2);
        let sum: i64 = c
            .rows
            .iter()
            .filter_map(|(_, v)| v.as_ref()?.get(col as usize))
            .sum();
        if c.total_formulas || c.rows.iter().all(|(_, v)| v.is_none()) {
            let f = Formula::new(format!("=SUM({letter}{}:{letter}{})", first + 1, last + 1))
                .set_result(sum.to_string());
            ws.write_formula_with_format(total_row, col + 2, f, &total_num)?;
        } else {
            ws.write_number_with_format(total_row, col + 2, sum as f64, &total_num)?;
        }
    }
    let rule = DataValidation::new()
        .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
        .set_error_title("Số liệu không hợp lệ")?
        .set_error_message("Nhập số nguyên không âm (số hồ sơ).")?;
    ws.add_data_validation(first, 2, last.max(first + 20), last_col, &rule)?;
    ws.set_column_width(0, 5)?;
    ws.set_column_width(1, 28)?;
    for col in 2..=last_col {
        ws.set_column_width(col, 11)?;
    }
    ws.set_freeze_panes(8, 2)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    Ok(())
}

/// The runs of neighbours that `same` groups together, as index ranges.
fn runs<T>(items: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for i in 0..items.len() {
        match out.last_mut() {
            Some((from, to)) if same(&items[*from], &items[i]) => *to = i,
            _ => out.push((i, i)),
        }
    }
    out
}

/// A heading over one cell or several (a merge of one cell is refused).
fn merge_or_write(
    ws: &mut Worksheet,
    (r0, c0): (u32, u16),
    (r1, c1): (u32, u16),
    text: &str,
    format: &Format,
) -> Result<(), ReportError> {
    if (r0, c0) == (r1, c1) {
        ws.write_with_format(r0, c0, text, format)?;
    } else {
        ws.merge_range(r0, c0, r1, c1, text, format)?;
    }
    Ok(())
}

fn indicator_sheet(ws: &mut Worksheet, c: &WorkbookContent) -> Result<(), ReportError> {
    ws.set_name(SHEET_INDICATORS)?;
    let head = boxed().set_bold().set_align(FormatAlign::Center);
    ws.merge_range(
        0,
        0,
        0,
        2,
        &format!("CÁC CHỈ SỐ KHÁC - {}", c.period.label_vi().to_uppercase()),
        &base().set_bold(),
    )?;
    for (col, h) in ["Mã", "Chỉ số", "Giá trị"].iter().enumerate() {
        ws.write_with_format(1, col as u16, *h, &head)?;
    }
    for (i, spec) in c.indicator_rows.iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_with_format(r, 0, &spec.code, &boxed())?;
        ws.write_with_format(r, 1, &spec.label, &boxed())?;
        let whole = matches!(spec.kind, IndicatorKind::Count | IndicatorKind::YesNo);
        let fmt = match spec.kind {
            IndicatorKind::Count | IndicatorKind::YesNo => boxed().set_num_format("#,##0"),
            IndicatorKind::Minutes => boxed().set_num_format("0.0"),
            IndicatorKind::Ratio => boxed().set_num_format("0.00"),
        }
        .set_unlocked();
        match c.indicators.get(i).copied().flatten() {
            Some(v) => ws.write_number_with_format(r, 2, v, &fmt)?,
            None => ws.write_blank(r, 2, &fmt)?,
        };
        let max = match spec.kind {
            IndicatorKind::YesNo => Some(1.0),
            IndicatorKind::Ratio => Some(spec.max.unwrap_or(1.0).min(1.0)),
            _ => spec.max,
        };
        let min = spec.min.unwrap_or(0.0);
        let rule = match (whole, max) {
            (true, Some(max)) => DataValidation::new()
                .allow_whole_number(DataValidationRule::Between(min as i32, max as i32)),
            (true, None) => DataValidation::new()
                .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(min as i32)),
            (false, Some(max)) => {
                DataValidation::new().allow_decimal_number(DataValidationRule::Between(min, max))
            }
            (false, None) => DataValidation::new()
                .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(min)),
        };
        ws.add_data_validation(
            r,
            2,
            r,
            2,
            &rule.set_error_message("Nhập một số không âm.")?,
        )?;
    }
    ws.set_column_width(0, 20)?;
    ws.set_column_width(1, 70)?;
    ws.set_column_width(2, 14)?;
    ws.set_freeze_panes(2, 0)?;
    Ok(())
}

fn task_sheet(ws: &mut Worksheet, c: &WorkbookContent) -> Result<(), ReportError> {
    ws.set_name(SHEET_TASKS)?;
    let head = boxed().set_bold().set_align(FormatAlign::Center);
    ws.merge_range(
        0,
        0,
        0,
        4,
        "TÌNH HÌNH THỰC HIỆN NHIỆM VỤ THEO KẾ HOẠCH",
        &base().set_bold(),
    )?;
    for (col, h) in c.task_columns.iter().enumerate() {
        ws.write_with_format(1, col as u16, h, &head)?;
    }
    let date_fmt = boxed().set_num_format("dd/mm/yyyy").set_unlocked();
    for (i, t) in c.tasks.iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_with_format(r, 0, &t.code, &boxed())?;
        ws.write_with_format(r, 1, &t.content, &boxed())?;
        match t.status {
            Some(s) => ws.write_with_format(r, 2, s.label(), &boxed().set_unlocked())?,
            None => ws.write_blank(r, 2, &boxed().set_unlocked())?,
        };
        match t.done_on {
            Some(d) => ws.write_date_with_format(
                r,
                3,
                &ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?,
                &date_fmt,
            )?,
            None => ws.write_blank(r, 3, &date_fmt)?,
        };
        match &t.document {
            Some(d) => ws.write_with_format(r, 4, d, &boxed().set_unlocked())?,
            None => ws.write_blank(r, 4, &boxed().set_unlocked())?,
        };
    }
    if !c.tasks.is_empty() {
        let last = 1 + c.tasks.len() as u32;
        let statuses = [
            TaskStatus::Done,
            TaskStatus::InProgress,
            TaskStatus::NotStarted,
        ]
        .map(|s| s.label());
        ws.add_data_validation(
            2,
            2,
            last,
            2,
            &DataValidation::new().allow_list_strings(&statuses)?,
        )?;
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 60)?;
    ws.set_column_width(2, 18)?;
    ws.set_column_width(3, 16)?;
    ws.set_column_width(4, 22)?;
    Ok(())
}

fn info_sheet(ws: &mut Worksheet, c: &WorkbookContent) -> Result<(), ReportError> {
    ws.set_name(SHEET_INFO)?;
    ws.write_with_format(0, 0, "THÔNG TIN ĐƠN VỊ BÁO CÁO", &base().set_bold())?;
    let rows = [
        ("Mã đơn vị", Some(c.unit_code.clone())),
        ("Tên đơn vị", Some(c.unit_name.clone())),
        ("Kỳ báo cáo", Some(c.period.label_vi())),
        ("Người lập biểu", c.preparer.clone()),
        ("Số điện thoại", c.phone.clone()),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        let r = 1 + i as u32;
        ws.write_with_format(r, 0, *k, &boxed().set_bold())?;
        match v {
            Some(v) => ws.write_with_format(r, 1, v, &boxed().set_unlocked())?,
            None => ws.write_blank(r, 1, &boxed().set_unlocked())?,
        };
    }
    ws.set_column_width(0, 20)?;
    ws.set_column_width(1, 45)?;
    Ok(())
}

fn help_sheet(ws: &mut Worksheet, c: &WorkbookContent) -> Result<(), ReportError> {
    ws.set_name(SHEET_HELP)?;
    let (from, to) = c.window;
    let lines = [
        "HƯỚNG DẪN NHẬP SỐ LIỆU".to_string(),
        format!("Kỳ báo cáo {}: số liệu tính từ ngày {} đến ngày {}.", c.period.label_vi(), dmy(from), dmy(to)),
        "1. Sheet \"Biểu 06\": mỗi dòng một lĩnh vực; có thể thêm, bớt dòng. Dòng \"Tổng cộng\" tự cộng, không sửa.".into(),
        "   Mỗi dòng phải thỏa mãn: (3) = (4) + (5) + (6); (3) = (7) + (11); (7) = (8) + (9) + (10); (11) = (12) + (13).".into(),
        "   Chỉ nhập số nguyên không âm; không nhập chữ, dấu cách hay ký hiệu vào ô số liệu.".into(),
        "2. Sheet \"Chỉ số\": điền cột \"Giá trị\" cho từng chỉ số; chỉ số PAKN ghi 1 (có) hoặc 0 (không); thời gian chờ ghi theo phút.".into(),
        "3. Sheet \"Nhiệm vụ\": chọn tình trạng; nhiệm vụ đã hoàn thành ghi ngày và số, ký hiệu văn bản.".into(),
        "4. Sheet \"Thông tin\": không sửa mã đơn vị và kỳ báo cáo; ghi người lập biểu và số điện thoại.".into(),
        "Gửi tệp qua cổng thông tin trước hạn nộp. Hệ thống kiểm tra ngay và báo từng ô sai để sửa.".into(),
    ];
    for (i, l) in lines.iter().enumerate() {
        let f = if i == 0 { base().set_bold() } else { base() };
        ws.write_with_format(i as u32, 0, l, &f)?;
    }
    ws.set_column_width(0, 120)?;
    Ok(())
}

/// A unit's prefilled workbook for a quarter, and the file name it goes by
/// (`XA01-2022-Q4.xlsx`): what `tthc template`, the reminders and the
/// portal hand out.
pub fn unit_template(
    s: &crate::settings::Settings,
    rules: &crate::rules::RuleBook,
    u: &crate::domain::Unit,
    period: Period,
) -> Result<(String, Vec<u8>), ReportError> {
    let bytes = write_workbook(&blank_content(s, rules, u, period))?;
    Ok((format!("{}-{period}.xlsx", u.code), bytes))
}

/// The indicators a unit of `league` reports for `period`: those of the
/// form in force (the built-in one if none is) for every league or its own.
pub fn indicator_rows(
    rules: &crate::rules::RuleBook,
    league: &str,
    period: Period,
) -> Vec<Indicator> {
    rules
        .form_in_force(period)
        .indicators
        .iter()
        .filter(|i| i.leagues.is_empty() || i.leagues.iter().any(|l| l == league))
        .cloned()
        .collect()
}

/// A unit's empty workbook for a period, with its tasks listed.
pub fn blank_content(
    s: &crate::settings::Settings,
    rules: &crate::rules::RuleBook,
    u: &crate::domain::Unit,
    period: Period,
) -> WorkbookContent {
    let indicator_rows = indicator_rows(rules, &u.league.0, period);
    let form: &Form = rules.form_in_force(period);
    let tasks = rules
        .tasks_for(period)
        .map(|t| {
            t.tasks
                .iter()
                .filter(|t| t.leagues.contains(&u.league.0))
                .map(|t| TaskLine {
                    code: t.code.clone(),
                    content: t.content.clone(),
                    status: None,
                    done_on: None,
                    document: None,
                })
                .collect()
        })
        .unwrap_or_default();
    WorkbookContent {
        unit_code: u.code.0.clone(),
        unit_name: u.name.clone(),
        period,
        window: period.window(s.period.window),
        groups: form.groups.clone(),
        columns: form.columns.clone(),
        rows: default_linh_vuc(&u.league.0)
            .into_iter()
            .map(|l| (l, None))
            .collect(),
        indicators: vec![None; indicator_rows.len()],
        indicator_rows,
        tasks,
        task_columns: form.task_columns.clone(),
        preparer: None,
        phone: None,
        total_formulas: true,
    }
}
