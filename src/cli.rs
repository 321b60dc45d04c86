//! The command line: each command parses its arguments, calls the library
//! and maps the outcome to an exit code.

use crate::config::{Config, ConfigError};
use crate::domain::Channel;
use crate::domain::{Period, Severity};
use crate::settings::{PathOverrides, Settings};
use crate::store::{Pool, Pooled};
use crate::validate::{Context, check_bytes};
use anyhow::{Context as _, anyhow};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Prints a line to standard output; a closed pipe (`tthc check … | head`)
/// ends the output quietly instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Exit codes, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    Failure = 1,
    /// `tthc check` found errors in the workbook.
    Rejected = 2,
    /// The config or the rules are invalid.
    Config = 3,
}

#[derive(Parser, Debug)]
#[command(
    name = "tthc",
    version,
    about = "Chấm điểm, xếp hạng và báo cáo kết quả giải quyết thủ tục hành chính"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Tệp cấu hình (TOML)
    #[arg(long, global = true, env = "TTHC_CONFIG", default_value = "tthc.toml")]
    pub config: PathBuf,
    /// Thư mục nhận báo cáo, thay cho [paths] inbox
    #[arg(long, global = true)]
    pub inbox: Option<PathBuf>,
    /// Thư mục kết quả, thay cho [paths] output
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// Thư mục dữ liệu (SQLite và kho tệp), thay cho [paths] data
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
}

