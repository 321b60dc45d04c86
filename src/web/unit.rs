//! A unit's pages: its home (the open quarter, its deadline and status,
//! the template, the upload form, its history and its published score),
//! the result of an upload with every finding, and the annotated copy.
//! Every page checks that what it shows belongs to the signed-in unit.

use super::auth::ClientAddr;
use super::{Failure, Portal, Who, XLSX, download};
use super::{belongs_to, findings_of};
use crate::config::Config;
use crate::domain::Severity;
use crate::report::json::Published;
use crate::store::Store;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize)]
struct HistoryRow {
    id: i64,
    at: String,
    file: String,
    period: String,
    accepted: bool,
    summary: String,
}

#[derive(Serialize)]
struct Score {
    period_label: String,
    version: i64,
    total: String,
    band: String,
    rank: Option<u64>,
    of: usize,
    league: String,
}

fn count_words(findings: &[crate::domain::Finding]) -> String {
    let errors = findings.iter().filter(|f| f.is_error()).count();
    let warnings = findings.len() - errors;
    match (errors, warnings) {
        (0, 0) => String::new(),
        (0, w) => format!("({w} cảnh báo)"),
        (e, 0) => format!("({e} lỗi)"),
        (e, w) => format!("({e} lỗi, {w} cảnh báo)"),
    }
}

pub async fn home(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    let (code, _) = who.unit()?;
    let code = code.to_string();
    let (today, period, me) = (portal.today(), portal.open_period(), portal.clone());
    let ctx =
        portal
            .with_store(move |cfg, store| {
                let s = &cfg.settings;
                let unit = s
                    .unit(&code)
                    .ok_or_else(|| anyhow::anyhow!("không có đơn vị {code}"))?;
                let (from, to) = period.window(s.period.window);
                let deadline = cfg.settings.deadline(unit, period);
                let mine = store.submissions_of(&code, 100)?;
                let this_period: Vec<_> = mine
                    .iter()
                    .filter(|x| x.period.as_deref() == Some(&period.to_string()))
                    .cloned()
                    .collect();
                let (status, status_class) = crate::words::status_for_unit(
                    crate::pipeline::status(cfg, unit, period, &this_period)?,
                );
                let history: Vec<HistoryRow> = mine
                    .iter()
                    .map(|x| HistoryRow {
                        id: x.id,
                        at: me.minute(&x.received_at),
                        file: x.file_name.clone(),
                        period: x
                            .period
                            .as_deref()
                            .and_then(|p| p.parse::<crate::domain::Period>().ok())
                            .map(|p| p.label_vi())
                            .unwrap_or_default(),
                        accepted: x.accepted,
                        summary: count_words(&findings_of(x)),
                    })
                    .collect();
                let score = published_score(cfg, store, &code, [period, period.previous()])?;
                Ok(minijinja::context! {
                    unit => minijinja::context! { name => unit.name, code => unit.code.0 },
                    period_label => period.label_vi(),
                    window_from => from.format("%d/%m/%Y").to_string(),
                    window_to => to.format("%d/%m/%Y").to_string(),
                    deadline => deadline.format("%d/%m/%Y").to_string(),
                    days_left => (deadline - today).num_days(),
                    status, status_class,
                    max_mb => s.web.max_upload / (1024 * 1024),
                    history, score,
                })
            })
            .await?;
    portal.render("don-vi.html", &who, ctx)
}

/// The unit's score and rank in the latest published report of the first
/// of `periods` that has one.
fn published_score(
    cfg: &Config,
    store: &Store,
    code: &str,
    periods: [crate::domain::Period; 2],
) -> anyhow::Result<Option<Score>> {
    for period in periods {
        let key = period.to_string();
        let Some(v) = store.latest_version(&key)? else {
            continue;
        };
        let Some(json) = store.version_results(&key, v.version)? else {
            continue;
        };
        let results = Published::parse(&json)?;
        let Some(me) = results.units.iter().find(|u| u.code.0 == code) else {
            continue;
        };
        return Ok(Some(Score {
            period_label: period.label_vi(),
            version: v.version,
            total: me
                .total
                .map(crate::report::narrative::dec_vi)
                .unwrap_or_else(|| "—".into()),
            band: me.band.clone().unwrap_or_else(|| "—".into()),
            rank: me.rank.map(u64::from),
            of: results
                .units
                .iter()
                .filter(|u| u.league == me.league && u.rank.is_some())
                .count(),
            league: cfg
                .rules
                .ruleset_for(period)
                .and_then(|r| r.leagues.iter().find(|l| me.league == l.code))
                .map(|l| l.label.clone())
                .unwrap_or_default(),
        }));
    }
    Ok(None)
}

