//! Synthetic but plausible quarterly workbooks, reproducible from a seed:
//! the sample district's year and test fixtures are made with it. Units
//! differ in size, online share, digitisation, petitions, satisfaction and
//! waiting time, and improve (or not) from quarter to quarter; dossiers
//! pending at the end of a quarter are carried into the next.

use crate::domain::{Period, TaskStatus, Unit};
use crate::report::template::{TaskLine, WorkbookContent, default_linh_vuc, write_workbook};
use crate::rules::{Due, RuleBook};
use crate::settings::Settings;
use anyhow::{Context, Result, anyhow};
use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::HashMap;
use std::fmt::Write as _;

/// A small, fixed generator (SplitMix64): the samples must come out the
/// same on every machine and with every crate version, which a library
/// generator does not promise.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.range(0.0, 1.0) < p
    }
}

pub(crate) fn seed_of(code: &str, seed: u64) -> u64 {
    code.bytes().fold(seed.wrapping_mul(1_000_003), |h, b| {
        h.wrapping_mul(131).wrapping_add(u64::from(b))
    })
}

/// The lasting traits of a unit.
#[derive(Debug, Clone)]
pub struct Profile {
    pub volume: f64,
    pub online: f64,
    pub digitise: f64,
    pub reuse: f64,
    pub speed: f64,
    pub satisfaction: f64,
    pub wait: f64,
    pub tthc: i64,
    pub fields: Vec<String>,
}

/// What an office handles, for its lĩnh vực rows and size.
fn office_fields(name: &str) -> (Vec<&'static str>, f64, i64) {
    let n = crate::domain::ascii_fold(name);
    let pick = |k: &str| n.contains(k);
    if pick("tai nguyen") {
        (vec!["Đất đai", "Môi trường", "Tài nguyên nước"], 2600.0, 60)
    } else if pick("tu phap") {
        (vec!["Chứng thực", "Hộ tịch", "Nuôi con nuôi"], 1800.0, 45)
    } else if pick("tai chinh") {
        (
            vec![
                "Thành lập và hoạt động của hộ kinh doanh",
                "Thành lập và hoạt động của hợp tác xã",
                "Quản lý công sản",
            ],
            1200.0,
            40,
        )
    } else if pick("lao dong") {
        (vec!["Bảo trợ xã hội", "Người có công", "Trẻ em"], 900.0, 55)
    } else if pick("kinh te") {
        (
            vec![
                "Hoạt động xây dựng",
                "Giao thông đường bộ",
                "Lưu thông hàng hóa trong nước",
            ],
            700.0,
            50,
        )
    } else if pick("van phong") {
        (vec!["Tiếp công dân", "Giải quyết khiếu nại"], 150.0, 12)
    } else if pick("noi vu") {
        (
            vec!["Tôn giáo", "Thi đua, khen thưởng", "Công chức, viên chức"],
            160.0,
            30,
        )
    } else if pick("van hoa") {
        (
            vec!["Văn hóa cơ sở", "Gia đình", "Thông tin điện tử"],
            140.0,
            25,
        )
    } else if pick("giao duc") {
        (
            vec![
                "Giáo dục mầm non",
                "Giáo dục tiểu học",
                "Văn bằng, chứng chỉ",
            ],
            260.0,
            35,
        )
    } else if pick("y te") {
        (vec!["Y tế dự phòng", "Dược phẩm"], 90.0, 12)
    } else if pick("nong nghiep") {
        (
            vec!["Trồng trọt", "Thủy lợi", "Phát triển nông thôn"],
            200.0,
            30,
        )
    } else if pick("thanh tra") {
        (
            vec!["Giải quyết khiếu nại", "Giải quyết tố cáo", "Tiếp công dân"],
            30.0,
            10,
        )
    } else {
        (vec!["Lĩnh vực chung"], 100.0, 20)
    }
}

