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
    /// Only the units of one status: `tra-lai`, `chua-nop`, `muon`, `dung-han`.
    #[serde(default)]
    tt: String,
    /// Words of a unit's name or code.
    #[serde(default)]
    q: String,
    /// `csv` or `xlsx`: the list as a file.
    #[serde(default)]
    xuat: String,
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
    /// The unit's latest upload whatever its outcome: when, and how it went.
    last: String,
    last_outcome: String,
    findings: String,
    has_code: bool,
}

/// Statuses in the order the office acts on them, with the word of the
/// board's filter for each.
const ATTENTION: [(Status, &str); 4] = [
    (Status::Rejected, "tra-lai"),
    (Status::Missing, "chua-nop"),
    (Status::Late, "muon"),
    (Status::OnTime, "dung-han"),
];

fn attention(s: Status) -> usize {
    ATTENTION.iter().position(|(x, _)| *x == s).unwrap_or(0)
}

pub async fn board(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Query(q): Query<BoardQuery>,
) -> Result<Response, Failure> {
    who.office()?;
    let period = portal.open_period();
    let league = q.khoi.clone();
    let (only, search) = (q.tt.clone(), q.q.clone());
    let wanted = super::export::Search::new(&search);
    let me = portal.clone();
    let (ctx, export) = portal
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
            // Each unit's latest upload, accepted or not.
            let mut latest: std::collections::HashMap<String, crate::store::StoredSubmission> =
                std::collections::HashMap::new();
            for s in store.submissions_for(&period.to_string())? {
                let Some(u) = s.unit.clone() else { continue };
                if latest
                    .get(&u)
                    .is_none_or(|l| l.received_at <= s.received_at)
                {
                    latest.insert(u, s);
                }
            }
            let all: Vec<&crate::rank::UnitResult> = results.units().collect();
            let count = |s: Status| all.iter().filter(|u| u.status == s).count();
            let filters: Vec<minijinja::Value> = ATTENTION
                .iter()
                .map(|(s, word)| {
                    minijinja::context! {
                        word, label => status_word(*s).0, class => status_word(*s).1,
                        n => count(*s), on => only == *word,
                    }
                })
                .collect();
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
            let mut units: Vec<(&crate::rank::LeagueTable, &crate::rank::UnitResult)> = results
                .leagues
                .iter()
                .filter(|l| league.is_empty() || l.code == league)
                .flat_map(|l| l.units.iter().map(move |u| (l, u)))
                .filter(|(_, u)| {
                    only.is_empty() || ATTENTION.iter().any(|(s, w)| *w == only && *s == u.status)
                })
                .filter(|(_, u)| wanted.matches(&[&u.name, u.code.as_str()]))
                .collect();
            units.sort_by_key(|(_, u)| (attention(u.status), crate::domain::fold(&u.name)));
            let rows: Vec<BoardRow> = units
                .iter()
                .map(|(l, u)| {
                    let (status, status_class) = status_word(u.status);
                    let errors = u.findings.iter().filter(|f| f.is_error()).count();
                    let last = latest.get(u.code.as_str());
                    BoardRow {
                        code: u.code.0.clone(),
                        name: u.name.clone(),
                        league: l.label.clone(),
                        status,
                        status_class,
                        last: last
                            .map(|s| me.minute(&s.received_at))
                            .unwrap_or_else(|| "—".into()),
                        last_outcome: last
                            .map(|s| {
                                if s.accepted {
                                    "hợp lệ"
                                } else {
                                    "bị trả lại"
                                }
                                .to_string()
                            })
                            .unwrap_or_default(),
                        findings: if u.findings.is_empty() {
                            "—".into()
                        } else {
                            format!("{errors} / {}", u.findings.len() - errors)
                        },
                        has_code: issued.contains(&u.code.0),
                    }
                })
                .collect();
            let export = super::export::Export {
                file: format!("bang-theo-doi-{period}"),
                sheet: format!("Theo dõi {}", period.label_vi()),
                headers: [
                    "Mã",
                    "Đơn vị",
                    "Khối",
                    "Tình trạng",
                    "Lần gửi cuối",
                    "Kết quả lần gửi cuối",
                    "Lỗi",
                    "Cảnh báo",
                ]
                .map(String::from)
                .to_vec(),
                rows: units
                    .iter()
                    .zip(&rows)
                    .map(|((_, u), r)| {
                        let errors = u.findings.iter().filter(|f| f.is_error()).count();
                        vec![
                            r.code.clone().into(),
                            r.name.clone().into(),
                            r.league.clone().into(),
                            r.status.into(),
                            if r.last == "—" {
                                "".into()
                            } else {
                                r.last.clone().into()
                            },
                            r.last_outcome.clone().into(),
                            Some(errors as f64).into(),
                            Some((u.findings.len() - errors) as f64).into(),
                        ]
                    })
                    .collect(),
            };
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
            let shown = rows.len();
            Ok((
                minijinja::context! {
                    period_label => period.label_vi(), counts, filters, leagues, league,
                    only, search, rows, shown, locked,
                },
                export,
            ))
        })
        .await?;
    if let Some(file) = export.respond(&q.xuat)? {
        return Ok(file);
    }
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

