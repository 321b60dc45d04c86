//! `bao-cao-<period>.pdf`: the official report, typeset by typst from
//! `templates/bao-cao.typ` with Liberation Serif embedded (metric-compatible
//! with Times New Roman), so the Vietnamese text is right on any machine.

use super::layout::{self, Align};
use super::narrative::{Narrative, dec_vi, int_vi};
use super::{ReportError, Results};
use crate::rank::{Status, UnitResult};
use chrono::{DateTime, Datelike, FixedOffset};
use serde_json::{Value, json};
use std::sync::OnceLock;
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};

const TEMPLATE: &str = include_str!("../../templates/bao-cao.typ");

static ENGINE: OnceLock<TypstEngine<TypstTemplateMainFile>> = OnceLock::new();

fn engine() -> &'static TypstEngine<TypstTemplateMainFile> {
    ENGINE.get_or_init(|| {
        TypstEngine::builder()
            .main_file(TEMPLATE)
            .fonts(layout::FONTS)
            // Typst's caches are emptied after the PDF is written, off its
            // path (see `write_data`), not between layout and writing.
            .comemo_evict_max_age(None)
            .build()
    })
}

/// Builds the typesetter (its library, the fonts parsed) on a thread of
/// its own, so that a run has it ready by the time the report is due
/// instead of starting on it then.
pub fn prepare() {
    if ENGINE.get().is_none() {
        std::thread::spawn(|| {
            engine();
        });
    }
}

/// "Trực Ninh, ngày 05 tháng 01 năm 2023".
pub fn date_line(place: &str, at: &DateTime<FixedOffset>) -> String {
    format!(
        "{place}, ngày {:02} tháng {:02} năm {}",
        at.day(),
        at.month(),
        at.year()
    )
}