pub async fn template(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
) -> Result<Response, Failure> {
    let (code, _) = who.unit()?;
    let code = code.to_string();
    let period = portal.open_period();
    let (bytes, name) = portal
        .with_store(move |cfg, store| {
            let s = &cfg.settings;
            let unit = s
                .unit(&code)
                .ok_or_else(|| anyhow::anyhow!("không có đơn vị {code}"))?;
            let (name, bytes) = crate::report::template::unit_template(s, &cfg.rules, unit, period)
                .map_err(|e| anyhow::anyhow!(e))?;
            store.audit(&code, "tai_mau", &name, &addr)?;
            Ok((bytes, name))
        })
        .await?;
    Ok(download(bytes, XLSX, &name))
}

pub async fn upload(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    mut form: Multipart,
) -> Result<Response, Failure> {
    let (code, _) = who.unit()?;
    let code = code.to_string();
    let max = portal.settings().web.max_upload;
    let mut token = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Failure::TooLarge(Some(max)));
            }
            Err(e) => {
                tracing::debug!(error = %e, "malformed upload form");
                return Err(Failure::bad(
                    "Biểu mẫu gửi lên bị hỏng hoặc chưa gửi hết. Tải lại trang rồi gửi lại tệp.",
                ));
            }
        };
        match field.name() {
            Some("_csrf") => token = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = super::display_name(field.file_name().unwrap_or_default());
                let bytes = match field.bytes().await {
                    Ok(b) => b.to_vec(),
                    Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err(Failure::TooLarge(Some(max)));
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "upload cut short");
                        return Err(Failure::bad(
                            "Tệp gửi lên chưa đến đủ (đường truyền bị ngắt?). Gửi lại tệp.",
                        ));
                    }
                };
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    who.check_csrf(&token)?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(Failure::bad("Chưa chọn tệp báo cáo để gửi."));
    };
    if bytes.len() > max {
        return Err(Failure::TooLarge(Some(max)));
    }
    if !super::looks_like_spreadsheet(&bytes) {
        let (c, n, a) = (code.clone(), name.clone(), addr.clone());
        portal
            .with_store(move |_, store| Ok(store.audit(&c, "tu_choi_tep", &n, &a)?))
            .await?;
        return Err(Failure::NotSpreadsheet);
    }
    // Checked and archived side by side with other uploads; then recorded.
    let now = Utc::now();
    let config = portal.config.clone();
    let s = &config.settings;
    let period = portal.open_period();
    let unit = s.unit(&code).cloned().ok_or(Failure::Forbidden)?;
    let size = bytes.len();
    // The quota is looked at before the file is archived, and again as it
    // is recorded (under the store's lock), so uploads sent at once cannot
    // pass it together.
    let (c, a) = (code.clone(), addr.clone());
    let over = portal
        .with_store(move |cfg, store| {
            let over = super::over_quota(&cfg.settings, store, &c, period, size as u64)?;
            if over.is_some() {
                store.audit(&c, "vuot_han_muc", "", &a)?;
            }
            Ok(over)
        })
        .await?;
    if let Some(why) = over {
        return Err(Failure::Quota(why));
    }
    let (u, n) = (unit.clone(), name.clone());
    let prepared =
        super::blocking(move || super::prepare_upload(&config, &u, period, &n, &bytes)).await?;
    let id = portal
        .with_store(move |cfg, store| {
            // The quota looked at and the upload recorded under one write
            // lock: uploads sent at once cannot pass it together.
            let recorded = store.immediate(|| {
                let over = super::over_quota(&cfg.settings, store, &code, period, size as u64)?;
                if over.is_some() {
                    return Ok::<_, anyhow::Error>(Err(over));
                }
                let id = super::record_upload(
                    &cfg.settings,
                    store,
                    &unit,
                    period,
                    &name,
                    &prepared,
                    now,
                )?;
                Ok(Ok(id))
            })?;
            let id = match recorded {
                Ok(id) => id,
                Err(why) => {
                    store.audit(&code, "vuot_han_muc", "", &addr)?;
                    return Ok(Err(why.unwrap_or_default()));
                }
            };
            let verdict = if prepared.checked.accepted() {
                "hợp lệ"
            } else {
                "bị từ chối"
            };
            store.audit(
                &code,
                "nop_bao_cao",
                &format!("#{id} {name} ({size} byte): {verdict}"),
                &addr,
            )?;
            Ok(Ok(id))
        })
        .await?
        .map_err(Failure::Quota)?;
    Ok(Redirect::to(&format!("/don-vi/nop/{id}")).into_response())
}

#[derive(Serialize)]
pub(super) struct FindingRow {
    level: &'static str,
    level_class: &'static str,
    sheet: String,
    cell: String,
    value: String,
    message: String,
}

