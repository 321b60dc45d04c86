//! The province sample (Ninh Bình, 2025–2026): its latest quarter end to
//! end against a golden JSON; a merged commune compared with its
//! predecessors' figures added up, worked out here by hand; and no
//! district's wording anywhere in what the province sends or shows.

use crate::{Opened, pdf_text, repo};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tthc::domain::Period;
use tthc::settings::{PathOverrides, Settings};

pub fn province_config() -> PathBuf {
    repo().join("samples/ninh-binh/tthc.toml")
}

fn province_settings(tmp: &Path) -> Settings {
    let overrides = PathOverrides {
        inbox: None,
        data: Some(tmp.join("data")),
        output: Some(tmp.join("out")),
    };
    Settings::load(&province_config(), &overrides).expect("the province config loads")
}

struct ProvinceRun {
    _tmp: tempfile::TempDir,
    settings: Settings,
    /// The latest quarter's folder of outputs and its emails.
    dir: PathBuf,
    emails: Vec<PathBuf>,
    json: serde_json::Value,
}

/// The latest quarter, run once for the tests that look at it.
fn province_run() -> &'static ProvinceRun {
    static RUN: OnceLock<ProvinceRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let settings = province_settings(tmp.path());
        let engine = Opened::open(settings.clone()).unwrap();
        let (_, latest) = engine.run(Period::quarter(2026, 3)).unwrap();
        let json = serde_json::from_slice(
            &std::fs::read(latest.dir.join("ket-qua-2026-Q3.json")).unwrap(),
        )
        .unwrap();
        ProvinceRun {
            _tmp: tmp,
            settings,
            dir: latest.dir.clone(),
            emails: latest.emails.clone(),
            json,
        }
    })
}

#[test]
fn the_provinces_latest_quarter_matches_its_golden_results() {
    let mut json = province_run().json.clone();
    json["generated_at"] = serde_json::Value::String("<generated>".into());
    let units = json["units"].as_array().unwrap();
    assert_eq!(units.len(), 42, "14 departments, 7 communes, 21 wards");
    let status = |code: &str| {
        units.iter().find(|u| u["code"] == code).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The quarter's planned incidents, as the outputs say them.
    assert_eq!(status("SYT"), "late");
    assert_eq!(status("P13402"), "missing");
    assert_eq!(status("CATTHANH"), "rejected");
    assert_eq!(status("TRUCNINH"), "on_time", "re-sent in time, corrected");
    assert!(
        units
            .iter()
            .all(|u| !u["code"].as_str().unwrap().starts_with("XA")),
        "the communes merged away in 2025 report nothing"
    );
    // The quarter's workbooks carry only the planned problems: the refused
    // ones (and the first of each re-sent pair) an arithmetic error, the
    // others no finding at all.
    let settings = &province_run().settings;
    let rules = tthc::rules::load_dir(&settings.rules_dir).unwrap();
    let ctx = crate::context_of(settings, &rules);
    let inbox = repo().join("samples/ninh-binh/inbox/2026-Q3");
    let mut refused = Vec::new();
    for e in std::fs::read_dir(&inbox).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "xlsx") {
            continue;
        }
        let checked = tthc::validate::check_bytes(&std::fs::read(&path).unwrap(), &ctx);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if checked.accepted() {
            assert!(
                checked.findings.is_empty(),
                "{name}: {:?}",
                checked.findings
            );
        } else {
            assert_eq!(checked.findings.len(), 1, "{name}: {:?}", checked.findings);
            refused.push(name);
        }
    }
    refused.sort();
    assert_eq!(
        refused,
        [
            "CATTHANH-2026-Q3.xlsx",
            "STP-2026-Q3-lan-1.xlsx",
            "TRUCNINH-2026-Q3-lan-1.xlsx"
        ]
    );
    crate::golden::check_golden(
        "province-2026-Q3",
        "ket-qua-2026-Q3.json",
        &(serde_json::to_string_pretty(&json).unwrap() + "\n"),
    );
}

/// The merged figures of units, added up as a person would: counts
/// summed, a yes/no yes only where all say yes, minutes weighted by the
/// dossiers received.
fn add_up(parts: &[BTreeMap<String, f64>], form: &tthc::domain::Form) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let received: f64 = parts.iter().map(|p| p["nhan_tong"]).sum();
    for key in parts[0].keys() {
        let kind = form.indicator(key).map(|i| i.kind);
        let v = match kind {
            Some(tthc::domain::IndicatorKind::YesNo) => {
                parts.iter().map(|p| p[key]).fold(1.0, f64::min)
            }
            Some(tthc::domain::IndicatorKind::Minutes | tthc::domain::IndicatorKind::Ratio) => {
                parts.iter().map(|p| p[key] * p["nhan_tong"]).sum::<f64>() / received
            }
            _ => parts.iter().map(|p| p[key]).sum(),
        };
        out.insert(key.clone(), v);
    }
    out
}