/// The data the template reads, every figure already in Vietnamese form.
pub fn template_data(r: &Results) -> Value {
    let org = &r.organisation;
    let generated = DateTime::parse_from_rfc3339(&r.generated_at).unwrap_or_else(|_| {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
            .fixed_offset()
    });
    let date = date_line(&org.place, &generated);
    let n = Narrative::from_results(r);
    let who = super::narrative::leagues_phrase(r);
    let summary = format!(
        "Kết quả đánh giá, xếp hạng giải quyết thủ tục hành chính {} của {who}",
        r.period.label_vi()
    );
    let short_org = short_name(&org.name);
    let leagues: Vec<Value> = r
        .leagues
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let row = |u: &UnitResult| {
                vec![
                    rank_word(u),
                    u.name.clone(),
                    u.card.as_ref().map(|c| dec_vi(c.total)).unwrap_or_else(|| "—".into()),
                    band_word(u),
                    change_word(u),
                ]
            };
            let (cells, full_note): (Vec<Vec<String>>, Option<String>) = if l.units.len() <= LARGE_LEAGUE {
                (l.units.iter().map(row).collect(), None)
            } else {
                // A large league: its head and tail here, every unit in Phụ lục I.
                let ranked: Vec<&UnitResult> = l.units.iter().filter(|u| u.rank.is_some()).collect();
                let head = ranked.len().min(SHOWN_AT_EACH_END);
                let tail = ranked.len().saturating_sub(SHOWN_AT_EACH_END).max(head);
                let mut cells: Vec<Vec<String>> = ranked[..head].iter().map(|u| row(u)).collect();
                if tail > head {
                    cells.push(vec![
                        "…".into(),
                        format!("({} đơn vị, xem Phụ lục I)", int_vi((tail - head) as i64)),
                        "…".into(),
                        String::new(),
                        String::new(),
                    ]);
                }
                cells.extend(ranked[tail..].iter().map(|u| row(u)));
                let unranked = l.units.len() - ranked.len();
                let mut note = format!(
                    "Khối có {} đơn vị; bảng trên nêu {} đơn vị dẫn đầu và {} đơn vị thấp nhất. Thứ hạng, điểm và xếp loại của từng đơn vị tại Phụ lục I.",
                    int_vi(l.units.len() as i64),
                    head,
                    ranked.len() - tail
                );
                if unranked > 0 {
                    note.push_str(&format!(
                        " {} đơn vị không được xếp hạng (chưa nộp hoặc báo cáo bị trả lại), xem Phụ lục II.",
                        int_vi(unranked as i64)
                    ));
                }
                (cells, Some(note))
            };
            let cm = |x: f64| x / 2.54 * 72.0;
            let fixed: f64 = RANKING_CM.iter().map(|&x| cm(x)).sum();
            let widths: Vec<f64> = RANKING_CM
                .iter()
                .map(|&x| if x == 0.0 { TEXT_WIDTH_PT - fixed } else { cm(x) })
                .collect();
            let heights = row_heights(&cells, &widths, RANKING_SIZE);
            let totals: Vec<(&str, f64)> = l
                .units
                .iter()
                .filter_map(|u| Some((u.name.as_str(), u.card.as_ref()?.total)))
                .collect();
            let (chart_title, chart) = chart(&l.label, &totals);
            json!({ "label": l.label, "text": n.leagues.get(i), "rows": cells, "heights": heights, "full_note": full_note, "chart": chart, "chart_title": chart_title })
        })
        .collect();
    let late_rule = match r.period {
        crate::domain::Period::Year { .. } => {
            "; điểm năm tính trên số liệu cả năm, không trừ điểm nộp muộn".to_string()
        }
        _ if r.ruleset.late_penalty > 0.0 => format!(
            "; đơn vị nộp báo cáo muộn bị trừ {} điểm",
            dec_vi(r.ruleset.late_penalty)
        ),
        _ => String::new(),
    };
    let separately = if r.leagues.len() > 1 {
        format!(" {} được xếp hạng riêng.", crate::domain::capitalise(&who))
    } else {
        String::new()
    };
    let method = format!(
        "Các đơn vị được chấm điểm theo {} (phiên bản {}), thang điểm 100 gồm các nhóm: {}. Tiêu chí không phát sinh (mẫu số bằng 0) được loại khỏi thang điểm và tổng điểm được quy đổi về thang 100{late_rule}.{separately}",
        r.ruleset.name,
        r.ruleset.version,
        r.ruleset
            .groups
            .iter()
            .map(|g| format!(
                "{} ({} điểm)",
                g.label,
                dec_vi(r.ruleset.group_points(&g.code))
            ))
            .collect::<Vec<_>>()
            .join("; "),
    );
    let mut closing = vec![format!(
        "Nhìn chung, các đơn vị đã quan tâm thực hiện công tác kiểm soát thủ tục hành chính và cập nhật, giải quyết hồ sơ trên hệ thống. {}",
        weak_text(r)
    )];
    closing.push(format!(
        "Đề nghị các đơn vị chưa gửi hoặc gửi báo cáo muộn chấn chỉnh, gửi báo cáo đúng hạn; các đơn vị xếp loại thấp rà soát các tiêu chí chưa đạt tại Phụ lục I để khắc phục trong kỳ tới. Trên đây là báo cáo kết quả đánh giá, xếp hạng giải quyết thủ tục hành chính {} của {}./.",
        r.period.label_vi(),
        short_org
    ));
    let appendix_note = format!(
        "(Kèm theo Báo cáo số      /{} ngày {:02}/{:02}/{} của {})",
        org.document_prefix,
        generated.day(),
        generated.month(),
        generated.year(),
        short_org
    );
    json!({
        "title": format!("Báo cáo kết quả giải quyết TTHC {}", r.period.label_vi()),
        "org": {
            "name": org.name, "name_lines": header_lines(&org.name), "superior": org.superior, "superior_short": if org.superior_in_header { short_name(&org.superior) } else { String::new() }, "prefix": org.document_prefix, "distribution": org.distribution,
            "archive": org.archive, "on_behalf": org.signer_on_behalf, "signer_title": org.signer_title, "signer_name": org.signer_name,
        },
        "date_line": date,
        "previous_word": r.previous_word(),
        "summary": summary,
        "intro": format!(
            "Thực hiện Kế hoạch kiểm soát thủ tục hành chính năm {}, {} báo cáo kết quả giải quyết thủ tục hành chính và đánh giá, xếp hạng {who} {} (số liệu từ ngày {} đến ngày {}) như sau:",
            r.period.year(), short_org, r.period.label_vi(), r.window.0.format("%d/%m/%Y"), r.window.1.format("%d/%m/%Y")
        ),
        "narrative": { "dossiers": n.dossiers, "reporting": n.reporting },
        "method": method,
        "leagues": leagues,
        "closing": closing,
        "appendix_note": appendix_note,
        "appendices": [appendix_scores(r, &appendix_note), appendix_submissions(r, &appendix_note), appendix_form06(r, &appendix_note)],
    })
}

