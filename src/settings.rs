//! The configuration file: organisation, units registry, periods, paths,
//! rules and delivery. Read strictly: an unknown key or a bad value is an
//! error that names the file, line and column and says what to do.

use crate::domain::{LeagueCode, Period, Registry, Unit, UnitCode, WindowMode};
use crate::located::{FileError, FileErrors};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use toml::Spanned;

pub mod registry;

/// The organisation that issues the report.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// "Ủy ban nhân dân huyện Trực Ninh".
    pub name: String,
    /// The body above it, "Ủy ban nhân dân tỉnh Nam Định".
    pub superior: String,
    /// The place in the date line, "Trực Ninh".
    pub place: String,
    /// Document number suffix, "BC-UBND".
    pub document_prefix: String,
    /// "TM. ỦY BAN NHÂN DÂN".
    pub signer_on_behalf: String,
    /// "CHỦ TỊCH".
    pub signer_title: String,
    pub signer_name: String,
    /// The office's own address: failures and copies go here.
    pub email: String,
    /// "Nơi nhận" lines, without the closing "Lưu" line.
    pub distribution: Vec<String>,
    /// Where the original is filed, the closing "- Lưu: VT, VP." line.
    #[serde(default = "default_archive")]
    pub archive: String,
    #[serde(default = "default_tz")]
    pub time_zone: String,
    /// Whether the report's header names the superior body above the
    /// organisation, as a district's does ("UBND TỈNH NAM ĐỊNH" over "UBND
    /// HUYỆN TRỰC NINH"); a province has none to print (`false`).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub superior_in_header: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

fn default_archive() -> String {
    "VT, VP".to_string()
}

fn default_tz() -> String {
    "Asia/Ho_Chi_Minh".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodSettings {
    pub window: WindowMode,
    /// Days after the window's end by which each league must submit.
    pub deadline_days: BTreeMap<String, Spanned<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaths {
    inbox: PathBuf,
    data: PathBuf,
    output: PathBuf,
    #[serde(default)]
    outbox: Option<PathBuf>,
}

/// Folders, resolved against the config file's folder.
#[derive(Debug, Clone)]
pub struct Paths {
    pub inbox: PathBuf,
    pub data: PathBuf,
    pub output: PathBuf,
    pub outbox: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Sender address of every email.
    pub from: String,
    /// The province's addresses for the quarterly report.
    pub recipients: Vec<String>,
    /// Days before a unit's deadline from which it is reminded (once).
    #[serde(default = "default_remind_days")]
    pub remind_days_before: u32,
    /// Send each unit a receipt with its findings after its workbook is read.
    #[serde(default = "default_true")]
    pub receipts: bool,
    /// Receipts go only for workbooks read at most this many days after
    /// their quarter's deadline (so reading an old inbox on a new data dir
    /// does not write to every unit about files of years ago).
    #[serde(default = "default_receipt_days")]
    pub receipt_days: u32,
}

fn default_receipt_days() -> u32 {
    30
}

fn default_true() -> bool {
    true
}

fn default_remind_days() -> u32 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    code: Spanned<String>,
    name: String,
    kind: Spanned<String>,
    email: Spanned<String>,
    #[serde(default)]
    valid_from: Option<toml::value::Datetime>,
    #[serde(default)]
    valid_to: Option<toml::value::Datetime>,
    #[serde(default)]
    successor: Option<Spanned<String>>,
    #[serde(default)]
    predecessors: Option<Spanned<Vec<String>>>,
}

/// `[registry]`: the units kept in a spreadsheet instead of `[[units]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    file: Spanned<PathBuf>,
    /// The office's own words for a kind, and the kind they mean:
    /// `kinds = { "Phường" = "xa", "Sở, ban, ngành" = "co_quan" }`.
    #[serde(default)]
    kinds: BTreeMap<String, String>,
}

/// A unit as the config or the registry file writes it, before it is
/// checked; with where each of its values is written.
#[derive(Debug, Clone)]
pub(crate) struct UnitEntry {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub email: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub successor: Option<String>,
    pub predecessors: Vec<String>,
    /// The file the entry is in.
    pub file: PathBuf,
    /// Where each value is, in the order of `registry::Field::ALL`.
    pub places: [registry::Place; 8],
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    organisation: Organisation,
    period: PeriodSettings,
    paths: RawPaths,
    rules: RawRules,
    delivery: Delivery,
    #[serde(default)]
    smtp: Option<Spanned<Smtp>>,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    web: RawWeb,
    #[serde(default)]
    registry: Option<RawRegistry>,
    #[serde(default)]
    units: Vec<RawUnit>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    listen: Option<Spanned<String>>,
    public_url: Option<String>,
    period: Option<Spanned<String>>,
    max_upload_mb: Option<u32>,
    session_hours: Option<u32>,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
    upload_quota_files: Option<u32>,
    upload_quota_mb: Option<u32>,
}