impl ConfigArgs {
    fn overrides(&self) -> PathOverrides {
        PathOverrides {
            inbox: self.inbox.clone(),
            data: self.data.clone(),
            output: self.out.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Ghi mẫu báo cáo quý của một đơn vị
    Template {
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Mã đơn vị
        #[arg(long)]
        unit: String,
        /// Kỳ báo cáo, ví dụ 2022-Q4
        #[arg(long)]
        period: Period,
        /// Tệp ghi ra (mặc định: <mã>-<kỳ>.xlsx)
        #[arg(long = "file", short = 'o')]
        file: Option<PathBuf>,
    },
    /// Kiểm tra một tệp báo cáo và in mọi lỗi tìm thấy (mã thoát 2 nếu có lỗi)
    Check {
        /// Tệp báo cáo (.xlsx, .xls, .ods)
        file: PathBuf,
        /// Tệp cấu hình, để đối chiếu đơn vị với danh sách đơn vị
        #[arg(long, env = "TTHC_CONFIG")]
        config: Option<PathBuf>,
        /// Đơn vị gửi tệp, nếu biết
        #[arg(long)]
        unit: Option<String>,
        /// Kỳ đang nhận, nếu biết
        #[arg(long)]
        period: Option<Period>,
        /// In kết quả dạng JSON
        #[arg(long)]
        json: bool,
        /// Ghi bản sao của tệp, đánh dấu và chú thích từng ô sai, vào tệp này (.xlsx)
        #[arg(long, value_name = "OUT.xlsx")]
        annotate: Option<PathBuf>,
    },
    /// Đọc các tệp mới trong thư mục nhận vào kho dữ liệu
    Ingest {
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Gửi ngay biên nhận qua máy chủ thư ([smtp]); không có cờ này, biên nhận chờ trong sổ gửi thư
        #[arg(long)]
        send: bool,
    },
    /// Đọc thư mục nhận, chấm điểm, xếp hạng và ghi báo cáo của một quý
    Run {
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Kỳ báo cáo, ví dụ 2022-Q4
        #[arg(long)]
        period: Period,
        /// Gửi báo cáo qua máy chủ thư đã cấu hình ([smtp]) sau khi lập
        #[arg(long)]
        send: bool,
    },
    /// Xem sổ gửi thư: từng thư, nơi nhận, tình trạng, số lần thử, lý do
    Ledger {
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Chỉ kỳ này, ví dụ 2022-Q4 (mặc định: các thư gần đây nhất)
        #[arg(long)]
        period: Option<Period>,
    },
    /// Gửi phiên bản báo cáo mới nhất của kỳ tới nơi nhận chưa nhận được (kể cả nơi đã gửi lỗi)
    Send {
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Kỳ báo cáo, ví dụ 2022-Q4
        #[arg(long)]
        period: Period,
        /// Gửi lại cho mọi nơi nhận, kể cả nơi đã nhận (thư mới, có Message-ID riêng)
        #[arg(long)]
        resend: bool,
    },
    /// Chạy dịch vụ: các việc định kỳ theo [schedule] (dừng bằng SIGTERM hoặc Ctrl-C)
    Serve {
        #[command(flatten)]
        cfg: ConfigArgs,
    },
    /// Các lần chạy việc định kỳ; `jobs run TÊN` chạy một việc ngay
    Jobs {
        #[command(flatten)]
        cfg: ConfigArgs,
        #[command(subcommand)]
        command: Option<JobsCommand>,
    },
    /// Danh sách đơn vị: xem, lập mẫu danh sách, cấp mã truy cập cổng thông tin
    Units {
        #[command(flatten)]
        cfg: ConfigArgs,
        #[command(subcommand)]
        command: UnitsCommand,
    },
    /// Tài khoản văn phòng trên cổng thông tin
    Office {
        #[command(flatten)]
        cfg: ConfigArgs,
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// Kiểm tra các tệp quy tắc
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Đo hiệu năng: tạo tổ chức giả lập N đơn vị và chạy trọn một quý (nên dùng bản release)
    Bench {
        /// Số đơn vị của mỗi lần đo, cách nhau bởi dấu phẩy
        #[arg(long, value_delimiter = ',', default_values_t = [33usize, 350, 3355])]
        units: Vec<usize>,
        /// Số hạt giống (cùng số cho cùng dữ liệu)
        #[arg(long, default_value_t = 2022)]
        seed: u64,
        /// Thư mục giữ các tổ chức giả lập (dùng lại giữa các lần đo)
        #[arg(long, default_value = "target/bench-data")]
        dir: PathBuf,
        /// Thư mục quy tắc
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        /// Số lần chạy mỗi N; in lần nhanh nhất
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// In kết quả dạng JSON
        #[arg(long)]
        json: bool,
        /// Đo cạnh nhau với tập lệnh Python thông thường (scripts/peer_calamine.py), từng cặp, lấy trung vị
        #[arg(long)]
        peer: bool,
        /// Tập lệnh so sánh
        #[arg(long, default_value = "scripts/peer_calamine.py")]
        peer_script: PathBuf,
    },
    /// (dùng nội bộ bởi `bench`) chạy một lần đo trong tiến trình riêng
    #[command(hide = true)]
    BenchRun {
        #[arg(long)]
        config: PathBuf,
    },
    /// Tạo bộ dữ liệu mẫu: mỗi đơn vị một tệp báo cáo mỗi quý của một năm
    Generate {
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Năm
        #[arg(long)]
        year: i32,
        /// Số hạt giống (cùng số cho cùng dữ liệu)
        #[arg(long, default_value_t = 2022)]
        seed: u64,
        /// Chỉ các quý này của năm, ví dụ 1,2,3 (mặc định cả bốn quý)
        #[arg(long, value_delimiter = ',', default_values_t = [1u8, 2, 3, 4])]
        quarters: Vec<u8>,
        /// Tệp kế hoạch sự cố theo quý (nộp muộn, không nộp, bị trả lại, gửi lại); không có thì chọn theo hạt giống
        #[arg(long)]
        incidents: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// Chạy ngay một việc: collect (đọc thư mục nhận), remind (nhắc đơn vị chưa nộp), report (báo cáo quý đến hạn), yearly (báo cáo năm), retry (gửi lại thư đến hạn thử lại)
    Run {
        /// Tên việc
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UnitsCommand {
    /// In danh sách đơn vị như tthc đọc được (khối, hiệu lực, tiền thân, kế thừa)
    List,
    /// Ghi tệp danh sách đơn vị trống (xlsx) kèm hướng dẫn, để khai trong [registry] file
    Template {
        /// Tệp sẽ ghi
        #[arg(default_value = "don-vi.xlsx")]
        file: PathBuf,
    },
    /// Cấp mã truy cập mới (mã cũ hết hiệu lực) cho mọi đơn vị, hoặc cho các đơn vị nêu tên; in bảng mã dạng CSV (chỉ hiện một lần)
    IssueCodes {
        /// Mã đơn vị (có thể nêu nhiều lần); bỏ trống là mọi đơn vị
        #[arg(long = "unit")]
        units: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum OfficeCommand {
    /// Tạo tài khoản văn phòng, hoặc đặt lại mật khẩu; in mật khẩu mới (chỉ hiện một lần)
    AddUser {
        /// Tên đăng nhập
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Kiểm tra mọi tệp quy tắc, báo mọi lỗi kèm dòng, cột
    Check {
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Thư mục quy tắc, thay cho [rules] dir của cấu hình
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Lập các tệp quy tắc của năm mới từ các tệp đang có hiệu lực cuối năm trước (để xem lại rồi dùng)
    NewYear {
        /// Năm mới, ví dụ 2027
        year: i32,
        #[command(flatten)]
        cfg: ConfigArgs,
        /// Thư mục quy tắc, thay cho [rules] dir của cấu hình
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

enum Failure {
    Config(anyhow::Error),
    Other(anyhow::Error),
}

/// The exit code follows the error's type, wherever it was raised: a
/// located problem in the config or a rule file, or a period no ruleset is
/// in force for, is a config failure (3); anything else is 1.
impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        let config = e.chain().any(|c| {
            c.is::<ConfigError>()
                || c.is::<crate::located::FileErrors>()
                || c.is::<crate::located::FileError>()
                || c.is::<crate::rules::NotInForce>()
        });
        if config {
            Failure::Config(e)
        } else {
            Failure::Other(e)
        }
    }
}

impl From<crate::located::FileErrors> for Failure {
    fn from(e: crate::located::FileErrors) -> Self {
        Failure::Config(e.into())
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(e.into())
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::Other(e.into())
    }
}

type Outcome = Result<Exit, Failure>;

/// Runs a command and returns its exit code; errors are printed once, whole.
pub fn run(cli: Cli) -> Exit {
    // Bars for a person at a terminal; the service writes a log instead.
    if !matches!(cli.command, Command::Serve { .. }) {
        crate::progress::enable_on_terminal();
    }
    let result = match cli.command {
        Command::Template {
            cfg,
            unit,
            period,
            file,
        } => template(&cfg, &unit, period, file),
        Command::Check {
            file,
            config,
            unit,
            period,
            json,
            annotate,
        } => check(
            &file,
            config.as_deref(),
            unit.as_deref(),
            period,
            json,
            annotate.as_deref(),
        ),
        Command::Ingest { cfg, send } => ingest(&cfg, send),
        Command::Ledger { cfg, period } => ledger(&cfg, period),
        Command::Run { cfg, period, send } => run_period(&cfg, period, send),
        Command::Send {
            cfg,
            period,
            resend,
        } => send_period(&cfg, period, resend),
        Command::Jobs { cfg, command } => jobs(&cfg, command),
        Command::Units {
            cfg,
            command: UnitsCommand::IssueCodes { units },
        } => issue_codes(&cfg, &units),
        Command::Units {
            cfg,
            command: UnitsCommand::List,
        } => units_list(&cfg),
        Command::Units {
            cfg,
            command: UnitsCommand::Template { file },
        } => units_template(&cfg, &file),
        Command::Office {
            cfg,
            command: OfficeCommand::AddUser { name },
        } => add_office_user(&cfg, &name),
        Command::Serve { cfg } => serve(&cfg),
        Command::Rules {
            command: RulesCommand::Check { cfg, dir },
        } => rules_check(&cfg, dir),
        Command::Rules {
            command: RulesCommand::NewYear { year, cfg, dir },
        } => rules_new_year(&cfg, dir, year),
        Command::Generate {
            cfg,
            year,
            seed,
            quarters,
            incidents,
        } => generate(&cfg, year, seed, &quarters, incidents.as_deref()),
        Command::Bench {
            units,
            seed,
            dir,
            rules,
            repeat,
            json,
            peer,
            peer_script,
        } => {
            if peer {
                bench_peer(&units, seed, &dir, &rules, repeat, &peer_script, json)
            } else {
                bench(&units, seed, &dir, &rules, repeat, json)
            }
        }
        Command::BenchRun { config } => {
            let started = std::time::Instant::now();
            crate::bench::run_once(&config, started)
                .and_then(|f| Ok(serde_json::to_string(&f)?))
                .map(|line| {
                    say!("{line}");
                    Exit::Ok
                })
                .map_err(Failure::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(Failure::Config(e)) => {
            eprintln!("Lỗi cấu hình hoặc quy tắc:\n{e:#}");
            Exit::Config
        }
        Err(Failure::Other(e)) => {
            eprintln!("Lỗi: {e:#}");
            Exit::Failure
        }
    }
}

fn settings(cfg: &ConfigArgs) -> Result<Settings, Failure> {
    Ok(Settings::load(&cfg.config, &cfg.overrides())?)
}

/// The configuration, loaded once (a problem in it is a config failure),
/// and a connection to its store.
fn open(cfg: &ConfigArgs) -> Result<(Config, Pooled), Failure> {
    let (c, store) = Config::load_beside(&cfg.config, &cfg.overrides(), |data| {
        Pool::open(data).and_then(|pool| pool.get())
    })?;
    let data = &c.settings.paths.data;
    let store = store.with_context(|| format!("mở kho dữ liệu {}", data.display()))?;
    Ok((c, store))
}

fn config(cfg: &ConfigArgs) -> Result<Config, Failure> {
    Ok(Config::load(&cfg.config, &cfg.overrides())?)
}

fn progress(msg: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{msg}");
    }
}

fn template(cfg: &ConfigArgs, unit: &str, period: Period, file: Option<PathBuf>) -> Outcome {
    let Config { settings: s, rules } = config(cfg)?;
    let u = s
        .unit(unit)
        .ok_or_else(|| anyhow!("không có đơn vị mã \"{unit}\" trong {}", s.file.display()))?;
    let Period::Quarter { .. } = period else {
        return Err(anyhow!(
            "mẫu báo cáo lập theo quý, ví dụ --period {}-Q4",
            period.year()
        )
        .into());
    };
    let (name, bytes) =
        crate::report::template::unit_template(&s, &rules, u, period).map_err(|e| anyhow!(e))?;
    let path = file.unwrap_or_else(|| PathBuf::from(name));
    std::fs::write(&path, bytes).with_context(|| format!("ghi {}", path.display()))?;
    say!(
        "Đã ghi mẫu báo cáo {} của {} vào {}",
        period.label_vi(),
        u.name,
        path.display()
    );
    match rules.tasks_for(period) {
        None => say!(
            "Lưu ý: không có tệp nhiệm vụ (kind = \"tasks\") nào có hiệu lực cho {} trong {}, nên sheet nhiệm vụ của mẫu để trống. Nếu kế hoạch năm có nhiệm vụ, thêm tệp nhiệm vụ rồi lập lại mẫu.",
            period.label_vi(),
            s.rules_dir.display()
        ),
        Some(set) if !set.tasks.iter().any(|t| t.leagues.contains(&u.league.0)) => say!(
            "Lưu ý: {} \"{}\" không có nhiệm vụ nào cho khối của {}, nên sheet nhiệm vụ của mẫu để trống.",
            set.file.display(),
            set.name,
            u.name
        ),
        Some(_) => {}
    }
    Ok(Exit::Ok)
}

fn check(
    file: &Path,
    config: Option<&Path>,
    unit: Option<&str>,
    period: Option<Period>,
    json: bool,
    annotate: Option<&Path>,
) -> Outcome {
    let config = config
        .map(Path::to_path_buf)
        .or_else(|| Some(PathBuf::from("tthc.toml")).filter(|p| p.exists()));
    let loaded = match &config {
        Some(c) => Some(Config::load(c, &PathOverrides::default())?),
        None => None,
    };
    let settings = loaded.as_ref().map(|c| &c.settings);
    let forms = loaded.as_ref().map_or(&[][..], |c| &c.rules.forms[..]);
    let bytes = std::fs::read(file).with_context(|| format!("đọc {}", file.display()))?;
    let no_registry = crate::domain::Registry::default();
    let units = settings.as_ref().map_or(&no_registry, |s| &s.units);
    let mode = settings
        .as_ref()
        .map(|s| s.period.window)
        .unwrap_or(crate::domain::WindowMode::Reporting);
    let checked = check_bytes(
        &bytes,
        &Context {
            units,
            expected_unit: unit,
            expected_period: period,
            window_mode: mode,
            file_name: file.file_name().and_then(|n| n.to_str()),
            forms,
        },
    );
    if json {
        let v = serde_json::json!({
            "file": file.display().to_string(),
            "accepted": checked.accepted(),
            "unit": checked.unit,
            "period": checked.period.map(|p| p.to_string()),
            "findings": checked.findings,
        });
        say!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| anyhow!(e))?
        );
    } else {
        if settings.is_none() {
            say!(
                "(Không có tệp cấu hình: không đối chiếu được đơn vị với danh sách đơn vị; dùng --config.)"
            );
        }
        for f in &checked.findings {
            say!("{f}");
        }
        let errors = checked.errors();
        let warnings = checked
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        let who = match (&checked.unit, checked.period) {
            (Some(u), Some(p)) => format!(" ({u}, {})", p.label_vi()),
            _ => String::new(),
        };
        if errors > 0 {
            say!(
                "{}{who}: KHÔNG HỢP LỆ — {errors} lỗi, {warnings} cảnh báo.",
                file.display()
            );
        } else {
            say!("{}{who}: hợp lệ — {warnings} cảnh báo.", file.display());
        }
    }
    if let Some(out) = annotate {
        let wb = crate::intake::read_workbook(&bytes).ok();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let copy = crate::report::annotate::annotate(wb.as_ref(), &checked.findings, &name)
            .map_err(|e| anyhow!(e))?;
        std::fs::write(out, copy).with_context(|| format!("ghi {}", out.display()))?;
        if !json {
            say!("Bản sao có đánh dấu các ô sai: {}", out.display());
        }
    }
    Ok(if checked.accepted() {
        Exit::Ok
    } else {
        Exit::Rejected
    })
}

fn print_ingest(summary: &crate::pipeline::IngestSummary) {
    say!(
        "Thư mục nhận: {} tệp, {} tệp mới, {} hợp lệ, {} bị từ chối.",
        summary.seen,
        summary.new,
        summary.accepted,
        summary.rejected.len()
    );
    for w in &summary.warnings {
        say!("  Cảnh báo: {w}");
    }
    for (file, unit, findings) in &summary.rejected {
        let errors: Vec<_> = findings.iter().filter(|f| f.is_error()).collect();
        say!(
            "  Từ chối {file}{}: {} lỗi",
            unit.as_ref().map(|u| format!(" ({u})")).unwrap_or_default(),
            errors.len()
        );
        for f in errors.iter().take(5) {
            say!("    {f}");
        }
        if errors.len() > 5 {
            say!(
                "    … và {} lỗi khác (xem: tthc check {file})",
                errors.len() - 5
            );
        }
    }
}

fn ingest(cfg: &ConfigArgs, send: bool) -> Outcome {
    let (c, store) = open(cfg)?;
    progress(&format!("Đang đọc {} …", c.settings.paths.inbox.display()));
    let summary = crate::schedule::collect(&c, &store)?;
    print_ingest(&summary);
    print_receipts(&c, &store, &summary, send);
    Ok(Exit::Ok)
}

/// Sends the receipts a read owes, when asked; else says they wait.
fn print_receipts(
    c: &Config,
    store: &Pooled,
    summary: &crate::pipeline::IngestSummary,
    send: bool,
) {
    if c.settings.channel() == Channel::Outbox
        || !c.settings.delivery.receipts
        || summary.recorded.is_empty()
    {
        return;
    }
    if send {
        let sent = crate::schedule::receipts(c, store, &summary.recorded);
        let done = sent.iter().filter(|o| o.status.delivered()).count();
        let owed = sent.iter().filter(|o| !o.status.settled()).count();
        say!(
            "Biên nhận: gửi {done}{}.",
            if owed > 0 {
                format!(", {owed} chưa gửi được (xem: tthc ledger)")
            } else {
                String::new()
            }
        );
    } else {
        say!(
            "Biên nhận cho các tệp mới chờ trong sổ gửi thư: gửi bằng --send, tthc jobs run retry, hoặc để tthc serve gửi."
        );
    }
}

fn print_deliveries(s: &Settings, outcomes: &[crate::deliver::Outcome]) -> bool {
    let mut ok = true;
    for o in outcomes {
        ok &= o.status.settled();
        say!("  {}: {}", o.recipient, crate::words::outcome(s, o));
    }
    ok
}

fn ledger(cfg: &ConfigArgs, period: Option<Period>) -> Outcome {
    let (c, store) = open(cfg)?;
    let rows = match period {
        Some(p) => store.deliveries(&p.to_string())?,
        None => store.all_deliveries(200)?,
    };
    if rows.is_empty() {
        say!(
            "Sổ gửi thư chưa có thư nào{}.",
            period
                .map(|p| format!(" của {}", p.label_vi()))
                .unwrap_or_default()
        );
    }
    for r in &rows {
        say!("{}", crate::words::ledger_line(&c.settings, r));
    }
    let notices = store.pending_notices(false)?;
    if !notices.is_empty() {
        say!("{} thông báo cho văn phòng chưa gửi được:", notices.len());
        for n in notices {
            say!("  {} — {}", n.subject, n.body);
        }
    }
    Ok(Exit::Ok)
}

/// The registry as read: one line per unit, then the count per kind.
fn units_list(cfg: &ConfigArgs) -> Outcome {
    let s = settings(cfg)?;
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%d/%m/%Y").to_string());
    let mut out = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_writer(std::io::stdout());
    out.write_record([
        "Mã",
        "Tên",
        "Khối",
        "Thư điện tử",
        "Hiệu lực từ",
        "Hiệu lực đến",
        "Tiền thân",
        "Kế thừa",
    ])
    .map_err(|e| anyhow!(e))?;
    let mut per_kind: std::collections::BTreeMap<&str, usize> = Default::default();
    for u in s.units.iter() {
        *per_kind.entry(u.league.as_str()).or_default() += 1;
        let before: Vec<&str> = s
            .units
            .predecessors(&u.code)
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        out.write_record([
            u.code.as_str(),
            &u.name,
            u.league.as_str(),
            &u.email,
            &date(u.valid_from).unwrap_or_default(),
            &date(u.valid_to).unwrap_or_default(),
            &before.join("; "),
            u.successor.as_ref().map_or("", |c| c.as_str()),
        ])
        .map_err(|e| anyhow!(e))?;
    }
    out.flush().map_err(|e| anyhow!(e))?;
    let kinds: Vec<String> = per_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    eprintln!("{} đơn vị ({}).", s.units.len(), kinds.join(", "));
    Ok(Exit::Ok)
}

/// An empty registry workbook with instructions; the kinds named are the
/// config's, where one is at hand.
fn units_template(cfg: &ConfigArgs, file: &Path) -> Outcome {
    let kinds: Vec<String> = Settings::load(&cfg.config, &cfg.overrides())
        .map(|s| s.period.deadline_days.keys().cloned().collect())
        .unwrap_or_default();
    let bytes = crate::settings::registry::template(&kinds).map_err(|e| anyhow!(e))?;
    std::fs::write(file, bytes).with_context(|| format!("ghi {}", file.display()))?;
    say!(
        "Đã ghi {}: điền mỗi đơn vị một dòng rồi khai [registry] file = \"{}\" trong tệp cấu hình.",
        file.display(),
        file.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("don-vi.xlsx")
    );
    Ok(Exit::Ok)
}

fn issue_codes(cfg: &ConfigArgs, only: &[String]) -> Outcome {
    let (c, store) = open(cfg)?;
    let mut chosen = Vec::new();
    for code in only {
        match c.settings.units.by_code_any_case(code) {
            Some(u) => chosen.push(u.clone()),
            None => {
                return Err(Failure::Other(anyhow!(
                    "không có đơn vị mã \"{code}\" trong cấu hình"
                )));
            }
        }
    }
    if chosen.is_empty() {
        chosen = c.settings.units.to_vec();
    }
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(["ma_don_vi", "ten_don_vi", "ma_truy_cap"])
        .map_err(|e| anyhow!(e))?;
    for u in &chosen {
        let code = crate::web::issue_unit_code(&store, u)?;
        store
            .audit("dòng lệnh", "cap_ma", &u.code.0, "")
            .map_err(|e| anyhow!(e))?;
        out.write_record([u.code.0.as_str(), u.name.as_str(), code.as_str()])
            .map_err(|e| anyhow!(e))?;
    }
    out.flush().map_err(|e| anyhow!(e))?;
    eprintln!(
        "Đã cấp {} mã truy cập. Mã chỉ in ra lần này; hệ thống chỉ lưu bản băm.",
        chosen.len()
    );
    Ok(Exit::Ok)
}

fn add_office_user(cfg: &ConfigArgs, name: &str) -> Outcome {
    let (c, store) = open(cfg)?;
    let password = crate::web::issue_office_password(&c.settings, &store, name)?;
    store
        .audit("dòng lệnh", "tao_tai_khoan_van_phong", name, "")
        .map_err(|e| anyhow!(e))?;
    println!("{password}");
    eprintln!("Mật khẩu của \"{name}\" (chỉ in ra lần này) ở dòng trên.");
    Ok(Exit::Ok)
}

fn jobs(cfg: &ConfigArgs, command: Option<JobsCommand>) -> Outcome {
    let (c, store) = open(cfg)?;
    if let Some(JobsCommand::Run { name }) = command {
        let job: crate::schedule::Job = name.parse().map_err(|m: String| anyhow!(m))?;
        return match crate::schedule::run_job(&c, &store, job, "manual", chrono::Utc::now()) {
            Ok(summary) => {
                say!("{job}: xong — {summary}");
                Ok(Exit::Ok)
            }
            Err(err) => {
                say!("{job}: thất bại — {err:#}");
                Ok(Exit::Failure)
            }
        };
    }
    let local = |t: &str| c.settings.local_time(t, "%d/%m/%Y %H:%M:%S");
    match store.lease("service")? {
        Some(l) => say!("Dịch vụ đang chạy: {} (từ {})", l.holder, local(&l.since)),
        None => say!("Dịch vụ không chạy."),
    }
    let runs = store.job_runs(50)?;
    if runs.is_empty() {
        say!("Chưa có lần chạy nào.");
    }
    for r in runs {
        let outcome = crate::words::job_outcome_long(r.outcome);
        say!(
            "#{} {} ({}) {} → {}: {outcome} — {}",
            r.id,
            r.job,
            r.trigger,
            local(&r.started_at),
            r.finished_at
                .as_deref()
                .map(local)
                .unwrap_or_else(|| "—".into()),
            r.summary
        );
    }
    Ok(Exit::Ok)
}

fn serve(cfg: &ConfigArgs) -> Outcome {
    // Load everything first, so that a bad config fails here, at once.
    crate::app::serve(config(cfg)?)?;
    Ok(Exit::Ok)
}

fn send_period(cfg: &ConfigArgs, period: Period, resend: bool) -> Outcome {
    let (c, store) = open(cfg)?;
    let publication = crate::pipeline::latest(&c, &store, period)?;
    let mode = if resend {
        crate::deliver::ClaimMode::Force
    } else {
        crate::deliver::ClaimMode::Manual
    };
    let outcomes = crate::deliver::deliver_report(&c, &store, &publication, mode)?;
    say!(
        "Gửi báo cáo {} phiên bản {}:",
        period.label_vi(),
        publication.version
    );
    Ok(if print_deliveries(&c.settings, &outcomes) {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

fn run_period(cfg: &ConfigArgs, period: Period, send: bool) -> Outcome {
    let (c, store) = open(cfg)?;
    progress(&format!(
        "Đang đọc thư mục nhận và chấm điểm {} …",
        period.label_vi()
    ));
    let (summary, outcome) = crate::schedule::run_period(&c, &store, period)?;
    print_ingest(&summary);
    print_receipts(&c, &store, &summary, send);
    let r = &outcome.results;
    let count = |s: crate::rank::Status| r.units().filter(|u| u.status == s).count();
    use crate::rank::Status::*;
    say!(
        "{}: {} đơn vị — {} đúng hạn, {} nộp muộn, {} bị từ chối, {} chưa nộp.",
        period.label_vi(),
        r.units().count(),
        count(OnTime),
        count(Late),
        count(Rejected),
        count(Missing)
    );
    for u in r.units().filter(|u| u.status == Rejected) {
        let first = u
            .findings
            .iter()
            .find(|f| f.is_error())
            .map(|f| f.to_string())
            .unwrap_or_default();
        say!("  Bị từ chối: {} ({}) — {first}", u.name, u.code);
    }
    say!(
        "Báo cáo phiên bản {}{} trong {}:",
        outcome.version,
        if outcome.new_version {
            ""
        } else {
            " (dữ liệu không đổi, ghi lại phiên bản cũ)"
        },
        outcome.dir.display()
    );
    for f in &outcome.files {
        say!("  {}", f.display());
    }
    for f in &outcome.emails {
        say!("  thư: {}", f.display());
    }
    if send && c.settings.channel() == Channel::Smtp {
        // The run just wrote this version's files: deliver them as they are.
        let outcomes = crate::deliver::deliver_report(
            &c,
            &store,
            &outcome.publication,
            crate::deliver::ClaimMode::Auto,
        )?;
        say!("Gửi báo cáo phiên bản {}:", outcome.version);
        if !print_deliveries(&c.settings, &outcomes) {
            return Ok(Exit::Failure);
        }
    }
    Ok(Exit::Ok)
}

fn rules_check(cfg: &ConfigArgs, dir: Option<PathBuf>) -> Outcome {
    let dir = match dir {
        Some(d) => d,
        None => settings(cfg)?.rules_dir,
    };
    match crate::rules::load_dir(&dir) {
        Ok(book) => {
            let file =
                |path: &std::path::Path, what: &str, name: &str, version: &str, has: String| {
                    say!("{}: {what} \"{name}\" {version} — {has}", path.display());
                };
            for f in &book.forms {
                let c = (
                    f.form.columns.len(),
                    f.form.identities.len(),
                    f.form.indicators.len(),
                );
                let has = format!("{} cột Biểu 06, {} đẳng thức, {} chỉ số", c.0, c.1, c.2);
                file(&f.file, "biểu mẫu", &f.name, &f.version, has);
            }
            for r in &book.rulesets {
                let max: f64 = r.criteria.iter().map(|c| c.points).sum();
                let has = format!("{} tiêu chí, {max} điểm", r.criteria.len());
                file(&r.file, "bộ chỉ số", &r.name, &r.version, has);
            }
            for t in &book.targets {
                let has = format!("{} mục tiêu", t.targets.len());
                file(&t.file, "mục tiêu", &t.name, &t.version, has);
            }
            for t in &book.tasks {
                let has = format!("{} nhiệm vụ", t.tasks.len());
                file(&t.file, "nhiệm vụ", &t.name, &t.version, has);
            }
            say!("Hiệu lực theo quý:");
            let spans = crate::rules::coverage::spans(&book);
            for span in &spans {
                let c = span.cover;
                let named = |what: &str, name: Option<(&str, &str)>| match name {
                    Some((n, v)) => format!("{what} \"{n}\" {v}"),
                    None => format!("không có {what}"),
                };
                say!(
                    "  {}: {}; {}; {}; {}",
                    span.label(),
                    named(
                        "biểu mẫu",
                        c.form.map(|r| (r.name.as_str(), r.version.as_str()))
                    ),
                    named(
                        "bộ chỉ số",
                        c.ruleset.map(|r| (r.name.as_str(), r.version.as_str()))
                    ),
                    named(
                        "mục tiêu",
                        c.targets.map(|r| (r.name.as_str(), r.version.as_str()))
                    ),
                    named(
                        "nhiệm vụ",
                        c.tasks.map(|r| (r.name.as_str(), r.version.as_str()))
                    ),
                );
            }
            if let (Some(first), Some(last)) = (spans.first(), spans.last())
                && !last.open
            {
                say!(
                    "  Trước {} và sau {}: không có quy tắc nào; các quý đó không chấm được.",
                    first.from.label_vi(),
                    last.to.label_vi()
                );
            }
            let warnings = crate::rules::coverage::warnings(&book, &spans);
            for w in &warnings {
                say!("Cảnh báo: {w}");
            }
            if warnings.is_empty() {
                say!("Các tệp quy tắc hợp lệ.");
            } else {
                say!(
                    "Các tệp quy tắc hợp lệ, có {} cảnh báo cần xem lại.",
                    warnings.len()
                );
            }
            Ok(Exit::Ok)
        }
        Err(e) => Err(Failure::Config(anyhow!(e))),
    }
}

/// `tthc rules new-year`: the new year's files written beside the old
/// ones, once they load together without an error.
fn rules_new_year(cfg: &ConfigArgs, dir: Option<PathBuf>, year: i32) -> Outcome {
    let dir = match dir {
        Some(d) => d,
        None => settings(cfg)?.rules_dir,
    };
    let book = crate::rules::load_dir(&dir)?;
    let plan = crate::rules::new_year::plan(&book, year).map_err(|e| Failure::Config(e.into()))?;
    for f in &plan.files {
        if f.path.exists() {
            return Err(Failure::Other(anyhow!(
                "{} đã có: không ghi đè — đổi tên hoặc xóa tệp đó trước",
                f.path.display()
            )));
        }
    }
    // Checked as the folder will be, before anything is written.
    let trial = tempfile_dir(&dir)?;
    for f in &plan.files {
        let name = f.path.file_name().unwrap_or_default();
        std::fs::write(trial.join(name), &f.text).map_err(|e| anyhow!(e))?;
    }
    let checked = crate::rules::load_dir(&trial);
    let _ = std::fs::remove_dir_all(&trial);
    checked?;
    for f in &plan.files {
        std::fs::write(&f.path, &f.text).with_context(|| format!("ghi {}", f.path.display()))?;
        say!("Đã ghi {} (từ {})", f.path.display(), f.from.display());
    }
    for k in &plan.kept {
        say!(
            "Giữ nguyên {}: tệp này đã có hiệu lực cho năm {year}",
            k.display()
        );
    }
    if plan.files.is_empty() {
        say!("Không có tệp nào cần lập cho năm {year}.");
    } else {
        say!(
            "Xem lại mục tiêu, nhiệm vụ và hạn trong các tệp mới theo kế hoạch năm {year}, rồi chạy: tthc rules check"
        );
    }
    Ok(Exit::Ok)
}

/// A scratch copy of a rule folder's files, to try a change on.
fn tempfile_dir(dir: &std::path::Path) -> Result<PathBuf, Failure> {
    let trial = std::env::temp_dir().join(format!(
        "tthc-rules-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&trial).map_err(|e| anyhow!(e))?;
    for e in std::fs::read_dir(dir).with_context(|| format!("đọc {}", dir.display()))? {
        let p = e.map_err(|e| anyhow!(e))?.path();
        if p.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&p, trial.join(p.file_name().unwrap_or_default()))
                .map_err(|e| anyhow!(e))?;
        }
    }
    Ok(trial)
}

fn bench(
    sizes: &[usize],
    seed: u64,
    dir: &std::path::Path,
    rules: &std::path::Path,
    repeat: usize,
    json: bool,
) -> Outcome {
    let (rules, exe) = bench_setup(rules, "bench")?;
    let mut all = Vec::new();
    for &n in sizes {
        let org = dir.join(format!("n{n}"));
        let t = std::time::Instant::now();
        let cfg = crate::bench::generate_org(&org, n, seed, &rules)?;
        progress(&format!(
            "N = {n}: dữ liệu sẵn sàng ({:.1} s)",
            t.elapsed().as_secs_f64()
        ));
        let mut best: Option<crate::bench::RunFigures> = None;
        // One run first to warm the file cache, then the measured runs.
        for i in 0..=repeat.max(1) {
            let f = crate::bench::measured_run(&exe, &cfg, n)?;
            if i > 0
                && best
                    .as_ref()
                    .is_none_or(|b| f.process_seconds < b.process_seconds)
            {
                best = Some(f);
            }
        }
        all.extend(best);
    }
    if json {
        say!("{}", pretty_json(&all)?);
    } else {
        say!(
            "tthc bench — {} lõi, lần nhanh nhất trong {repeat} lần chạy mỗi N (sau một lần làm nóng){}",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            crate::bench::table(&all)
        );
        if all.len() > 1 {
            let first = &all[0];
            say!("\nTăng theo N (thời gian cả tiến trình / số đơn vị):");
            for f in &all {
                say!(
                    "  N = {:>5}: {:.3} s, {:.2} ms/đơn vị, ×{:.1} so với N = {}",
                    f.units,
                    f.process_seconds,
                    1000.0 * f.process_seconds / f.units as f64,
                    f.process_seconds / first.process_seconds,
                    first.units
                );
            }
        }
    }
    Ok(Exit::Ok)
}

/// Figures as indented JSON, for `--json`.
fn pretty_json(v: &impl serde::Serialize) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(v).map_err(|e| anyhow!(e))?)
}

/// The rule folder and this executable, for a benchmark; a debug build
/// is said to measure nothing worth comparing.
fn bench_setup(rules: &Path, command: &str) -> Result<(PathBuf, PathBuf), Failure> {
    if cfg!(debug_assertions) {
        eprintln!(
            "Lưu ý: đây là bản debug — số đo chỉ có nghĩa với bản release: cargo run --release -- {command}"
        );
    }
    let rules = std::fs::canonicalize(rules)
        .with_context(|| format!("không thấy thư mục quy tắc {}", rules.display()))?;
    let exe = std::env::current_exe().context("tìm tệp chạy tthc")?;
    Ok((rules, exe))
}

/// `tthc bench --peer`: `tthc run` and the Python script, side by side.
fn bench_peer(
    sizes: &[usize],
    seed: u64,
    dir: &Path,
    rules: &Path,
    repeat: usize,
    script: &Path,
    json: bool,
) -> Outcome {
    let (rules, exe) = bench_setup(rules, "bench --peer")?;
    let script = std::fs::canonicalize(script)
        .with_context(|| format!("không thấy tập lệnh {}", script.display()))?;
    let mut all = Vec::new();
    for &n in sizes {
        let org = dir.join(format!("n{n}"));
        let cfg = crate::bench::generate_org(&org, n, seed, &rules)?;
        progress(&format!("N = {n}: {repeat} cặp lần chạy…"));
        let mut pairs = crate::bench::peer::pairs(&exe, &cfg, &script, n, repeat)?;
        pairs.bound = Some(crate::bench::measured_run(&exe, &cfg, n)?.bound_seconds());
        all.push(pairs);
    }
    if json {
        say!("{}", pretty_json(&all)?);
    } else {
        say!(
            "tthc run và tập lệnh Python (python-calamine, xlsxwriter, typst) trên cùng các tệp, cả tiến trình, trung vị của {repeat} cặp (sau một cặp làm nóng), {} lõi:{}",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            crate::bench::peer::table(&all)
        );
    }
    Ok(Exit::Ok)
}

fn generate(
    cfg: &ConfigArgs,
    year: i32,
    seed: u64,
    quarters: &[u8],
    incidents: Option<&Path>,
) -> Outcome {
    let Config { settings: s, rules } = config(cfg)?;
    let plan = incidents
        .map(crate::bench::synth::IncidentPlan::load)
        .transpose()?;
    let written =
        crate::bench::synth::write_quarters(&s, &rules, year, quarters, seed, plan.as_ref())?;
    say!(
        "Đã tạo {written} tệp báo cáo mẫu trong {}",
        s.paths.inbox.display()
    );
    Ok(Exit::Ok)
}