/// The width of the page's text block: A4 less the 30 mm and 15 mm margins.
const TEXT_WIDTH_PT: f64 = (210.0 - 45.0) / 25.4 * 72.0;
/// A table cell's inset on each side (typst's default).
const INSET_PT: f64 = 5.0;
/// The text size of the ranking tables in the body.
const RANKING_SIZE: f64 = 12.0;
/// The ranking table's columns: rank, unit, score, band, change (cm; the
/// unit takes what is left).
const RANKING_CM: [f64; 5] = [1.3, 0.0, 1.5, 2.5, 2.4];

/// How wide `text` sets in the regular face at `size` points, with 2%
/// to spare.
fn width_pt(text: &str, size: f64) -> f64 {
    layout::advance(text, size, false) * 1.02
}

/// The height of each row of a table whose columns are `widths` points
/// wide, header first: one line's height for a row whose every cell surely
/// fits on one line, so the typesetter lays it out once instead of
/// measuring it first; `null` (automatic) for the header and any other row.
fn row_heights(rows: &[Vec<String>], widths: &[f64], size: f64) -> Vec<Option<f64>> {
    let one_line = (size * 0.7 + 2.0 * INSET_PT).ceil();
    std::iter::once(None)
        .chain(rows.iter().map(|row| {
            row.iter()
                .zip(widths)
                .all(|(t, w)| width_pt(t, size) <= w - 2.0 * INSET_PT)
                .then_some(one_line)
        }))
        .collect()
}

/// A league of more units than this gets a chart of how its scores are
/// spread rather than one bar per unit (which would run to dozens of
/// pages and show nothing).
const LARGE_LEAGUE: usize = 60;
/// An organisation of more units than this lists in Phụ lục II only those
/// that did not report on time.
const LARGE_ORGANISATION: usize = 200;
/// How many units of a large league's head and tail the body's table shows.
const SHOWN_AT_EACH_END: usize = 10;

fn rank_word(u: &UnitResult) -> String {
    u.rank.map(|x| x.to_string()).unwrap_or_else(|| "—".into())
}

fn band_word(u: &UnitResult) -> String {
    u.card
        .as_ref()
        .map(|c| c.band.clone())
        .unwrap_or_else(|| match u.status {
            Status::Rejected => "Bị trả lại".into(),
            _ => "Chưa nộp báo cáo".into(),
        })
}

/// The change of rank in a table cell: "+3" up three places, "−2" down
/// two, "0" the same, "—" no rank to compare.
fn rank_delta(u: &UnitResult) -> String {
    match (u.rank, u.previous) {
        (Some(now), Some(p)) if p.rank > now => format!("+{}", p.rank - now),
        (Some(now), Some(p)) if p.rank < now => format!("−{}", now - p.rank),
        (Some(_), Some(_)) => "0".into(),
        _ => "—".into(),
    }
}

fn change_word(u: &UnitResult) -> String {
    match (u.rank, u.previous) {
        (Some(now), Some(p)) if p.rank > now => format!("tăng {} bậc", p.rank - now),
        (Some(now), Some(p)) if p.rank < now => format!("giảm {} bậc", now - p.rank),
        (Some(_), Some(_)) => "giữ nguyên".into(),
        _ if u.status == Status::Rejected => "báo cáo bị trả lại".into(),
        _ => "—".into(),
    }
}