/// The web portal of `tthc serve`.
#[derive(Debug, Clone)]
pub struct Web {
    /// Address and port to listen on; without one, `tthc serve` runs no portal.
    pub listen: Option<std::net::SocketAddr>,
    /// The address users reach the portal at; an `https://` one marks the
    /// session cookie Secure (TLS ends at the proxy in front).
    pub public_url: Option<String>,
    /// The quarter units upload for; by default the last quarter whose
    /// data window has ended.
    pub period: Option<Period>,
    /// Largest upload accepted, in bytes.
    pub max_upload: usize,
    /// How long a sign-in lasts.
    pub session_hours: u32,
    /// The reverse proxies in front of the portal (addresses or networks):
    /// for a request from one of them, the client is the last address in
    /// `X-Forwarded-For` that is not a proxy too.
    pub trusted_proxies: Vec<Network>,
    /// How many files a unit may upload for one quarter, and how many
    /// bytes in all (the office is not limited).
    pub upload_quota_files: u32,
    pub upload_quota_bytes: u64,
}

/// An address or a network (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    pub addr: std::net::IpAddr,
    pub prefix: u8,
}

impl Network {
    pub fn parse(s: &str) -> Option<Network> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.trim().parse().ok()?, None),
        };
        let max = match addr {
            std::net::IpAddr::V4(_) => 32,
            std::net::IpAddr::V6(_) => 128,
        };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Network { addr, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let ip = match ip {
            V6(v6) => v6.to_ipv4_mapped().map(V4).unwrap_or(ip),
            v4 => v4,
        };
        let bits = |a: std::net::IpAddr| -> (u128, u8) {
            match a {
                V4(v) => (u128::from(u32::from(v)), 32),
                V6(v) => (u128::from(v), 128),
            }
        };
        let ((net, width), (got, got_width)) = (bits(self.addr), bits(ip));
        if width != got_width {
            return false;
        }
        let shift = u32::from(width - self.prefix);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        (net & mask) == (got & mask)
    }
}

impl Web {
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    collect: Option<Spanned<String>>,
    remind: Option<Spanned<String>>,
    report: Option<Spanned<String>>,
    yearly: Option<Spanned<String>>,
    #[serde(default = "default_grace_days")]
    grace_days: u32,
}

fn default_grace_days() -> u32 {
    2
}

/// When `tthc serve` runs each job: six-field cron expressions (seconds
/// first) in the organisation's time zone; a job without one is not
/// scheduled.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub collect: Option<String>,
    pub remind: Option<String>,
    pub report: Option<String>,
    pub yearly: Option<String>,
    /// Days after the last unit's deadline before the report is due.
    pub grace_days: u32,
}

impl Schedule {
    /// The cron expression of a job by name.
    pub fn cron(&self, job: &str) -> Option<&str> {
        match job {
            "collect" => self.collect.as_deref(),
            "remind" => self.remind.as_deref(),
            "report" => self.report.as_deref(),
            "yearly" => self.yearly.as_deref(),
            _ => None,
        }
        .filter(|c| !c.trim().is_empty())
    }
}

/// Parses a six-field cron expression (seconds first), as the scheduler does.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr)
        .map_err(|e| e.to_string())
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587); TLS is required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a server on this machine.
    Plain,
}

