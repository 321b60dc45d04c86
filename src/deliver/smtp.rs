//! Sending one message over SMTP with lettre: STARTTLS or implicit TLS (or
//! plain, to a server on this machine only), login with the password from
//! the environment, and every error sorted into temporary (worth another
//! try: no connection, a timeout, a 4xx reply) or permanent (a 5xx reply,
//! a refused login, a certificate that does not verify).

use crate::settings::{Security, Smtp};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    Temporary(String),
    Permanent(String),
}

impl SendError {
    pub fn text(&self) -> &str {
        match self {
            SendError::Temporary(t) | SendError::Permanent(t) => t,
        }
    }
}

fn transport(s: &Smtp) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let params = || -> Result<TlsParameters, SendError> {
        let mut b = TlsParameters::builder(s.host.clone());
        if let Some(ca) = &s.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                SendError::Permanent(format!("không đọc được chứng chỉ CA {}: {e}", ca.display()))
            })?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| SendError::Permanent(format!("chứng chỉ CA không hợp lệ: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| SendError::Permanent(format!("cấu hình TLS: {e}")))
    };
    let tls = match s.security {
        Security::Starttls => Tls::Required(params()?),
        Security::Tls => Tls::Wrapper(params()?),
        Security::Plain => Tls::None,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
        .port(s.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(s.timeout_seconds)));
    if let Some(user) = &s.username {
        let password = std::env::var(&s.password_env).map_err(|_| {
            SendError::Permanent(format!(
                "chưa có mật khẩu SMTP: đặt biến môi trường {}",
                s.password_env
            ))
        })?;
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    Ok(b.build())
}

/// Sends one message; the server's reply on success.
pub async fn send(s: &Smtp, message: &Message) -> Result<String, SendError> {
    let t = transport(s)?;
    // The transport's timeout covers each step; this bounds the whole
    // conversation, so that a server that stops answering cannot hold a run.
    let whole = Duration::from_secs(s.timeout_seconds.saturating_mul(6).max(10));
    let sent = tokio::time::timeout(whole, t.send(message.clone()))
        .await
        .map_err(|_| {
            SendError::Temporary(format!(
                "máy chủ thư không trả lời sau {} giây",
                whole.as_secs()
            ))
        })?;
    match sent {
        Ok(reply) => Ok(format!(
            "{} {}",
            reply.code(),
            reply.message().collect::<Vec<_>>().join(" ")
        )),
        Err(e) if e.is_permanent() || e.is_tls() => Err(SendError::Permanent(e.to_string())),
        Err(e) => Err(SendError::Temporary(e.to_string())),
    }
}