/// The findings as the pages show them, grouped by row and problem: the
/// first cell's message, and the others the same problem covers.
pub(super) fn finding_rows(findings: &[crate::domain::Finding]) -> Vec<FindingRow> {
    super::uploads::grouped(findings)
        .into_iter()
        .map(|g| {
            let f = &g.first;
            let (level, level_class) = match f.severity {
                Severity::Error => ("Lỗi", "error"),
                Severity::Warning => ("Cảnh báo", "warning"),
            };
            let cells: Vec<&str> = g.cells.iter().map(|(c, _)| c.as_str()).collect();
            let message = if g.cells.len() > 1 {
                format!(
                    "{} (cùng lỗi ở {} ô của dòng này: {}.)",
                    f.message,
                    g.cells.len(),
                    cells.join(", ")
                )
            } else {
                f.message.clone()
            };
            FindingRow {
                level,
                level_class,
                sheet: f.cell.as_ref().map(|c| c.sheet.clone()).unwrap_or_default(),
                cell: cells.join(", "),
                value: g.cells.first().map(|(_, v)| v.clone()).unwrap_or_default(),
                message,
            }
        })
        .collect()
}

/// One of the unit's own submissions (another unit's is "not found"), or
/// any for the office.
async fn own_submission(
    portal: &Arc<Portal>,
    who: &Who,
    id: i64,
) -> Result<crate::store::StoredSubmission, Failure> {
    let code = match who {
        Who::Office { .. } => None,
        _ => Some(who.unit()?.0.to_string()),
    };
    portal
        .with_store(move |_, store| Ok(store.submission(id)?))
        .await?
        .filter(|s| code.as_deref().is_none_or(|c| belongs_to(s, c)))
        .ok_or(Failure::NotFound)
}

/// A submission's file from the archive, as `make` turns it into the
/// download; the download is written in the audit log as `action`.
async fn from_archive(
    portal: &Arc<Portal>,
    who: &Who,
    addr: String,
    id: i64,
    action: &'static str,
    make: impl FnOnce(&crate::store::StoredSubmission, Vec<u8>) -> anyhow::Result<Vec<u8>>
    + Send
    + 'static,
) -> Result<(String, Vec<u8>), Failure> {
    let s = own_submission(portal, who, id).await?;
    let label = who.label();
    let name = s.file_name.clone();
    let bytes = portal
        .with_store(move |_, store| {
            let original = store.archived(&s.sha256)?;
            let made = make(&s, original)?;
            store.audit(&label, action, &format!("#{}", s.id), &addr)?;
            Ok(made)
        })
        .await?;
    Ok((name, bytes))
}

/// The workbook as it was sent, from the archive.
pub async fn original(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, Failure> {
    let (name, bytes) = from_archive(&portal, &who, addr, id, "tai_tep_goc", |_, original| {
        Ok(original)
    })
    .await?;
    let name = super::display_name(&name);
    let kind = if name.to_lowercase().ends_with(".xlsx") {
        XLSX
    } else {
        "application/octet-stream"
    };
    Ok(download(bytes, kind, &name))
}

pub async fn submission(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Path(id): Path<i64>,
) -> Result<Response, Failure> {
    let s = own_submission(&portal, &who, id).await?;
    let findings = findings_of(&s);
    let errors = findings.iter().filter(|f| f.is_error()).count();
    let rows = finding_rows(&findings);
    let back = match (&who, s.unit.as_deref()) {
        (Who::Office { .. }, Some(u)) => format!("/van-phong/don-vi/{u}"),
        (Who::Office { .. }, None) => "/van-phong".to_string(),
        _ => "/don-vi".to_string(),
    };
    portal.render(
        "ket-qua-nop.html",
        &who,
        minijinja::context! {
            back,
            id => s.id,
            file => s.file_name,
            at => portal.minute(&s.received_at),
            accepted => s.accepted,
            period_label => s.period.as_deref().and_then(|p| p.parse::<crate::domain::Period>().ok()).map(|p| p.label_vi()),
            errors, warnings => findings.len() - errors,
            findings => rows,
        },
    )
}

pub async fn annotated(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Path(id): Path<i64>,
) -> Result<Response, Failure> {
    let (name, bytes) = from_archive(
        &portal,
        &who,
        addr,
        id,
        "tai_tep_danh_dau",
        |s, original| {
            let wb = crate::intake::read_workbook(&original).ok();
            crate::report::annotate::annotate(wb.as_ref(), &findings_of(s), &s.file_name)
                .map_err(|e| anyhow::anyhow!(e))
        },
    )
    .await?;
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(&name);
    Ok(download(bytes, XLSX, &format!("{stem}-danh-dau-loi.xlsx")))
}