/// The mail server. The password comes from the environment variable named
/// by `password_env`, never from this file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default = "default_password_env")]
    pub password_env: String,
    /// Seconds to wait for the server at each step.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Tries of a temporary failure before it is left for a later run.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Wait before the second try; doubled for each further one.
    #[serde(default = "default_retry")]
    pub retry_seconds: u64,
    /// Largest size of a whole message, attachments included, in MB.
    #[serde(default = "default_attachment_mb")]
    pub max_attachment_mb: f64,
    /// A letter that still has not gone after this many tries in all,
    /// over every run, is given up (and the office told once).
    #[serde(default = "default_give_up_attempts")]
    pub give_up_after_attempts: u32,
    /// … or once this many hours have passed since its first try.
    #[serde(default = "default_give_up_hours")]
    pub give_up_after_hours: u64,
    /// A PEM file of the certificate authority that signed the server's
    /// certificate, when it is not a public one.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_password_env() -> String {
    "TTHC_SMTP_PASSWORD".into()
}
fn default_timeout() -> u64 {
    30
}
fn default_attempts() -> u32 {
    5
}
fn default_retry() -> u64 {
    60
}
fn default_attachment_mb() -> f64 {
    20.0
}
fn default_give_up_attempts() -> u32 {
    20
}
fn default_give_up_hours() -> u64 {
    72
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub file: PathBuf,
    pub organisation: Organisation,
    pub period: PeriodSettings,
    pub paths: Paths,
    pub rules_dir: PathBuf,
    pub delivery: Delivery,
    /// The mail server; without one, report emails go to the outbox folder.
    pub smtp: Option<Smtp>,
    pub schedule: Schedule,
    pub web: Web,
    pub units: Registry,
    /// Where each unit's kind is written (its file and place), to point at
    /// it when the rules do not know the kind; located only then, since
    /// finding a line in a long config is a scan of it.
    unit_kind_places: Vec<(PathBuf, registry::Place)>,
    /// The config's text, to locate those places.
    source: String,
}

/// Overrides of the configured folders, from the command line.
#[derive(Debug, Clone, Default)]
pub struct PathOverrides {
    pub inbox: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

impl Settings {
    pub fn load(path: &Path, overrides: &PathOverrides) -> Result<Settings, FileErrors> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            FileError::at(
                path,
                "",
                None,
                format!("không đọc được tệp cấu hình: {e} — kiểm tra đường dẫn --config"),
            )
        })?;
        Self::parse(path, &source, overrides)
    }

    pub fn parse(
        path: &Path,
        source: &str,
        overrides: &PathOverrides,
    ) -> Result<Settings, FileErrors> {
        let raw: RawSettings =
            toml::from_str(source).map_err(|e| FileError::from_toml(path, source, &e))?;
        let mut p = Problems {
            path,
            source,
            errors: Vec::new(),
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |f: &Path| normalise(&base.join(f));

        if raw.organisation.time_zone.parse::<chrono_tz::Tz>().is_err() {
            p.at(
                p.key("time_zone"),
                format!(
                    "múi giờ \"{}\" không tồn tại — dùng tên IANA, ví dụ \"Asia/Ho_Chi_Minh\"",
                    raw.organisation.time_zone
                ),
            );
        }
        let (units, spans) = read_units(&raw, &resolve, &mut p);
        check_addresses(&raw, &mut p);
        let smtp = raw.smtp.map(|s| read_smtp(s, &resolve, &mut p));
        let schedule = read_schedule(&raw.schedule, &mut p);
        let web = read_web(&raw.web, &mut p);
        if !p.errors.is_empty() {
            return Err(FileErrors(p.errors));
        }
        Ok(Settings {
            file: path.to_path_buf(),
            organisation: raw.organisation,
            period: raw.period,
            paths: resolve_paths(raw.paths, overrides, &resolve),
            rules_dir: resolve(&raw.rules.dir),
            delivery: raw.delivery,
            smtp,
            schedule,
            web,
            units: Registry::new(units),
            unit_kind_places: spans,
            source: source.to_string(),
        })
    }

    /// A stored RFC 3339 time in the organisation's time zone, written in
    /// `format` (the text as it is, if it does not parse).
    pub fn local_time(&self, t: &str, format: &str) -> String {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| {
                t.with_timezone(&self.time_zone())
                    .format(format)
                    .to_string()
            })
            .unwrap_or_else(|_| t.to_string())
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.organisation
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.unit(code)
    }

    /// The deadline day of a unit for a period: the window's end plus its
    /// league's days.
    pub fn deadline(&self, unit: &Unit, period: crate::domain::Period) -> chrono::NaiveDate {
        let (_, end) = period.window(self.period.window);
        end + chrono::Days::new(u64::from(self.deadline_days(&unit.league)))
    }

    /// How letters leave: the mail server when one is configured, else the
    /// outbox folder.
    pub fn channel(&self) -> crate::domain::Channel {
        if self.smtp.is_some() {
            crate::domain::Channel::Smtp
        } else {
            crate::domain::Channel::Outbox
        }
    }

    /// Whether a workbook of `unit` for `period`, read on `day`, is owed a
    /// receipt: receipts are on, the unit has an address, and the day is at
    /// most `receipt_days` after the quarter's deadline (a workbook of years
    /// ago read into a new data dir is history, not news to its unit).
    pub fn receipt_owed(
        &self,
        unit: &Unit,
        period: Option<crate::domain::Period>,
        day: chrono::NaiveDate,
    ) -> bool {
        let d = &self.delivery;
        d.receipts
            && !unit.email.trim().is_empty()
            && period.is_none_or(|p| {
                day <= self.deadline(unit, p) + chrono::Days::new(u64::from(d.receipt_days))
            })
    }

    /// Days after the window's end that a league has to submit.
    pub fn deadline_days(&self, league: &LeagueCode) -> u32 {
        self.period
            .deadline_days
            .get(&league.0)
            .map(|s| *s.get_ref())
            .unwrap_or(0)
    }

    /// Checks that every unit's kind is a league the rules know.
    pub fn check_leagues<'a>(
        &self,
        leagues: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<(), FileErrors> {
        let errors: Vec<FileError> = self
            .units
            .iter()
            .zip(&self.unit_kind_places)
            .filter(|(u, _)| !leagues.clone().any(|l| l == u.league.0))
            .map(|(u, (file, place))| {
                let known: Vec<&str> = leagues.clone().collect();
                locate_place(
                    &self.file,
                    &self.source,
                    file,
                    place,
                    format!(
                        "loại đơn vị \"{}\" của {} không phải khối nào trong bộ quy tắc — dùng một trong: {}",
                        u.league,
                        u.code,
                        known.join(", ")
                    ),
                )
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(FileErrors(errors))
        }
    }
}

