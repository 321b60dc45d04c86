//! Reporting periods: a quarter or a year, its data window (by calendar
//! quarter or the cut-off of the report form) and its words in Vietnamese
//! ("Quý IV/2022").

use chrono::{Datelike, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// A reporting period: a quarter (`2022-Q4`) or a whole year (`2022`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Quarter { year: i32, quarter: u8 },
    Year { year: i32 },
}

/// How a quarter's data window is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowMode {
    /// Decree 09/2019: from the 15th of the month before the quarter to the
    /// 14th of its last month (Q4 = 15/09 → 14/12).
    Reporting,
    /// Calendar quarters, as the national portal counts them.
    Calendar,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("kỳ báo cáo \"{0}\" không hợp lệ: viết theo dạng 2022-Q4 (một quý) hoặc 2022 (cả năm)")]
pub struct PeriodError(pub String);

impl Period {
    pub fn quarter(year: i32, quarter: u8) -> Self {
        Period::Quarter { year, quarter }
    }

    pub fn year(&self) -> i32 {
        match *self {
            Period::Quarter { year, .. } | Period::Year { year } => year,
        }
    }

    /// The quarter before this one; for a year, the year before.
    pub fn previous(&self) -> Period {
        match *self {
            Period::Quarter { year, quarter: 1 } => Period::Quarter {
                year: year - 1,
                quarter: 4,
            },
            Period::Quarter { year, quarter } => Period::Quarter {
                year,
                quarter: quarter - 1,
            },
            Period::Year { year } => Period::Year { year: year - 1 },
        }
    }

    /// The quarter after this one; for a year, the year after.
    /// A year's first quarter; a quarter itself.
    pub fn first_quarter(self) -> Period {
        match self {
            Period::Year { year } => Period::quarter(year, 1),
            q => q,
        }
    }

    /// A year's last quarter; a quarter itself.
    pub fn last_quarter(self) -> Period {
        match self {
            Period::Year { year } => Period::quarter(year, 4),
            q => q,
        }
    }

    pub fn next(&self) -> Period {
        match *self {
            Period::Quarter { year, quarter: 4 } => Period::Quarter {
                year: year + 1,
                quarter: 1,
            },
            Period::Quarter { year, quarter } => Period::Quarter {
                year,
                quarter: quarter + 1,
            },
            Period::Year { year } => Period::Year { year: year + 1 },
        }
    }

    /// The four quarters of a year, or the quarter itself.
    pub fn quarters(&self) -> Vec<Period> {
        match *self {
            Period::Quarter { .. } => vec![*self],
            Period::Year { year } => (1..=4).map(|q| Period::quarter(year, q)).collect(),
        }
    }

    /// First and last day (inclusive) of the data window.
    pub fn window(&self, mode: WindowMode) -> (NaiveDate, NaiveDate) {
        let first_q = |year: i32, q: u8| -> (NaiveDate, NaiveDate) {
            let last_month = u32::from(q) * 3;
            match mode {
                WindowMode::Calendar => {
                    let from = ymd(year, last_month - 2, 1);
                    let to = if q == 4 {
                        ymd(year, 12, 31)
                    } else {
                        ymd(year, last_month + 1, 1).pred_opt().unwrap_or(from)
                    };
                    (from, to)
                }
                WindowMode::Reporting => {
                    let from = if q == 1 {
                        ymd(year - 1, 12, 15)
                    } else {
                        ymd(year, last_month - 3, 15)
                    };
                    (from, ymd(year, last_month, 14))
                }
            }
        };
        match *self {
            Period::Quarter { year, quarter } => first_q(year, quarter),
            Period::Year { year } => (first_q(year, 1).0, first_q(year, 4).1),
        }
    }

    /// "Quý IV/2022" or "Năm 2022".
    pub fn label_vi(&self) -> String {
        match *self {
            Period::Quarter { year, quarter } => format!("Quý {}/{}", roman(quarter), year),
            Period::Year { year } => format!("Năm {year}"),
        }
    }

