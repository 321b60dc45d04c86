//! Sending one message over SMTP: STARTTLS or implicit TLS (or plain, to a
//! server on this machine only), login with the password from the
//! environment. The conversation is driven step by step on lettre's
//! connection rather than through its transport, for two things the
//! transport cannot tell: each step (connect, STARTTLS, login, each
//! command, the wait for the answer to the message) is bounded by
//! `timeout_seconds` of its own, and a failure after the whole message
//! went out is known as such — the server may have kept the message, so a
//! retry is a repeat the ledger must mark. Every error is sorted into
//! temporary (worth another try) or permanent, in Vietnamese words for
//! the office.

use crate::settings::{Security, Smtp};
use lettre::Message;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// No further try will help (a 5xx answer, a refused login, a
    /// certificate that does not verify, a setting that is wrong).
    pub permanent: bool,
    /// What happened, for the office.
    pub text: String,
    /// The whole message went out and no answer came: the server may have
    /// kept it, so sending it again may make a second copy.
    pub maybe_delivered: bool,
}

impl SendError {
    fn temporary(text: String) -> SendError {
        SendError {
            permanent: false,
            text,
            maybe_delivered: false,
        }
    }
    fn permanent(text: String) -> SendError {
        SendError {
            permanent: true,
            text,
            maybe_delivered: false,
        }
    }
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The steps of a conversation, as the office reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    StartTls,
    Login,
    Sender,
    Recipient,
    Data,
    Message,
}

impl Step {
    fn words(self) -> &'static str {
        match self {
            Step::Connect => "khi kết nối",
            Step::StartTls => "khi bắt đầu mã hóa (STARTTLS)",
            Step::Login => "khi đăng nhập",
            Step::Sender => "khi khai báo địa chỉ gửi",
            Step::Recipient => "khi khai báo địa chỉ nhận",
            Step::Data => "khi bắt đầu gửi nội dung",
            Step::Message => "sau khi nhận nội dung thư",
        }
    }
}

