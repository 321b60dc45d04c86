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
