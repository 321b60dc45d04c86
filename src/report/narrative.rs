//! The report's prose, written from the figures: how many dossiers were
//! received and resolved, the on-time rate, who reported and who did not,
//! who leads and who trails each league.

use super::Results;
use crate::rank::Status;

/// Paragraphs of the report body, in order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Narrative {
    pub dossiers: String,
    pub reporting: String,
    pub leagues: Vec<String>,
}

/// Vietnamese number format: 12.345 and 96,75.
pub fn int_vi(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub fn dec_vi(x: f64) -> String {
    let s = format!("{:.2}", crate::score::round_half_away(x, 2));
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    format!("{},{frac}", int_vi(int.parse().unwrap_or(0)))
}

pub fn pct_vi(num: f64, den: f64) -> String {
    if den == 0.0 {
        "—".into()
    } else {
        format!("{}%", dec_vi(100.0 * num / den))
    }
}

/// At most this many names are written into a sentence; the rest are
/// counted and the reader sent to the appendix that lists every unit.
pub const NAMES_IN_TEXT: usize = 20;

/// `names`, but a list longer than `NAMES_IN_TEXT` ends "… và 312 đơn vị
/// khác (danh sách tại Phụ lục II)": a sentence of three thousand names
/// helps nobody and costs the typesetter seconds.
pub fn names_capped(list: &[&str], see: &str) -> String {
    if list.len() <= NAMES_IN_TEXT {
        return names(list);
    }
    format!(
        "{} và {} đơn vị khác (danh sách tại {see})",
        list[..NAMES_IN_TEXT].join(", "),
        list.len() - NAMES_IN_TEXT
    )
}

fn names(list: &[&str]) -> String {
    match list {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} và {last}", init.join(", ")),
    }
}

/// The paragraph on dossiers, where the form has Form 06's columns of
/// Circular 01/2020 (by their codes in the shipped forms).
fn dossiers_prose(form: &crate::domain::Form, totals: &[i64]) -> Option<String> {
    let f = |code: &str| {
        form.columns
            .iter()
            .position(|x| x.code == code)
            .map(|i| totals[i])
    };
    let (nhan, tt, ky_truoc, da, som, dung, qua, dang, trong, dang_qua) = (
        f("nhan_tong")?,
        f("nhan_truc_tuyen")?,
        f("nhan_ky_truoc")?,
        f("da_giai_quyet")?,
        f("truoc_han")?,
        f("dung_han")?,
        f("qua_han")?,
        f("dang_giai_quyet")?,
        f("trong_han")?,
        f("dang_qua_han")?,
    );
    let in_period = nhan - ky_truoc;
    Some(format!(
        "Trong kỳ, các đơn vị đã báo cáo tiếp nhận {} hồ sơ thủ tục hành chính ({} hồ sơ mới tiếp nhận, trong đó {} hồ sơ trực tuyến, chiếm {}; {} hồ sơ từ kỳ trước chuyển sang). \
             Đã giải quyết {} hồ sơ, trong đó {} hồ sơ trước hạn và đúng hạn ({}), {} hồ sơ quá hạn. \
             Đang giải quyết {} hồ sơ, trong đó {} hồ sơ trong hạn và {} hồ sơ quá hạn. \
             Tỷ lệ hồ sơ giải quyết trước hạn, đúng hạn và đang trong hạn đạt {}.",
        int_vi(nhan),
        int_vi(in_period),
        int_vi(tt),
        pct_vi(tt as f64, in_period as f64),
        int_vi(ky_truoc),
        int_vi(da),
        int_vi(som + dung),
        pct_vi((som + dung) as f64, da as f64),
        int_vi(qua),
        int_vi(dang),
        int_vi(trong),
        int_vi(dang_qua),
        pct_vi((som + dung + trong) as f64, nhan as f64),
    ))
}

