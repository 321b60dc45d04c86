//! The portal, in process: every route for an anonymous visitor, unit A,
//! unit B and the office; CSRF, upload limits and content checks; and
//! fifty units uploading at once over real HTTP.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use std::path::Path;
use tthc::domain::Period;
use tthc::settings::{PathOverrides, Settings};

pub struct Site {
    pub settings: Settings,
    pub codes: std::collections::HashMap<String, String>,
    pub office_password: String,
}

/// The sample district with an empty inbox, an access code for every
/// unit and an office user `vanphong`.
pub fn site(tmp: &Path) -> Site {
    std::fs::create_dir_all(tmp.join("inbox")).unwrap();
    let overrides = PathOverrides {
        inbox: Some(tmp.join("inbox")),
        data: Some(tmp.join("data")),
        output: Some(tmp.join("out")),
    };
    let settings = Settings::load(&crate::sample_config(), &overrides).unwrap();
    let engine = crate::Opened::open(settings.clone()).unwrap();
    let codes = settings
        .units
        .iter()
        .map(|u| {
            (
                u.code.0.clone(),
                tthc::web::issue_unit_code(&engine.store, u).unwrap(),
            )
        })
        .collect();
    let office_password =
        tthc::web::issue_office_password(&engine.settings, &engine.store, "vanphong").unwrap();
    Site {
        settings,
        codes,
        office_password,
    }
}

/// A unit's workbook for 2022-Q4; with `broken`, one sum that does not add up.
pub fn workbook(s: &Settings, code: &str, broken: bool) -> Vec<u8> {
    let rules = tthc::rules::load_dir(&s.rules_dir).unwrap();
    let u = s.unit(code).unwrap();
    let mut c = tthc::bench::synth::quarter_content(
        u,
        &tthc::bench::synth::profile(u, 1),
        Period::quarter(2022, 4),
        &mut Default::default(),
        &rules,
        s,
        1,
    );
    if broken && let Some((_, Some(v))) = c.rows.get_mut(0) {
        v[2] += 3;
    }
    tthc::report::template::write_workbook(&c).unwrap()
}

pub(crate) struct Reply {
    pub status: StatusCode,
    pub location: String,
    pub cookies: Vec<String>,
    pub body: String,
}

/// The service, started in process as `tthc serve` starts it (the same
/// builder), on a free port of 127.0.0.1; requests go over real HTTP.
#[derive(Clone)]
pub struct App {
    pub base: String,
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Body,
    >,
}

/// Starts the service of these settings, its portal on a free port and no
/// job on a schedule (the tests run jobs themselves).
pub async fn start(settings: &Settings) -> App {
    let mut s = settings.clone();
    s.web.listen = Some("127.0.0.1:0".parse().unwrap());
    s.schedule.collect = None;
    s.schedule.remind = None;
    s.schedule.report = None;
    s.schedule.yearly = None;
    let config = tthc::config::Config::new(s).unwrap();
    let app = tthc::app::Application::build(config).await.unwrap();
    let base = format!("http://{}", app.address().unwrap());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    App { base, client }
}

async fn send(app: &App, req: Request<Body>) -> Reply {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    parts.uri = format!("{}{path}", app.base).parse().unwrap();
    let r = app
        .client
        .request(Request::from_parts(parts, body))
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let cookies = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).to_string(),
    }
}

fn csrf_in(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_string()
}

pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// A signed-in browser: its session cookie and form token.
#[derive(Clone, Default)]
pub(crate) struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &App, login: &str, code: &str) -> Reply {
    let page = send(app, Request::get("/dang-nhap").body(Body::empty()).unwrap()).await;
    let form_cookie = cookie_pair(&page.cookies[0]);
    let body = format!("_csrf={}&login={login}&code={code}", csrf_in(&page.body));
    send(
        app,
        Request::post("/dang-nhap")
            .header(header::COOKIE, form_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

pub(crate) async fn browser(app: &App, login: &str, code: &str, home: &str) -> Browser {
    let r = sign_in(app, login, code).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "sign-in of {login}: {}",
        r.body
    );
    assert_eq!(r.location, home);
    let session = r
        .cookies
        .iter()
        .find(|c| c.starts_with("tthc_phien="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
    let cookie = cookie_pair(session);
    let page = send(
        app,
        Request::get(home)
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{home}: {}", page.body);
    Browser {
        csrf: csrf_in(&page.body),
        cookie,
    }
}

fn multipart(csrf: Option<&str>, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----tthc-test-boundary";
    let mut body = Vec::new();
    if let Some(t) = csrf {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{t}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &App, who: &Browser, csrf: Option<&str>, name: &str, bytes: &[u8]) -> Reply {
    let (ct, body) = multipart(csrf, name, bytes);
    send(
        app,
        Request::post("/don-vi/nop")
            .header(header::COOKIE, &who.cookie)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// A GET of a file: its bytes as sent.
pub(crate) async fn get_bytes(app: &App, who: &Browser, path: &str) -> Vec<u8> {
    let req = Request::get(format!("{}{path}", app.base))
        .header(header::COOKIE, &who.cookie)
        .body(Body::empty())
        .unwrap();
    let r = app.client.request(req).await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.into_body().collect().await.unwrap().to_bytes().to_vec()
}

pub(crate) async fn request(app: &App, who: &Browser, method: &str, path: &str) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if !who.cookie.is_empty() {
        req = req.header(header::COOKIE, &who.cookie);
    }
    let body = if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        Body::from(format!("_csrf={}", who.csrf))
    } else {
        Body::empty()
    };
    send(app, req.body(body).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_account_only_what_it_may_see() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let app = start(&site.settings).await;
    let a = browser(&app, "XA01", &site.codes["XA01"], "/don-vi").await;
    let b = browser(&app, "xa02", &site.codes["XA02"].to_lowercase(), "/don-vi").await;
    let office = browser(&app, "vanphong", &site.office_password, "/van-phong").await;
    let anon = Browser::default();

    // Unit A sends a workbook with an error, then the right one.
    let bad = upload(
        &app,
        &a,
        Some(&a.csrf),
        "XA01-2022-Q4.xlsx",
        &workbook(&site.settings, "XA01", true),
    )
    .await;
    assert_eq!(bad.status, StatusCode::SEE_OTHER, "{}", bad.body);
    let bad_page = request(&app, &a, "GET", &bad.location).await;
    assert!(bad_page.body.contains("không hợp lệ"), "{}", bad_page.body);
    assert!(
        bad_page.body.contains("Biểu 06"),
        "the finding names its sheet"
    );
    let good = upload(
        &app,
        &a,
        Some(&a.csrf),
        "XA01-2022-Q4.xlsx",
        &workbook(&site.settings, "XA01", false),
    )
    .await;
    let good_page = request(&app, &a, "GET", &good.location).await;
    assert!(good_page.body.contains("hợp lệ"), "{}", good_page.body);
    let a_sub = bad.location.clone();

    let run = request(&app, &office, "POST", "/van-phong/bao-cao").await;
    assert_eq!(run.status, StatusCode::SEE_OTHER, "{}", run.body);
    wait_for_report(&app, &office).await;

    use StatusCode as S;
    let ok_or_redirect = |s: S| s == S::OK || s == S::SEE_OTHER;
    // (method, path, owner): "a" = unit A's own, "unit" = any unit's, "office".
    let routes: Vec<(&str, String, &str)> = vec![
        ("GET", "/don-vi".into(), "unit"),
        ("GET", "/don-vi/mau".into(), "unit"),
        ("GET", a_sub.clone(), "a"),
        ("GET", format!("{a_sub}/tep-danh-dau"), "a"),
        ("GET", format!("{a_sub}/tep-goc"), "a"),
        ("GET", "/van-phong/don-vi/XA01".into(), "office"),
        ("GET", "/van-phong?xuat=csv".into(), "office"),
        ("GET", "/van-phong/xep-hang?xuat=xlsx".into(), "office"),
        ("GET", "/van-phong/gui-thu?xuat=csv".into(), "office"),
        ("GET", "/van-phong".into(), "office"),
        ("GET", "/van-phong?khoi=xa".into(), "office"),
        ("POST", "/van-phong/nhac-nop".into(), "office"),
        ("GET", "/van-phong/ma-truy-cap/XA03".into(), "office"),
        ("POST", "/van-phong/ma-truy-cap/XA03".into(), "office"),
        ("POST", "/van-phong/mo-khoa/XA09".into(), "office"),
        ("GET", "/van-phong/xep-hang".into(), "office"),
        ("GET", "/van-phong/bao-cao".into(), "office"),
        ("GET", "/van-phong/bao-cao/2022-Q4/1/xlsx".into(), "office"),
        ("GET", "/van-phong/bao-cao/2022-Q4/1/pdf".into(), "office"),
        ("GET", "/van-phong/bao-cao/2022-Q4/1/json".into(), "office"),
        ("GET", "/van-phong/gui-thu".into(), "office"),
        ("GET", "/van-phong/tac-vu".into(), "office"),
        ("GET", "/van-phong/nhat-ky".into(), "office"),
    ];
    for (method, path, owner) in &routes {
        for (name, who) in [
            ("anonymous", &anon),
            ("unit A", &a),
            ("unit B", &b),
            ("office", &office),
        ] {
            let r = request(&app, who, method, path).await;
            let expect_ok = match (*owner, name) {
                (_, "anonymous") => {
                    assert_eq!(
                        (r.status, r.location.as_str()),
                        (S::SEE_OTHER, "/dang-nhap"),
                        "{name} {method} {path}"
                    );
                    continue;
                }
                ("unit", n) => n != "office",
                // The office sees every unit's files too.
                ("a", n) => n == "unit A" || n == "office",
                ("office", n) => n == "office",
                _ => unreachable!(),
            };
            if expect_ok {
                assert!(
                    ok_or_redirect(r.status),
                    "{name} {method} {path}: {} {}",
                    r.status,
                    r.body
                );
            } else {
                let refused = match (*owner, name) {
                    ("a", "unit B") => S::NOT_FOUND,
                    _ => S::FORBIDDEN,
                };
                assert_eq!(r.status, refused, "{name} {method} {path}");
                assert!(
                    !r.body.contains("XA01-2022-Q4.xlsx"),
                    "{name} saw A's file at {path}"
                );
            }
        }
    }

    // The upload and sign-out posts: a visitor is sent to sign in, the
    // office may not upload.
    let file = workbook(&site.settings, "XA01", false);
    let r = upload(&app, &anon, Some(""), "XA01-2022-Q4.xlsx", &file).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (S::SEE_OTHER, "/dang-nhap")
    );
    let r = upload(
        &app,
        &office,
        Some(&office.csrf),
        "XA01-2022-Q4.xlsx",
        &file,
    )
    .await;
    assert_eq!(r.status, S::FORBIDDEN);
    let r = request(&app, &anon, "POST", "/dang-xuat").await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (S::SEE_OTHER, "/dang-nhap")
    );

    // B's home shows none of A's history.
    let b_home = request(&app, &b, "GET", "/don-vi").await;
    assert!(b_home.body.contains("Chưa nộp") && !b_home.body.contains("XA01-2022-Q4.xlsx"));

    // The board shows A as submitted, B as not.
    let board = request(&app, &office, "GET", "/van-phong").await;
    let row = |code: &str| {
        board
            .body
            .split(&format!("data-unit=\"{code}\""))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_default()
            .to_string()
    };
    // Sent in 2026 for 2022: submitted, and late.
    assert!(row("XA01").contains("Nộp muộn"), "{}", row("XA01"));
    assert!(row("XA02").contains("Chưa nộp"), "{}", row("XA02"));
    let filtered = request(&app, &office, "GET", "/van-phong?khoi=co_quan").await;
    assert!(!filtered.body.contains("data-unit=\"XA01\""));
    assert!(filtered.body.contains("data-unit=\"CQ01\""));

    // The ranking preview draws its chart in SVG.
    let ranking = request(&app, &office, "GET", "/van-phong/xep-hang").await;
    assert!(ranking.body.contains("<svg") && ranking.body.contains("<rect"));
    assert!(!ranking.body.contains("<script"));

    // Posts without the form token are refused, and change nothing.
    let mut forged = a.clone();
    forged.csrf = "0".repeat(64);
    let r = request(&app, &forged, "POST", "/dang-xuat").await;
    assert_eq!(r.status, S::FORBIDDEN);
    let r = upload(
        &app,
        &a,
        None,
        "XA01-2022-Q4.xlsx",
        &workbook(&site.settings, "XA01", false),
    )
    .await;
    assert_eq!(r.status, S::FORBIDDEN);
    let mut office_forged = office.clone();
    office_forged.csrf.clear();
    let r = request(&app, &office_forged, "POST", "/van-phong/bao-cao").await;
    assert_eq!(r.status, S::FORBIDDEN);

    // Not a spreadsheet, too large, a name with a path.
    let r = upload(
        &app,
        &b,
        Some(&b.csrf),
        "bao-cao.xlsx",
        b"<html>not a workbook</html>",
    )
    .await;
    assert_eq!(r.status, S::UNSUPPORTED_MEDIA_TYPE);
    let big = vec![b'P'; site.settings.web.max_upload + 200_000];
    let r = upload(&app, &b, Some(&b.csrf), "to.xlsx", &big).await;
    assert_eq!(r.status, S::PAYLOAD_TOO_LARGE, "{}", r.body);
    let r = upload(
        &app,
        &b,
        Some(&b.csrf),
        "../../etc/XA02-2022-Q4.xlsx",
        &workbook(&site.settings, "XA02", false),
    )
    .await;
    assert_eq!(r.status, S::SEE_OTHER);
    let page = request(&app, &b, "GET", &r.location).await;
    assert!(page.body.contains("XA02-2022-Q4.xlsx") && !page.body.contains("etc"));
    let archive = tmp.path().join("data/archive");
    let mut stored = Vec::new();
    for d in std::fs::read_dir(&archive).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            stored.push(f.unwrap().file_name().to_string_lossy().to_string());
        }
    }
    assert!(
        stored
            .iter()
            .all(|n| n.len() == 64 && n.chars().all(|c| c.is_ascii_hexdigit())),
        "archived files are named by their hash: {stored:?}"
    );

    // Sign-in attempts are throttled per account.
    for _ in 0..5 {
        let r = sign_in(&app, "XA05", "WRONG-CODE-0000").await;
        assert_eq!(r.status, S::UNAUTHORIZED);
    }
    let r = sign_in(&app, "XA05", &site.codes["XA05"]).await;
    assert_eq!(
        r.status,
        S::TOO_MANY_REQUESTS,
        "the right code is refused while locked"
    );

    // The office sees it all in the audit log.
    let log = request(&app, &office, "GET", "/van-phong/nhat-ky").await;
    for action in [
        "dang_nhap",
        "dang_nhap_sai",
        "dang_nhap_bi_khoa",
        "nop_bao_cao",
        "tu_choi_tep",
        "tai_bao_cao",
        "lap_bao_cao",
        "tai_tep_danh_dau",
    ] {
        assert!(log.body.contains(action), "no {action} in the audit log");
    }
}

/// Waits until the report run the office started from the portal is done
/// (its page stops saying it is running); returns that page.
async fn wait_for_report(app: &App, office: &Browser) -> Reply {
    let started = std::time::Instant::now();
    loop {
        let page = request(app, office, "GET", "/van-phong/bao-cao?tb=dang-lap").await;
        if !page.body.contains("Đang lập báo cáo") {
            return page;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "the report run did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The sample district's portal on a real port: (address, settings, codes).
pub async fn serve_site(tmp: &Path) -> (String, Site) {
    let site = site(tmp);
    (serve_portal(&site.settings).await, site)
}

/// The portal of these settings on a free port of 127.0.0.1: its address.
async fn serve_portal(settings: &Settings) -> String {
    start(settings).await.base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_units_uploading_at_once_are_all_received_and_archived() {
    let tmp = tempfile::tempdir().unwrap();
    // Fifty units of the generated organisation, served over HTTP.
    let org = tmp.path().join("org");
    let cfg = tthc::bench::generate_org(&org, 60, 3, &crate::repo().join("rules")).unwrap();
    let overrides = PathOverrides {
        inbox: Some(tmp.path().join("empty")),
        data: Some(tmp.path().join("data")),
        output: Some(tmp.path().join("out")),
    };
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    let mut settings = Settings::load(&cfg, &overrides).unwrap();
    settings.web.period = Some(Period::quarter(2022, 4));
    let engine = crate::Opened::open(settings.clone()).unwrap();
    let units: Vec<_> = settings.units.iter().take(50).cloned().collect();
    let mut jobs = Vec::new();
    for u in &units {
        let code = tthc::web::issue_unit_code(&engine.store, u).unwrap();
        let file = org.join("inbox").join(format!("{}-2022-Q4.xlsx", u.code));
        let bytes = std::fs::read(&file).unwrap_or_else(|_| {
            tthc::report::template::write_workbook(&tthc::bench::synth::quarter_content(
                u,
                &tthc::bench::synth::profile(u, 3),
                Period::quarter(2022, 4),
                &mut Default::default(),
                &tthc::rules::load_dir(&settings.rules_dir).unwrap(),
                &settings,
                3,
            ))
            .unwrap()
        });
        jobs.push((u.code.0.clone(), code, bytes));
    }
    drop(engine);
    let base = serve_portal(&settings).await;

    let handles: Vec<_> = jobs
        .into_iter()
        .map(|(unit, code, bytes)| {
            let base = base.clone();
            tokio::task::spawn_blocking(move || http_upload(&base, &unit, &code, &bytes))
        })
        .collect();
    let mut acknowledged = 0;
    for h in handles {
        let status = h.await.unwrap();
        assert_eq!(status, Ok(303), "every upload is acknowledged");
        acknowledged += 1;
    }
    assert_eq!(acknowledged, 50);

    let store = tthc::store::Store::open(&tmp.path().join("data")).unwrap();
    let rows = store.submissions_for("2022-Q4").unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(
        rows.iter().filter(|r| r.accepted).count(),
        50,
        "all fifty accepted"
    );
    let mut archived = 0;
    for d in std::fs::read_dir(tmp.path().join("data/archive")).unwrap() {
        archived += std::fs::read_dir(d.unwrap().path()).unwrap().count();
    }
    assert_eq!(archived, 50);
}

/// Signs in and uploads over HTTP, as a browser would: the upload's
/// status, or what went wrong on the way (a refused connection, say).
pub fn http_upload(base: &str, unit: &str, code: &str, bytes: &[u8]) -> Result<u16, String> {
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(std::time::Duration::from_secs(60))
        .build();
    let fail = |what: &str, e: ureq::Error| format!("{what} of {unit}: {e}");
    let page = agent
        .get(&format!("{base}/dang-nhap"))
        .call()
        .map_err(|e| fail("sign-in page", e))?;
    let form_cookie = cookie_pair(page.header("set-cookie").unwrap_or_default());
    let token = csrf_in(&page.into_string().map_err(|e| e.to_string())?);
    let signed = agent
        .post(&format!("{base}/dang-nhap"))
        .set("Cookie", &form_cookie)
        .send_form(&[("_csrf", &token), ("login", unit), ("code", code)])
        .map_err(|e| fail("sign-in", e))?;
    if signed.status() != 303 {
        return Err(format!("sign-in of {unit}: {}", signed.status()));
    }
    let session = cookie_pair(signed.header("set-cookie").unwrap_or_default());
    let home = agent
        .get(&format!("{base}/don-vi"))
        .set("Cookie", &session)
        .call()
        .map_err(|e| fail("home", e))?
        .into_string()
        .map_err(|e| e.to_string())?;
    let (ct, body) = multipart(
        Some(&csrf_in(&home)),
        &format!("{unit}-2022-Q4.xlsx"),
        bytes,
    );
    match agent
        .post(&format!("{base}/don-vi/nop"))
        .set("Cookie", &session)
        .set("Content-Type", &ct)
        .send_bytes(&body)
    {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(s, _)) => Ok(s),
        Err(e) => Err(fail("upload", e)),
    }
}

/// A sign-in as it arrives through the reverse proxy at 127.0.0.1 from
/// `client` (in `X-Forwarded-For`).
async fn sign_in_via_proxy(app: &App, client: &str, login: &str, code: &str) -> Reply {
    // The connection comes from 127.0.0.1, the trusted proxy.
    let get = Request::get("/dang-nhap").body(Body::empty()).unwrap();
    let page = send(app, get).await;
    let form_cookie = cookie_pair(&page.cookies[0]);
    let body = format!("_csrf={}&login={login}&code={code}", csrf_in(&page.body));
    let post = Request::post("/dang-nhap")
        .header(header::COOKIE, form_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
        .body(Body::from(body))
        .unwrap();
    send(app, post).await
}

fn site_behind_proxy(tmp: &Path) -> Site {
    let mut site = site(tmp);
    site.settings.web.trusted_proxies = vec![tthc::settings::Network::parse("127.0.0.1").unwrap()];
    site
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_trying_made_up_logins_slows_only_themself_and_locks_no_one_out() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_behind_proxy(tmp.path());
    let app = start(&site.settings).await;
    let attacker = "203.0.113.7";
    let mut refused = 0;
    for n in 0..20 {
        let r = sign_in_via_proxy(&app, attacker, &format!("BIA{n:02}"), "SAI-SAI-SAI").await;
        match r.status {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.body.contains("từ địa chỉ này"), "{}", r.body);
                refused += 1;
            }
            s => panic!("attempt {n}: {s}: {}", r.body),
        }
    }
    assert!(
        refused >= 5,
        "the address is slowed after its free tries: {refused}"
    );
    // Everyone else, behind the same proxy, signs in at once: the office
    // and a unit, with their right codes.
    let office = sign_in_via_proxy(&app, "198.51.100.2", "vanphong", &site.office_password).await;
    assert_eq!(office.status, StatusCode::SEE_OTHER, "{}", office.body);
    let unit = sign_in_via_proxy(&app, "198.51.100.3", "XA01", &site.codes["XA01"]).await;
    assert_eq!(unit.status, StatusCode::SEE_OTHER, "{}", unit.body);
    // Even the office from the attacker's own address is only asked to wait.
    let r = sign_in_via_proxy(&app, attacker, "vanphong", &site.office_password).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("giây"), "{}", r.body);

    // Without the proxy trusted, the header is ignored: an address cannot
    // be made up by a client.
    let peer: std::net::IpAddr = "192.0.2.9".parse().unwrap();
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("x-forwarded-for", "10.1.1.1".parse().unwrap());
    assert_eq!(
        tthc::web::client_ip(peer, &headers, &site.settings.web.trusted_proxies),
        peer
    );
    let proxy: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    headers.insert("x-forwarded-for", "10.1.1.1, 127.0.0.1".parse().unwrap());
    assert_eq!(
        tthc::web::client_ip(proxy, &headers, &site.settings.web.trusted_proxies),
        "10.1.1.1".parse::<std::net::IpAddr>().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_wrong_codes_at_once_are_checked_only_up_to_the_limit_and_the_office_unlocks() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_behind_proxy(tmp.path());
    let app = start(&site.settings).await;

    // The first wrong code says how many tries are left.
    let r = sign_in_via_proxy(&app, "198.51.100.50", "XA05", "SAI-0000-0000").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Còn 4 lần thử"), "{}", r.body);

    // Sixty more at once, each from its own address.
    let tries: Vec<_> = (0..60)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                sign_in_via_proxy(&app, &format!("198.51.100.{n}"), "XA05", "SAI-1111-1111")
                    .await
                    .status
            })
        })
        .collect();
    let mut checked = 0;
    for t in tries {
        match t.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            s => panic!("{s}"),
        }
    }
    assert_eq!(checked, 4, "only the four tries left are checked");
    let office = browser(&app, "vanphong", &site.office_password, "/van-phong").await;
    // The log is paged; its search finds every wrong code.
    let log = request(&app, &office, "GET", "/van-phong/nhat-ky?q=dang_nhap_sai").await;
    assert_eq!(
        log.body.matches("(dang_nhap_sai)</td>").count(),
        5,
        "five codes checked in all: {}",
        log.body
    );
    assert!(log.body.contains("5 dòng"), "{}", log.body);

    // Locked: even the right code waits, and the page says who can help.
    let r = sign_in_via_proxy(&app, "198.51.100.99", "XA05", &site.codes["XA05"]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("văn phòng mở khóa"), "{}", r.body);

    // The board lists the lock with its button; the office lifts it.
    let board = request(&app, &office, "GET", "/van-phong").await;
    assert!(
        board.body.contains("/van-phong/mo-khoa/XA05"),
        "{}",
        board.body
    );
    let unlock = request(&app, &office, "POST", "/van-phong/mo-khoa/XA05").await;
    assert_eq!(unlock.status, StatusCode::SEE_OTHER, "{}", unlock.body);
    let board = request(&app, &office, "GET", "/van-phong").await;
    assert!(!board.body.contains("/van-phong/mo-khoa/XA05"));
    let r = sign_in_via_proxy(&app, "198.51.100.99", "XA05", &site.codes["XA05"]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The counts are in the store: a new portal on the same data still
    // refuses an account locked before it started.
    for _ in 0..5 {
        sign_in_via_proxy(&app, "198.51.100.60", "XA06", "SAI-2222-2222").await;
    }
    let app = start(&site.settings).await;
    let r = sign_in_via_proxy(&app, "198.51.100.61", "XA06", &site.codes["XA06"]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_units_uploads_stop_at_its_quota_with_a_vietnamese_message() {
    let tmp = tempfile::tempdir().unwrap();
    let mut site = site(tmp.path());
    site.settings.web.upload_quota_files = 3;
    site.settings.web.upload_quota_bytes = 1024 * 1024;
    let app = start(&site.settings).await;
    let a = browser(&app, "XA01", &site.codes["XA01"], "/don-vi").await;
    // Bytes: two files of 600 KB do not fit in 1 MB.
    let mut big = b"PK\x03\x04".to_vec();
    big.resize(600 * 1024, 7);
    let r = upload(&app, &a, Some(&a.csrf), "lon-1.xlsx", &big).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = upload(&app, &a, Some(&a.csrf), "lon-2.xlsx", &big).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        r.body.contains("vượt giới hạn") && r.body.contains("MB"),
        "{}",
        r.body
    );
    // Files: the third fits, the fourth does not.
    let wb = workbook(&site.settings, "XA01", false);
    for n in 2..=3 {
        let r = upload(&app, &a, Some(&a.csrf), &format!("XA01-{n}.xlsx"), &wb).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "upload {n}: {}", r.body);
    }
    let r = upload(&app, &a, Some(&a.csrf), "XA01-4.xlsx", &wb).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("Đơn vị đã gửi 3 tệp"), "{}", r.body);
    assert!(r.body.contains("liên hệ văn phòng"), "{}", r.body);
    // Another unit is not touched by this one's quota.
    let b = browser(&app, "XA02", &site.codes["XA02"], "/don-vi").await;
    let r = upload(
        &app,
        &b,
        Some(&b.csrf),
        "XA02.xlsx",
        &workbook(&site.settings, "XA02", false),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reissuing_a_code_asks_first_and_can_mail_the_new_one_to_the_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let app = start(&site.settings).await;
    let office = browser(&app, "vanphong", &site.office_password, "/van-phong").await;
    let board = request(&app, &office, "GET", "/van-phong").await;
    assert!(
        !board
            .body
            .contains("method=\"post\" action=\"/van-phong/ma-truy-cap/"),
        "no one-tap reissue on the board"
    );
    let ask = request(&app, &office, "GET", "/van-phong/ma-truy-cap/XA03").await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("mất hiệu lực ngay"), "{}", ask.body);
    let email = &site.settings.unit("XA03").unwrap().email;
    assert!(
        ask.body.contains(email.as_str()),
        "offers the unit's address"
    );
    // Looking at the question changes nothing: the old code still opens.
    let still = sign_in(&app, "XA03", &site.codes["XA03"]).await;
    assert_eq!(still.status, StatusCode::SEE_OTHER);

    let r = send(
        &app,
        Request::post("/van-phong/ma-truy-cap/XA03")
            .header(header::COOKIE, &office.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("_csrf={}&gui_thu=1", office.csrf)))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("thư mục thư đi"), "{}", r.body);
    let code = r
        .body
        .split("class=\"code\">")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap()
        .to_string();
    let outbox = site.settings.paths.outbox.join("ma-truy-cap");
    let letters: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(letters.len(), 1, "{letters:?}");
    let raw = std::fs::read(&letters[0]).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let body = mail.body_text(0).unwrap();
    assert!(
        body.contains(&code),
        "the letter carries the new code: {body}"
    );
    assert_eq!(
        mail.to().unwrap().first().unwrap().address().unwrap(),
        email.as_str()
    );
    let old = sign_in(&app, "XA03", &site.codes["XA03"]).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the old code is void");
    let new = sign_in(&app, "XA03", &code).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frameworks_refusals_are_the_portals_own_pages_in_vietnamese() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site(tmp.path());
    let app = start(&site.settings).await;
    let a = browser(&app, "XA01", &site.codes["XA01"], "/don-vi").await;
    let english = [
        "Invalid",
        "Cannot",
        "Expected",
        "Failed",
        "Content-Type",
        "deserialize",
    ];
    let cases: Vec<(&str, Request<Body>, StatusCode)> = vec![
        (
            "an address that does not parse",
            Request::get("/don-vi/nop/khong-phai-so")
                .header(header::COOKIE, &a.cookie)
                .body(Body::empty())
                .unwrap(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a sign-in that is not a form",
            Request::post("/dang-nhap")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "an upload that is not multipart",
            Request::post("/don-vi/nop")
                .header(header::COOKIE, &a.cookie)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("x"))
                .unwrap(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a method the page does not take",
            Request::delete("/don-vi").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ];
    for (what, req, status) in cases {
        let r = send(&app, req).await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert!(
            r.body.contains("<html"),
            "{what}: the portal's page: {}",
            r.body
        );
        assert!(
            r.body.contains("Yêu cầu không hợp lệ"),
            "{what}: {}",
            r.body
        );
        for w in english {
            assert!(!r.body.contains(w), "{what}: {w} in {}", r.body);
        }
    }
}

/// A GET as a signed-in browser makes it, over its own connection: status
/// and when it ended.
fn timed_get(base: &str, cookie: &str, path: &str) -> (u16, std::time::Instant) {
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(std::time::Duration::from_secs(120))
        .build();
    let status = match agent
        .get(&format!("{base}{path}"))
        .set("Cookie", cookie)
        .call()
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(e) => panic!("{path}: {e}"),
    };
    (status, std::time::Instant::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_pages_and_sign_ins_do_not_wait_for_a_report_run_from_the_office() {
    let tmp = tempfile::tempdir().unwrap();
    // A large organisation: its report run reads, checks, scores and
    // writes for seconds.
    let org = tmp.path().join("org");
    let cfg = tthc::bench::generate_org(&org, 400, 5, &crate::repo().join("rules")).unwrap();
    let overrides = PathOverrides {
        inbox: None,
        data: Some(tmp.path().join("data")),
        output: Some(tmp.path().join("out")),
    };
    let mut settings = Settings::load(&cfg, &overrides).unwrap();
    settings.web.period = Some(Period::quarter(2022, 4));
    let opened = crate::Opened::open(settings.clone()).unwrap();
    let units: Vec<_> = settings.units.iter().take(21).cloned().collect();
    let codes: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            (
                u.code.0.clone(),
                tthc::web::issue_unit_code(&opened.store, u).unwrap(),
            )
        })
        .collect();
    let password =
        tthc::web::issue_office_password(&opened.settings, &opened.store, "vanphong").unwrap();
    drop(opened);
    let app = start(&settings).await;

    // Twenty units signed in before the run starts; the twenty-first signs
    // in during it.
    let mut cookies = Vec::new();
    for (unit, code) in &codes[..20] {
        cookies.push(browser(&app, unit, code, "/don-vi").await.cookie);
    }
    let office = browser(&app, "vanphong", &password, "/van-phong").await;

    let started = std::time::Instant::now();
    let run = request(&app, &office, "POST", "/van-phong/bao-cao").await;
    assert_eq!(run.status, StatusCode::SEE_OTHER, "{}", run.body);
    let answered = started.elapsed();
    let page = request(&app, &office, "GET", "/van-phong/bao-cao").await;
    assert!(
        page.body.contains("Đang lập báo cáo"),
        "the page says the run is under way: {}",
        page.body
    );

    // Meanwhile: twenty unit pages and a sign-in, all at once.
    let mut pending: Vec<_> = cookies
        .into_iter()
        .map(|cookie| {
            let base = app.base.clone();
            tokio::task::spawn_blocking(move || timed_get(&base, &cookie, "/don-vi"))
        })
        .collect();
    let (late_unit, late_code) = codes[20].clone();
    let base = app.base.clone();
    pending.push(tokio::task::spawn_blocking(move || {
        let status = http_sign_in(&base, &late_unit, &late_code);
        (status, std::time::Instant::now())
    }));
    let mut last_answer = started;
    for p in pending {
        let (status, at) = p.await.unwrap();
        assert!(status == 200 || status == 303, "status {status}");
        last_answer = last_answer.max(at);
    }
    let still = request(&app, &office, "GET", "/van-phong/bao-cao").await;
    assert!(
        still.body.contains("Đang lập báo cáo"),
        "the run outlasts the requests (make the organisation larger if not)"
    );

    let done = wait_for_report(&app, &office).await;
    let finished = std::time::Instant::now();
    assert!(done.body.contains("Đã lập báo cáo"), "{}", done.body);
    assert!(
        last_answer < finished,
        "every request was answered before the report was done"
    );
    let requests = last_answer - started;
    let report = finished - started;
    assert!(
        answered < report / 4,
        "starting the run returned at once: {answered:?} of {report:?}"
    );
    eprintln!("report run {report:?}; twenty-one requests answered within {requests:?}");
}

/// Signs a unit in over real HTTP: the status of the sign-in's answer.
fn http_sign_in(base: &str, unit: &str, code: &str) -> u16 {
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(std::time::Duration::from_secs(120))
        .build();
    let page = agent.get(&format!("{base}/dang-nhap")).call().unwrap();
    let form_cookie = cookie_pair(page.header("set-cookie").unwrap_or_default());
    let token = csrf_in(&page.into_string().unwrap());
    match agent
        .post(&format!("{base}/dang-nhap"))
        .set("Cookie", &form_cookie)
        .send_form(&[("_csrf", &token), ("login", unit), ("code", code)])
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(e) => panic!("sign-in of {unit}: {e}"),
    }
}