#[test]
fn a_merged_commune_is_compared_with_its_predecessors_figures_added_up() {
    let run = province_run();
    let engine = &Opened::open(run.settings.clone()).unwrap();
    let q2 = Period::quarter(2025, 2);
    let q3 = Period::quarter(2025, 3);
    let (_, first_after) = engine.run(q3).unwrap();
    let cole = first_after
        .results
        .units()
        .find(|u| u.code == "COLE")
        .unwrap();
    let previous = cole.previous.expect("Cổ Lễ has a previous quarter");
    assert!(previous.merged);
    assert_eq!(
        cole.compared_with,
        [
            "UBND thị trấn Cổ Lễ",
            "UBND xã Trực Tuấn",
            "UBND xã Trung Đông"
        ]
    );

    // Its three predecessors' second-quarter workbooks, read and added up.
    let ctx = engine.check_context();
    let inbox = repo().join("samples/ninh-binh/inbox/2025-Q2");
    let parts: Vec<BTreeMap<String, f64>> = ["XA01", "XA19", "XA20"]
        .iter()
        .map(|code| {
            let bytes = std::fs::read(inbox.join(format!("{code}-2025-Q2.xlsx"))).unwrap();
            let checked = tthc::validate::check_bytes(&bytes, &ctx);
            checked.submission.expect("accepted").fields()
        })
        .collect();
    let form = engine.rules.form_for(q2).unwrap();
    let merged = add_up(&parts, form);
    let by_hand = tthc::score::score_units(
        &[tthc::score::UnitInput {
            code: "COLE".into(),
            league: "xa".into(),
            fields: merged,
            late: false,
        }],
        engine.rules.ruleset_for(q2).unwrap(),
        engine.rules.targets_for(q2),
    )
    .unwrap()
    .remove(0);
    assert!(
        (previous.total - by_hand.total).abs() < 1e-9,
        "{} ≠ {} by hand",
        previous.total,
        by_hand.total
    );
    // Its place among the second quarter's communes.
    let before = engine.results(q2, false).unwrap().unwrap();
    let above = before
        .units()
        .filter(|u| u.league == "xa")
        .filter(|u| u.card.as_ref().is_some_and(|c| c.total > by_hand.total))
        .count();
    assert_eq!(previous.rank as usize, above + 1);

    // Every output says the comparison is with the predecessors.
    let text = std::fs::read_to_string(first_after.dir.join("ket-qua-2025-Q3.json")).unwrap();
    // The file, made unit by unit, is byte for byte the whole value
    // written at once (the digest of a version is taken over this text).
    assert_eq!(
        text,
        tthc::report::json::pretty(&tthc::report::json::to_value(&first_after.results)).unwrap()
    );
    assert_eq!(
        first_after.results.digest().unwrap(),
        first_after
            .results
            .digest_of(
                &tthc::report::json::pretty(&{
                    let mut v = tthc::report::json::to_value(&first_after.results);
                    v["version"] = 0.into();
                    v["generated_at"] = "".into();
                    v
                })
                .unwrap()
            )
            .unwrap()
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let unit = json["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "COLE")
        .unwrap();
    assert_eq!(
        unit["previous"]["from_predecessors"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(
        unit["notes"][0]
            .as_str()
            .unwrap()
            .contains("đơn vị tiền thân"),
        "{unit}"
    );
    let pdf = pdf_text(&first_after.dir.join("bao-cao-2025-Q3.pdf"));
    assert!(pdf.contains("UBND xã Cổ Lễ (*)"), "the PDF marks it");
    assert!(
        pdf.contains("tổng số liệu các đơn vị tiền thân"),
        "and says why"
    );
    let cells = xlsx_cells(&first_after.dir.join("xep-hang-2025-Q3.xlsx"));
    assert!(cells.iter().any(|c| c == "UBND xã Cổ Lễ (*)"));
    assert!(
        cells
            .iter()
            .any(|c| c.starts_with("(*)") && c.contains("UBND xã Trực Tuấn")),
        "the ranking's footnote names the predecessors"
    );

    // A commune whose predecessor sent nothing is not compared, and says so.
    let quang_hung = first_after
        .results
        .units()
        .find(|u| u.code == "QUANGHUNG")
        .unwrap();
    assert!(quang_hung.previous.is_none());
    assert!(
        quang_hung.notes[0].contains("UBND xã Trực Thuận"),
        "{:?}",
        quang_hung.notes
    );

    // The year adds the predecessors' first two quarters to its own two.
    let year = engine
        .results(Period::Year { year: 2025 }, false)
        .unwrap()
        .unwrap();
    let cole_year = year.units().find(|u| u.code == "COLE").unwrap();
    assert!(cole_year.card.is_some());
    assert!(
        cole_year
            .notes
            .iter()
            .filter(|n| n.contains("tiền thân"))
            .count()
            == 2,
        "{:?}",
        cole_year.notes
    );
}

/// Every text cell of a workbook.
fn xlsx_cells(path: &Path) -> Vec<String> {
    use calamine::{Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        out.extend(range.used_cells().map(|(_, _, c)| c.to_string()));
        out.push(name);
    }
    out
}

/// Words that belong to a district, not to a province.
const DISTRICT_WORDS: [&str; 4] = ["huyện", "Huyện", "HUYỆN", "thị trấn"];

fn has_district_words(text: &str) -> Option<&'static str> {
    DISTRICT_WORDS.into_iter().find(|w| text.contains(w))
}

#[test]
fn nothing_the_province_sends_or_shows_speaks_of_a_district() {
    let run = province_run();
    let dir = &run.dir;
    let pdf = pdf_text(&dir.join("bao-cao-2026-Q3.pdf"));
    assert!(pdf.contains("ỦY BAN NHÂN DÂN"), "the PDF is read");
    assert!(pdf.contains("tỉnh Ninh Bình"));
    assert!(
        pdf.contains("UBND xã, phường, đặc khu"),
        "the league's label"
    );
    assert_eq!(has_district_words(&pdf), None, "in the PDF");
    // A province's header has no managing body above it, and a league
    // labelled "Các sở, ban, ngành" is not called "các các sở".
    assert!(
        !pdf.contains("VĂN PHÒNG CHÍNH PHỦ"),
        "no superior in the header"
    );
    assert!(!pdf.to_lowercase().contains("các các"), "{pdf}");
    assert!(pdf.contains("các sở, ban, ngành và UBND xã, phường, đặc khu"));
    for cell in xlsx_cells(&dir.join("xep-hang-2026-Q3.xlsx")) {
        assert_eq!(has_district_words(&cell), None, "in the workbook: {cell}");
    }
    assert!(!run.emails.is_empty());
    for email in &run.emails {
        let (subject, text) = crate::mail::well_formed(&std::fs::read(email).unwrap());
        let text = format!("{subject}\n{text}");
        assert!(text.contains("Ninh Bình"), "{text}");
        assert_eq!(has_district_words(&text), None, "in the email: {text}");
    }

    // The portal, as the office sees it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let settings = run.settings.clone();
        let engine = Opened::open(settings.clone()).unwrap();
        let password =
            tthc::web::issue_office_password(&settings, &engine.store, "vanphong").unwrap();
        let app = crate::web::start(&settings).await;
        let office = crate::web::browser(&app, "vanphong", &password, "/van-phong").await;
        for path in [
            "/van-phong",
            "/van-phong/xep-hang",
            "/van-phong/nhat-ky",
            "/van-phong/tac-vu",
        ] {
            let page = crate::web::request(&app, &office, "GET", path).await;
            assert!(page.status.is_success(), "{path}: {}", page.status);
            assert_eq!(has_district_words(&page.body), None, "{path}");
        }
        let board = crate::web::request(&app, &office, "GET", "/van-phong").await;
        assert!(
            board.body.contains("Ninh Bình"),
            "the board names the province"
        );
        // And as a commune does.
        let unit = settings.unit("COLE").unwrap();
        let code = tthc::web::issue_unit_code(&engine.store, unit).unwrap();
        let commune = crate::web::browser(&app, "COLE", &code, "/don-vi").await;
        let page = crate::web::request(&app, &commune, "GET", "/don-vi").await;
        assert!(page.body.contains("UBND xã Cổ Lễ"), "{}", page.body);
        assert_eq!(has_district_words(&page.body), None, "the unit's page");
    });
}

/// The third quarter of 2025 straddles the merge (its data runs from
/// 15/06 to 14/09): it is reported by the units that exist at its end, so a
/// workbook from a commune merged away on 30/06 is refused, naming the
/// commune that reports for it.
#[test]
fn a_quarter_straddling_the_merge_is_reported_by_the_successors() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = province_settings(tmp.path());
    let rules = tthc::rules::load_dir(&settings.rules_dir).unwrap();
    let old = settings.unit("XA19").unwrap();
    let q3 = Period::quarter(2025, 3);
    let content = tthc::bench::synth::quarter_content(
        old,
        &tthc::bench::synth::profile(old, 1),
        q3,
        &mut Default::default(),
        &rules,
        &settings,
        1,
    );
    let bytes = tthc::report::template::write_workbook(&content).unwrap();
    let ctx = crate::context_of(&settings, &rules);
    let checked = tthc::validate::check_bytes(&bytes, &ctx);
    let refused = crate::finding(&checked, "don_vi_het_hieu_luc");
    assert!(
        refused.message.contains("UBND xã Cổ Lễ"),
        "{}",
        refused.message
    );
    assert!(checked.submission.is_none());
    // The same commune's second quarter is its own.
    let content = tthc::bench::synth::quarter_content(
        old,
        &tthc::bench::synth::profile(old, 1),
        Period::quarter(2025, 2),
        &mut Default::default(),
        &rules,
        &settings,
        1,
    );
    let bytes = tthc::report::template::write_workbook(&content).unwrap();
    assert!(tthc::validate::check_bytes(&bytes, &ctx).accepted());
}
