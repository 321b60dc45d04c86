//! The office's pages: the quarter's board, reminders, access codes, the
//! ranking preview with its chart, report runs and their files, the
//! delivery ledger, job runs and the audit log.

use super::auth::{ClientAddr, Token};
use super::{Failure, Portal, Who, XLSX, download};
use crate::domain::Period;
use crate::rank::Status;
use crate::store::{JobOutcome, PORTAL_TRIGGER};
use crate::words::{self, unit_status as status_word};
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct BoardQuery {
    #[serde(default)]
    khoi: String,
    /// What the last action did, to say so: `nhac` (with `n`), `bao-cao`.
    #[serde(default)]
    tb: String,
    #[serde(default)]
    n: i64,
}

#[derive(Serialize)]
struct BoardRow {
    code: String,
    name: String,
    league: String,
    status: &'static str,
    status_class: &'static str,
    last: String,
    findings: String,
    has_code: bool,
}

pub async fn board(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Query(q): Query<BoardQuery>,
) -> Result<Response, Failure> {
    who.office()?;
    let period = portal.open_period();
    let league = q.khoi.clone();
    let me = portal.clone();
    let ctx = portal
        .with_store(move |cfg, store| {
            // With the previous quarter asked for, a quarter with no
            // submission yet still lists every unit.
            let results = crate::pipeline::results(cfg, store, period, true)?
                .ok_or_else(|| anyhow::anyhow!("không tính được {period}"))?;
            let issued: std::collections::HashSet<String> = store
                .unit_codes_issued()?
                .into_iter()
                .map(|(u, _)| u)
                .collect();
            let all: Vec<&crate::rank::UnitResult> = results.units().collect();
            let count = |s: Status| all.iter().filter(|u| u.status == s).count();
            let counts = minijinja::context! {
                total => all.len(),
                submitted => count(Status::OnTime) + count(Status::Late),
                late => count(Status::Late),
                rejected => count(Status::Rejected),
                missing => count(Status::Missing),
            };
            let leagues: Vec<minijinja::Value> = results
                .leagues
                .iter()
                .map(|l| minijinja::context! { code => l.code, label => l.label })
                .collect();
            let rows: Vec<BoardRow> = results
                .leagues
                .iter()
                .filter(|l| league.is_empty() || l.code == league)
                .flat_map(|l| l.units.iter().map(move |u| (l, u)))
                .map(|(l, u)| {
                    let (status, status_class) = status_word(u.status);
                    let errors = u.findings.iter().filter(|f| f.is_error()).count();
                    BoardRow {
                        code: u.code.0.clone(),
                        name: u.name.clone(),
                        league: l.label.clone(),
                        status,
                        status_class,
                        last: u
                            .received_at
                            .map(|t| me.minute(&t))
                            .unwrap_or_else(|| "—".into()),
                        findings: if u.findings.is_empty() {
                            "—".into()
                        } else {
                            format!("{errors} / {}", u.findings.len() - errors)
                        },
                        has_code: issued.contains(&u.code.0),
                    }
                })
                .collect();
            let now = chrono::Utc::now();
            let locked: Vec<minijinja::Value> = store
                .locked_sign_ins(now)?
                .into_iter()
                .map(|(login, until)| {
                    let name = cfg
                        .settings
                        .unit(&login)
                        .map(|u| u.name.clone())
                        .unwrap_or_else(|| format!("tài khoản {login}"));
                    let until = me.minute(&until.fixed_offset());
                    minijinja::context! { login, name, until }
                })
                .collect();
            Ok(minijinja::context! { period_label => period.label_vi(), counts, leagues, league, rows, locked })
        })
        .await?;
    let flash = match q.tb.as_str() {
        "nhac" => Some(format!("Đã gửi {} thư nhắc.", q.n)),
        "mo-khoa" => Some("Đã mở khóa đăng nhập.".to_string()),
        _ => None,
    };
    portal.render(
        "van-phong.html",
        &who,
        minijinja::context! { flash, flash_kind => "ok", ..ctx },
    )
}