fn tls_parameters(s: &Smtp) -> Result<TlsParameters, SendError> {
    let mut b = TlsParameters::builder(s.host.clone());
    if let Some(ca) = &s.ca_file {
        let pem = std::fs::read(ca).map_err(|e| {
            SendError::permanent(format!(
                "không đọc được tệp chứng chỉ CA {} ([smtp] ca_file): {}",
                ca.display(),
                io_words(&e)
            ))
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|_| {
            SendError::permanent(format!(
                "tệp {} ([smtp] ca_file) không phải chứng chỉ PEM hợp lệ",
                ca.display()
            ))
        })?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls()
        .map_err(|e| SendError::permanent(format!("không lập được cấu hình TLS: {e}")))
}

/// Bounds one step by the configured timeout.
async fn step<T>(
    s: &Smtp,
    which: Step,
    f: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, SendError> {
    match tokio::time::timeout(Duration::from_secs(s.timeout_seconds.max(1)), f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(s, which, &e)),
        Err(_) => Err(SendError::temporary(format!(
            "máy chủ thư không trả lời sau {} giây {}",
            s.timeout_seconds.max(1),
            which.words()
        ))),
    }
}

/// Sends one message; the server's reply on success.
pub async fn send(s: &Smtp, message: &Message) -> Result<String, SendError> {
    send_formatted(s, message.envelope(), &message.formatted()).await
}

/// Sends a message already written out (`Message::formatted`), so that a
/// caller that tries several times writes a large one out once.
pub async fn send_formatted(
    s: &Smtp,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<String, SendError> {
    let hello = ClientId::default();
    let implicit = match s.security {
        Security::Tls => Some(tls_parameters(s)?),
        _ => None,
    };
    let mut conn = step(
        s,
        Step::Connect,
        AsyncSmtpConnection::connect_tokio1(
            (s.host.as_str(), s.port),
            Some(Duration::from_secs(s.timeout_seconds.max(1))),
            &hello,
            implicit,
            None,
        ),
    )
    .await?;
    let result = converse(s, &mut conn, &hello, envelope, bytes).await;
    // A polite goodbye, briefly, after a success (the message's fate is
    // known by then). After a failure the connection may be half torn
    // down — a failed TLS upgrade leaves no stream to write to — so it is
    // only dropped.
    if result.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.quit()).await;
    }
    result
}

async fn converse(
    s: &Smtp,
    conn: &mut AsyncSmtpConnection,
    hello: &ClientId,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<String, SendError> {
    if s.security == Security::Starttls {
        if !conn.can_starttls() {
            return Err(SendError::permanent(format!(
                "máy chủ thư {} không hỗ trợ STARTTLS: đặt [smtp] security = \"tls\" nếu máy chủ dùng TLS ngay từ đầu (cổng 465)",
                s.host
            )));
        }
        step(s, Step::StartTls, conn.starttls(tls_parameters(s)?, hello)).await?;
    }
    if let Some(user) = &s.username {
        let password = std::env::var(&s.password_env).map_err(|_| {
            SendError::permanent(format!(
                "chưa có mật khẩu SMTP: đặt biến môi trường {}",
                s.password_env
            ))
        })?;
        let creds = Credentials::new(user.clone(), password);
        step(
            s,
            Step::Login,
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds),
        )
        .await?;
    }
    let mut options = Vec::new();
    if !bytes.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            return Err(SendError::permanent(
                "thư có ký tự ngoài ASCII mà máy chủ không nhận 8BITMIME".into(),
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    step(
        s,
        Step::Sender,
        conn.command(Mail::new(envelope.from().cloned(), options)),
    )
    .await?;
    for to in envelope.to() {
        step(
            s,
            Step::Recipient,
            conn.command(Rcpt::new(to.clone(), vec![])),
        )
        .await
        .map_err(|mut e| {
            e.text = format!("{} ({to})", e.text);
            e
        })?;
    }
    step(s, Step::Data, conn.command(Data)).await?;
    let reply = send_content(s, conn, bytes).await?;
    Ok(format!(
        "{} {}",
        reply.code(),
        reply.message().collect::<Vec<_>>().join(" ")
    ))
}

/// How far the message's bytes have gone out.
struct Progress {
    last: Instant,
    done: bool,
}

/// Writes the message in pieces and waits for the answer. The wait for
/// progress (a piece written, or the answer after the last piece) is
/// bounded by the timeout; once every piece is out, any failure other
/// than a clear refusal may have left the message with the server.
async fn send_content(
    s: &Smtp,
    conn: &mut AsyncSmtpConnection,
    bytes: &[u8],
) -> Result<lettre::transport::smtp::response::Response, SendError> {
    const PIECE: usize = 64 * 1024;
    let progress = Arc::new(Mutex::new(Progress {
        last: Instant::now(),
        done: false,
    }));
    let note = progress.clone();
    let mut pieces = bytes.chunks(PIECE);
    let iter = std::iter::from_fn(move || {
        let next = pieces.next();
        if let Ok(mut p) = note.lock() {
            p.last = Instant::now();
            p.done = next.is_none();
        }
        next
    });
    let limit = Duration::from_secs(s.timeout_seconds.max(1));
    let watch = async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let (quiet, done) = match progress.lock() {
                Ok(p) => (p.last.elapsed(), p.done),
                Err(_) => (Duration::ZERO, false),
            };
            if quiet >= limit {
                return done;
            }
        }
    };
    let sent_all = || progress.lock().map(|p| p.done).unwrap_or(true);
    tokio::select! {
        r = conn.message_iter(iter) => match r {
            Ok(reply) => Ok(reply),
            Err(e) => {
                let mut err = classify(s, Step::Message, &e);
                err.maybe_delivered = !(e.is_transient() || e.is_permanent()) && sent_all();
                Err(err)
            }
        },
        done = watch => Err(SendError {
            permanent: false,
            text: if done {
                format!(
                    "máy chủ thư không trả lời sau {} giây sau khi nhận hết nội dung thư (có thể máy chủ đã nhận thư)",
                    limit.as_secs()
                )
            } else {
                format!("máy chủ thư ngừng nhận nội dung thư quá {} giây", limit.as_secs())
            },
            maybe_delivered: done,
        }),
    }
}

/// Sorts a lettre error and words it for the office.
fn classify(s: &Smtp, which: Step, e: &lettre::transport::smtp::Error) -> SendError {
    let detail = std::error::Error::source(e)
        .map(|x| x.to_string())
        .unwrap_or_default();
    let at = which.words();
    if let Some(code) = e.status() {
        let text = format!("{code} {detail}").trim().to_string();
        return if e.is_permanent() {
            SendError::permanent(match which {
                Step::Login => format!(
                    "máy chủ thư từ chối đăng nhập ({text}): kiểm tra [smtp] username và mật khẩu trong biến môi trường {}",
                    s.password_env
                ),
                _ => format!("máy chủ thư từ chối {at} ({text})"),
            })
        } else {
            SendError::temporary(format!("máy chủ thư tạm thời từ chối {at} ({text})"))
        };
    }
    if let Some(cert) = certificate_problem(e) {
        return SendError::permanent(format!(
            "chứng chỉ của máy chủ thư {} không được tin cậy ({cert}): nếu máy chủ dùng chứng chỉ do một CA riêng cấp, đặt [smtp] ca_file là tệp PEM của CA đó",
            s.host
        ));
    }
    if e.is_tls() {
        return SendError::permanent(format!("lỗi TLS với máy chủ thư {} {at}", s.host));
    }
    if e.is_client() {
        return SendError::permanent(match which {
            Step::Login => format!(
                "máy chủ thư {} không hỗ trợ đăng nhập PLAIN hay LOGIN",
                s.host
            ),
            _ => format!("không gửi được thư {at}: {detail}"),
        });
    }
    if e.is_response() {
        return SendError::temporary(format!("máy chủ thư trả lời không hợp lệ {at}"));
    }
    let io = io_error(e);
    let why = match io {
        Some(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            return SendError::temporary(format!(
                "máy chủ thư {}:{} không nhận kết nối (máy chủ chưa chạy, hoặc sai [smtp] host/port)",
                s.host, s.port
            ));
        }
        Some(io) => io_words(io),
        None if which == Step::Connect => {
            "không tìm thấy máy chủ (kiểm tra [smtp] host)".to_string()
        }
        None => "mất kết nối".to_string(),
    };
    SendError::temporary(format!(
        "lỗi kết nối với máy chủ thư {}:{} {at}: {why}",
        s.host, s.port
    ))
}

/// Every error in `e`'s chain, with the error each `io::Error` wraps (its
/// own `source()` skips it: that is where rustls's error sits).
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source()).flat_map(|e| {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|x| x as &(dyn std::error::Error + 'static));
        std::iter::once(e).chain(inner)
    })
}

