//! The yardstick of `tthc bench --peer` is a fair one: the straightforward
//! Python script scores a generated organisation as tthc does (lateness
//! aside, which the script does not know).

use std::collections::BTreeMap;

#[test]
fn the_straightforward_script_scores_the_units_as_tthc_does() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = crate::repo().join("rules");
    let cfg = tthc::bench::generate_org(tmp.path(), 40, 7, &rules).unwrap();
    let (code, _, err) = crate::tthc(&[
        "run",
        "--period",
        "2022-Q4",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let out = std::process::Command::new("python3")
        .arg(crate::repo().join("scripts/peer_calamine.py"))
        .arg(tmp.path())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures["units"], 40);

    // The script's ranking workbook, read back.
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(tmp.path().join("out-peer/xep-hang.xlsx")).unwrap();
    let sheet = wb.worksheet_range("Xếp hạng").unwrap();
    let script: BTreeMap<String, f64> = sheet
        .rows()
        .skip(1)
        .map(|r| match (&r[2], &r[4]) {
            (Data::String(c), Data::Float(t)) => (c.clone(), *t),
            other => panic!("{other:?}"),
        })
        .collect();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out/2022-Q4/ket-qua-2022-Q4.json")).unwrap(),
    )
    .unwrap();
    let mut compared = 0;
    for u in json["units"].as_array().unwrap() {
        let Some(total) = u["total"].as_f64() else {
            continue;
        };
        let before_penalty = total + u["penalty"].as_f64().unwrap_or(0.0);
        let theirs = script[u["code"].as_str().unwrap()];
        assert!(
            (before_penalty - theirs).abs() < 0.011,
            "{}: tthc {before_penalty} (before penalty), the script {theirs}",
            u["code"]
        );
        compared += 1;
    }
    assert_eq!(compared, 40);
}