pub async fn remind(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<Token>,
) -> Result<Response, Failure> {
    let label = who.office_form(&form._csrf)?;
    let day = portal.today();
    let period = portal.open_period();
    let sent = portal
        .with_store(move |cfg, store| {
            let outcomes = crate::deliver::remind_period(cfg, store, period, day, false)?;
            let sent = outcomes.iter().filter(|o| o.status.delivered()).count();
            store.audit(&label, "gui_nhac", &format!("{period}: {sent} thư"), &addr)?;
            Ok(sent)
        })
        .await?;
    Ok(Redirect::to(&format!("/van-phong?tb=nhac&n={sent}")).into_response())
}

/// Lifts a sign-in lock before it ends by itself ("Mở khóa").
pub async fn unlock(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Path(login): Path<String>,
    Form(form): Form<Token>,
) -> Result<Response, Failure> {
    let label = who.office_form(&form._csrf)?;
    portal
        .with_store(move |_, store| {
            if store.unlock_sign_in(&login)? {
                store.audit(&label, "mo_khoa", &login, &addr)?;
            }
            Ok(())
        })
        .await?;
    Ok(Redirect::to("/van-phong?tb=mo-khoa").into_response())
}

/// Asks before a code is issued: a new one voids the unit's current code.
pub async fn confirm_code(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Path(unit): Path<String>,
) -> Result<Response, Failure> {
    who.office()?;
    let found = portal.unit(&unit)?;
    let login = found.code.0.clone();
    let has_code = portal
        .with_store(move |_, store| Ok(store.account(&login)?.is_some()))
        .await?;
    portal.render(
        "cap-ma.html",
        &who,
        minijinja::context! {
            unit_name => found.name,
            unit_code => found.code.0,
            email => found.email.trim(),
            has_code,
        },
    )
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    _csrf: String,
    /// "1" to mail the new code to the unit.
    #[serde(default)]
    gui_thu: String,
}

pub async fn issue_code(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Path(unit): Path<String>,
    Form(form): Form<IssueForm>,
) -> Result<Response, Failure> {
    let label = who.office_form(&form._csrf)?;
    let found = portal.unit(&unit)?;
    let u = found.clone();
    let (l, a) = (label.clone(), addr.clone());
    let code = portal
        .with_store(move |_, store| {
            let code = crate::web::issue_unit_code(store, &u)?;
            store.audit(&l, "cap_ma", &u.code.0, &a)?;
            Ok(code)
        })
        .await?;
    let (mut mailed, mut mail_failed) = (None, None);
    if form.gui_thu == "1" {
        let (s, u, c) = (portal.settings().clone(), found.clone(), code.clone());
        let sent =
            super::blocking(move || Ok(crate::deliver::send_access_code(&s, &u, &c))).await?;
        let (detail, action) = match &sent {
            Ok(where_) => (where_.clone(), "gui_ma"),
            Err(e) => (format!("{e:#}"), "gui_ma_loi"),
        };
        let unit_code = found.code.0.clone();
        portal
            .with_store(move |_, store| {
                Ok(store.audit(&label, action, &format!("{unit_code}: {detail}"), &addr)?)
            })
            .await?;
        match sent {
            Ok(where_) => mailed = Some(format!("Mã mới {where_}.")),
            Err(e) => {
                mail_failed = Some(format!(
                    "Không gửi được thư ({e:#}). Hãy báo mã dưới đây cho đơn vị bằng cách khác."
                ))
            }
        }
    }
    let mut page = portal.render(
        "ma-truy-cap.html",
        &who,
        minijinja::context! { unit_name => found.name, unit_code => found.code.0, code, mailed, mail_failed },
    )?;
    page.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(page)
}

#[derive(Serialize)]
struct Bar {
    y: usize,
    label: String,
    value: String,
    width: f64,
    color: &'static str,
}