/// Drops `.` and resolves `..` lexically, so paths print as a person would write them.
fn normalise(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Problems found in the config file, each located in it.
struct Problems<'a> {
    path: &'a Path,
    source: &'a str,
    errors: Vec<FileError>,
}

impl Problems<'_> {
    fn at(&mut self, span: Option<std::ops::Range<usize>>, message: impl Into<String>) {
        self.errors
            .push(FileError::at(self.path, self.source, span, message));
    }

    /// Where a key is first written, to point at it.
    fn key(&self, key: &str) -> Option<std::ops::Range<usize>> {
        find_key(self.source, key)
    }
}

/// The units, from `[[units]]` or the `[registry]` file, checked.
fn read_units(
    raw: &RawSettings,
    resolve: &dyn Fn(&Path) -> PathBuf,
    p: &mut Problems,
) -> (Vec<Unit>, Vec<(PathBuf, registry::Place)>) {
    let entries = match &raw.registry {
        Some(r) if !raw.units.is_empty() => {
            p.at(
                Some(r.file.span()),
                "đơn vị khai báo cả trong [registry] file và trong [[units]] — chỉ dùng một cách",
            );
            return (Vec::new(), Vec::new());
        }
        Some(r) => {
            let file = resolve(r.file.get_ref());
            let (entries, mut errors) = registry::read(&file, &r.kinds);
            p.errors.append(&mut errors);
            if entries.is_empty() {
                return (Vec::new(), Vec::new());
            }
            entries
        }
        None => toml_entries(raw, p),
    };
    check_units(entries, &raw.period.deadline_days, p)
}

/// The `[[units]]` blocks as entries; a date that is not one is an error.
fn toml_entries(raw: &RawSettings, p: &mut Problems) -> Vec<UnitEntry> {
    use registry::Place::Span;
    let mut out = Vec::new();
    for u in &raw.units {
        let code = u.code.get_ref().trim().to_string();
        let mut date = |d: &Option<toml::value::Datetime>, key: &str| -> Option<NaiveDate> {
            let d = d.as_ref()?;
            match d.date.and_then(|x| {
                NaiveDate::from_ymd_opt(i32::from(x.year), u32::from(x.month), u32::from(x.day))
            }) {
                Some(nd) => Some(nd),
                None => {
                    p.at(
                        Some(u.code.span()),
                        format!("{key} của đơn vị {code} phải là một ngày (YYYY-MM-DD)"),
                    );
                    None
                }
            }
        };
        let valid_from = date(&u.valid_from, "valid_from");
        let valid_to = date(&u.valid_to, "valid_to");
        let at_code = u.code.span();
        let successor_at = u.successor.as_ref().map_or(at_code.clone(), |s| s.span());
        let predecessors_at = u
            .predecessors
            .as_ref()
            .map_or(at_code.clone(), |s| s.span());
        out.push(UnitEntry {
            code,
            name: u.name.trim().to_string(),
            kind: u.kind.get_ref().clone(),
            email: u.email.get_ref().trim().to_string(),
            valid_from,
            valid_to,
            successor: u.successor.as_ref().map(|s| s.get_ref().trim().to_string()),
            predecessors: u
                .predecessors
                .as_ref()
                .map(|s| s.get_ref().iter().map(|c| c.trim().to_string()).collect())
                .unwrap_or_default(),
            file: p.path.to_path_buf(),
            places: [
                Span(at_code.clone()),
                Span(at_code.clone()),
                Span(u.kind.span()),
                Span(u.email.span()),
                Span(at_code.clone()),
                Span(at_code),
                Span(predecessors_at),
                Span(successor_at),
            ],
        });
    }
    out
}

