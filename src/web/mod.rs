//! The web portal that `tthc serve` runs: units sign in with their access
//! code, upload their workbook and see at once what is wrong; the office
//! watches the quarter fill up and gets the ranking out. Pages are
//! rendered on the server (minijinja), work without JavaScript and fit a
//! phone.
//!
//! Everything of the portal is here: `auth` (sessions, sign-in and its
//! limits, the client's address), `unit` and `office` (the pages of each),
//! `uploads` (accepting a workbook), `secrets` (access codes and
//! passwords). Each request takes a store connection of its own from the
//! pool and the read-only configuration; a report run from the office's
//! page is a job on a thread of its own, so no request waits for another's
//! work.

mod auth;
mod export;
mod office;
mod secrets;
mod unit;
mod uploads;

use crate::config::Config;
use crate::domain::Period;
use crate::settings::Settings;
use crate::store::{Pool, Store};
use anyhow::{Result, anyhow};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use minijinja::Environment;
use std::sync::Arc;

pub use auth::{ClientAddr, Who, client_ip};
pub use secrets::{
    code_opens, find_account, hash_secret, issue_office_password, issue_unit_code, new_access_code,
    new_token,
};
pub use uploads::{
    Prepared, belongs_to, display_name, findings_of, looks_like_spreadsheet, over_quota,
    prepare_upload, record_upload,
};

/// What every request shares: the configuration, read-only, and the
/// store's pool, from which each request takes a connection of its own.
/// No request waits for another's work.
pub struct Portal {
    config: Arc<Config>,
    pool: Pool,
    pages: Environment<'static>,
}

/// The quarter units upload for on `today`: `[web] period` when set, else
/// the last quarter whose data window has ended.
pub fn open_period(s: &Settings, today: NaiveDate) -> Period {
    s.web
        .period
        .unwrap_or_else(|| Period::quarter_of(today, s.period.window).previous())
}

impl Portal {
    pub fn new(config: Arc<Config>, pool: Pool) -> Result<Arc<Portal>> {
        Ok(Arc::new(Portal {
            config,
            pool,
            pages: pages()?,
        }))
    }

    pub fn settings(&self) -> &Settings {
        &self.config.settings
    }

    /// Runs `f` on a blocking thread with the configuration and a store
    /// connection of its own.
    async fn with_store<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Config, &Store) -> Result<T> + Send + 'static,
    ) -> Result<T, Failure> {
        let me = self.clone();
        blocking(move || {
            let store = me.pool.get()?;
            f(&me.config, &store)
        })
        .await
    }

    /// Starts `f` on a thread of its own with the configuration and a store
    /// connection, and returns at once (a report run from the portal).
    fn spawn(self: &Arc<Self>, f: impl FnOnce(&Config, &Store) -> Result<()> + Send + 'static) {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let done = me
                .pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|store| f(&me.config, &store));
            if let Err(e) = done {
                tracing::error!(error = %format!("{e:#}"), "portal task failed");
            }
        });
    }

    /// A registered unit by its code, or "not found".
    fn unit(&self, code: &str) -> Result<crate::domain::Unit, Failure> {
        self.settings().unit(code).cloned().ok_or(Failure::NotFound)
    }

    /// Today in the organisation's time zone.
    fn today(&self) -> NaiveDate {
        Utc::now()
            .with_timezone(&self.settings().time_zone())
            .date_naive()
    }

    /// The quarter the portal collects today.
    fn open_period(&self) -> Period {
        open_period(self.settings(), self.today())
    }

    /// A moment as pages show it: day and minute, in local time.
    fn minute(&self, t: &DateTime<FixedOffset>) -> String {
        t.with_timezone(&self.settings().time_zone())
            .format("%d/%m/%Y %H:%M")
            .to_string()
    }

    fn render(&self, name: &str, who: &Who, ctx: minijinja::Value) -> Result<Response, Failure> {
        let base = minijinja::context! {
            org_name => self.settings().organisation.name,
            who => who.view(),
            csrf => who.csrf(),
        };
        let html = self
            .pages
            .get_template(name)
            .and_then(|t| t.render(minijinja::context! { ..ctx, ..base }))
            .map_err(|e| Failure::Internal(anyhow!("trang {name}: {e:#}")))?;
        Ok(Html(html).into_response())
    }
}

