//! Who is asking: sessions kept in SQLite behind an HttpOnly, SameSite=Strict
//! cookie (Secure behind https), a CSRF token on every form, and sign-in
//! attempts throttled per account and per address.

use super::{Failure, Portal};
use crate::store::Session;
use axum::extract::{ConnectInfo, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SESSION_COOKIE: &str = "tthc_phien";
const FORM_COOKIE: &str = "tthc_bieu_mau";
/// Failed sign-ins counted over this long.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures allowed per account, then per address, within the window.
const PER_ACCOUNT: usize = 5;
const PER_ADDRESS: usize = 20;

/// The account behind a request.
#[derive(Debug, Clone)]
pub enum Who {
    Anonymous,
    Unit {
        unit: String,
        name: String,
        session: Session,
    },
    Office {
        login: String,
        session: Session,
    },
}

impl Who {
    /// What the page header shows.
    pub fn view(&self) -> minijinja::Value {
        match self {
            Who::Anonymous => minijinja::Value::from(()),
            Who::Unit { name, .. } => minijinja::context! { kind => "unit", name },
            Who::Office { login, .. } => minijinja::context! { kind => "office", name => login },
        }
    }

    pub fn csrf(&self) -> String {
        match self {
            Who::Anonymous => String::new(),
            Who::Unit { session, .. } | Who::Office { session, .. } => session.csrf.clone(),
        }
    }

    /// The label the audit log keeps.
    pub fn label(&self) -> String {
        match self {
            Who::Anonymous => "(chưa đăng nhập)".into(),
            Who::Unit { unit, .. } => unit.clone(),
            Who::Office { login, .. } => format!("văn phòng:{login}"),
        }
    }

    /// The form's token must be this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), Failure> {
        match self {
            Who::Anonymous => Err(Failure::SignIn),
            _ if same(token, &self.csrf()) => Ok(()),
            _ => Err(Failure::BadForm),
        }
    }

    /// The signed-in unit, or why not.
    pub fn unit(&self) -> Result<(&str, &Session), Failure> {
        match self {
            Who::Unit { unit, session, .. } => Ok((unit, session)),
            Who::Anonymous => Err(Failure::SignIn),
            Who::Office { .. } => Err(Failure::Forbidden),
        }
    }

    /// The signed-in office user, or why not.
    pub fn office(&self) -> Result<&str, Failure> {
        match self {
            Who::Office { login, .. } => Ok(login),
            Who::Anonymous => Err(Failure::SignIn),
            Who::Unit { .. } => Err(Failure::Forbidden),
        }
    }
}

/// Compares tokens in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    !b.is_empty()
        && a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<Arc<Portal>> for Who {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, portal: &Arc<Portal>) -> Result<Who, Failure> {
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Ok(Who::Anonymous);
        };
        portal
            .with_engine(move |engine| {
                let Some(session) = engine.store.session(&id, Utc::now())? else {
                    return Ok(Who::Anonymous);
                };
                let Some(account) = engine.store.account(&session.login)? else {
                    return Ok(Who::Anonymous);
                };
                Ok(match (account.kind.as_str(), account.unit) {
                    ("unit", Some(unit)) => match engine.settings.unit(&unit) {
                        Some(u) => Who::Unit {
                            name: u.name.clone(),
                            unit,
                            session,
                        },
                        None => Who::Anonymous,
                    },
                    ("office", _) => Who::Office {
                        login: account.login,
                        session,
                    },
                    _ => Who::Anonymous,
                })
            })
            .await
    }
}

/// The client's address, for throttling and the audit log.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "?".into()),
        ))
    }
}

/// Failed sign-ins per account and per address.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: HashMap<String, Vec<Instant>>,
}

impl Throttle {
    fn keys(login: &str, addr: &str) -> [(String, usize); 2] {
        [
            (format!("tk:{}", login.trim().to_uppercase()), PER_ACCOUNT),
            (format!("dc:{addr}"), PER_ADDRESS),
        ]
    }

    /// Minutes until the next attempt is allowed, when one is not now.
    pub fn blocked(&mut self, login: &str, addr: &str, now: Instant) -> Option<u64> {
        Self::keys(login, addr)
            .iter()
            .filter_map(|(k, limit)| {
                let list = self.failures.get_mut(k)?;
                list.retain(|t| now.duration_since(*t) < WINDOW);
                (list.len() >= *limit).then(|| {
                    let oldest = list[list.len() - limit];
                    (WINDOW.saturating_sub(now.duration_since(oldest)).as_secs() / 60) + 1
                })
            })
            .max()
    }

    pub fn fail(&mut self, login: &str, addr: &str, now: Instant) {
        for (k, _) in Self::keys(login, addr) {
            self.failures.entry(k).or_default().push(now);
        }
    }

    pub fn succeed(&mut self, login: &str, addr: &str) {
        let [(account, _), _] = Self::keys(login, addr);
        self.failures.remove(&account);
    }
}

pub async fn home(who: Who) -> Response {
    match who {
        Who::Anonymous => Redirect::to("/dang-nhap").into_response(),
        Who::Unit { .. } => Redirect::to("/don-vi").into_response(),
        Who::Office { .. } => Redirect::to("/van-phong").into_response(),
    }
}