/// The colour of a score's bar, by band of ten points (the web chart uses it too).
pub fn bar_color(score: f64) -> &'static str {
    match score {
        t if t >= 90.0 => "#2e7d32",
        t if t >= 80.0 => "#558b2f",
        t if t >= 70.0 => "#f9a825",
        t if t >= 50.0 => "#ef6c00",
        _ => "#c62828",
    }
}

/// The league's chart: a bar per unit, in ranking order, for a small
/// league; for a large one, a bar per ten-point band of scores with the
/// number of units in it.
fn chart(league: &str, totals: &[(&str, f64)]) -> (String, Vec<Value>) {
    if totals.len() <= LARGE_LEAGUE {
        let bars = totals
            .iter()
            .map(|(name, t)| json!({ "name": name, "total": dec_vi(*t), "width": t.clamp(0.0, 100.0), "color": bar_color(*t) }))
            .collect();
        return (format!("Biểu đồ điểm khối {league}"), bars);
    }
    let mut bins = [0usize; 10];
    for (_, t) in totals {
        bins[((t.clamp(0.0, 100.0) / 10.0) as usize).min(9)] += 1;
    }
    let most = bins.iter().copied().max().unwrap_or(1).max(1);
    let bars = (0..10)
        .rev()
        .map(|i| {
            let from = i * 10;
            let label = if i == 9 {
                format!("Từ {from} đến 100 điểm")
            } else {
                format!("Từ {from} đến dưới {} điểm", from + 10)
            };
            json!({
                "name": label,
                "total": format!("{} đv", bins[i]),
                "width": 100.0 * bins[i] as f64 / most as f64,
                "color": bar_color(from as f64),
            })
        })
        .collect();
    (
        format!(
            "Phân bố điểm khối {league}: số đơn vị theo khoảng điểm ({} đơn vị)",
            totals.len()
        ),
        bars,
    )
}

/// "Ủy ban nhân dân huyện Trực Ninh" → "UBND huyện Trực Ninh".
/// An issuing body's name as its header sets it: the body on one line and
/// the place on the next ("Ủy ban nhân dân" / "tỉnh Ninh Bình"), so that a
/// line never breaks inside the place's name. The place starts at its
/// level word (tỉnh, thành phố, huyện, xã, phường …); a name without one
/// stays whole.
pub fn header_lines(name: &str) -> Vec<String> {
    const LEVELS: [&str; 10] = [
        "tỉnh",
        "thành phố",
        "huyện",
        "quận",
        "thị xã",
        "thị trấn",
        "xã",
        "phường",
        "đặc khu",
        "khu vực",
    ];
    let words: Vec<&str> = name.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let starts_level = |i: usize| {
        LEVELS.iter().any(|level| {
            let parts: Vec<&str> = level.split(' ').collect();
            parts.len() <= lower.len() - i
                && parts.iter().enumerate().all(|(k, p)| lower[i + k] == *p)
        })
    };
    match (1..words.len()).find(|&i| starts_level(i)) {
        Some(i) => vec![words[..i].join(" "), words[i..].join(" ")],
        None => vec![words.join(" ")],
    }
}

fn short_name(name: &str) -> String {
    name.replacen("Ủy ban nhân dân", "UBND", 1)
        .replacen("Uỷ ban nhân dân", "UBND", 1)
}

fn weak_text(r: &Results) -> String {
    let lowest = r
        .ruleset
        .bands
        .last()
        .map(|b| b.label.clone())
        .unwrap_or_default();
    let weak: Vec<&str> = r
        .units()
        .filter(|u| u.card.as_ref().is_some_and(|c| c.band == lowest))
        .map(|u| u.name.as_str())
        .collect();
    if weak.is_empty() {
        format!("Không có đơn vị nào xếp loại {}.", lowest.to_lowercase())
    } else {
        format!(
            "Tuy nhiên, còn {} đơn vị xếp loại {}: {}.",
            weak.len(),
            lowest.to_lowercase(),
            super::narrative::names_capped(&weak, "Phụ lục I")
        )
    }
}