pub async fn ranking(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let period = portal.open_period();
    let ctx = portal
        .with_store(move |cfg, store| {
            let results = crate::pipeline::results(cfg, store, period, true)?
                .ok_or_else(|| anyhow::anyhow!("không tính được {period}"))?;
            let leagues: Vec<minijinja::Value> = results
                .leagues
                .iter()
                .map(|l| {
                    let ranked: Vec<(&str, f64)> = l
                        .units
                        .iter()
                        .filter_map(|u| Some((u.name.as_str(), u.card.as_ref()?.total)))
                        .collect();
                    // The chart: a bar per unit, at most the first 60.
                    let bars: Vec<Bar> = ranked
                        .iter()
                        .take(60)
                        .enumerate()
                        .map(|(i, (name, total))| Bar {
                            y: i * 20,
                            label: name.chars().take(34).collect(),
                            value: crate::report::narrative::dec_vi(*total),
                            width: (total.clamp(0.0, 100.0) * 3.4).round(),
                            color: crate::report::pdf::bar_color(*total),
                        })
                        .collect();
                    let units: Vec<minijinja::Value> = l
                        .units
                        .iter()
                        .map(|u| {
                            minijinja::context! {
                                rank => u.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                                name => u.name,
                                total => u.card.as_ref().map(|c| crate::report::narrative::dec_vi(c.total)).unwrap_or_else(|| "—".into()),
                                band => u.card.as_ref().map(|c| c.band.clone()).unwrap_or_default(),
                                status => status_word(u.status).0,
                            }
                        })
                        .collect();
                    minijinja::context! {
                        label => l.label,
                        ranked => ranked.len(),
                        height => bars.len() * 20 + 4,
                        bars, units,
                    }
                })
                .collect();
            Ok(minijinja::context! { period_label => period.label_vi(), leagues })
        })
        .await?;
    portal.render("xep-hang.html", &who, ctx)
}

#[derive(Serialize)]
struct VersionRow {
    version: i64,
    at: String,
    files: Vec<minijinja::Value>,
}

pub async fn reports(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Query(q): Query<BoardQuery>,
) -> Result<Response, Failure> {
    who.office()?;
    let period = portal.open_period();
    // The office's own runs from the portal: the latest, running or done.
    let (versions, last) = portal
        .with_store(move |_, store| {
            Ok((
                store.versions(&period.to_string())?,
                crate::schedule::last_portal_report(store)?,
            ))
        })
        .await?;
    let running = last
        .as_ref()
        .filter(|r| r.outcome.is_none())
        .map(|r| local_time(&portal, &r.started_at));
    let last_run = last.as_ref().filter(|r| r.outcome.is_some()).map(|r| {
        minijinja::context! {
            started => local_time(&portal, &r.started_at),
            who => r.trigger.trim_start_matches(PORTAL_TRIGGER),
            outcome => words::job_outcome(r.outcome),
            summary => r.summary,
        }
    });
    let versions: Vec<VersionRow> = versions
        .into_iter()
        .map(|v| VersionRow {
            version: v.version,
            at: chrono::DateTime::parse_from_rfc3339(&v.generated_at)
                .map(|t| portal.minute(&t))
                .unwrap_or(v.generated_at),
            files: [
                ("xlsx", "Bảng xếp hạng (.xlsx)"),
                ("pdf", "Báo cáo (.pdf)"),
                ("json", "Số liệu (.json)"),
            ]
            .iter()
            .map(|(kind, label)| minijinja::context! { kind, label })
            .collect(),
        })
        .collect();
    let (flash, flash_kind) = match (&running, &last) {
        (Some(_), _) => (None, "ok"),
        (None, Some(r)) if q.tb == "dang-lap" => match r.outcome {
            Some(JobOutcome::Ok) => (Some(format!("Đã lập báo cáo: {}.", r.summary)), "ok"),
            _ => (Some(format!("Chưa lập được báo cáo: {}", r.summary)), "bad"),
        },
        _ => (None, "ok"),
    };
    portal.render(
        "bao-cao.html",
        &who,
        minijinja::context! {
            period => period.to_string(), period_label => period.label_vi(), versions,
            flash, flash_kind, running, last_run,
            refresh => running.as_ref().map(|_| 2),
        },
    )
}

