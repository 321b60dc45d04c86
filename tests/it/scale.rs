//! A synthetic organisation of a few hundred units, as `tthc bench` makes
//! them: communes of different provinces share names, and leagues are too
//! large for a table of every unit in the report's body.

use std::time::Instant;

#[test]
fn a_large_organisation_is_read_ranked_and_reported_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org");
    let cfg = tthc::bench::generate_org(&org, 300, 11, &crate::repo().join("rules")).unwrap();
    let settings =
        tthc::settings::Settings::load(&cfg, &tthc::settings::PathOverrides::default()).unwrap();
    let names: std::collections::HashSet<&str> =
        settings.units.iter().map(|u| u.name.as_str()).collect();
    assert!(
        names.len() < settings.units.len(),
        "the generator should give some communes the same name"
    );

    let figures = tthc::bench::run_once(&cfg, Instant::now()).unwrap();
    assert_eq!(figures.units, 300);
    assert!(figures.pdf_pages > 10, "{} pages", figures.pdf_pages);

    // Shared names do not stop a workbook that gives its code: about 1 in
    // 100 units sends nothing and 1 in 100 sends an arithmetic error.
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(org.join("out/ket-qua-2022-Q4.json")).unwrap(),
    )
    .unwrap();
    let units = json["units"].as_array().unwrap();
    let ranked: Vec<&serde_json::Value> = units.iter().filter(|u| u["rank"].is_u64()).collect();
    assert!(
        ranked.len() >= 285,
        "only {} of {} units ranked",
        ranked.len(),
        units.len()
    );

    // The body shows the head and tail of the large league and a chart of
    // how its scores spread; Phụ lục I lists every unit.
    let text = crate::pdf_text(&org.join("out/bao-cao-2022-Q4.pdf"));
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("xem Phụ lục I)"),
        "no pointer to the appendix"
    );
    assert!(flat.contains("Phân bố điểm khối"), "no distribution chart");
    // Phụ lục II lists those not on time and counts the rest.
    assert!(
        flat.contains("đơn vị còn lại nộp đúng hạn"),
        "no count of on-time units"
    );
    let xa: Vec<&&serde_json::Value> = ranked.iter().filter(|u| u["league"] == "xa").collect();
    let middle = xa[xa.len() / 2];
    let line = format!("{} {}", middle["rank"], middle["name"].as_str().unwrap());
    assert!(flat.contains(&line), "Phụ lục I lacks \"{line}\"");
}

/// `tthc bench` times, beside the stages, the inbox read again with
/// nothing new (which once read the whole store for every file) and the
/// report typeset alone, which with the floor bounds any run from below.
#[test]
fn the_benchmark_times_a_second_read_and_the_report_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = crate::tthc(&[
        "bench",
        "--units",
        "12",
        "--repeat",
        "1",
        "--json",
        "--dir",
        tmp.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &all[0];
    assert_eq!(f["units"], 12);
    let secs = |k: &str| f[k].as_f64().unwrap_or_else(|| panic!("{k} in {f}"));
    assert!(secs("reread_seconds") > 0.0);
    assert!(secs("pdf_alone_seconds") > 0.0);
    assert!(secs("floor_seconds") > 0.0);
    let stages: Vec<&str> = f["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(stages.contains(&"check, archive"), "{stages:?}");
}