fn appendix_scores(r: &Results, tie: &str) -> Value {
    let mut header: Vec<String> = vec!["Hạng".into(), "Đơn vị".into()];
    header.extend(
        r.ruleset
            .groups
            .iter()
            .map(|g| format!("{} ({})", g.code, dec_vi(r.ruleset.group_points(&g.code)))),
    );
    header.push("Tổng".into());
    header.push("Xếp loại".into());
    header.push(format!("Thay đổi hạng so với {}", r.previous_word()));
    let mut rows = Vec::new();
    for l in &r.leagues {
        let mut section = vec![String::new(); header.len()];
        section[1] = l.label.to_uppercase();
        rows.push(section);
        for u in &l.units {
            let mut row = vec![rank_word(u), super::marked_name(u)];
            for g in &r.ruleset.groups {
                row.push(
                    u.card
                        .as_ref()
                        .and_then(|c| c.groups.get(&g.code))
                        .map(|p| dec_vi(*p))
                        .unwrap_or_else(|| "—".into()),
                );
            }
            row.push(
                u.card
                    .as_ref()
                    .map(|c| dec_vi(c.total))
                    .unwrap_or_else(|| "—".into()),
            );
            row.push(band_word(u));
            row.push(rank_delta(u));
            rows.push(row);
        }
    }
    let legend: Vec<String> = r
        .ruleset
        .groups
        .iter()
        .map(|g| format!("{}: {}", g.code, g.label))
        .collect();
    let mut widths = vec![0.9, 3.4];
    widths.extend(std::iter::repeat_n(1.0, r.ruleset.groups.len()));
    widths.extend([1.1, 1.7, 1.2]);
    let mut align = vec![Align::Centre, Align::Left];
    align.extend(std::iter::repeat_n(
        Align::Right,
        r.ruleset.groups.len() + 1,
    ));
    align.extend([Align::Centre, Align::Centre]);
    let note = format!(
        "Ghi chú: {}. Số trong ngoặc ở dòng tiêu đề là điểm tối đa của nhóm.{}",
        legend.join("; "),
        super::merge_footnote(r)
            .map(|f| format!(" {f}"))
            .unwrap_or_default()
    );
    let title = format!(
        "ĐIỂM THEO NHÓM TIÊU CHÍ {}",
        r.period.label_vi().to_uppercase()
    );
    Appendix {
        number: "Phụ lục I",
        title,
        note: Some(note),
        header,
        rows,
        widths,
        align,
    }
    .laid_out(tie)
}

