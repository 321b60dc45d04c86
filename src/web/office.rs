//! The office's pages: the quarter's board, reminders, access codes, the
//! ranking preview with its chart, report runs and their files, the
//! delivery ledger, job runs and the audit log.

use super::auth::{ClientAddr, Token};
use super::{Failure, Portal, Who, XLSX, download};
use crate::domain::Period;
use crate::portal::status_word;
use crate::rank::Status;
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
        .with_engine(move |engine| {
            // With the previous quarter asked for, a quarter with no
            // submission yet still lists every unit.
            let results = engine
                .results(period, true)?
                .ok_or_else(|| anyhow::anyhow!("không tính được {period}"))?;
            let issued: std::collections::HashSet<String> = engine
                .store
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
                        code: u.code.clone(),
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
                        has_code: issued.contains(&u.code),
                    }
                })
                .collect();
            let now = chrono::Utc::now();
            let locked: Vec<minijinja::Value> = engine
                .store
                .locked_sign_ins(now)?
                .into_iter()
                .map(|(login, until)| {
                    let name = engine
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
    who.office()?;
    let label = who.label();
    who.check_csrf(&form._csrf)?;
    let day = portal.today();
    let period = portal.open_period();
    let sent = portal
        .with_engine(move |engine| {
            let outcomes = crate::deliver::remind_period(engine, period, day, false)?;
            let sent = outcomes.iter().filter(|o| o.status.delivered()).count();
            engine
                .store
                .audit(&label, "gui_nhac", &format!("{period}: {sent} thư"), &addr)?;
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
    who.office()?;
    let label = who.label();
    who.check_csrf(&form._csrf)?;
    portal
        .with_engine(move |engine| {
            if engine.store.unlock_sign_in(&login)? {
                engine.store.audit(&label, "mo_khoa", &login, &addr)?;
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
        .with_engine(move |engine| Ok(engine.store.account(&login)?.is_some()))
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
    who.office()?;
    let label = who.label();
    who.check_csrf(&form._csrf)?;
    let found = portal.unit(&unit)?;
    let u = found.clone();
    let (l, a) = (label.clone(), addr.clone());
    let code = portal
        .with_engine(move |engine| {
            let code = crate::portal::issue_unit_code(engine, &u)?;
            engine.store.audit(&l, "cap_ma", &u.code.0, &a)?;
            Ok(code)
        })
        .await?;
    let (mut mailed, mut mail_failed) = (None, None);
    if form.gui_thu == "1" {
        let (s, u, c) = (portal.settings.clone(), found.clone(), code.clone());
        let sent =
            super::blocking(move || Ok(crate::deliver::send_access_code(&s, &u, &c))).await?;
        let (detail, action) = match &sent {
            Ok(where_) => (where_.clone(), "gui_ma"),
            Err(e) => (format!("{e:#}"), "gui_ma_loi"),
        };
        let unit_code = found.code.0.clone();
        portal
            .with_engine(move |engine| {
                Ok(engine
                    .store
                    .audit(&label, action, &format!("{unit_code}: {detail}"), &addr)?)
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
        .with_engine(move |engine| {
            let results = engine
                .results(period, true)?
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
    let versions = portal
        .with_engine(move |engine| Ok(engine.store.versions(&period.to_string())?))
        .await?;
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
    let flash = (q.tb == "bao-cao").then(|| {
        if q.n > 0 {
            format!("Đã lập báo cáo phiên bản {}.", q.n)
        } else {
            format!("Số liệu không đổi: giữ phiên bản {}.", -q.n)
        }
    });
    portal.render(
        "bao-cao.html",
        &who,
        minijinja::context! {
            period => period.to_string(), period_label => period.label_vi(), versions,
            flash, flash_kind => "ok",
        },
    )
}

pub async fn run_report(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<Token>,
) -> Result<Response, Failure> {
    who.office()?;
    let label = who.label();
    who.check_csrf(&form._csrf)?;
    let period = portal.open_period();
    let (version, new) = portal
        .with_engine(move |engine| {
            let (_, outcome) = engine.run(period)?;
            engine.store.audit(
                &label,
                "lap_bao_cao",
                &format!(
                    "{period} phiên bản {}{}",
                    outcome.version,
                    if outcome.new_version { " (mới)" } else { "" }
                ),
                &addr,
            )?;
            Ok((outcome.version, outcome.new_version))
        })
        .await?;
    let n = if new { version } else { -version };
    Ok(Redirect::to(&format!("/van-phong/bao-cao?tb=bao-cao&n={n}")).into_response())
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
        .settings
        .paths
        .output
        .join(period.to_string())
        .join(format!("v{version}"))
        .join(&name);
    let detail = format!("{period} v{version} {kind}");
    let bytes = portal
        .with_engine(move |engine| {
            let Ok(bytes) = std::fs::read(&path) else {
                return Ok(None);
            };
            engine.store.audit(&label, "tai_bao_cao", &detail, &addr)?;
            Ok(Some(bytes))
        })
        .await?
        .ok_or(Failure::NotFound)?;
    let stem_name = format!("{stem}-{period}-v{version}.{kind}");
    Ok(download(bytes, content_type, &stem_name))
}

/// An RFC 3339 time as the office reads it, in the organisation's zone.
fn local_time(portal: &Portal, t: &str) -> String {
    portal.settings.local_time(t, "%d/%m/%Y %H:%M:%S")
}

/// Words for the codes the ledger and the job runs keep.
fn word(code: &str) -> &str {
    match code {
        "collect" => "Đọc thư mục nhận",
        "remind" => "Nhắc nộp báo cáo",
        "report" => "Báo cáo quý",
        "yearly" => "Báo cáo năm",
        "retry" => "Gửi lại thư",
        "manual" => "chạy tay",
        "schedule" => "theo lịch",
        "catch-up" => "chạy bù",
        "ok" => "xong",
        "failed" => "lỗi",
        "stopped" => "dừng giữa chừng",
        "interrupted" => "bị ngắt",
        "sent" => "đã gửi",
        "written" => "đã ghi vào hộp thư đi",
        "sending" => "đang gửi",
        "skipped" => "đã gửi trước đó",
        "smtp" => "thư điện tử",
        "outbox" => "hộp thư đi",
        other => other,
    }
}

pub async fn ledger(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let rows = portal
        .with_engine(|engine| Ok(engine.store.ledger(300)?))
        .await?;
    let rows: Vec<minijinja::Value> = rows
        .into_iter()
        .map(|r| {
            let key = match crate::deliver::receipt_submission(&r.key) {
                Some(id) => format!("biên nhận #{id}"),
                None if r.version == 0 => format!("thư nhắc {}", r.key),
                None => format!("báo cáo {}", r.key),
            };
            minijinja::context! {
                key, version => r.version, recipient => r.recipient, channel => word(&r.channel),
                status => if r.status == "retry" { "chờ gửi lại" } else { word(&r.status) },
                attempts => r.attempts, detail => r.detail, updated => local_time(&portal, &r.updated_at),
            }
        })
        .collect();
    portal.render("gui-thu.html", &who, minijinja::context! { rows })
}

pub async fn jobs(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let runs = portal
        .with_engine(|engine| Ok(engine.store.job_runs(100)?))
        .await?;
    let runs: Vec<minijinja::Value> = runs
        .into_iter()
        .map(|r| {
            minijinja::context! {
                job => word(&r.job),
                trigger => if r.trigger == "retry" { "thử lại" } else { word(&r.trigger) },
                started => local_time(&portal, &r.started_at),
                finished => r.finished_at.as_deref().map(|t| local_time(&portal, t)).unwrap_or_default(),
                outcome => r.outcome.as_deref().map(word).unwrap_or("đang chạy").to_string(),
                summary => r.summary,
            }
        })
        .collect();
    portal.render("tac-vu.html", &who, minijinja::context! { runs })
}

pub async fn audit(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let entries = portal
        .with_engine(|engine| Ok(engine.store.audit_log(500)?))
        .await?;
    let entries: Vec<minijinja::Value> = entries
        .into_iter()
        .map(|e| {
            minijinja::context! {
                at => local_time(&portal, &e.at), who => e.who, action => action_word(&e.action),
                detail => e.detail, address => e.address,
            }
        })
        .collect();
    portal.render("nhat-ky.html", &who, minijinja::context! { entries })
}

/// An audit action in words, with its code for searching.
fn action_word(code: &str) -> String {
    let words = match code {
        "dang_nhap" => "đăng nhập",
        "dang_nhap_sai" => "đăng nhập sai",
        "dang_nhap_bi_khoa" => "đăng nhập khi đang bị khóa",
        "dang_xuat" => "đăng xuất",
        "nop_bao_cao" => "nộp báo cáo",
        "tu_choi_tep" => "từ chối tệp không phải bảng tính",
        "tai_mau" => "tải mẫu báo cáo",
        "tai_tep_danh_dau" => "tải tệp đánh dấu lỗi",
        "tai_bao_cao" => "tải báo cáo",
        "lap_bao_cao" => "lập báo cáo",
        "gui_nhac" => "gửi thư nhắc",
        "cap_ma" => "cấp mã truy cập",
        "tao_tai_khoan_van_phong" => "tạo tài khoản văn phòng",
        _ => return code.to_string(),
    };
    format!("{words} ({code})")
}