/// "Lập báo cáo": starts the report run of the open quarter as a job and
/// returns at once; the reports page shows it running, then its result.
/// A second click while a run of the quarter is under way starts nothing.
pub async fn run_report(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<Token>,
) -> Result<Response, Failure> {
    let label = who.office_form(&form._csrf)?;
    let period = portal.open_period();
    let user = label.clone();
    let started = portal
        .with_store(move |_, store| crate::schedule::start_report_of(store, &user))
        .await?;
    if let Some(id) = started {
        portal.spawn(move |cfg, store| {
            let summary = crate::schedule::finish_report_of(cfg, store, id, period)
                .unwrap_or_else(|e| format!("lỗi: {e:#}"));
            store.audit(
                &label,
                "lap_bao_cao",
                &format!("{period}: {summary}"),
                &addr,
            )?;
            Ok(())
        });
    }
    Ok(Redirect::to("/van-phong/bao-cao?tb=dang-lap").into_response())
}

pub async fn download_version(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Path((period, version, kind)): Path<(String, i64, String)>,
) -> Result<Response, Failure> {
    who.office()?;
    let label = who.label();
    let period: Period = period.parse().map_err(|_| Failure::NotFound)?;
    let (stem, content_type) = match kind.as_str() {
        "xlsx" => ("xep-hang", XLSX),
        "pdf" => ("bao-cao", "application/pdf"),
        "json" => ("ket-qua", "application/json"),
        _ => return Err(Failure::NotFound),
    };
    let name = format!("{stem}-{period}.{kind}");
    let path = portal
        .settings()
        .paths
        .output
        .join(period.to_string())
        .join(format!("v{version}"))
        .join(&name);
    let detail = format!("{period} v{version} {kind}");
    let bytes = portal
        .with_store(move |_, store| {
            let Ok(bytes) = std::fs::read(&path) else {
                return Ok(None);
            };
            store.audit(&label, "tai_bao_cao", &detail, &addr)?;
            Ok(Some(bytes))
        })
        .await?
        .ok_or(Failure::NotFound)?;
    let stem_name = format!("{stem}-{period}-v{version}.{kind}");
    Ok(download(bytes, content_type, &stem_name))
}

/// An RFC 3339 time as the office reads it, in the organisation's zone.
fn local_time(portal: &Portal, t: &str) -> String {
    portal.settings().local_time(t, "%d/%m/%Y %H:%M:%S")
}

pub async fn ledger(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let rows = portal
        .with_store(|_, store| Ok(store.all_deliveries(300)?))
        .await?;
    let s = portal.settings();
    let rows: Vec<minijinja::Value> = rows
        .into_iter()
        .map(|r| {
            minijinja::context! {
                key => words::letter(&r.period, r.version), recipient => r.recipient,
                channel => words::channel(r.channel),
                status => words::delivery_state(s, r.status, r.next_attempt_at.as_deref()),
                attempts => r.attempts, detail => r.detail, updated => local_time(&portal, &r.updated_at),
            }
        })
        .collect();
    portal.render("gui-thu.html", &who, minijinja::context! { rows })
}

pub async fn jobs(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let runs = portal
        .with_store(|_, store| Ok(store.job_runs(100)?))
        .await?;
    let runs: Vec<minijinja::Value> = runs
        .into_iter()
        .map(|r| {
            minijinja::context! {
                job => words::job(&r.job),
                trigger => words::trigger(&r.trigger),
                started => local_time(&portal, &r.started_at),
                finished => r.finished_at.as_deref().map(|t| local_time(&portal, t)).unwrap_or_default(),
                outcome => words::job_outcome(r.outcome),
                summary => r.summary,
            }
        })
        .collect();
    portal.render("tac-vu.html", &who, minijinja::context! { runs })
}

pub async fn audit(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let entries = portal
        .with_store(|_, store| Ok(store.audit_log(500)?))
        .await?;
    let entries: Vec<minijinja::Value> = entries
        .into_iter()
        .map(|e| {
            minijinja::context! {
                at => local_time(&portal, &e.at), who => e.who, action => words::audit_action(&e.action),
                detail => e.detail, address => e.address,
            }
        })
        .collect();
    portal.render("nhat-ky.html", &who, minijinja::context! { entries })
}