fn appendix_submissions(r: &Results, tie: &str) -> Value {
    let header = [
        "Đơn vị",
        "Hạn nộp",
        "Thời điểm nhận",
        "Tình trạng",
        "Số ngày muộn",
    ];
    // A large organisation lists here only the units that did not report
    // on time; the workbook's sheet has every unit.
    let all = r.units().count();
    let large = all > LARGE_ORGANISATION;
    let rows: Vec<Vec<String>> = r
        .units()
        .filter(|u| !large || u.status != Status::OnTime)
        .map(|u| {
            vec![
                u.name.clone(),
                u.deadline.format("%d/%m/%Y").to_string(),
                u.received_at
                    .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
                    .unwrap_or_else(|| "—".into()),
                crate::words::status_label(u.status).to_string(),
                u.days_late.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    let widths = [3.4, 1.3, 1.8, 1.4, 1.1];
    let note = large.then(|| {
        format!(
            "Ghi chú: bảng trên nêu {} đơn vị nộp muộn, có báo cáo bị trả lại hoặc chưa nộp; {} đơn vị còn lại nộp đúng hạn. Thời điểm nhận báo cáo của từng đơn vị tại sheet \"Tình hình nộp báo cáo\" của bảng tính kèm theo ({}).",
            int_vi(rows.len() as i64),
            int_vi((all - rows.len()) as i64),
            r.file_name("xep-hang", "xlsx")
        )
    });
    Appendix {
        number: "Phụ lục II",
        title: "TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ".into(),
        note,
        header: header.map(String::from).to_vec(),
        rows,
        widths: widths.to_vec(),
        align: vec![
            Align::Left,
            Align::Centre,
            Align::Centre,
            Align::Centre,
            Align::Right,
        ],
    }
    .laid_out(tie)
}

fn appendix_form06(r: &Results, tie: &str) -> Value {
    let mut header = vec!["Khối".to_string()];
    let columns = &r.form.columns;
    let n = columns.len();
    header.extend(columns.iter().map(|f| format!("({})", f.number)));
    let mut rows = Vec::new();
    let mut grand = vec![0i64; n];
    for l in &r.leagues {
        let mut t = vec![0i64; n];
        for u in l.units.iter().filter(|u| u.card.is_some()) {
            for row in &u.rows {
                for (a, v) in t.iter_mut().zip(&row.values) {
                    *a += v;
                }
            }
        }
        for (g, v) in grand.iter_mut().zip(&t) {
            *g += v;
        }
        let mut row = vec![l.label.clone()];
        row.extend(t.iter().map(|v| int_vi(*v)));
        rows.push(row);
    }
    let mut total = vec!["Tổng cộng".to_string()];
    total.extend(grand.iter().map(|v| int_vi(*v)));
    rows.push(total);
    let legend: Vec<String> = columns
        .iter()
        .map(|f| {
            let sub = if f.sub.is_empty() {
                String::new()
            } else {
                format!("{} ", f.sub.to_lowercase())
            };
            format!("({}) {sub}{}", f.number, f.label.to_lowercase())
        })
        .collect();
    let mut widths = vec![2.6];
    widths.extend(std::iter::repeat_n(1.0, n));
    let mut align = vec![Align::Left];
    align.extend(std::iter::repeat_n(Align::Right, n));
    let title = format!(
        "TỔNG HỢP TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC {} THEO BIỂU 06",
        r.period.label_vi().to_uppercase()
    );
    let note = format!("Ghi chú: {}.", legend.join("; "));
    Appendix {
        number: "Phụ lục III",
        title,
        note: Some(note),
        header,
        rows,
        widths,
        align,
    }
    .laid_out(tie)
}

/// An appendix: its number, title, note and table.
struct Appendix {
    number: &'static str,
    title: String,
    note: Option<String>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    widths: Vec<f64>,
    align: Vec<Align>,
}

impl Appendix {
    /// The appendix for the template, its table laid out into pages by
    /// the engine (`layout`). `tie` is the line under the title that ties
    /// it to the report.
    fn laid_out(&self, tie: &str) -> Value {
        let table = layout::Table {
            header: &self.header,
            rows: &self.rows,
            widths: &self.widths,
            align: &self.align,
        };
        let taken = layout::title_height(&self.title, tie, TEXT_WIDTH_PT);
        json!({
            "number": self.number,
            "title": self.title,
            "note": self.note,
            "pages": layout::pages(&table, TEXT_WIDTH_PT, taken),
        })
    }
}

/// Typesets the report.
pub fn write(r: &Results) -> Result<Vec<u8>, ReportError> {
    write_data(&template_data(r))
}

/// Typesets the report from its template data (`template_data`).
pub fn write_data(data: &Value) -> Result<Vec<u8>, ReportError> {
    let data = serde_json::to_string(data)?;
    let mut inputs = Dict::new();
    inputs.insert("data".into(), data.into_value());
    let doc: typst_layout::PagedDocument = engine()
        .compile_with_input(inputs)
        .output
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))?;
    let pdf = typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
        .map_err(|e| ReportError::Pdf(format!("{e:?}")));
    // Freeing a long document's layout takes a tenth of a second, and
    // emptying typst's caches (which `serve` would otherwise grow from
    // report to report) more; nobody needs to wait for either.
    std::thread::spawn(move || {
        drop(doc);
        empty_caches();
    });
    pdf
}

/// Empties typst's caches: what it remembered of the last report's
/// evaluation and layout, which the next one would otherwise reuse.
pub fn empty_caches() {
    typst::comemo::evict(0);
}
