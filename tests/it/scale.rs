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
