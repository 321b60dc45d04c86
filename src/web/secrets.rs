//! Access codes and passwords: made at random, shown once, kept only as
//! argon2 hashes; a unit signs in with its code, an office user with a
//! password.

use crate::domain::Unit;
use crate::settings::Settings;
use crate::store::{Account, AccountKind, Store};
use anyhow::{Result, anyhow};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A new access code: twelve letters and digits that cannot be mistaken
/// for one another (no 0/O, 1/I/L), in groups of four.
pub fn new_access_code() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 12];
    getrandom::fill(&mut raw).map_err(|e| anyhow!("không tạo được mã ngẫu nhiên: {e}"))?;
    let chars: Vec<char> = raw
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A random token for a session or a form, hex.
pub fn new_token() -> Result<String> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| anyhow!("không tạo được mã ngẫu nhiên: {e}"))?;
    Ok(hex::encode(raw))
}

/// An access code as typed: upper case, spaces and dashes ignored.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn hash_secret(secret: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow!("không tạo được mã ngẫu nhiên: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow!("muối: {e}"))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("không băm được mã: {e}"))
}

fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// Issues a new access code for a unit; the old one stops working.
/// Returns the code, which is shown once and stored only as a hash.
pub fn issue_unit_code(store: &Store, unit: &Unit) -> Result<String> {
    let code = new_access_code()?;
    store.set_account(&Account {
        login: unit.code.0.clone(),
        kind: AccountKind::Unit,
        unit: Some(unit.code.0.clone()),
        hash: hash_secret(&normalise_code(&code))?,
    })?;
    Ok(code)
}

/// Creates or resets an office user; returns the new password.
pub fn issue_office_password(s: &Settings, store: &Store, user: &str) -> Result<String> {
    let user = user.trim();
    if user.is_empty() || s.unit(user).is_some() {
        return Err(anyhow!(
            "tên đăng nhập \"{user}\" không dùng được: để trống hoặc trùng mã một đơn vị"
        ));
    }
    let password = new_access_code()?;
    store.set_account(&Account {
        login: user.to_string(),
        kind: AccountKind::Office,
        unit: None,
        hash: hash_secret(&normalise_code(&password))?,
    })?;
    Ok(password)
}

/// The account a login names: an office user exactly, a unit by its code
/// whatever its case.
pub fn find_account(s: &Settings, store: &Store, login: &str) -> Result<Option<Account>> {
    let login = login.trim();
    Ok(match store.account(login)? {
        Some(a) => Some(a),
        None => s
            .units
            .by_code_any_case(login)
            .map(|u| store.account(&u.code.0))
            .transpose()?
            .flatten(),
    })
}

/// Whether `code` opens `account`. Without an account it hashes anyway,
/// so the answer takes as long either way. Slow on purpose (argon2): call
/// it outside any lock.
pub fn code_opens(account: Option<&Account>, code: &str) -> bool {
    let hash = account.map(|a| a.hash.as_str()).unwrap_or(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$cHJldGVuZHByZXRlbmRwcmV0ZW5kcHJldGVuZA",
    );
    verify_secret(&normalise_code(code), hash) && account.is_some()
}