/// A name cut to fit a chart's label: at a word, never inside one.
fn short_label(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let mut out = String::new();
    for w in name.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > max.saturating_sub(1) {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() {
        out = name.chars().take(max.saturating_sub(1)).collect();
    }
    out.push('…');
    out
}

pub async fn ranking(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    who.office()?;
    let period = portal.open_period();
    let (ctx, export) = portal
        .with_store(move |cfg, store| {
            let results = crate::pipeline::results(cfg, store, period, true)?
                .ok_or_else(|| anyhow::anyhow!("không tính được {period}"))?;
            // The last four quarters side by side, each scored once.
            let listed: Vec<crate::domain::Unit> = results
                .units()
                .filter_map(|u| cfg.settings.unit(u.code.as_str()).cloned())
                .collect();
            let (quarters, places) =
                crate::pipeline::places_over(cfg, store, &listed, period, Some(&results), 4)?;
            let place_of: std::collections::HashMap<&str, &Vec<Option<crate::rank::Previous>>> =
                listed.iter().map(|u| u.code.as_str()).zip(&places).collect();
            let quarter_labels: Vec<String> = quarters.iter().map(|q| q.label_vi()).collect();
            let export = super::export::Export {
                file: format!("xep-hang-{period}"),
                sheet: format!("Xếp hạng {}", period.label_vi()),
                headers: ["Khối", "Hạng", "Mã", "Đơn vị", "Tổng điểm", "Xếp loại", "Tình trạng", "Điểm kỳ trước", "Hạng kỳ trước"]
                    .map(String::from)
                    .to_vec(),
                rows: results
                    .leagues
                    .iter()
                    .flat_map(|l| l.units.iter().map(move |u| (l, u)))
                    .map(|(l, u)| {
                        vec![
                            l.label.clone().into(),
                            u.rank.map(f64::from).into(),
                            u.code.0.clone().into(),
                            u.name.clone().into(),
                            u.card.as_ref().map(|c| c.total).into(),
                            u.card.as_ref().map(|c| c.band.clone()).unwrap_or_default().into(),
                            status_word(u.status).0.into(),
                            u.previous.map(|p| p.total).into(),
                            u.previous.map(|p| f64::from(p.rank)).into(),
                        ]
                    })
                    .collect(),
            };
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
                            label: short_label(name, 34),
                            value: crate::report::narrative::dec_vi(*total),
                            width: (total.clamp(0.0, 100.0) * 3.4).round(),
                            color: crate::report::pdf::bar_color(*total),
                        })
                        .collect();
                    let units: Vec<minijinja::Value> = l
                        .units
                        .iter()
                        .map(|u| {
                            let over: Vec<String> = place_of
                                .get(u.code.as_str())
                                .map(|ps| {
                                    ps.iter()
                                        .map(|p| match p {
                                            Some(p) => format!(
                                                "{} ({}){}",
                                                crate::report::narrative::dec_vi(p.total),
                                                p.rank,
                                                if p.merged { "*" } else { "" }
                                            ),
                                            None => "—".into(),
                                        })
                                        .collect()
                                })
                                .unwrap_or_default();
                            minijinja::context! {
                                rank => u.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                                name => u.name,
                                total => u.card.as_ref().map(|c| crate::report::narrative::dec_vi(c.total)).unwrap_or_else(|| "—".into()),
                                band => u.card.as_ref().map(|c| c.band.clone()).unwrap_or_default(),
                                status => status_word(u.status).0,
                                over,
                            }
                        })
                        .collect();
                    // The league's spread per quarter: lowest, median, highest.
                    let spread: Vec<minijinja::Value> = (0..quarters.len())
                        .map(|k| {
                            let mut totals: Vec<f64> = l
                                .units
                                .iter()
                                .filter_map(|u| place_of.get(u.code.as_str())?.get(k)?.map(|p| p.total))
                                .collect();
                            totals.sort_by(f64::total_cmp);
                            let y = |t: f64| (150.0 - t.clamp(0.0, 100.0) * 1.4).round();
                            let dec = crate::report::narrative::dec_vi;
                            match (totals.first(), totals.last()) {
                                (Some(&lo), Some(&hi)) => {
                                    let mid = totals[totals.len() / 2];
                                    minijinja::context! {
                                        label => quarter_labels[k], x => 40 + k * 90,
                                        lo => dec(lo), mid => dec(mid), hi => dec(hi), n => totals.len(),
                                        y_lo => y(lo), y_mid => y(mid), y_hi => y(hi),
                                    }
                                }
                                _ => minijinja::context! { label => quarter_labels[k], x => 40 + k * 90, n => 0 },
                            }
                        })
                        .collect();
                    let has_spread = spread.iter().any(|q| q.get_attr("lo").is_ok_and(|v| !v.is_undefined()));
                    minijinja::context! {
                        label => l.label,
                        ranked => ranked.len(),
                        height => bars.len() * 20 + 4,
                        bars, units, spread, has_spread,
                    }
                })
                .collect();
            Ok((
                minijinja::context! { period_label => period.label_vi(), leagues, quarters => quarter_labels },
                export,
            ))
        })
        .await?;
    if let Some(file) = export.respond(&q.xuat)? {
        return Ok(file);
    }
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

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    trang: usize,
    #[serde(default)]
    xuat: String,
}