/// Each code well formed and unique, each kind one with a deadline, each
/// address an address, successors and predecessors units of the list and
/// saying the same (a predecessor's successor is the unit that names it).
/// Returns the units and where each one's kind is written.
fn check_units(
    entries: Vec<UnitEntry>,
    deadline_days: &BTreeMap<String, Spanned<u32>>,
    p: &mut Problems,
) -> (Vec<Unit>, Vec<(PathBuf, registry::Place)>) {
    use registry::Field;
    fn place(e: &UnitEntry, f: Field) -> &registry::Place {
        let i = Field::ALL.iter().position(|x| *x == f).unwrap_or(0);
        &e.places[i]
    }
    let mut errors: Vec<FileError> = Vec::new();
    let mut err = |e: &UnitEntry, f: Field, message: String| {
        errors.push(locate(p, e, place(e, f), message));
    };
    let mut seen = HashSet::new();
    for e in &entries {
        let code = &e.code;
        if code.is_empty()
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            err(
                e,
                Field::Code,
                format!(
                    "mã đơn vị \"{code}\" không hợp lệ — chỉ dùng chữ không dấu, số, '-' và '_'"
                ),
            );
        }
        if !seen.insert(code.clone()) {
            err(
                e,
                Field::Code,
                format!("mã đơn vị \"{code}\" bị trùng — mỗi đơn vị cần một mã riêng"),
            );
        }
        if e.name.is_empty() {
            err(e, Field::Name, format!("đơn vị {code} chưa có tên"));
        }
        if !deadline_days.contains_key(&e.kind) {
            err(
                e,
                Field::Kind,
                match place(e, Field::Kind) {
                    registry::Place::Cell(..) => format!(
                        "loại đơn vị \"{}\" không phải khối nào có hạn nộp trong [period.deadline_days] — ghi mã khối (ví dụ xa), hoặc khai trong cấu hình [registry] kinds = {{ \"{}\" = \"mã khối\" }}",
                        e.kind, e.kind
                    ),
                    registry::Place::Span(_) => format!(
                        "loại đơn vị \"{}\" chưa có hạn nộp trong [period.deadline_days] — thêm hạn nộp cho loại này",
                        e.kind
                    ),
                },
            );
        }
        if e.email.parse::<lettre::Address>().is_err() {
            err(
                e,
                Field::Email,
                format!("địa chỉ thư \"{}\" của đơn vị {code} không hợp lệ", e.email),
            );
        }
        if let (Some(from), Some(to)) = (e.valid_from, e.valid_to)
            && from > to
        {
            err(
                e,
                Field::ValidTo,
                format!("đơn vị {code}: hiệu lực đến {to} trước hiệu lực từ {from}"),
            );
        }
    }
    // A successor named on either side: the predecessor's own, or the
    // unit that lists it among its predecessors.
    let mut successor: HashMap<String, String> = HashMap::new();
    for e in &entries {
        if let Some(s) = &e.successor {
            if !seen.contains(s) {
                err(
                    e,
                    Field::Successor,
                    format!("đơn vị kế thừa \"{s}\" không có trong danh sách đơn vị"),
                );
            }
            successor.insert(e.code.clone(), s.clone());
        }
    }
    for e in &entries {
        for pred in &e.predecessors {
            if !seen.contains(pred) {
                err(
                    e,
                    Field::Predecessors,
                    format!(
                        "đơn vị tiền thân \"{pred}\" của {} không có trong danh sách đơn vị — khai báo cả đơn vị cũ (với hiệu lực đến)",
                        e.code
                    ),
                );
                continue;
            }
            match successor.get(pred) {
                Some(s) if s != &e.code => err(
                    e,
                    Field::Predecessors,
                    format!(
                        "{pred} được ghi là tiền thân của {} nhưng đơn vị kế thừa của {pred} là {s}",
                        e.code
                    ),
                ),
                Some(_) => {}
                None => {
                    successor.insert(pred.clone(), e.code.clone());
                }
            }
        }
    }
    p.errors.append(&mut errors);
    let kinds: Vec<(PathBuf, registry::Place)> = entries
        .iter()
        .map(|e| (e.file.clone(), place(e, Field::Kind).clone()))
        .collect();
    let units: Vec<Unit> = entries
        .into_iter()
        .map(|e| Unit {
            successor: successor.get(&e.code).map(|s| UnitCode(s.clone())),
            code: UnitCode(e.code),
            name: e.name,
            league: LeagueCode(e.kind),
            email: e.email,
            valid_from: e.valid_from,
            valid_to: e.valid_to,
        })
        .collect();
    if units.is_empty() {
        p.at(
            None,
            "chưa khai báo đơn vị nào — thêm các mục [[units]] hoặc [registry] file",
        );
    }
    (units, kinds)
}