/// Runs slow or blocking work (the store, hashing, checking a workbook) off
/// the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::Internal(anyhow!("{e}")))?
        .map_err(Failure::Internal)
}

fn pages() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    for (name, text) in [
        ("base.html", include_str!("../../templates/web/base.html")),
        (
            "dang-nhap.html",
            include_str!("../../templates/web/dang-nhap.html"),
        ),
        (
            "don-vi.html",
            include_str!("../../templates/web/don-vi.html"),
        ),
        (
            "ket-qua-nop.html",
            include_str!("../../templates/web/ket-qua-nop.html"),
        ),
        (
            "van-phong.html",
            include_str!("../../templates/web/van-phong.html"),
        ),
        (
            "don-vi-van-phong.html",
            include_str!("../../templates/web/don-vi-van-phong.html"),
        ),
        (
            "cap-ma.html",
            include_str!("../../templates/web/cap-ma.html"),
        ),
        (
            "ma-truy-cap.html",
            include_str!("../../templates/web/ma-truy-cap.html"),
        ),
        (
            "xep-hang.html",
            include_str!("../../templates/web/xep-hang.html"),
        ),
        (
            "bao-cao.html",
            include_str!("../../templates/web/bao-cao.html"),
        ),
        (
            "quy-tac.html",
            include_str!("../../templates/web/quy-tac.html"),
        ),
        (
            "danh-sach.html",
            include_str!("../../templates/web/danh-sach.html"),
        ),
    ] {
        env.add_template(name, text)
            .map_err(|e| anyhow!("mẫu trang {name}: {e:#}"))?;
    }
    Ok(env)
}

const STYLE: &str = include_str!("../../templates/web/kieu.css");

/// The page for a failure, which has no portal at hand to render with.
static ERROR_PAGE: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(|| {
    let mut env = Environment::new();
    let _ = env.add_template(
        "error",
        include_str!("../../templates/web/error-standalone.html"),
    );
    env
});

