//! `bao-cao-<period>.pdf`: the official report, typeset by typst from
//! `templates/bao-cao.typ` with Liberation Serif embedded (metric-compatible
//! with Times New Roman), so the Vietnamese text is right on any machine.

use super::narrative::{Narrative, dec_vi, int_vi};
use super::{ReportError, Results};
use crate::domain::FORM06_FIELDS;
use crate::rank::Status;
use chrono::{DateTime, Datelike, FixedOffset};
use serde_json::{Value, json};
use std::sync::OnceLock;
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};

const TEMPLATE: &str = include_str!("../../templates/bao-cao.typ");
const FONTS: [&[u8]; 4] = [
    include_bytes!("../../templates/fonts/LiberationSerif-Regular.ttf"),
    include_bytes!("../../templates/fonts/LiberationSerif-Bold.ttf"),
    include_bytes!("../../templates/fonts/LiberationSerif-Italic.ttf"),
    include_bytes!("../../templates/fonts/LiberationSerif-BoldItalic.ttf"),
];

fn engine() -> &'static TypstEngine<TypstTemplateMainFile> {
    static ENGINE: OnceLock<TypstEngine<TypstTemplateMainFile>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        TypstEngine::builder()
            .main_file(TEMPLATE)
            .fonts(FONTS)
            .build()
    })
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
    let summary = format!(
        "Kết quả đánh giá, xếp hạng giải quyết thủ tục hành chính {} của các cơ quan, đơn vị và UBND các xã, thị trấn",
        r.period.label_vi()
    );
    let short_org = short_name(&org.name);
    let leagues: Vec<Value> = r
        .leagues
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let rows: Vec<Value> = l
                .units
                .iter()
                .map(|u| {
                    let change = match (u.rank, u.previous) {
                        (Some(now), Some(p)) if p.rank > now => format!("tăng {} bậc", p.rank - now),
                        (Some(now), Some(p)) if p.rank < now => format!("giảm {} bậc", now - p.rank),
                        (Some(_), Some(_)) => "giữ nguyên".into(),
                        _ if u.status == Status::Rejected => "báo cáo bị trả lại".into(),
                        _ => "—".into(),
                    };
                    json!({
                        "rank": u.rank.map(|x| x.to_string()).unwrap_or_else(|| "—".into()),
                        "name": u.name,
                        "total": u.card.as_ref().map(|c| dec_vi(c.total)).unwrap_or_else(|| "—".into()),
                        "band": u.card.as_ref().map(|c| c.band.clone()).unwrap_or_else(|| "Chưa nộp báo cáo".into()),
                        "change": change,
                    })
                })
                .collect();
            let chart: Vec<Value> = l
                .units
                .iter()
                .filter_map(|u| {
                    let c = u.card.as_ref()?;
                    let color = match c.total {
                        t if t >= 90.0 => "#2e7d32",
                        t if t >= 80.0 => "#558b2f",
                        t if t >= 70.0 => "#f9a825",
                        t if t >= 50.0 => "#ef6c00",
                        _ => "#c62828",
                    };
                    Some(json!({ "name": u.name, "total": dec_vi(c.total), "width": c.total.clamp(0.0, 100.0), "color": color }))
                })
                .collect();
            json!({ "label": l.label, "text": n.leagues.get(i), "rows": rows, "chart": chart })
        })
        .collect();
    let method = format!(
        "Các đơn vị được chấm điểm theo {} (phiên bản {}), thang điểm 100 gồm các nhóm: {}. Tiêu chí không phát sinh (mẫu số bằng 0) được loại khỏi thang điểm và tổng điểm được quy đổi về thang 100; đơn vị nộp báo cáo muộn bị trừ {} điểm. Các cơ quan, đơn vị và UBND các xã, thị trấn được xếp hạng riêng.",
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
        dec_vi(r.ruleset.late_penalty)
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
    json!({
        "title": format!("Báo cáo kết quả giải quyết TTHC {}", r.period.label_vi()),
        "org": {
            "name": org.name, "superior": org.superior, "superior_short": short_name(&org.superior), "prefix": org.document_prefix, "distribution": org.distribution,
            "archive": org.archive, "on_behalf": org.signer_on_behalf, "signer_title": org.signer_title, "signer_name": org.signer_name,
        },
        "date_line": date,
        "previous_word": r.previous_word(),
        "summary": summary,
        "intro": format!(
            "Thực hiện Kế hoạch kiểm soát thủ tục hành chính năm {}, {} báo cáo kết quả giải quyết thủ tục hành chính và đánh giá, xếp hạng các cơ quan, đơn vị, UBND các xã, thị trấn {} (số liệu từ ngày {} đến ngày {}) như sau:",
            r.period.year(), short_org, r.period.label_vi(), r.window.0.format("%d/%m/%Y"), r.window.1.format("%d/%m/%Y")
        ),
        "narrative": { "dossiers": n.dossiers, "reporting": n.reporting },
        "method": method,
        "leagues": leagues,
        "closing": closing,
        "appendix_note": format!("(Kèm theo Báo cáo số      /{} ngày {:02}/{:02}/{} của {})", org.document_prefix, generated.day(), generated.month(), generated.year(), short_org),
        "appendices": [appendix_scores(r), appendix_submissions(r), appendix_form06(r)],
    })
}

