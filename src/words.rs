//! The one place that words a state for people: a unit's standing in a
//! quarter (for the reports, the board and the unit's page), what became of a letter, a ledger row, a job and its run, an
//! action of the audit log. The command line, the portal, the job
//! summaries and the letters all take their words from here.

use crate::domain::{
    Channel, DeliveryState, LedgerKey, LetterOutcome as Outcome, LetterStatus as Sent, Skip,
};
use crate::rank::Status;
use crate::settings::Settings;
use crate::store::{DeliveryRow, JobOutcome, QUEUED_NOTE};

/// Where a unit stands, as the reports say it (xlsx, pdf).
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::OnTime => "Đúng hạn",
        Status::Late => "Nộp muộn",
        Status::Missing => "Chưa nộp",
        Status::Rejected => "Bị từ chối",
    }
}

/// Where a unit stands, as the unit's own page says it, with what to do:
/// the words and the class the page styles them with.
pub fn status_for_unit(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Late => ("Đã nộp, muộn hạn", "late"),
        Status::OnTime => ("Đã nộp", "ok"),
        Status::Rejected => ("Bị từ chối: sửa lỗi rồi gửi lại", "bad"),
        Status::Missing => ("Chưa nộp", "none"),
    }
}

/// Where a unit stands in a quarter, as the office's board says it: the
/// words, and the class the page styles them with.
pub fn unit_status(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::OnTime => ("Đã nộp", "ok"),
        Status::Late => ("Nộp muộn", "late"),
        Status::Missing => ("Chưa nộp", "none"),
        Status::Rejected => ("Bị từ chối", "bad"),
    }
}

/// A stored time as letters and the command line say it: the minute and
/// the day, in the organisation's time zone.
pub fn minute(s: &Settings, t: &str) -> String {
    s.local_time(t, "%H:%M ngày %d/%m/%Y")
}

/// What became of a copy, in words for the office (the command line and
/// the job summaries use these).
pub fn outcome(s: &Settings, o: &Outcome) -> String {
    let mut text = match &o.status {
        Sent::Sent => format!("đã gửi (máy chủ trả lời: {})", o.detail),
        Sent::Written => format!("đã ghi vào hộp thư đi: {}", o.detail),
        Sent::Retry => format!("chưa gửi được, sẽ thử lại: {}", o.detail),
        Sent::Failed => format!(
            "gửi thất bại: {} — sửa nguyên nhân rồi gửi lại bằng tthc send",
            o.detail
        ),
        Sent::Postponed => "hoãn: dịch vụ đang dừng; gửi ở lần chạy sau".into(),
        Sent::Skipped(skip) => skipped(s, skip),
    };
    if o.uncertain {
        text.push_str(
            " (có thể trùng một lần gửi trước mà máy chủ đã nhận nhưng không kịp trả lời)",
        );
    }
    text
}

/// Why a copy was not tried, in words for the office.
pub fn skipped(s: &Settings, skip: &Skip) -> String {
    match skip {
        Skip::Received { at } => format!(
            "bỏ qua: nơi nhận đã nhận thư này lúc {} (gửi lại: --resend)",
            minute(s, at)
        ),
        Skip::InProgress => "bỏ qua: một tiến trình khác đang gửi thư này".into(),
        Skip::Failed { why } => {
            format!("bỏ qua: đã gửi thất bại trước đây ({why}); gửi lại bằng tthc send")
        }
        Skip::NotDue { at } => format!("chờ thử lại lúc {}", minute(s, at)),
    }
}

/// Which letter a ledger row is.
pub fn letter(key: &str, version: i64) -> String {
    match LedgerKey::from_parts(key, version) {
        Some(LedgerKey::Receipt { submission }) => format!("biên nhận tệp số {submission}"),
        Some(LedgerKey::Reminder { period }) => format!("thư nhắc {period}"),
        Some(LedgerKey::Report { period, version }) => {
            format!("báo cáo {period} phiên bản {version}")
        }
        None => format!("{key} ({version})"),
    }
}

/// Where a ledger row stands. A letter queued and not tried yet is
/// waiting to go, not waiting to be tried again.
pub fn delivery_state(s: &Settings, r: &DeliveryRow) -> String {
    let next = r.next_attempt_at.as_deref();
    match r.status {
        DeliveryState::Sent => "đã gửi".into(),
        DeliveryState::Written => "đã ghi vào hộp thư đi".into(),
        DeliveryState::Sending => "đang gửi".into(),
        DeliveryState::Retry if r.attempts == 0 => QUEUED_NOTE.into(),
        DeliveryState::Retry => match next {
            Some(t) => format!("chờ thử lại lúc {}", minute(s, t)),
            None => "chờ thử lại".into(),
        },
        DeliveryState::Failed => "thất bại".into(),
    }
}

/// A ledger row's note for people: none for a letter merely queued (its
/// state says so).
pub fn delivery_detail(r: &DeliveryRow) -> &str {
    if r.detail == QUEUED_NOTE {
        ""
    } else {
        &r.detail
    }
}

/// How a letter goes.
pub fn channel(c: Channel) -> &'static str {
    match c {
        Channel::Smtp => "thư điện tử",
        Channel::Outbox => "hộp thư đi",
    }
}

