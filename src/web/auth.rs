//! Who is asking: sessions kept in SQLite behind an HttpOnly, SameSite=Strict
//! cookie (Secure behind https), a CSRF token on every form, and sign-in
//! attempts limited per account and per address (see `store::sign_in`).

use super::{Failure, Portal};
use crate::store::Session;
use axum::extract::{ConnectInfo, Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

const SESSION_COOKIE: &str = "tthc_phien";
const FORM_COOKIE: &str = "tthc_bieu_mau";

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

    /// An office form sent back: signed in as the office, with the form's
    /// token; the label the audit log names the user by.
    pub fn office_form(&self, token: &str) -> Result<String, Failure> {
        self.office()?;
        self.check_csrf(token)?;
        Ok(self.label())
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
            .with_store(move |cfg, store| {
                let Some(session) = store.session(&id, Utc::now())? else {
                    return Ok(Who::Anonymous);
                };
                let Some(account) = store.account(&session.login)? else {
                    return Ok(Who::Anonymous);
                };
                Ok(match (account.kind.as_str(), account.unit) {
                    ("unit", Some(unit)) => match cfg.settings.unit(&unit) {
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

/// The client's address, for throttling and the audit log. Behind a
/// reverse proxy named in `[web] trusted_proxies`, it is the last address
/// of `X-Forwarded-For` that is not a trusted proxy itself; a request from
/// anywhere else is taken at its connection's address, whatever headers
/// it carries.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<Arc<Portal>> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        portal: &Arc<Portal>,
    ) -> Result<ClientAddr, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(match peer {
            Some(ip) => {
                client_ip(ip, &parts.headers, &portal.settings().web.trusted_proxies).to_string()
            }
            None => "?".into(),
        }))
    }
}

/// Who is behind `peer`: itself, unless it is a trusted proxy.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[crate::settings::Network],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|a| {
            a.parse::<IpAddr>()
                .or_else(|_| a.parse::<SocketAddr>().map(|s| s.ip()))
        })
        .collect::<Result<_, _>>()
        // A header that does not parse is not trusted at all.
        .unwrap_or_default();
    let mut client = peer;
    for ip in forwarded.into_iter().rev() {
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Why a sign-in was not checked, for the person at the form.
fn refusal_words(refused: crate::store::Refused, now: chrono::DateTime<Utc>) -> String {
    let wait = |until: chrono::DateTime<Utc>| (until - now).num_seconds().max(1);
    match refused {
        crate::store::Refused::Locked { until } => format!(
            "Tài khoản này đang tạm khóa vì đăng nhập sai nhiều lần. Thử lại sau {} phút, hoặc đề nghị văn phòng mở khóa.",
            (wait(until) + 59) / 60
        ),
        crate::store::Refused::Slowed { until } => format!(
            "Có nhiều lần đăng nhập sai từ địa chỉ này. Thử lại sau {} giây.",
            wait(until)
        ),
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
    let token = crate::web::new_token()?;
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
        portal.settings().web.secure_cookies(),
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
    let policy = crate::store::SignInPolicy::default();
    let now = Utc::now();
    let (login, a) = (form.login.clone(), addr.clone());
    // The attempt is counted before its code is checked, in one write: of
    // many sent at once, only as many as allowed are checked at all.
    let begun = portal
        .with_store(move |cfg, store| {
            let begun = store.begin_sign_in(&login, &a, now, &policy)?;
            let account = match &begun {
                Ok(_) => crate::web::find_account(&cfg.settings, store, &login)?,
                Err(refused) => {
                    let action = match refused {
                        crate::store::Refused::Locked { .. } => "dang_nhap_bi_khoa",
                        crate::store::Refused::Slowed { .. } => "dang_nhap_bi_cham",
                    };
                    store.audit(&login, action, "", &a)?;
                    None
                }
            };
            Ok((begun, account))
        })
        .await?;
    let (attempt, account) = match begun {
        (Ok(attempt), account) => (attempt, account),
        (Err(refused), _) => return Err(Failure::Throttled(refusal_words(refused, now))),
    };
    // The slow hash check runs outside the store's lock.
    let code = form.code.clone();
    let account = super::blocking(move || {
        Ok(crate::web::code_opens(account.as_ref(), &code)
            .then_some(account)
            .flatten())
    })
    .await?;
    let (login, a) = (form.login.clone(), addr.clone());
    let hours = portal.settings().web.session_hours;
    let outcome = portal
        .with_store(move |_, store| {
            let Some(account) = account else {
                let left = store.sign_in_failed(&attempt, now, &policy)?;
                store.audit(&login, "dang_nhap_sai", "", &a)?;
                return Ok(Err(left));
            };
            store.sign_in_succeeded(&attempt)?;
            let session = Session {
                id: crate::web::new_token()?,
                login: account.login.clone(),
                csrf: crate::web::new_token()?,
                expires_at: (Utc::now() + chrono::Duration::hours(i64::from(hours))).to_rfc3339(),
            };
            store.create_session(&session)?;
            store.audit(&account.login, "dang_nhap", "", &a)?;
            Ok(Ok((session, account.kind)))
        })
        .await?;
    let (session, kind) = match outcome {
        Ok(signed_in) => signed_in,
        Err(left) => {
            let minutes = policy.lock.num_minutes();
            let flash = match left {
                0 => format!(
                    "Mã đơn vị hoặc mã truy cập không đúng. Tài khoản này tạm khóa {minutes} phút; văn phòng có thể mở khóa sớm hơn."
                ),
                n => format!(
                    "Mã đơn vị hoặc mã truy cập không đúng. Còn {n} lần thử; sai tiếp thì tài khoản tạm khóa {minutes} phút."
                ),
            };
            return sign_in_form(&portal, &form.login, Some(&flash), StatusCode::UNAUTHORIZED);
        }
    };
    let secure = portal.settings().web.secure_cookies();
    let to = if kind == crate::store::AccountKind::Office {
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
        .with_store(move |_, store| {
            store.end_session(&id)?;
            Ok(store.audit(&label, "dang_xuat", "", &addr)?)
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
            portal.settings().web.secure_cookies(),
        )
        .parse()
        .map_err(|_| anyhow::anyhow!("cookie"))?,
    );
    Ok(r)
}