/// Every route of the portal.
pub fn router(portal: Arc<Portal>) -> Router {
    let upload_limit = portal.settings().web.max_upload + 64 * 1024;
    Router::new()
        .route("/", get(auth::home))
        .route("/kieu.css", get(style))
        .route("/dang-nhap", get(auth::sign_in_page).post(auth::sign_in))
        .route("/dang-xuat", post(auth::sign_out))
        .route("/don-vi", get(unit::home))
        .route("/don-vi/mau", get(unit::template))
        .route(
            "/don-vi/nop",
            post(unit::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/don-vi/nop/{id}", get(unit::submission))
        .route("/don-vi/nop/{id}/tep-danh-dau", get(unit::annotated))
        .route("/don-vi/nop/{id}/tep-goc", get(unit::original))
        .route("/van-phong/don-vi/{code}", get(office::unit_page))
        .route("/van-phong/quy-tac", get(office::in_force))
        .route("/van-phong", get(office::board))
        .route("/van-phong/nhac-nop", post(office::remind))
        .route(
            "/van-phong/ma-truy-cap/{unit}",
            get(office::confirm_code).post(office::issue_code),
        )
        .route("/van-phong/mo-khoa/{login}", post(office::unlock))
        .route("/van-phong/xep-hang", get(office::ranking))
        .route(
            "/van-phong/bao-cao",
            get(office::reports).post(office::run_report),
        )
        .route(
            "/van-phong/bao-cao/{period}/{version}/{kind}",
            get(office::download_version),
        )
        .route("/van-phong/gui-thu", get(office::ledger))
        .route("/van-phong/tac-vu", get(office::jobs))
        .route("/van-phong/nhat-ky", get(office::audit))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::map_response(in_vietnamese))
        .with_state(portal)
}

/// The framework's own refusals (a malformed address, form or upload, a
/// method a page does not take) are plain English text: each becomes the
/// portal's error page, in Vietnamese, with the same status.
async fn in_vietnamese(r: Response) -> Response {
    let status = r.status();
    let plain = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return r;
    }
    let failure = match status {
        StatusCode::PAYLOAD_TOO_LARGE => Failure::TooLarge(None),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Failure::Refused(
            status,
            "Biểu mẫu gửi lên không đúng dạng. Tải lại trang, chọn tệp rồi bấm gửi từ chính trang đó.".into(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => Failure::Refused(
            status,
            "Trang này không nhận yêu cầu gửi theo cách này. Mở trang từ các liên kết của cổng thông tin.".into(),
        ),
        StatusCode::NOT_FOUND => Failure::NotFound,
        s if s.is_server_error() => Failure::Internal(anyhow!("{s}")),
        _ => Failure::Refused(
            StatusCode::BAD_REQUEST,
            "Địa chỉ hoặc biểu mẫu gửi lên không hợp lệ. Quay lại trang trước, tải lại trang rồi thử lại.".into(),
        ),
    };
    failure.into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

async fn not_found() -> Failure {
    Failure::NotFound
}

/// Why a request did not get its page. Each becomes a page in Vietnamese
/// with the right status; nothing about the server's insides is shown.
#[derive(Debug)]
pub enum Failure {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// Signed in, but this is not for this account.
    Forbidden,
    NotFound,
    /// The form's CSRF token is missing or wrong.
    BadForm,
    /// A body past its limit: the upload limit in bytes, when that is the one.
    TooLarge(Option<usize>),
    NotSpreadsheet,
    /// A request that cannot be taken as it is (a malformed address or
    /// form, an upload without a file): its status and what to do.
    Refused(StatusCode, std::borrow::Cow<'static, str>),
    /// The unit's upload quota for the quarter is used up: why.
    Quota(String),
    /// Sign-in not checked: why, and when to come back.
    Throttled(String),
    Internal(anyhow::Error),
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Failure::SignIn => return Redirect::to("/dang-nhap").into_response(),
            Failure::Forbidden => (
                StatusCode::FORBIDDEN,
                "Không có quyền",
                "Tài khoản này không được xem trang này.".to_string(),
            ),
            Failure::NotFound => (
                StatusCode::NOT_FOUND,
                "Không tìm thấy",
                "Không có trang hoặc tệp này.".to_string(),
            ),
            Failure::BadForm => (
                StatusCode::FORBIDDEN,
                "Biểu mẫu đã hết hạn",
                "Biểu mẫu không hợp lệ hoặc đã hết hạn. Tải lại trang rồi thử lại.".to_string(),
            ),
            Failure::TooLarge(max) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Tệp quá lớn",
                format!(
                    "Tệp vượt quá {}. Xóa các dòng, cột, sheet thừa hoặc chép số liệu sang mẫu báo cáo của kỳ rồi gửi lại.",
                    match max {
                        Some(max) => format!("{} MB", max / (1024 * 1024)),
                        None => "cỡ cho phép".to_string(),
                    }
                ),
            ),
            Failure::NotSpreadsheet => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Không phải bảng tính",
                "Tệp gửi lên không phải bảng tính. Hãy gửi tệp báo cáo theo mẫu của kỳ (.xlsx, .xls hoặc .ods).".to_string(),
            ),
            Failure::Refused(status, message) => {
                (status, "Yêu cầu không hợp lệ", message.into_owned())
            }
            Failure::Quota(message) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Đã đạt giới hạn gửi tệp",
                message,
            ),
            Failure::Throttled(message) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Tạm dừng đăng nhập",
                message,
            ),
            Failure::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "portal request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Có lỗi",
                    "Hệ thống gặp lỗi khi xử lý yêu cầu. Thử lại sau ít phút; nếu vẫn lỗi, báo văn phòng.".to_string(),
                )
            }
        };
        let page = ERROR_PAGE
            .get_template("error")
            .and_then(|t| t.render(minijinja::context! { heading, message }))
            .unwrap_or_else(|_| message.clone());
        let mut r = (status, Html(page)).into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

impl Failure {
    /// A request refused as malformed, with what to do.
    pub fn bad(message: impl Into<std::borrow::Cow<'static, str>>) -> Failure {
        Failure::Refused(StatusCode::BAD_REQUEST, message.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Internal(e)
    }
}

/// Serves the portal on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    portal: Arc<Portal>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(
        listener,
        router(portal).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

/// A file to download, with an ASCII file name.
fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
