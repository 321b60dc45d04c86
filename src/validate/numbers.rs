//! Reading a figure out of a cell. Counts are whole, non-negative numbers;
//! units type them as numbers, as text ("1.234", "1,234", " 12 "), or leave
//! them blank. A blank figure cell counts as 0 (units leave zeros blank);
//! anything that is not clearly a number is a finding, never a guess.

use crate::intake::RawCell;

#[derive(Debug, Clone, PartialEq)]
pub enum NumberProblem {
    NotANumber,
    Negative(f64),
    Fraction(f64),
    ErrorValue(String),
    Uncached(String),
    TooLarge(f64),
}

/// No unit handles a billion dossiers in a quarter: a larger count is a
/// typing slip, and refusing it keeps every sum of a workbook exact.
const MAX_COUNT: f64 = 1e9;

impl NumberProblem {
    pub fn code(&self) -> &'static str {
        match self {
            NumberProblem::NotANumber => "khong_phai_so",
            NumberProblem::Negative(_) => "so_am",
            NumberProblem::Fraction(_) => "so_le",
            NumberProblem::ErrorValue(_) => "loi_cong_thuc",
            NumberProblem::Uncached(_) => "cong_thuc_chua_tinh",
            NumberProblem::TooLarge(_) => "so_qua_lon",
        }
    }

    pub fn message(&self, what: &str) -> String {
        match self {
            NumberProblem::NotANumber => {
                format!("{what} không phải là số. Chỉ nhập chữ số, không nhập chữ hay ký hiệu.")
            }
            NumberProblem::Negative(_) => {
                format!("{what} là số âm. Số hồ sơ, số TTHC không thể âm.")
            }
            NumberProblem::Fraction(_) => {
                format!("{what} là số thập phân. Số hồ sơ, số TTHC phải là số nguyên.")
            }
            NumberProblem::ErrorValue(e) => {
                format!("{what} là lỗi công thức {e}. Sửa công thức hoặc nhập số trực tiếp.")
            }
            NumberProblem::TooLarge(_) => {
                format!("{what} lớn bất thường (trên một tỷ). Kiểm tra lại số liệu.")
            }
            NumberProblem::Uncached(f) => format!(
                "{what} là công thức ({f}) chưa có giá trị đã tính. Mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi gửi, hoặc nhập số trực tiếp."
            ),
        }
    }
}

/// A number typed as text: spaces dropped, "1.234" and "1,234" read as
/// thousands, "12,5" and "12.5" as decimals.
fn parse_text(t: &str) -> Option<f64> {
    let s: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Some(0.0);
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.as_str()),
    };
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let groups: Vec<&str> = body.split(['.', ',']).collect();
    let seps: Vec<char> = body.chars().filter(|c| *c == '.' || *c == ',').collect();
    let value = if seps.is_empty() {
        body.parse::<f64>().ok()?
    } else if groups.len() >= 2
        && seps.iter().all(|c| *c == seps[0])
        && groups[0].len() <= 3
        && !groups[0].is_empty()
        && groups[1..].iter().all(|g| g.len() == 3)
    {
        // "1.234" or "1,234,567": thousands separators.
        groups.concat().parse::<f64>().ok()?
    } else if seps.len() == 1 {
        body.replace(',', ".").parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

/// A cell's number, or why it is not one. `whole` asks for a count.
pub fn read_number(cell: &RawCell, whole: bool) -> Result<f64, NumberProblem> {
    let v = match cell {
        RawCell::Empty => 0.0,
        RawCell::Number(n) => *n,
        RawCell::Text(t) => parse_text(t).ok_or(NumberProblem::NotANumber)?,
        RawCell::Error(e) => return Err(NumberProblem::ErrorValue(e.clone())),
        RawCell::Uncached(f) => return Err(NumberProblem::Uncached(f.clone())),
        RawCell::Bool(_) | RawCell::Date(_) => return Err(NumberProblem::NotANumber),
    };
    if !v.is_finite() {
        return Err(NumberProblem::NotANumber);
    }
    if v < 0.0 {
        return Err(NumberProblem::Negative(v));
    }
    if whole && v.fract() != 0.0 {
        return Err(NumberProblem::Fraction(v));
    }
    if v > MAX_COUNT {
        return Err(NumberProblem::TooLarge(v));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> RawCell {
        RawCell::Text(s.into())
    }

    #[test]
    fn numbers_typed_as_text_are_read() {
        assert_eq!(read_number(&text("1.234"), true), Ok(1234.0));
        assert_eq!(read_number(&text("1,234"), true), Ok(1234.0));
        assert_eq!(read_number(&text(" 12 "), true), Ok(12.0));
        assert_eq!(read_number(&text("12,0"), true), Ok(12.0));
        assert_eq!(read_number(&text("12,5"), false), Ok(12.5));
        assert_eq!(read_number(&RawCell::Empty, true), Ok(0.0));
    }

    #[test]
    fn doubtful_cells_are_problems() {
        assert_eq!(
            read_number(&text("mười"), true),
            Err(NumberProblem::NotANumber)
        );
        assert_eq!(
            read_number(&text("1.2.3"), true),
            Err(NumberProblem::NotANumber)
        );
        assert_eq!(
            read_number(&RawCell::Number(-3.0), true),
            Err(NumberProblem::Negative(-3.0))
        );
        assert_eq!(
            read_number(&RawCell::Number(2.5), true),
            Err(NumberProblem::Fraction(2.5))
        );
        assert!(matches!(
            read_number(&RawCell::Error("#REF!".into()), true),
            Err(NumberProblem::ErrorValue(_))
        ));
        assert!(matches!(
            read_number(&RawCell::Number(3e21), true),
            Err(NumberProblem::TooLarge(_))
        ));
    }
}
