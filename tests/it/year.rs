//! The year 2022 of the sample district, scored on its four quarters.

use crate::sample_engine;

#[test]
fn the_year_is_scored_on_the_quarters_each_unit_has_and_flags_the_gaps() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = sample_engine(tmp.path());
    let (_, outcome) = engine.run("2022".parse().unwrap()).unwrap();
    for f in [
        "xep-hang-2022.xlsx",
        "bao-cao-2022.pdf",
        "ket-qua-2022.json",
    ] {
        assert!(outcome.dir.join(f).exists(), "{f}");
    }
    let units: Vec<_> = outcome.results.units().collect();
    assert_eq!(units.len(), 33);
    assert!(
        units.iter().all(|u| u.card.is_some()),
        "every unit has at least one accepted quarter"
    );
    let viet_hung = units.iter().find(|u| u.code == "XA21").unwrap();
    assert!(
        viet_hung.notes.iter().any(|n| n.contains("Quý IV/2022")),
        "{:?}",
        viet_hung.notes
    );
    // The sample carries each quarter's pending dossiers into the next: no carry-over notes.
    let full = units.iter().find(|u| u.code == "CQ01").unwrap();
    assert!(full.notes.is_empty(), "{:?}", full.notes);
    // No late penalty on a year.
    assert!(
        units
            .iter()
            .all(|u| u.card.as_ref().unwrap().penalty == 0.0)
    );
}

/// Every number written in a narrative, as text ("33", "2,00", "96,75%").
fn numbers_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain([' ']) {
        if c.is_ascii_digit() || (!cur.is_empty() && (c == ',' || c == '.')) {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(cur.trim_end_matches([',', '.']).to_string());
            cur.clear();
        }
    }
    out
}

/// The figures a narrative may state about units, worked out from the
/// published JSON alone: counts by status and league, totals, means and
/// penalties, in Vietnamese form.
fn figures_of(json: &serde_json::Value) -> std::collections::HashSet<String> {
    use tthc::report::narrative::{dec_vi, int_vi};
    let units = json["units"].as_array().unwrap();
    let mut out = std::collections::HashSet::new();
    out.insert(int_vi(units.len() as i64));
    for status in ["on_time", "late", "missing", "rejected"] {
        let n = units.iter().filter(|u| u["status"] == status).count();
        out.insert(int_vi(n as i64));
        out.insert(int_vi(n.saturating_sub(20) as i64));
    }
    for u in units {
        if let Some(t) = u["total"].as_f64() {
            out.insert(dec_vi(t));
        }
        if let Some(p) = u["penalty"].as_f64().filter(|p| *p > 0.0) {
            out.insert(dec_vi(p));
        }
    }
    let mut leagues: Vec<&str> = units.iter().filter_map(|u| u["league"].as_str()).collect();
    leagues.sort();
    leagues.dedup();
    for l in leagues {
        let ranked: Vec<f64> = units
            .iter()
            .filter(|u| u["league"] == l && !u["rank"].is_null())
            .filter_map(|u| u["total"].as_f64())
            .collect();
        out.insert(int_vi(ranked.len() as i64));
        out.insert(dec_vi(
            ranked.iter().sum::<f64>() / ranked.len().max(1) as f64,
        ));
        for band in ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"] {
            let n = units
                .iter()
                .filter(|u| u["league"] == l && u["band"] == band && !u["rank"].is_null())
                .count();
            out.insert(int_vi(n as i64));
        }
    }
    out
}

#[test]
fn every_figure_of_the_narrative_about_units_is_in_the_json_and_a_year_claims_no_late_penalty() {
    let tmp = tempfile::tempdir().unwrap();
    let engine = sample_engine(tmp.path());
    for period in ["2022-Q4", "2022"] {
        let (_, outcome) = engine.run(period.parse().unwrap()).unwrap();
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(outcome.dir.join(format!("ket-qua-{period}.json"))).unwrap(),
        )
        .unwrap();
        let known = figures_of(&json);
        let n = tthc::report::narrative::Narrative::from_results(&outcome.results);
        let mut text = n.reporting.clone();
        for l in &n.leagues {
            text.push(' ');
            text.push_str(l);
        }
        for number in numbers_in(&text) {
            // "0/33" and "Quý IV/2022" carry the period's own year.
            if number == "2022" {
                continue;
            }
            assert!(
                known.contains(&number),
                "{period}: {number} is not in the JSON: {text}"
            );
        }
        assert!(
            n.reporting.contains("nộp muộn"),
            "{period} has late units: {}",
            n.reporting
        );
        if period == "2022" {
            assert!(
                !n.reporting.contains("bị trừ"),
                "a year applies no late penalty: {}",
                n.reporting
            );
        } else {
            assert!(n.reporting.contains("bị trừ 2,00 điểm"), "{}", n.reporting);
        }
    }
}