/// A problem of an entry, at the place it names.
fn locate(p: &Problems, e: &UnitEntry, place: &registry::Place, message: String) -> FileError {
    locate_place(p.path, p.source, &e.file, place, message)
}

/// A problem at a place: a range of the config's text, or a cell of the
/// registry file.
fn locate_place(
    config: &Path,
    source: &str,
    file: &Path,
    place: &registry::Place,
    message: String,
) -> FileError {
    match place {
        registry::Place::Span(span) => FileError::at(config, source, Some(span.clone()), message),
        registry::Place::Cell(line, column) => {
            let cell = format!(
                "{}{line}",
                crate::domain::column_letters(*column as u32 - 1)
            );
            FileError {
                path: file.to_path_buf(),
                line: *line,
                column: *column,
                message: format!("ô {cell}: {message}"),
            }
        }
    }
}

/// The organisation's, the sender's and the recipients' addresses.
fn check_addresses(raw: &RawSettings, p: &mut Problems) {
    let mut check_mailbox = |key: &str, value: &str| {
        if value.trim().parse::<lettre::message::Mailbox>().is_err() {
            p.at(
                p.key(key),
                format!("địa chỉ thư \"{value}\" không hợp lệ — viết dạng ten@donvi.gov.vn hoặc \"Tên <ten@donvi.gov.vn>\""),
            );
        }
    };
    check_mailbox("email", &raw.organisation.email);
    check_mailbox("from", &raw.delivery.from);
    for r in &raw.delivery.recipients {
        check_mailbox("recipients", r);
    }
    if raw.delivery.recipients.is_empty() {
        p.at(
            p.key("recipients"),
            "chưa có địa chỉ nhận báo cáo trong [delivery] recipients",
        );
    }
}

/// `[smtp]`: plain text only to a server on this machine; the CA file
/// relative to the config.
fn read_smtp(s: Spanned<Smtp>, resolve: &dyn Fn(&Path) -> PathBuf, p: &mut Problems) -> Smtp {
    let span = s.span();
    let mut s = s.into_inner();
    let loopback = matches!(s.host.as_str(), "localhost" | "::1") || s.host.starts_with("127.");
    if s.security == Security::Plain && !loopback {
        p.at(
            Some(span),
            format!("[smtp] security = \"plain\" chỉ dùng được với máy chủ thư trên chính máy này, không với \"{}\" — dùng \"starttls\" hoặc \"tls\"", s.host),
        );
    }
    s.ca_file = s.ca_file.map(|f| resolve(&f));
    s
}

/// `[schedule]`: each job's six-field cron expression.
fn read_schedule(raw: &RawSchedule, p: &mut Problems) -> Schedule {
    let mut cron = |c: &Option<Spanned<String>>, job: &str| -> Option<String> {
        let c = c.as_ref()?;
        if let Err(e) = parse_cron(c.get_ref()) {
            p.at(
                Some(c.span()),
                format!("[schedule] {job} = \"{}\" không phải biểu thức cron sáu trường (giây phút giờ ngày tháng thứ), ví dụ \"0 0 7 * * *\" là 7 giờ sáng hằng ngày: {e}", c.get_ref()),
            );
        }
        Some(c.get_ref().clone())
    };
    Schedule {
        collect: cron(&raw.collect, "collect"),
        remind: cron(&raw.remind, "remind"),
        report: cron(&raw.report, "report"),
        yearly: cron(&raw.yearly, "yearly"),
        grace_days: raw.grace_days,
    }
}