/// "Ủy ban nhân dân huyện Trực Ninh" → "UBND huyện Trực Ninh".
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
            weak.join(", ")
        )
    }
}

fn appendix_scores(r: &Results) -> Value {
    let mut header: Vec<String> = vec!["Hạng".into(), "Đơn vị".into()];
    header.extend(
        r.ruleset
            .groups
            .iter()
            .map(|g| format!("{} ({})", g.code, dec_vi(r.ruleset.group_points(&g.code)))),
    );
    header.push("Tổng".into());
    let mut rows = Vec::new();
    for l in &r.leagues {
        let mut section = vec![String::new(); header.len()];
        section[1] = l.label.to_uppercase();
        rows.push(section);
        for u in &l.units {
            let mut row = vec![
                u.rank.map(|x| x.to_string()).unwrap_or_else(|| "—".into()),
                u.name.clone(),
            ];
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
            rows.push(row);
        }
    }
    let legend: Vec<String> = r
        .ruleset
        .groups
        .iter()
        .map(|g| format!("{}: {}", g.code, g.label))
        .collect();
    let mut widths = vec![0.8, 3.6];
    widths.extend(std::iter::repeat_n(1.0, r.ruleset.groups.len()));
    widths.push(1.1);
    let mut align = vec!["c", "l"];
    align.extend(std::iter::repeat_n("r", r.ruleset.groups.len() + 1));
    json!({
        "number": "Phụ lục I",
        "title": format!("ĐIỂM THEO NHÓM TIÊU CHÍ {}", r.period.label_vi().to_uppercase()),
        "note": format!("Ghi chú: {}. Số trong ngoặc ở dòng tiêu đề là điểm tối đa của nhóm.", legend.join("; ")),
        "header": header, "rows": rows, "widths": widths, "align": align,
    })
}

fn appendix_submissions(r: &Results) -> Value {
    let header = [
        "Đơn vị",
        "Hạn nộp",
        "Thời điểm nhận",
        "Tình trạng",
        "Số ngày muộn",
    ];
    let rows: Vec<Vec<String>> = r
        .units()
        .map(|u| {
            vec![
                u.name.clone(),
                u.deadline.format("%d/%m/%Y").to_string(),
                u.received_at
                    .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
                    .unwrap_or_else(|| "—".into()),
                u.status.label().to_string(),
                u.days_late.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    json!({
        "number": "Phụ lục II", "title": "TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC ĐƠN VỊ", "note": null,
        "header": header, "rows": rows, "widths": [3.4, 1.3, 1.8, 1.4, 1.1], "align": ["l", "c", "c", "c", "r"],
    })
}

fn appendix_form06(r: &Results) -> Value {
    let mut header = vec!["Khối".to_string()];
    header.extend(FORM06_FIELDS.iter().map(|f| format!("({})", f.column)));
    let mut rows = Vec::new();
    let mut grand = [0i64; 11];
    for l in &r.leagues {
        let mut t = [0i64; 11];
        for u in l.units.iter().filter(|u| u.card.is_some()) {
            for row in &u.rows {
                for (a, v) in t.iter_mut().zip(row.values) {
                    *a += v;
                }
            }
        }
        for (g, v) in grand.iter_mut().zip(t) {
            *g += v;
        }
        let mut row = vec![l.label.clone()];
        row.extend(t.iter().map(|v| int_vi(*v)));
        rows.push(row);
    }
    let mut total = vec!["Tổng cộng".to_string()];
    total.extend(grand.iter().map(|v| int_vi(*v)));
    rows.push(total);
    let legend: Vec<String> = FORM06_FIELDS
        .iter()
        .map(|f| {
            format!(
                "({}) {}{}",
                f.column,
                if f.sub.is_empty() { "" } else { "trong kỳ " },
                f.label.to_lowercase()
            )
        })
        .collect();
    let mut widths = vec![2.6];
    widths.extend(std::iter::repeat_n(1.0, 11));
    let mut align = vec!["l"];
    align.extend(std::iter::repeat_n("r", 11));
    json!({
        "number": "Phụ lục III",
        "title": format!("TỔNG HỢP TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC {} THEO BIỂU 06", r.period.label_vi().to_uppercase()),
        "note": format!("Ghi chú: {}.", legend.join("; ")),
        "header": header, "rows": rows, "widths": widths, "align": align,
    })
}

/// Typesets the report.
pub fn write(r: &Results) -> Result<Vec<u8>, ReportError> {
    let data = serde_json::to_string(&template_data(r))?;
    let mut inputs = Dict::new();
    inputs.insert("data".into(), data.into_value());
    let doc: typst_layout::PagedDocument = engine()
        .compile_with_input(inputs)
        .output
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))?;
    typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))
}