/// Rows shown on one of the office's long lists, 50 to a page.
const PER_PAGE: usize = 50;

/// A long list of the office (ledger, job runs, audit log): searched,
/// paged, or sent as a CSV or xlsx file of every matching row.
struct List {
    path: &'static str,
    title: &'static str,
    file: &'static str,
    hint: &'static str,
    empty: &'static str,
    headers: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

fn list_page(portal: &Portal, who: &Who, q: &ListQuery, list: List) -> Result<Response, Failure> {
    let wanted = super::export::Search::new(&q.q);
    let rows: Vec<Vec<String>> = list
        .rows
        .into_iter()
        .filter(|r| {
            let texts: Vec<&str> = r.iter().map(String::as_str).collect();
            wanted.matches(&texts)
        })
        .collect();
    let export = super::export::Export {
        file: list.file.to_string(),
        sheet: list.title.to_string(),
        headers: list.headers.iter().map(|h| h.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| c.as_str().into()).collect())
            .collect(),
    };
    if let Some(file) = export.respond(&q.xuat)? {
        return Ok(file);
    }
    let total = rows.len();
    let page = q.trang.max(1);
    let (rows, pages) = super::export::page(rows, page, PER_PAGE);
    portal.render(
        "danh-sach.html",
        who,
        minijinja::context! {
            path => list.path, title => list.title, hint => list.hint, empty => list.empty,
            headers => list.headers, rows, total, pages, page => page.min(pages), search => q.q,
        },
    )
}