/// `[web]`: the address, the portal's quarter, limits and trusted proxies.
fn read_web(raw: &RawWeb, p: &mut Problems) -> Web {
    let mut web_error = |span: std::ops::Range<usize>, msg: String| {
        p.at(Some(span), msg);
    };
    Web {
        listen: raw.listen.as_ref().and_then(|l| match l.get_ref().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                web_error(
                    l.span(),
                    format!("[web] listen = \"{}\" không phải địa chỉ và cổng, ví dụ \"127.0.0.1:8080\"", l.get_ref()),
                );
                None
            }
        }),
        public_url: raw.public_url.clone(),
        period: raw.period.as_ref().and_then(|p| match p.get_ref().parse::<Period>() {
            Ok(q @ Period::Quarter { .. }) => Some(q),
            _ => {
                web_error(
                    p.span(),
                    format!("[web] period = \"{}\" không phải một quý, ví dụ \"2022-Q4\"", p.get_ref()),
                );
                None
            }
        }),
        max_upload: raw.max_upload_mb.unwrap_or(10) as usize * 1024 * 1024,
        session_hours: raw.session_hours.unwrap_or(8).max(1),
        trusted_proxies: raw
            .trusted_proxies
            .iter()
            .filter_map(|p| match Network::parse(p.get_ref()) {
                Some(n) => Some(n),
                None => {
                    web_error(
                        p.span(),
                        format!("[web] trusted_proxies: \"{}\" không phải địa chỉ IP hay mạng, ví dụ \"127.0.0.1\" hoặc \"10.0.0.0/8\"", p.get_ref()),
                    );
                    None
                }
            })
            .collect(),
        upload_quota_files: raw.upload_quota_files.unwrap_or(30).max(1),
        upload_quota_bytes: u64::from(raw.upload_quota_mb.unwrap_or(100).max(1)) * 1024 * 1024,
    }
}