/// One ledger row as a line for the office.
pub fn ledger_line(s: &Settings, r: &DeliveryRow) -> String {
    let mut line = format!(
        "{} → {}: {}; {} lần thử; cập nhật {}",
        letter(&r.period, r.version),
        r.recipient,
        delivery_state(s, r),
        r.attempts,
        minute(s, &r.updated_at)
    );
    let detail = delivery_detail(r);
    if !detail.is_empty() {
        line.push_str(&format!(" — {detail}"));
    }
    if r.uncertain {
        line.push_str(" (có thể đã trùng một lần)");
    }
    line
}

/// A job by its name.
pub fn job(name: &str) -> &str {
    match name {
        "collect" => "Đọc thư mục nhận",
        "remind" => "Nhắc nộp báo cáo",
        "report" => "Báo cáo quý",
        "yearly" => "Báo cáo năm",
        "retry" => "Gửi lại thư",
        other => other,
    }
}

/// What started a job run.
pub fn trigger(t: &str) -> String {
    match t {
        "manual" => "chạy tay".into(),
        "schedule" => "theo lịch".into(),
        "catch-up" => "chạy bù".into(),
        "retry" => "thử lại".into(),
        other => match other.strip_prefix(crate::store::PORTAL_TRIGGER) {
            Some(who) => format!("từ cổng thông tin ({who})"),
            None => other.into(),
        },
    }
}

/// How a job run ended, briefly (the portal's table).
pub fn job_outcome(o: Option<JobOutcome>) -> &'static str {
    match o {
        Some(JobOutcome::Ok) => "xong",
        Some(JobOutcome::Failed) => "lỗi",
        Some(JobOutcome::Stopped) => "dừng giữa chừng",
        Some(JobOutcome::Interrupted) => "bị ngắt",
        None => "đang chạy",
    }
}

/// How a job run ended, with what happens next (the command line).
pub fn job_outcome_long(o: Option<JobOutcome>) -> &'static str {
    match o {
        Some(JobOutcome::Ok) => "xong",
        Some(JobOutcome::Stopped) => "dừng khi tắt dịch vụ (làm tiếp khi khởi động lại)",
        Some(JobOutcome::Interrupted) => {
            "bị ngắt (tiến trình dừng đột ngột; làm lại khi khởi động)"
        }
        Some(JobOutcome::Failed) => "thất bại",
        None => "đang chạy",
    }
}

/// An audit action in words, with its code for searching.
pub fn audit_action(code: &str) -> String {
    let words = match code {
        "dang_nhap" => "đăng nhập",
        "dang_nhap_sai" => "đăng nhập sai",
        "dang_nhap_bi_khoa" => "đăng nhập khi đang bị khóa",
        "dang_xuat" => "đăng xuất",
        "nop_bao_cao" => "nộp báo cáo",
        "tu_choi_tep" => "từ chối tệp không phải bảng tính",
        "tai_mau" => "tải mẫu báo cáo",
        "tai_tep_danh_dau" => "tải tệp đánh dấu lỗi",
        "tai_tep_goc" => "tải tệp gốc",
        "tai_bao_cao" => "tải báo cáo",
        "lap_bao_cao" => "lập báo cáo",
        "gui_nhac" => "gửi thư nhắc",
        "cap_ma" => "cấp mã truy cập",
        "mo_khoa" => "mở khóa đăng nhập",
        "vuot_han_muc" => "vượt hạn mức gửi tệp",
        "tao_tai_khoan_van_phong" => "tạo tài khoản văn phòng",
        _ => return code.to_string(),
    };
    format!("{words} ({code})")
}

/// A field of a rule expression as a person names it: a Form 06 column by
/// its number and words, an indicator by its label.
fn field_words(form: &crate::domain::Form, code: &str) -> Option<String> {
    if let Some(c) = form.column(code) {
        let group = form.groups.iter().find(|g| g.code == c.group);
        return Some(match group {
            Some(g) if c.total => format!("cột ({}) {}", c.number, g.label.to_lowercase()),
            Some(g) => format!(
                "cột ({}) {} — {}",
                c.number,
                g.label.to_lowercase(),
                c.label.to_lowercase()
            ),
            None => format!("cột ({}) {}", c.number, c.label.to_lowercase()),
        });
    }
    form.indicator(code).map(|i| format!("“{}”", i.label))
}

/// A rule expression in words: each field by its name on the form.
pub fn expression(form: &crate::domain::Form, source: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            out.push_str(&field_words(form, word).unwrap_or_else(|| word.clone()));
            word.clear();
        }
    };
    for c in source.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// How a criterion is computed, in words: what it measures, how the
/// measure becomes points, and what a zero denominator gives.
pub fn criterion(form: &crate::domain::Form, c: &crate::rules::Criterion) -> String {
    use crate::rules::{Measure, ZeroPolicy};
    let measure = match &c.measure {
        Measure::Ratio {
            numerator,
            denominator,
        } => format!(
            "{} chia cho {}",
            expression(form, &numerator.source),
            expression(form, &denominator.source)
        ),
        Measure::Value(v) => expression(form, &v.source),
    };
    let zero = match (&c.measure, c.zero_denominator) {
        (Measure::Value(_), _) => String::new(),
        (_, ZeroPolicy::Full) => "; mẫu số bằng 0: đủ điểm".into(),
        (_, ZeroPolicy::Zero) => "; mẫu số bằng 0: 0 điểm".into(),
        (_, ZeroPolicy::Exclude) => "; mẫu số bằng 0: không tính, thang điểm quy đổi lại".into(),
    };
    format!(
        "{measure}; {}; tối đa {} điểm{zero}",
        c.shape.describe(),
        format!("{}", c.points).replace('.', ",")
    )
}