    /// Reads a period as people write it: "Quý IV/2022", "quý 4 năm 2022",
    /// "IV/2022", "2022-Q4", or "Năm 2022".
    pub fn parse_vi(text: &str) -> Option<Period> {
        if let Ok(p) = text.trim().parse::<Period>() {
            return Some(p);
        }
        let folded = super::ascii_fold(text);
        let tokens: Vec<&str> = folded
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| !t.is_empty())
            .collect();
        let year = tokens.iter().find_map(|t| {
            t.parse::<i32>()
                .ok()
                .filter(|y| t.len() == 4 && (2000..=2100).contains(y))
        })?;
        let quarter_word = |t: &str| match t {
            "i" | "1" => Some(1u8),
            "ii" | "2" => Some(2),
            "iii" | "3" => Some(3),
            "iv" | "4" => Some(4),
            _ => None,
        };
        let after_quy = tokens
            .windows(2)
            .find(|w| w[0] == "quy")
            .and_then(|w| quarter_word(w[1]))
            .or_else(|| {
                tokens
                    .iter()
                    .find_map(|t| t.strip_prefix('q').and_then(quarter_word))
            });
        let before_year = tokens
            .windows(2)
            .find(|w| w[1] == year.to_string() && matches!(w[0], "i" | "ii" | "iii" | "iv"))
            .and_then(|w| quarter_word(w[0]));
        match after_quy.or(before_year) {
            Some(q) => Some(Period::quarter(year, q)),
            None if tokens.contains(&"nam") => Some(Period::Year { year }),
            None => None,
        }
    }

    /// The quarter whose data window two dates in a text give, as in "từ
    /// ngày 15/09/2022 đến ngày 14/12/2022" (either window mode).
    pub fn from_window_text(text: &str, mode: WindowMode) -> Option<Period> {
        let dates: Vec<NaiveDate> = text
            .split(|c: char| !(c.is_ascii_digit() || c == '/' || c == '-' || c == '.'))
            .filter_map(|t| {
                let t = t.trim_matches(|c| c == '.' || c == '-');
                ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
                    .iter()
                    .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
            })
            .collect();
        let [from, to, ..] = dates.as_slice() else {
            return None;
        };
        [mode, WindowMode::Reporting, WindowMode::Calendar]
            .into_iter()
            .find_map(|m| {
                let p = Period::quarter_of(*to, m);
                (p.window(m) == (*from, *to)).then_some(p)
            })
    }

    /// The quarter a date falls in, by the given window mode.
    pub fn quarter_of(date: NaiveDate, mode: WindowMode) -> Period {
        let year = date.year();
        for q in 1..=4u8 {
            for y in [year, year + 1] {
                let p = Period::quarter(y, q);
                let (from, to) = p.window(mode);
                if from <= date && date <= to {
                    return p;
                }
            }
        }
        Period::quarter(year, 4)
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

pub fn roman(q: u8) -> &'static str {
    match q {
        1 => "I",
        2 => "II",
        3 => "III",
        _ => "IV",
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Period::Year { year } => write!(f, "{year}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let err = || PeriodError(s.to_string());
        let parse_year = |y: &str| -> Result<i32, PeriodError> {
            let year: i32 = y.parse().map_err(|_| err())?;
            if (2000..=2100).contains(&year) {
                Ok(year)
            } else {
                Err(err())
            }
        };
        match t.split_once(['-', '_']) {
            Some((y, q)) => {
                let q = q.strip_prefix(['Q', 'q']).ok_or_else(err)?;
                let quarter: u8 = q.parse().map_err(|_| err())?;
                if !(1..=4).contains(&quarter) {
                    return Err(err());
                }
                Ok(Period::Quarter {
                    year: parse_year(y)?,
                    quarter,
                })
            }
            None => Ok(Period::Year {
                year: parse_year(t)?,
            }),
        }
    }
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Whether a period falls in an effective range (quarters compared by their
/// year and number; a year is in force when its last quarter is).
pub fn in_force(effective: &(Period, Option<Period>), period: Period) -> bool {
    let p = period.last_quarter();
    p >= effective.0.first_quarter() && effective.1.is_none_or(|end| p <= end.last_quarter())
}

/// Whether two effective ranges share a quarter.
pub fn overlap(a: &(Period, Option<Period>), b: &(Period, Option<Period>)) -> bool {
    let starts_before_end = |x: &(Period, Option<Period>), y: &(Period, Option<Period>)| {
        y.1.is_none_or(|end| x.0.first_quarter() <= end.last_quarter())
    };
    starts_before_end(a, b) && starts_before_end(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporting_window_of_q4_runs_from_15_september_to_14_december() {
        let (from, to) = Period::quarter(2022, 4).window(WindowMode::Reporting);
        assert_eq!((from, to), (ymd(2022, 9, 15), ymd(2022, 12, 14)));
        let (from, to) = Period::quarter(2022, 1).window(WindowMode::Reporting);
        assert_eq!((from, to), (ymd(2021, 12, 15), ymd(2022, 3, 14)));
    }

    #[test]
    fn calendar_window_follows_the_months() {
        let (from, to) = Period::quarter(2022, 2).window(WindowMode::Calendar);
        assert_eq!((from, to), (ymd(2022, 4, 1), ymd(2022, 6, 30)));
        let (from, to) = Period::Year { year: 2022 }.window(WindowMode::Reporting);
        assert_eq!((from, to), (ymd(2021, 12, 15), ymd(2022, 12, 14)));
    }

    #[test]
    fn periods_parse_and_print() {
        assert_eq!("2022-Q4".parse::<Period>(), Ok(Period::quarter(2022, 4)));
        assert_eq!("2022".parse::<Period>(), Ok(Period::Year { year: 2022 }));
        assert!("2022-Q5".parse::<Period>().is_err());
        assert_eq!(
            Period::quarter(2023, 1).previous(),
            Period::quarter(2022, 4)
        );
        assert_eq!(Period::quarter(2022, 4).label_vi(), "Quý IV/2022");
    }

    #[test]
    fn periods_are_read_as_people_write_them() {
        let q4 = Some(Period::quarter(2022, 4));
        assert_eq!(Period::parse_vi("Quý IV/2022"), q4);
        assert_eq!(Period::parse_vi("quý 4 năm 2022"), q4);
        assert_eq!(Period::parse_vi("IV/2022"), q4);
        assert_eq!(
            Period::parse_vi("Kỳ báo cáo: Quý IV/2022 (từ ngày 15/09/2022 đến ngày 14/12/2022)"),
            q4
        );
        assert_eq!(
            Period::parse_vi("Năm 2022"),
            Some(Period::Year { year: 2022 })
        );
        assert_eq!(Period::parse_vi("tháng 12"), None);
        assert_eq!(Period::parse_vi("XA10-2022-Q4"), q4);
        assert_eq!(
            Period::from_window_text(
                "Từ ngày 15/09/2022 đến ngày 14/12/2022",
                WindowMode::Reporting
            ),
            q4
        );
        assert_eq!(
            Period::from_window_text("01/10/2022 - 31/12/2022", WindowMode::Reporting),
            q4
        );
        assert_eq!(
            Period::from_window_text("01/10/2022 - 30/12/2022", WindowMode::Reporting),
            None
        );
    }

    #[test]
    fn a_date_falls_in_its_reporting_quarter() {
        assert_eq!(
            Period::quarter_of(ymd(2022, 12, 20), WindowMode::Reporting),
            Period::quarter(2023, 1)
        );
        assert_eq!(
            Period::quarter_of(ymd(2022, 12, 14), WindowMode::Reporting),
            Period::quarter(2022, 4)
        );
    }
}