/// A ledger note as a person reads it: a file's place on the server is
/// shown by its name only.
fn without_paths(detail: &str) -> String {
    detail
        .split(' ')
        .map(|w| {
            if w.starts_with('/') && w.len() > 1 {
                w.rsplit('/').next().unwrap_or(w)
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn ledger(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    who.office()?;
    let rows = portal
        .with_store(|_, store| Ok(store.all_deliveries(20_000)?))
        .await?;
    let s = portal.settings();
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                words::letter(&r.period, r.version),
                r.recipient.clone(),
                words::channel(r.channel).to_string(),
                words::delivery_state(s, &r),
                r.attempts.to_string(),
                without_paths(words::delivery_detail(&r)),
                local_time(&portal, &r.updated_at),
            ]
        })
        .collect();
    let list = List {
        path: "/van-phong/gui-thu",
        title: "Sổ gửi thư",
        file: "so-gui-thu",
        hint: "Người nhận, loại thư, tình trạng",
        empty: "Chưa có thư nào.",
        headers: &[
            "Thư",
            "Người nhận",
            "Kênh",
            "Tình trạng",
            "Số lần gửi",
            "Ghi chú",
            "Cập nhật",
        ],
        rows,
    };
    list_page(&portal, &who, &q, list)
}

pub async fn jobs(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    who.office()?;
    let runs = portal
        .with_store(|_, store| Ok(store.job_runs(5_000)?))
        .await?;
    let rows: Vec<Vec<String>> = runs
        .into_iter()
        .map(|r| {
            vec![
                words::job(&r.job).to_string(),
                words::trigger(&r.trigger),
                local_time(&portal, &r.started_at),
                r.finished_at
                    .as_deref()
                    .map(|t| local_time(&portal, t))
                    .unwrap_or_default(),
                words::job_outcome(r.outcome).to_string(),
                without_paths(&r.summary),
            ]
        })
        .collect();
    let list = List {
        path: "/van-phong/tac-vu",
        title: "Các lần chạy tác vụ",
        file: "tac-vu",
        hint: "Tác vụ, kết quả, nội dung",
        empty: "Chưa có tác vụ nào chạy.",
        headers: &[
            "Tác vụ",
            "Kích hoạt",
            "Bắt đầu",
            "Kết thúc",
            "Kết quả",
            "Tóm tắt",
        ],
        rows,
    };
    list_page(&portal, &who, &q, list)
}

pub async fn audit(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    who.office()?;
    let entries = portal
        .with_store(|_, store| Ok(store.audit_log(20_000)?))
        .await?;
    let rows: Vec<Vec<String>> = entries
        .into_iter()
        .map(|e| {
            vec![
                local_time(&portal, &e.at),
                e.who,
                words::audit_action(&e.action).to_string(),
                e.detail,
                e.address,
            ]
        })
        .collect();
    let list = List {
        path: "/van-phong/nhat-ky",
        title: "Nhật ký truy cập",
        file: "nhat-ky",
        hint: "Ai, việc, chi tiết",
        empty: "Nhật ký chưa có gì.",
        headers: &["Thời điểm", "Ai", "Việc", "Chi tiết", "Địa chỉ"],
        rows,
    };
    list_page(&portal, &who, &q, list)
}

#[derive(Serialize)]
struct FileRow {
    id: i64,
    at: String,
    name: String,
    accepted: bool,
    outcome: &'static str,
    problems: String,
}

/// One unit as the office sees it: every file it sent this quarter with
/// its outcome and findings, its score card, its quarters, its letters.
pub async fn unit_page(
    State(portal): State<Arc<Portal>>,
    who: Who,
    Path(code): Path<String>,
) -> Result<Response, Failure> {
    who.office()?;
    let unit = portal.unit(&code)?;
    let period = portal.open_period();
    let me = portal.clone();
    let ctx = portal
        .with_store(move |cfg, store| {
            let mut files: Vec<crate::store::StoredSubmission> = store
                .submissions_for(&period.to_string())?
                .into_iter()
                .filter(|s| s.unit.as_deref() == Some(unit.code.as_str()))
                .collect();
            files.sort_by_key(|s| std::cmp::Reverse(s.received_at));
            let files: Vec<FileRow> = files
                .iter()
                .map(|s| {
                    let findings = super::findings_of(s);
                    let groups = super::uploads::grouped(&findings);
                    let errors = groups.iter().filter(|g| g.first.is_error()).count();
                    FileRow {
                        id: s.id,
                        at: me.minute(&s.received_at),
                        name: super::display_name(&s.file_name),
                        accepted: s.accepted,
                        outcome: if s.accepted { "hợp lệ" } else { "bị trả lại" },
                        problems: match (errors, groups.len() - errors) {
                            (0, 0) => "—".into(),
                            (e, w) => format!("{e} lỗi, {w} cảnh báo"),
                        },
                    }
                })
                .collect();
            let results = crate::pipeline::results(cfg, store, period, true)?;
            let me_now = results
                .as_ref()
                .and_then(|r| r.units().find(|u| u.code == unit.code).cloned());
            let ruleset = cfg.rules.ruleset_for(period);
            let num = |x: Option<f64>| {
                x.map(crate::report::narrative::dec_vi)
                    .unwrap_or_else(|| "—".into())
            };
            let criteria: Vec<minijinja::Value> = me_now
                .as_ref()
                .and_then(|u| u.card.as_ref())
                .map(|c| {
                    c.criteria
                        .iter()
                        .map(|k| {
                            let label = ruleset
                                .and_then(|r| r.criteria.iter().find(|x| x.code == k.code))
                                .map(|x| x.label.clone())
                                .unwrap_or_default();
                            minijinja::context! {
                                code => k.code, label,
                                numerator => num(k.numerator), denominator => num(k.denominator),
                                points => crate::report::narrative::dec_vi(k.points),
                                max => crate::report::narrative::dec_vi(k.max_points),
                                applicable => k.applicable,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let card = me_now.as_ref().map(|u| {
                let (status, status_class) = status_word(u.status);
                minijinja::context! {
                    status, status_class,
                    total => u.card.as_ref().map(|c| crate::report::narrative::dec_vi(c.total)),
                    band => u.card.as_ref().map(|c| c.band.clone()),
                    rank => u.rank,
                    notes => u.notes,
                    deadline => u.deadline.format("%d/%m/%Y").to_string(),
                }
            });
            let history =
                crate::pipeline::history(cfg, store, &unit, period, results.as_ref(), 4)?;
            let quarters: Vec<minijinja::Value> = history
                .iter()
                .enumerate()
                .map(|(i, (q, p))| {
                    let total = p.map(|p| p.total);
                    minijinja::context! {
                        label => q.label_vi(),
                        total => total.map(crate::report::narrative::dec_vi),
                        rank => p.map(|p| p.rank),
                        merged => p.is_some_and(|p| p.merged),
                        x => i * 70 + 10,
                        height => total.map(|t| (t.clamp(0.0, 100.0) * 1.2).round()).unwrap_or(0.0),
                        y => total.map(|t| 130.0 - (t.clamp(0.0, 100.0) * 1.2).round()).unwrap_or(130.0),
                        color => total.map(crate::report::pdf::bar_color).unwrap_or("#cfd8dc"),
                    }
                })
                .collect();
            let any_total = history.iter().any(|(_, p)| p.is_some());
            let letters: Vec<minijinja::Value> = store
                .deliveries_to(&unit.email, 30)?
                .into_iter()
                .map(|d| {
                    minijinja::context! {
                        what => words::letter(&d.period, d.version),
                        status => words::delivery_state(&cfg.settings, &d),
                        at => local_time(&me, &d.updated_at),
                    }
                })
                .collect();
            let predecessors: Vec<String> = cfg
                .settings
                .units
                .predecessors(&unit.code)
                .iter()
                .map(|p| p.name.clone())
                .collect();
            let league = ruleset
                .and_then(|r| r.leagues.iter().find(|l| l.code == unit.league.0))
                .map(|l| l.label.clone())
                .unwrap_or_else(|| unit.league.0.clone());
            Ok(minijinja::context! {
                period_label => period.label_vi(),
                code => unit.code.0, name => unit.name, email => unit.email, league,
                predecessors, files, card, criteria, quarters, any_total, letters,
            })
        })
        .await?;
    portal.render("don-vi-van-phong.html", &who, ctx)
}

/// What is in force for the quarter, read-only: the registry, the
/// deadlines, the rule files, each criterion with its formula in words,
/// the targets and the plan's tasks.
pub async fn in_force(State(portal): State<Arc<Portal>>, who: Who) -> Result<Response, Failure> {
    who.office()?;
    let period = portal.open_period();
    let cfg = portal.config.clone();
    let s = &cfg.settings;
    let rules = &cfg.rules;
    let form = rules.form_in_force(period);
    let ruleset = rules.ruleset_for(period);
    let league_label = |code: &str| {
        ruleset
            .and_then(|r| r.leagues.iter().find(|l| l.code == code))
            .map(|l| l.label.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%d/%m/%Y").to_string());
    let (from, to) = period.window(s.period.window);
    let units: Vec<minijinja::Value> = s
        .units
        .iter()
        .map(|u| {
            let before: Vec<String> = s
                .units
                .predecessors(&u.code)
                .iter()
                .map(|p| p.name.clone())
                .collect();
            minijinja::context! {
                code => u.code.0, name => u.name, league => league_label(&u.league.0),
                from => date(u.valid_from), to => date(u.valid_to),
                before => before.join(", "),
                after => u.successor.as_ref().and_then(|c| s.unit(c.as_str())).map(|x| x.name.clone()),
                reports => u.reports_at(to),
            }
        })
        .collect();
    let deadlines: Vec<minijinja::Value> = s
        .period
        .deadline_days
        .iter()
        .map(|(league, days)| {
            let days = *days.get_ref();
            minijinja::context! {
                league => league_label(league), days,
                date => (to + chrono::Days::new(u64::from(days))).format("%d/%m/%Y").to_string(),
            }
        })
        .collect();
    let effective = |e: &(Period, Option<Period>)| match e.1 {
        Some(end) => format!("{} – {}", e.0.label_vi(), end.label_vi()),
        None => format!("từ {}", e.0.label_vi()),
    };
    let file_name = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default()
    };
    let mut files = Vec::new();
    if let Some(f) = rules.form_file_for(period) {
        files.push(minijinja::context! { kind => "Biểu mẫu", name => f.name, version => f.version, file => file_name(&f.file), effective => effective(&f.effective) });
    }
    if let Some(r) = ruleset {
        files.push(minijinja::context! { kind => "Bộ chỉ số", name => r.name, version => r.version, file => file_name(&r.file), effective => effective(&r.effective) });
    }
    let targets = rules.targets_for(period);
    if let Some(t) = targets {
        files.push(minijinja::context! { kind => "Mục tiêu", name => t.name, version => t.version, file => file_name(&t.file), effective => effective(&t.effective) });
    }
    let tasks = rules.tasks_for(period);
    if let Some(t) = tasks {
        files.push(minijinja::context! { kind => "Nhiệm vụ", name => t.name, version => t.version, file => file_name(&t.file), effective => effective(&t.effective) });
    }
    let criteria: Vec<minijinja::Value> = ruleset
        .map(|r| {
            r.criteria
                .iter()
                .map(|c| {
                    let leagues: Vec<String> = c.leagues.iter().map(|l| league_label(l)).collect();
                    minijinja::context! {
                        code => c.code, label => c.label, group => c.group,
                        points => crate::report::narrative::dec_vi(c.points),
                        how => words::criterion(form, c),
                        leagues => leagues.join(", "),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let target_rows: Vec<minijinja::Value> = targets
        .map(|t| {
            t.targets
                .iter()
                .map(|x| {
                    minijinja::context! {
                        code => x.code, label => x.label,
                        how => words::expression(form, &x.expression.source),
                        threshold => x.threshold,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let task_rows: Vec<minijinja::Value> = tasks
        .map(|t| {
            t.tasks
                .iter()
                .map(|x| {
                    let leagues: Vec<String> = x.leagues.iter().map(|l| league_label(l)).collect();
                    minijinja::context! {
                        code => x.code, content => x.content, leagues => leagues.join(", "),
                        due => match x.due {
                            crate::rules::Due::Date(d) => d.format("%d/%m/%Y").to_string(),
                            crate::rules::Due::Quarterly => "hằng quý, trước khi hết kỳ số liệu".to_string(),
                        },
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    portal.render(
        "quy-tac.html",
        &who,
        minijinja::context! {
            period_label => period.label_vi(),
            window => format!("{} – {}", from.format("%d/%m/%Y"), to.format("%d/%m/%Y")),
            units, deadlines, files, criteria, targets => target_rows, tasks => task_rows,
        },
    )
}