/// The folders, relative to the config file, unless the command line
/// names them.
fn resolve_paths(
    raw_paths: RawPaths,
    overrides: &PathOverrides,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Paths {
    let output = overrides
        .output
        .clone()
        .unwrap_or_else(|| resolve(&raw_paths.output));
    Paths {
        inbox: overrides
            .inbox
            .clone()
            .unwrap_or_else(|| resolve(&raw_paths.inbox)),
        data: overrides
            .data
            .clone()
            .unwrap_or_else(|| resolve(&raw_paths.data)),
        outbox: match (&raw_paths.outbox, &overrides.output) {
            (Some(p), None) => resolve(p),
            _ => output.join("outbox"),
        },
        output,
    }
}

/// The span of the first `key =` in the file, to point at a bad value.
fn find_key(source: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
            let start = offset + (line.len() - t.len());
            return Some(start..start + key.len());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_networks_match_their_addresses() {
        let n = Network::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.20.30.40".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(
            n.contains("::ffff:10.1.2.3".parse().unwrap()),
            "IPv4 seen as IPv6"
        );
        let one = Network::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(
            Network::parse("::1")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert_eq!(Network::parse("10.0.0.0/33"), None);
        assert_eq!(Network::parse("proxy"), None);
    }

    const MINIMAL: &str = r#"
[organisation]
name = "Ủy ban nhân dân huyện A"
superior = "Ủy ban nhân dân tỉnh B"
place = "A"
document_prefix = "BC-UBND"
signer_on_behalf = "TM. ỦY BAN NHÂN DÂN"
signer_title = "CHỦ TỊCH"
signer_name = "Nguyễn Văn A"
email = "vp@a.gov.vn"
distribution = ["UBND tỉnh B"]

[period]
window = "reporting"
deadline_days = { xa = 2 }

[paths]
inbox = "inbox"
data = "data"
output = "out"

[rules]
dir = "rules"

[delivery]
from = "vp@a.gov.vn"
recipients = ["tinh@b.gov.vn"]

[[units]]
code = "X1"
name = "UBND xã Một"
kind = "xa"
email = "x1@a.gov.vn"
"#;

    #[test]
    fn a_minimal_config_loads_with_paths_beside_it() {
        let s = Settings::parse(
            Path::new("/etc/tthc/tthc.toml"),
            MINIMAL,
            &PathOverrides::default(),
        )
        .unwrap();
        assert_eq!(s.paths.inbox, PathBuf::from("/etc/tthc/inbox"));
        assert_eq!(s.units.len(), 1);
        assert_eq!(s.deadline_days(&LeagueCode("xa".into())), 2);
    }

    #[test]
    fn a_bad_unit_email_is_located() {
        let src = MINIMAL.replace("email = \"x1@a.gov.vn\"", "email = \"x1 at a.gov.vn\"");
        let err =
            Settings::parse(Path::new("c.toml"), &src, &PathOverrides::default()).unwrap_err();
        assert_eq!((err.0[0].line, err.0[0].column), (33, 9), "{err}");
    }

    #[test]
    fn relative_paths_are_normalised() {
        assert_eq!(
            normalise(Path::new("samples/truc-ninh/../../rules")),
            PathBuf::from("rules")
        );
        assert_eq!(normalise(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }

    #[test]
    fn an_unknown_key_is_located() {
        let src = MINIMAL.replace("place = \"A\"", "place = \"A\"\nplcae = \"B\"");
        let err =
            Settings::parse(Path::new("c.toml"), &src, &PathOverrides::default()).unwrap_err();
        let e = &err.0[0];
        assert_eq!((e.line, e.column), (6, 1), "{e}");
        assert!(e.message.contains("plcae"), "{e}");
    }

    #[test]
    fn a_unit_kind_without_deadline_is_located() {
        let src = MINIMAL.replace("kind = \"xa\"", "kind = \"phuong\"");
        let err =
            Settings::parse(Path::new("c.toml"), &src, &PathOverrides::default()).unwrap_err();
        assert_eq!((err.0[0].line, err.0[0].column), (32, 8), "{}", err);
        assert!(err.0[0].message.contains("phuong"));
    }

    #[test]
    fn schedule_times_are_six_field_cron_and_a_bad_one_is_located() {
        let good = MINIMAL.replace(
            "[[units]]",
            "[schedule]\nreport = \"0 0 7 * * *\"\n\n[[units]]",
        );
        let s = Settings::parse(Path::new("c.toml"), &good, &PathOverrides::default()).unwrap();
        assert_eq!(s.schedule.cron("report"), Some("0 0 7 * * *"));
        assert_eq!(s.schedule.cron("collect"), None);
        assert_eq!(s.schedule.grace_days, 2);
        // Five fields (no seconds) is the usual mistake.
        let bad = good.replace("\"0 0 7 * * *\"", "\"0 7 * * *\"");
        let err =
            Settings::parse(Path::new("c.toml"), &bad, &PathOverrides::default()).unwrap_err();
        let line = bad.lines().position(|l| l.starts_with("report")).unwrap() + 1;
        assert_eq!((err.0[0].line, err.0[0].column), (line, 10), "{err}");
        assert!(err.0[0].message.contains("sáu trường"), "{err}");
    }

    #[test]
    fn the_portal_settings_default_and_a_bad_one_is_located() {
        let s = Settings::parse(Path::new("c.toml"), MINIMAL, &PathOverrides::default()).unwrap();
        assert_eq!(s.web.listen, None);
        assert_eq!(s.web.max_upload, 10 * 1024 * 1024);
        assert!(!s.web.secure_cookies());
        let good = MINIMAL.replace(
            "[[units]]",
            "[web]\nlisten = \"127.0.0.1:8080\"\nperiod = \"2022-Q4\"\npublic_url = \"https://tthc.example.vn\"\n\n[[units]]",
        );
        let s = Settings::parse(Path::new("c.toml"), &good, &PathOverrides::default()).unwrap();
        assert_eq!(s.web.listen.map(|a| a.port()), Some(8080));
        assert_eq!(s.web.period, Some(Period::quarter(2022, 4)));
        assert!(s.web.secure_cookies());
        let bad = good.replace("\"2022-Q4\"", "\"2022\"");
        let err =
            Settings::parse(Path::new("c.toml"), &bad, &PathOverrides::default()).unwrap_err();
        let line = bad
            .lines()
            .position(|l| l.starts_with("period = \"2022\""))
            .unwrap()
            + 1;
        assert_eq!(err.0[0].line, line, "{err}");
        assert!(err.0[0].message.contains("[web] period"), "{err}");
    }
}