impl Narrative {
    pub fn from_results(r: &Results) -> Narrative {
        let mut totals = vec![0i64; r.form.columns.len()];
        for u in r.units().filter(|u| u.card.is_some()) {
            for row in &u.rows {
                for (t, v) in totals.iter_mut().zip(&row.values) {
                    *t += v;
                }
            }
        }
        let dossiers = dossiers_prose(&r.form, &totals).unwrap_or_else(|| {
            // A form without Form 06's columns of Circular 01/2020: each
            // of its columns with the total reported.
            let list: Vec<String> = r
                .form
                .columns
                .iter()
                .zip(&totals)
                .map(|(c, v)| {
                    let group = r.form.groups.iter().find(|g| g.code == c.group);
                    let name = match group {
                        Some(g) if c.total => g.label.clone(),
                        Some(g) => format!("{} — {}", g.label, c.label.to_lowercase()),
                        None => c.label.clone(),
                    };
                    format!("({}) {name}: {}", c.number, int_vi(*v))
                })
                .collect();
            format!(
                "Trong kỳ, các đơn vị đã báo cáo theo Biểu 06: {}.",
                list.join("; ")
            )
        });
        let all: Vec<_> = r.units().collect();
        let with = |s: Status| -> Vec<&str> {
            all.iter()
                .filter(|u| u.status == s)
                .map(|u| u.name.as_str())
                .collect()
        };
        let (on_time, late, missing, rejected) = (
            with(Status::OnTime),
            with(Status::Late),
            with(Status::Missing),
            with(Status::Rejected),
        );
        let mut reporting = format!(
            "Có {}/{} đơn vị gửi báo cáo đúng hạn.",
            on_time.len(),
            all.len()
        );
        if !late.is_empty() {
            // The penalty said is the one the late units' cards carry: a
            // year applies none, whatever the ruleset's quarterly penalty.
            let mut applied: Vec<f64> = all
                .iter()
                .filter(|u| u.status == Status::Late)
                .filter_map(|u| u.card.as_ref().map(|c| c.penalty))
                .filter(|p| *p > 0.0)
                .collect();
            applied.dedup();
            let penalty = match applied.as_slice() {
                [] => String::new(),
                [p] => format!(" (bị trừ {} điểm)", dec_vi(*p)),
                _ => " (bị trừ điểm theo quy định)".to_string(),
            };
            reporting.push_str(&format!(
                " {} đơn vị nộp muộn: {}{penalty}.",
                late.len(),
                names_capped(&late, "Phụ lục II"),
            ));
        }
        if !rejected.is_empty() {
            reporting.push_str(&format!(
                " {} đơn vị có báo cáo không hợp lệ, bị trả lại để sửa: {}.",
                rejected.len(),
                names_capped(&rejected, "Phụ lục II")
            ));
        }
        if !missing.is_empty() {
            reporting.push_str(&format!(
                " {} đơn vị chưa gửi báo cáo: {}.",
                missing.len(),
                names_capped(&missing, "Phụ lục II")
            ));
        }
        if !rejected.is_empty() || !missing.is_empty() {
            reporting.push_str(" Các đơn vị này không được chấm điểm, xếp hạng trong kỳ.");
        }
        let leagues = r
            .leagues
            .iter()
            .filter_map(|l| {
                let ranked: Vec<_> = l.units.iter().filter(|u| u.rank.is_some()).collect();
                let first = ranked.first()?;
                let last = ranked.last()?;
                let leaders: Vec<&str> = ranked.iter().filter(|u| u.rank == first.rank).map(|u| u.name.as_str()).collect();
                let trailers: Vec<&str> = ranked.iter().filter(|u| u.rank == last.rank).map(|u| u.name.as_str()).collect();
                let total = |u: &crate::rank::UnitResult| u.card.as_ref().map(|c| c.total).unwrap_or(0.0);
                let mean = ranked.iter().map(|u| total(u)).sum::<f64>() / ranked.len() as f64;
                let mut bands: Vec<String> = Vec::new();
                for b in &r.ruleset.bands {
                    let n = ranked.iter().filter(|u| u.card.as_ref().is_some_and(|c| c.band == b.label)).count();
                    if n > 0 {
                        bands.push(format!("{n} đơn vị {}", b.label.to_lowercase()));
                    }
                }
                Some(format!(
                    "Khối {} ({} đơn vị được xếp hạng): điểm bình quân {}; {}. Dẫn đầu là {} với {} điểm; thấp nhất là {} với {} điểm.",
                    l.label,
                    ranked.len(),
                    dec_vi(mean),
                    bands.join(", "),
                    names_capped(&leaders, "Phụ lục I"),
                    dec_vi(total(first)),
                    names_capped(&trailers, "Phụ lục I"),
                    dec_vi(total(last)),
                ))
            })
            .collect();
        Narrative {
            dossiers,
            reporting,
            leagues,
        }
    }
}

/// The leagues as a sentence names them, from the rules' labels: "các cơ
/// quan, đơn vị và UBND xã, thị trấn". A label that starts with an acronym
/// (UBND) keeps its capitals; another starts in lower case; a label that
/// says "Các …" itself ("Các sở, ban, ngành") does not say it twice.
pub fn leagues_phrase(r: &Results) -> String {
    let labels: Vec<String> = r
        .leagues
        .iter()
        .map(|l| {
            let label = crate::domain::decapitalise(&l.label);
            label
                .strip_prefix("các ")
                .map(str::to_string)
                .unwrap_or(label)
        })
        .collect();
    let joined = match labels.as_slice() {
        [] => "đơn vị".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} và {last}", init.join("; ")),
    };
    format!("các {joined}")
}

/// The headline figures as short lines, for the email body.
pub fn narrative_figures(r: &Results) -> String {
    let n = Narrative::from_results(r);
    let mut out = format!("{}\n\n{}\n", n.dossiers, n.reporting);
    for l in &n.leagues {
        out.push_str(&format!("\n{l}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_vietnamese_way() {
        assert_eq!(int_vi(1234567), "1.234.567");
        assert_eq!(int_vi(999), "999");
        assert_eq!(dec_vi(96.755), "96,76");
        assert_eq!(dec_vi(1234.5), "1.234,50");
        assert_eq!(pct_vi(1.0, 3.0), "33,33%");
    }
}
