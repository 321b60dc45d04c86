//! The sample district's fourth quarter, run once and looked at from every side.

use crate::{pdf_pages, pdf_text, sample_engine};
use std::path::PathBuf;
use std::sync::OnceLock;
use tempfile::TempDir;

pub struct SampleRun {
    pub _tmp: TempDir,
    pub dir: PathBuf,
    pub emails: Vec<PathBuf>,
    pub json: serde_json::Value,
}

/// The quarter, run once for all the tests that look at it.
pub fn sample_run() -> &'static SampleRun {
    static RUN: OnceLock<SampleRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let engine = sample_engine(tmp.path());
        let (_, outcome) = engine
            .run("2022-Q4".parse().unwrap())
            .expect("the sample quarter runs");
        let json = serde_json::from_slice(
            &std::fs::read(outcome.dir.join("ket-qua-2022-Q4.json")).unwrap(),
        )
        .unwrap();
        SampleRun {
            dir: outcome.dir.clone(),
            emails: outcome.emails.clone(),
            json,
            _tmp: tmp,
        }
    })
}

fn units() -> &'static Vec<serde_json::Value> {
    sample_run().json["units"]
        .as_array()
        .expect("units is a list")
}

fn unit(code: &str) -> &'static serde_json::Value {
    units()
        .iter()
        .find(|u| u["code"] == code)
        .unwrap_or_else(|| panic!("{code} is listed"))
}

#[test]
fn every_registered_unit_is_listed_once() {
    assert_eq!(units().len(), 33);
    let mut codes: Vec<&str> = units()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 33);
}

#[test]
fn the_fourth_quarter_has_two_late_units_one_missing_and_one_rejected() {
    let with = |s: &str| -> Vec<&str> {
        units()
            .iter()
            .filter(|u| u["status"] == s)
            .map(|u| u["code"].as_str().unwrap())
            .collect()
    };
    assert_eq!(with("late"), ["CQ09", "XA08"]);
    assert_eq!(with("missing"), ["XA21"]);
    assert_eq!(with("rejected"), ["XA15"]);
    assert_eq!(with("on_time").len(), 29);
}

#[test]
fn units_without_an_accepted_workbook_are_unscored_and_listed_last() {
    for code in ["XA21", "XA15"] {
        let u = unit(code);
        assert!(
            u["total"].is_null() && u["rank"].is_null() && u["band"].is_null(),
            "{u}"
        );
    }
    let communes: Vec<&serde_json::Value> =
        units().iter().filter(|u| u["league"] == "xa").collect();
    let first_unranked = communes.iter().position(|u| u["rank"].is_null()).unwrap();
    assert!(
        communes[first_unranked..]
            .iter()
            .all(|u| u["rank"].is_null())
    );
}

#[test]
fn late_units_carry_the_penalty() {
    assert_eq!(unit("CQ09")["penalty"], 2.0);
    assert_eq!(unit("CQ01")["penalty"], 0.0);
}

#[test]
fn ranks_follow_totals_within_each_league() {
    for league in ["co_quan", "xa"] {
        let ranked: Vec<(f64, u64)> = units()
            .iter()
            .filter(|u| u["league"] == league && !u["rank"].is_null())
            .map(|u| (u["total"].as_f64().unwrap(), u["rank"].as_u64().unwrap()))
            .collect();
        for (t, r) in &ranked {
            let above = ranked.iter().filter(|(o, _)| o > t).count() as u64;
            assert_eq!(*r, above + 1, "league {league}");
        }
    }
}

#[test]
fn every_scored_unit_has_its_previous_quarter() {
    for u in units().iter().filter(|u| !u["total"].is_null()) {
        assert!(
            u["previous"]["total"].is_number() && u["previous"]["rank"].is_number(),
            "{}",
            u["code"]
        );
    }
}

#[test]
fn the_json_has_the_keys_of_the_spec() {
    let j = &sample_run().json;
    assert_eq!(j["period"], "2022-Q4");
    assert_eq!(j["window"]["from"], "2022-09-15");
    assert_eq!(j["window"]["to"], "2022-12-14");
    assert_eq!(j["ruleset"]["version"], "2022.1");
    let u = unit("CQ01");
    for key in [
        "code", "name", "league", "status", "total", "rank", "band", "groups", "criteria",
        "targets", "previous",
    ] {
        assert!(u.get(key).is_some(), "missing {key}");
    }
    assert_eq!(u["criteria"].as_object().unwrap().len(), 15);
    for (_, c) in u["criteria"].as_object().unwrap() {
        assert!(c["points"].is_number() && c["applicable"].is_boolean());
    }
    assert_eq!(u["groups"].as_object().unwrap().len(), 6);
    assert_eq!(u["targets"].as_object().unwrap().len(), 4);
}

#[test]
fn the_pdf_report_carries_the_official_blocks_and_every_ranked_unit() {
    let pdf = sample_run().dir.join("bao-cao-2022-Q4.pdf");
    let text = pdf_text(&pdf);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "BÁO CÁO",
        "ỦY BAN NHÂN DÂN HUYỆN",
        "TRỰC NINH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Quý IV/2022",
        "Nơi nhận:",
        "TM. ỦY BAN NHÂN DÂN",
        "CHỦ TỊCH",
        "Trần Văn Hưng",
        "Lưu: VT, VP.",
        "Phụ lục I",
        "/BC-UBND",
    ] {
        assert!(flat.contains(needle), "the PDF lacks \"{needle}\"");
    }
    for u in units() {
        let name = u["name"].as_str().unwrap();
        assert!(flat.contains(name), "the PDF lacks {name}");
    }
    assert!(pdf_pages(&pdf) >= 4, "report and appendices");
}

#[test]
fn the_report_email_is_in_the_outbox_with_both_files_attached() {
    let run = sample_run();
    assert_eq!(run.emails.len(), 2, "one per province recipient");
    let eml = std::fs::read_to_string(&run.emails[0]).unwrap();
    assert!(
        eml.contains("Subject: =?utf-8?"),
        "a Vietnamese, encoded subject"
    );
    assert!(eml.contains("filename=\"xep-hang-2022-Q4.xlsx\""));
    assert!(eml.contains("filename=\"bao-cao-2022-Q4.pdf\""));
    assert!(eml.contains("To: kiemsoattthc@namdinh.gov.vn"));
    assert!(eml.contains("Message-ID: <tthc-2022-Q4-v1-"));
}