/// The certificate problem behind a TLS failure, if that is what it was.
fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    chain(e).find_map(|x| match x.downcast_ref::<rustls::Error>() {
        Some(rustls::Error::InvalidCertificate(c)) => Some(certificate_words(c)),
        _ => None,
    })
}

fn certificate_words(c: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match c {
        C::UnknownIssuer => "do một nơi cấp không được tin cậy cấp".into(),
        C::Expired | C::ExpiredContext { .. } => "đã hết hạn".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "chưa đến ngày có hiệu lực".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "không cấp cho tên máy chủ này".into()
        }
        C::Revoked => "đã bị thu hồi".into(),
        other => format!("không hợp lệ: {other:?}"),
    }
}

fn io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    chain(e).find_map(|x| x.downcast_ref::<std::io::Error>())
}

/// An I/O error in words for the office.
fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "máy chủ không nhận kết nối".into(),
        K::ConnectionReset | K::ConnectionAborted => "máy chủ cắt kết nối".into(),
        K::BrokenPipe | K::UnexpectedEof => "máy chủ đóng kết nối".into(),
        K::TimedOut => "hết thời gian chờ".into(),
        K::NotFound => "không tìm thấy".into(),
        K::PermissionDenied => "không có quyền".into(),
        K::HostUnreachable | K::NetworkUnreachable => "không tới được máy chủ".into(),
        K::AddrNotAvailable => "địa chỉ không dùng được".into(),
        _ => "lỗi mạng".into(),
    }
}