pub fn profile(unit: &Unit, seed: u64) -> Profile {
    let mut rng = Rng::new(seed_of(&unit.code.0, seed));
    let (fields, volume, tthc) = if unit.league.0 == "xa" {
        (
            default_linh_vuc("xa")
                .into_iter()
                .take(6)
                .collect::<Vec<_>>(),
            rng.range(160.0, 460.0),
            rng.int(115, 160),
        )
    } else {
        let (f, v, t) = office_fields(&unit.name);
        (
            f.into_iter().map(String::from).collect(),
            v * rng.range(0.8, 1.2),
            t + rng.int(-3, 5),
        )
    };
    Profile {
        volume,
        online: rng.range(0.12, 0.62),
        digitise: rng.range(0.12, 0.7),
        reuse: rng.range(0.08, 0.45),
        speed: rng.range(0.86, 0.995),
        satisfaction: rng.range(0.8, 0.995),
        wait: rng.range(9.0, 34.0),
        tthc,
        fields,
    }
}

/// One unit's quarter: rows, indicators and task statuses.
pub fn quarter_content(
    unit: &Unit,
    p: &Profile,
    period: Period,
    carried: &mut HashMap<String, i64>,
    rules: &RuleBook,
    s: &Settings,
    seed: u64,
) -> WorkbookContent {
    let Period::Quarter { quarter, .. } = period else {
        unreachable!("samples are made per quarter")
    };
    let mut rng = Rng::new(seed_of(&format!("{}{period}", unit.code), seed));
    let growth = 1.0 + 0.06 * f64::from(quarter - 1);
    let online = (p.online * growth + rng.range(-0.04, 0.05)).clamp(0.02, 0.95);
    let form = rules.form_in_force(period);
    let mut rows = Vec::new();
    let mut nhan_tong = 0i64;
    let weights: Vec<f64> = p.fields.iter().map(|_| rng.range(0.3, 1.7)).collect();
    let wsum: f64 = weights.iter().sum();
    let mut total_da = 0;
    for (lv, w) in p.fields.iter().zip(&weights) {
        let n = ((p.volume * rng.range(0.85, 1.15) * w / wsum).round() as i64).max(0);
        let truc_tuyen =
            ((n as f64) * (online + rng.range(-0.05, 0.05)).clamp(0.0, 1.0)).round() as i64;
        let truc_tiep = n - truc_tuyen;
        let ky_truoc = carried
            .get(lv)
            .copied()
            .unwrap_or_else(|| rng.int(0, (n / 12).max(1)));
        let nhan = n + ky_truoc;
        let dang = ((nhan as f64) * rng.range(0.03, 0.11)).round() as i64;
        let dang_qua = ((dang as f64) * (1.0 - p.speed) * rng.range(0.0, 2.0))
            .round()
            .min(dang as f64) as i64;
        let da = nhan - dang;
        let qua = ((da as f64) * (1.0 - p.speed) * rng.range(0.3, 1.4))
            .round()
            .min(da as f64) as i64;
        let truoc = (((da - qua) as f64) * rng.range(0.3, 0.75)).round() as i64;
        let dung = da - qua - truoc;
        carried.insert(lv.clone(), dang);
        total_da += da;
        // By the codes of the shipped forms; a column of another form
        // is left at 0.
        let made = [
            ("nhan_tong", nhan),
            ("nhan_truc_tuyen", truc_tuyen),
            ("nhan_truc_tiep", truc_tiep),
            ("nhan_ky_truoc", ky_truoc),
            ("da_giai_quyet", da),
            ("truoc_han", truoc),
            ("dung_han", dung),
            ("qua_han", qua),
            ("dang_giai_quyet", dang),
            ("trong_han", dang - dang_qua),
            ("dang_qua_han", dang_qua),
        ];
        let values = form
            .columns
            .iter()
            .map(|c| {
                made.iter()
                    .find(|(code, _)| *code == c.code)
                    .map_or(0, |(_, v)| *v)
            })
            .collect();
        nhan_tong += nhan;
        rows.push((lv.clone(), Some(values)));
    }
    let nhan_f = nhan_tong as f64;
    let tthc = p.tthc;
    let cong_khai = tthc - rng.int(0, 3).min(tthc);
    let truc_tuyen_tthc = ((tthc as f64) * (0.55 + 0.4 * online).min(1.0)).round() as i64;
    let co_phi = ((tthc as f64) * rng.range(0.15, 0.35)).round() as i64;
    let ho_so_co_phi = (nhan_f * rng.range(0.15, 0.4)).round() as i64;
    let pakn = if rng.chance(0.35) { 0 } else { rng.int(1, 7) };
    let pakn_dung = (pakn as f64 * rng.range(0.6, 1.0)).round() as i64;
    let pakn_trong = rng.int(0, pakn - pakn_dung);
    let phieu = if rng.chance(0.06) {
        0
    } else {
        (nhan_f * rng.range(0.08, 0.55)).round() as i64
    };
    let hai_long =
        ((phieu as f64) * (p.satisfaction + rng.range(-0.03, 0.01)).clamp(0.0, 1.0)).round() as i64;
    let wait =
        ((p.wait - 1.2 * f64::from(quarter) + rng.range(-2.5, 2.5)).max(5.0) * 10.0).round() / 10.0;
    let values: [f64; 19] = [
        tthc as f64,
        cong_khai as f64,
        if rng.chance(0.92) { 1.0 } else { 0.0 },
        (nhan_f * rng.range(0.82, 1.0)).round(),
        truc_tuyen_tthc as f64,
        ((truc_tuyen_tthc as f64) * (0.2 + 0.6 * online).min(1.0)).round(),
        co_phi as f64,
        ((co_phi as f64) * rng.range(0.4, 1.0)).round(),
        ho_so_co_phi as f64,
        ((ho_so_co_phi as f64) * (online + rng.range(-0.1, 0.1)).clamp(0.0, 1.0)).round(),
        ((total_da as f64) * (p.digitise * growth + rng.range(-0.05, 0.1)).clamp(0.0, 1.0)).round(),
        (nhan_f * (p.digitise * growth + rng.range(-0.05, 0.05)).clamp(0.0, 1.0)).round(),
        (nhan_f * (p.reuse * growth + rng.range(-0.04, 0.04)).clamp(0.0, 1.0)).round(),
        pakn as f64,
        pakn_dung as f64,
        pakn_trong as f64,
        phieu as f64,
        hai_long as f64,
        wait,
    ];
    let indicator_rows = crate::report::template::indicator_rows(rules, &unit.league.0, period);
    let (_, end) = period.window(s.period.window);
    let tasks = rules
        .tasks_for(period)
        .map(|set| {
            set.tasks
                .iter()
                .filter(|t| t.leagues.contains(&unit.league.0))
                .map(|t| {
                    let due = match t.due {
                        Due::Date(d) => d,
                        Due::Quarterly => end,
                    };
                    let (status, done_on, document) = if due > end + Days::new(60) {
                        (Some(TaskStatus::NotStarted), None, None)
                    } else if rng.chance(0.85) {
                        let d = if rng.chance(0.85) {
                            due - Days::new(rng.int(0, 12) as u64)
                        } else {
                            due + Days::new(rng.int(2, 20) as u64)
                        };
                        let d = d.min(end);
                        (
                            Some(TaskStatus::Done),
                            Some(d),
                            Some(format!("{}/KH-UBND", rng.int(10, 250))),
                        )
                    } else if rng.chance(0.5) {
                        (Some(TaskStatus::InProgress), None, None)
                    } else {
                        (Some(TaskStatus::NotStarted), None, None)
                    };
                    TaskLine {
                        code: t.code.clone(),
                        content: t.content.clone(),
                        status,
                        done_on,
                        document,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    const PREPARERS: [&str; 8] = [
        "Nguyễn Thị Hoa",
        "Trần Văn Nam",
        "Phạm Thị Thu",
        "Vũ Đức Minh",
        "Đỗ Thị Lan",
        "Lê Văn Bình",
        "Hoàng Thị Hằng",
        "Ngô Quang Huy",
    ];
    let mut indicators: Vec<Option<f64>> = indicator_rows
        .iter()
        .map(|i| Some(indicator_value(i, &values, nhan_f, &mut rng)))
        .collect();
    fit_parts(form, &rows, &indicator_rows, &mut indicators);
    WorkbookContent {
        unit_code: unit.code.0.clone(),
        unit_name: unit.name.clone(),
        period,
        window: period.window(s.period.window),
        groups: form.groups.clone(),
        columns: form.columns.clone(),
        rows,
        indicators,
        indicator_rows,
        tasks,
        task_columns: form.task_columns.clone(),
        preparer: Some(PREPARERS[rng.int(0, 7) as usize].to_string()),
        phone: Some(format!("0228.38{:05}", rng.int(10000, 99999))),
        total_formulas: rng.chance(0.5),
    }
}

/// A workbook's received time: a working hour between the window's end and
/// the deadline, or `late_days` after the deadline.
pub(crate) fn received_at(
    rng: &mut Rng,
    end: NaiveDate,
    deadline: NaiveDate,
    late_days: Option<u64>,
) -> NaiveDateTime {
    let day = match late_days {
        Some(d) => deadline + Days::new(d),
        None => end + Days::new(rng.int(1, (deadline - end).num_days().max(1)) as u64),
    };
    let time = NaiveTime::from_hms_opt(rng.int(7, 16) as u32, rng.int(0, 59) as u32, 0)
        .unwrap_or_default();
    day.and_time(time)
}

/// What goes wrong in a quarter of a sample: units that send late (days
/// after the deadline), send nothing, send a workbook with an arithmetic
/// error and leave it, or send one and then a corrected one.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incidents {
    #[serde(default)]
    pub late: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub missing: Vec<String>,
    #[serde(default)]
    pub rejected: Vec<String>,
    #[serde(default)]
    pub resent: Vec<String>,
}

/// A sample's planned incidents, quarter by quarter (`--incidents FILE`):
/// `[quarters."2025-Q3"]` tables of `Incidents`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentPlan {
    #[serde(default)]
    pub quarters: std::collections::BTreeMap<String, Incidents>,
}

impl IncidentPlan {
    pub fn load(path: &std::path::Path) -> Result<IncidentPlan> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("đọc {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("đọc {}", path.display()))
    }
}

/// The incidents of a quarter without a plan: picked by the seed among
/// the units that report it, two late, one missing, one rejected and one
/// re-sent (fewer in a small organisation).
pub fn incidents(period: Period, units: &[&Unit], seed: u64) -> Incidents {
    let mut rng = Rng::new(seed_of(&format!("incidents {period}"), seed));
    let mut pool: Vec<&str> = units.iter().map(|u| u.code.0.as_str()).collect();
    let mut pick = |rng: &mut Rng| -> Option<String> {
        (pool.len() > 4).then(|| {
            pool.remove(rng.int(0, pool.len() as i64 - 1) as usize)
                .to_string()
        })
    };
    let mut inc = Incidents::default();
    for _ in 0..2 {
        if let Some(c) = pick(&mut rng) {
            inc.late.insert(c, rng.int(1, 4) as u64);
        }
    }
    inc.missing.extend(pick(&mut rng));
    inc.rejected.extend(pick(&mut rng));
    inc.resent.extend(pick(&mut rng));
    inc
}

/// Writes one workbook per unit per quarter of `year` into the inbox, in a
/// folder per quarter with its incoming-document register.
pub fn write_year(s: &Settings, rules: &RuleBook, year: i32, seed: u64) -> Result<usize> {
    write_quarters(s, rules, year, &[1, 2, 3, 4], seed, None)
}

/// A unit's profile; a unit formed by merging handles its predecessors'
/// dossiers together.
fn sized_profile(s: &Settings, unit: &Unit, seed: u64) -> Profile {
    let mut p = profile(unit, seed);
    let merged = s.units.predecessors(&unit.code).len();
    if merged > 1 {
        p.volume *= merged as f64;
    }
    p
}

/// `write_year` for some quarters of the year, with a plan of incidents
/// (without one, they are picked by the seed).
pub fn write_quarters(
    s: &Settings,
    rules: &RuleBook,
    year: i32,
    quarters: &[u8],
    seed: u64,
    plan: Option<&IncidentPlan>,
) -> Result<usize> {
    let mut written = 0;
    let mut carried: HashMap<String, HashMap<String, i64>> = HashMap::new();
    for q in 1..=4u8 {
        let period = Period::quarter(year, q);
        let (_, end) = period.window(s.period.window);
        let reporting: Vec<&Unit> = s.units.iter().filter(|u| u.reports_at(end)).collect();
        // A merged unit's first quarter carries in what its predecessors
        // left pending.
        for unit in &reporting {
            if carried.contains_key(&unit.code.0) {
                continue;
            }
            let mut sum: HashMap<String, i64> = HashMap::new();
            for p in s.units.predecessors(&unit.code) {
                for (lv, n) in carried.get(&p.code.0).into_iter().flatten() {
                    *sum.entry(lv.clone()).or_default() += n;
                }
            }
            if !sum.is_empty() {
                carried.insert(unit.code.0.clone(), sum);
            }
        }
        if !quarters.contains(&q) {
            // Still made, for what it carries into the next quarter.
            for unit in &reporting {
                let p = sized_profile(s, unit, seed);
                let c = carried.entry(unit.code.0.clone()).or_default();
                quarter_content(unit, &p, period, c, rules, s, seed);
            }
            continue;
        }
        let dir = s.paths.inbox.join(period.to_string());
        std::fs::create_dir_all(&dir).with_context(|| format!("tạo {}", dir.display()))?;
        let inc = match plan {
            Some(plan) => plan
                .quarters
                .get(&period.to_string())
                .cloned()
                .unwrap_or_default(),
            None => incidents(period, &reporting, seed),
        };
        let mut register = String::from("Tên tệp,Thời điểm nhận\n");
        let mut rng = Rng::new(seed_of(&period.to_string(), seed));
        for unit in reporting {
            let p = sized_profile(s, unit, seed);
            let mut content = quarter_content(
                unit,
                &p,
                period,
                carried.entry(unit.code.0.clone()).or_default(),
                rules,
                s,
                seed,
            );
            let code = &unit.code.0;
            if inc.missing.contains(code) {
                continue;
            }
            let direct = content
                .columns
                .iter()
                .position(|c| c.code == "nhan_truc_tiep");
            let wrong = |content: &WorkbookContent| {
                let mut c = content.clone();
                // The second row (the first, for a unit with only one).
                let row = c.rows.len().min(2).saturating_sub(1);
                if let (Some((_, Some(v))), Some(i)) = (c.rows.get_mut(row), direct) {
                    // Direct dossiers typed 3 too many: (3) ≠ (4) + (5) + (6).
                    v[i] += 3;
                }
                c
            };
            let deadline = end + Days::new(u64::from(s.deadline_days(&unit.league)));
            let late = inc.late.get(code).copied();
            let at = received_at(&mut rng, end, deadline, late);
            let mut files = Vec::new();
            if inc.resent.contains(code) {
                // The wrong workbook first, the corrected one a day later.
                let first = at - chrono::Duration::days(1);
                files.push((
                    format!("{code}-{period}-lan-1.xlsx"),
                    wrong(&content),
                    first,
                ));
            }
            if inc.rejected.contains(code) {
                content = wrong(&content);
            }
            files.push((format!("{code}-{period}.xlsx"), content, at));
            for (name, content, at) in files {
                let bytes = write_workbook(&content).map_err(|e| anyhow!(e))?;
                std::fs::write(dir.join(&name), bytes).with_context(|| format!("ghi {name}"))?;
                writeln!(register, "{name},{}", at.format("%Y-%m-%d %H:%M")).ok();
                written += 1;
            }
        }
        std::fs::write(dir.join(crate::pipeline::REGISTER_FILE), register)
            .context("ghi sổ nhận")?;
    }
    Ok(written)
}

/// The 2022 form's indicators, in the order `quarter_content` makes their
/// values.
const MADE: [&str; 19] = [
    "tthc_tong",
    "tthc_cong_khai",
    "cong_khai_pakn",
    "ho_so_dong_bo",
    "tthc_truc_tuyen",
    "dvctt_co_ho_so",
    "tthc_co_phi",
    "tthc_thanh_toan_tt",
    "ho_so_co_phi",
    "ho_so_thanh_toan_tt",
    "ket_qua_dien_tu",
    "ho_so_so_hoa",
    "ho_so_tai_su_dung",
    "pakn_tong",
    "pakn_dung_han",
    "pakn_trong_han",
    "phieu_danh_gia",
    "phieu_hai_long",
    "cho_tb_phut",
];

/// A plausible value of an indicator: the one made for it above when the
/// form has it, else one of its kind (a count up to the dossiers
/// received, yes nine times in ten, minutes, a share), within its bounds.
/// Counts made for indicators the generator has no model of are brought
/// within their whole, as the form's `[[parts]]` say they must be: a unit
/// cannot have handled more petitions on time than it received.
fn fit_parts(
    form: &crate::domain::Form,
    rows: &[(String, Option<Vec<i64>>)],
    indicators: &[crate::domain::Indicator],
    values: &mut [Option<f64>],
) {
    let column = |code: &str| -> Option<f64> {
        let i = form.columns.iter().position(|c| c.code == code)?;
        Some(
            rows.iter()
                .filter_map(|(_, v)| v.as_ref()?.get(i))
                .sum::<i64>() as f64,
        )
    };
    for _ in 0..2 {
        for p in &form.parts {
            let at = |code: &str| indicators.iter().position(|i| i.code == code);
            let value = |code: &str, values: &[Option<f64>]| {
                column(code).or_else(|| at(code).and_then(|k| values[k]))
            };
            let (Some(whole), Some(sum)) = (
                p.whole
                    .iter()
                    .map(|c| value(c, values))
                    .sum::<Option<f64>>(),
                p.parts
                    .iter()
                    .map(|c| value(c, values))
                    .sum::<Option<f64>>(),
            ) else {
                continue;
            };
            if sum <= whole || sum == 0.0 {
                continue;
            }
            let made = |code: &String| MADE.contains(&code.as_str());
            if p.parts.iter().all(made) {
                // The parts are modelled: the whole, if it is not, grows.
                if let [w] = p.whole.as_slice()
                    && !made(w)
                    && let Some(k) = at(w)
                    && let Some(v) = values[k].as_mut()
                {
                    *v = (sum / 0.92).ceil();
                }
                continue;
            }
            let scale = whole * 0.92 / sum;
            for code in p.parts.iter().filter(|c| !made(c)) {
                if let Some(k) = at(code)
                    && let Some(v) = values[k].as_mut()
                {
                    *v = (*v * scale).floor();
                }
            }
        }
    }
}

fn indicator_value(
    i: &crate::domain::Indicator,
    made: &[f64; 19],
    nhan: f64,
    rng: &mut Rng,
) -> f64 {
    use crate::domain::IndicatorKind as K;
    if let Some(k) = MADE.iter().position(|c| *c == i.code) {
        return made[k];
    }
    let v = match i.kind {
        K::Count => (nhan * rng.range(0.3, 0.95)).round(),
        K::YesNo => f64::from(u8::from(rng.chance(0.9))),
        K::Minutes => (rng.range(8.0, 35.0) * 10.0).round() / 10.0,
        K::Ratio => (rng.range(0.4, 1.0) * 100.0).round() / 100.0,
    };
    let v = i.min.map_or(v, |lo| v.max(lo));
    i.max.map_or(v, |hi| v.min(hi))
}