fn set_cookie(name: &str, value: &str, path: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The sign-in form, with a token tied to a short-lived cookie.
fn sign_in_form(
    portal: &Arc<Portal>,
    login: &str,
    flash: Option<&str>,
    status: StatusCode,
) -> Result<Response, Failure> {
    let token = crate::portal::new_token()?;
    // Before there is a session, the form's token is paired with a
    // short-lived cookie (the page's own value wins over the session's).
    let page = portal.render(
        "dang-nhap.html",
        &Who::Anonymous,
        minijinja::context! { login, flash, flash_kind => "bad", csrf => token },
    )?;
    let cookie = set_cookie(
        FORM_COOKIE,
        &token,
        "/dang-nhap",
        3600,
        portal.settings.web.secure_cookies(),
    );
    Ok((status, [(header::SET_COOKIE, cookie)], page).into_response())
}

pub async fn sign_in_page(
    State(portal): State<Arc<Portal>>,
    who: Who,
) -> Result<Response, Failure> {
    if !matches!(who, Who::Anonymous) {
        return Ok(home(who).await);
    }
    sign_in_form(&portal, "", None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    code: String,
}

pub async fn sign_in(
    State(portal): State<Arc<Portal>>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Result<Response, Failure> {
    if !same(
        &form._csrf,
        cookie(&headers, FORM_COOKIE).unwrap_or_default(),
    ) {
        return Err(Failure::BadForm);
    }
    let now = Instant::now();
    let wait = portal
        .throttle
        .lock()
        .map_err(|_| anyhow::anyhow!("khóa hỏng"))?
        .blocked(&form.login, &addr, now);
    if let Some(minutes) = wait {
        let (login, a) = (form.login.clone(), addr.clone());
        portal
            .with_engine(move |e| Ok(e.store.audit(&login, "dang_nhap_bi_khoa", "", &a)?))
            .await?;
        return Err(Failure::Throttled(minutes));
    }
    let login = form.login.clone();
    let account = portal
        .with_engine(move |engine| crate::portal::find_account(engine, &login))
        .await?;
    // The slow hash check runs outside the store's lock.
    let code = form.code.clone();
    let account = super::blocking(move || {
        Ok(crate::portal::code_opens(account.as_ref(), &code)
            .then_some(account)
            .flatten())
    })
    .await?;
    let (login, a) = (form.login.clone(), addr.clone());
    let hours = portal.settings.web.session_hours;
    let session = portal
        .with_engine(move |engine| {
            let Some(account) = account else {
                engine.store.audit(&login, "dang_nhap_sai", "", &a)?;
                return Ok(None);
            };
            let session = Session {
                id: crate::portal::new_token()?,
                login: account.login.clone(),
                csrf: crate::portal::new_token()?,
                expires_at: (Utc::now() + chrono::Duration::hours(i64::from(hours))).to_rfc3339(),
            };
            engine.store.create_session(&session)?;
            engine.store.audit(&account.login, "dang_nhap", "", &a)?;
            Ok(Some((session, account.kind)))
        })
        .await?;
    let mut throttle = portal
        .throttle
        .lock()
        .map_err(|_| anyhow::anyhow!("khóa hỏng"))?;
    let Some((session, kind)) = session else {
        throttle.fail(&form.login, &addr, now);
        drop(throttle);
        return sign_in_form(
            &portal,
            &form.login,
            Some("Mã đơn vị hoặc mã truy cập không đúng."),
            StatusCode::UNAUTHORIZED,
        );
    };
    throttle.succeed(&form.login, &addr);
    drop(throttle);
    let secure = portal.settings.web.secure_cookies();
    let to = if kind == "office" {
        "/van-phong"
    } else {
        "/don-vi"
    };
    let mut r = Redirect::to(to).into_response();
    let h = r.headers_mut();
    for c in [
        set_cookie(
            SESSION_COOKIE,
            &session.id,
            "/",
            u64::from(hours) * 3600,
            secure,
        ),
        set_cookie(FORM_COOKIE, "", "/dang-nhap", 0, secure),
    ] {
        h.append(
            header::SET_COOKIE,
            c.parse().map_err(|_| anyhow::anyhow!("cookie"))?,
        );
    }
    Ok(r)
}

#[derive(Deserialize)]
pub struct Token {
    #[serde(default)]
    pub _csrf: String,
}

pub async fn sign_out(
    State(portal): State<Arc<Portal>>,
    who: Who,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<Token>,
) -> Result<Response, Failure> {
    who.check_csrf(&form._csrf)?;
    let (id, label) = match &who {
        Who::Unit { session, .. } | Who::Office { session, .. } => {
            (session.id.clone(), who.label())
        }
        Who::Anonymous => return Err(Failure::SignIn),
    };
    portal
        .with_engine(move |e| {
            e.store.end_session(&id)?;
            Ok(e.store.audit(&label, "dang_xuat", "", &addr)?)
        })
        .await?;
    let mut r = Redirect::to("/dang-nhap").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            "",
            "/",
            0,
            portal.settings.web.secure_cookies(),
        )
        .parse()
        .map_err(|_| anyhow::anyhow!("cookie"))?,
    );
    Ok(r)
}
