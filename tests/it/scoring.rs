//! Scoring and ranking with a small ruleset whose arithmetic is easy to follow.

use chrono::NaiveDate;
use std::collections::BTreeMap;
use tthc::rank::{Status, UnitResult, league_tables};
use tthc::rules::{RuleBook, load_dir};
use tthc::score::{ScoreCard, UnitInput, score_units};

const RULESET: &str = r#"
kind = "ruleset"
name = "Thử"
version = "1"
effective_from = "2022-Q1"
late_penalty = 2.0
leagues = [{ code = "co_quan", label = "Cơ quan, đơn vị" }, { code = "xa", label = "UBND xã, thị trấn" }]
bands = [{ min = 90, label = "Xuất sắc" }, { min = 80, label = "Tốt" }, { min = 70, label = "Khá" }, { min = 50, label = "Trung bình" }, { min = 0, label = "Yếu" }]
groups = [{ code = "G", label = "Nhóm" }]

[[criteria]]
code = "A"
group = "G"
label = "Tỷ lệ trước hạn"
numerator = "truoc_han"
denominator = "nhan_tong"
points = 60
shape = "linear"
zero_denominator = "exclude"

[[criteria]]
code = "B"
group = "G"
label = "Tỷ lệ hài lòng"
numerator = "phieu_hai_long"
denominator = "phieu_danh_gia"
points = 40
shape = "target"
target = 0.5
zero_denominator = "full"
"#;

fn rules() -> RuleBook {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.toml"), RULESET).unwrap();
    crate::with_form(dir.path());
    load_dir(dir.path()).unwrap()
}

fn unit(
    code: &str,
    league: &str,
    truoc: f64,
    nhan: f64,
    hai_long: f64,
    phieu: f64,
    late: bool,
) -> UnitInput {
    let fields = BTreeMap::from([
        ("truoc_han".to_string(), truoc),
        ("nhan_tong".to_string(), nhan),
        ("phieu_hai_long".to_string(), hai_long),
        ("phieu_danh_gia".to_string(), phieu),
    ]);
    UnitInput {
        code: code.into(),
        league: league.into(),
        fields,
        late,
    }
}

fn score(units: &[UnitInput]) -> Vec<ScoreCard> {
    let book = rules();
    score_units(units, &book.rulesets[0], None).unwrap()
}

#[test]
fn a_total_of_exactly_90_is_xuat_sac() {
    // 60 × 5/6 + 40 = 90.
    let c = &score(&[unit("U1", "xa", 5.0, 6.0, 1.0, 1.0, false)])[0];
    assert_eq!((c.total, c.band.as_str()), (90.0, "Xuất sắc"));
}

#[test]
fn a_total_of_89_995_rounds_up_to_90_and_is_xuat_sac() {
    // 60 × 0.83325 + 40 = 89.995, rounded half away from zero.
    let c = &score(&[unit("U1", "xa", 3333.0, 4000.0, 1.0, 1.0, false)])[0];
    assert!((c.scaled - 89.995).abs() < 1e-9, "{}", c.scaled);
    assert_eq!((c.total, c.band.as_str()), (90.0, "Xuất sắc"));
}

#[test]
fn a_total_just_under_the_edge_stays_in_the_band_below() {
    // 60 × 0.8332 + 40 = 89.992 → 89.99, Tốt.
    let c = &score(&[unit("U1", "xa", 8332.0, 10000.0, 1.0, 1.0, false)])[0];
    assert_eq!((c.total, c.band.as_str()), (89.99, "Tốt"));
}

#[test]
fn an_excluded_criterion_leaves_the_scale() {
    // A has no dossiers: excluded. B = 40 × 0.25 / 0.5 = 20 of 40 → 50.
    let c = &score(&[unit("U1", "xa", 0.0, 0.0, 1.0, 4.0, false)])[0];
    assert!(!c.criteria[0].applicable);
    assert_eq!(c.total, 50.0);
    assert_eq!(c.band, "Trung bình");
}

#[test]
fn a_zero_denominator_with_full_policy_gives_full_points() {
    let c = &score(&[unit("U1", "xa", 3.0, 4.0, 0.0, 0.0, false)])[0];
    assert_eq!(c.criteria[1].points, 40.0);
    assert!(c.criteria[1].applicable);
    assert_eq!(c.total, 85.0);
}

#[test]
fn late_submission_loses_two_points() {
    let on_time = &score(&[unit("U1", "xa", 3.0, 4.0, 1.0, 1.0, false)])[0];
    let late = &score(&[unit("U1", "xa", 3.0, 4.0, 1.0, 1.0, true)])[0];
    assert_eq!(on_time.total, 85.0);
    assert_eq!(late.total, 83.0);
    assert_eq!(late.penalty, 2.0);
}

#[test]
fn the_late_penalty_never_takes_a_total_below_zero() {
    // 60 × 0.01 = 0.6, B = 0 → 0.6; late → 0, not −1.4.
    let c = &score(&[unit("U1", "xa", 1.0, 100.0, 0.0, 10.0, true)])[0];
    assert_eq!(c.total, 0.0);
    assert_eq!(c.band, "Yếu");
}

fn result(code: &str, league: &str, card: Option<ScoreCard>) -> UnitResult {
    UnitResult {
        code: code.into(),
        name: format!("Đơn vị {code}"),
        league: league.into(),
        status: if card.is_some() {
            Status::OnTime
        } else {
            Status::Missing
        },
        received_at: None,
        deadline: NaiveDate::from_ymd_opt(2022, 12, 16).unwrap(),
        days_late: None,
        card,
        rank: None,
        previous: None,
        tasks: vec![],
        rows: vec![],
        findings: vec![],
        notes: vec![],
        compared_with: vec![],
    }
}

#[test]
fn equal_totals_share_a_rank_listed_by_code_and_missing_units_come_last() {
    let cards = score(&[
        unit("X3", "xa", 3.0, 4.0, 1.0, 1.0, false),
        unit("X2", "xa", 1.0, 1.0, 1.0, 1.0, false),
        unit("X1", "xa", 3.0, 4.0, 1.0, 1.0, false),
        unit("X4", "xa", 1.0, 4.0, 1.0, 1.0, false),
        unit("C1", "co_quan", 1.0, 4.0, 1.0, 1.0, false),
    ]);
    let mut units: Vec<UnitResult> = cards
        .into_iter()
        .map(|c| result(&c.unit.clone(), &c.league.clone(), Some(c)))
        .collect();
    units.push(result("X0", "xa", None));
    let leagues = [
        ("co_quan".to_string(), "Cơ quan".to_string()),
        ("xa".to_string(), "Xã".to_string()),
    ];
    let tables = league_tables(units, &leagues).unwrap();
    let xa: Vec<(&str, Option<u32>)> = tables[1]
        .units
        .iter()
        .map(|u| (u.code.as_str(), u.rank))
        .collect();
    assert_eq!(
        xa,
        [
            ("X2", Some(1)),
            ("X1", Some(2)),
            ("X3", Some(2)),
            ("X4", Some(4)),
            ("X0", None)
        ]
    );
    // The offices are ranked on their own.
    assert_eq!(tables[0].units[0].rank, Some(1));
}

/// The small ruleset with two criteria measured at offices only: one that
/// gives other leagues its full points, one that leaves their scale.
fn rules_with_office_only() -> RuleBook {
    let dir = tempfile::tempdir().unwrap();
    let extra = r#"
[[criteria]]
code = "C"
group = "G"
label = "Chỉ tính cho cơ quan, đủ điểm cho xã"
numerator = "truoc_han"
denominator = "nhan_tong"
points = 20
shape = "linear"
zero_denominator = "exclude"
leagues = ["co_quan"]
elsewhere = "full"

[[criteria]]
code = "D"
group = "G"
label = "Chỉ tính cho cơ quan, xã không tính"
numerator = "phieu_hai_long"
denominator = "phieu_danh_gia"
points = 20
shape = "linear"
zero_denominator = "zero"
leagues = ["co_quan"]
elsewhere = "exclude"
"#;
    std::fs::write(dir.path().join("r.toml"), format!("{RULESET}{extra}")).unwrap();
    crate::with_form(dir.path());
    load_dir(dir.path()).unwrap()
}

#[test]
fn a_criterion_for_some_leagues_gives_the_others_full_points_or_leaves_their_scale() {
    let book = rules_with_office_only();
    let units = [
        // An office: A = 60 × 3/4 = 45; B = 40 × (1/2)/0.5 = 40; C = 20 × 3/4 = 15;
        // D = 20 × 1/2 = 10 → 110 of 140 = 78.571… → 78.57.
        unit("CQ", "co_quan", 3.0, 4.0, 1.0, 2.0, false),
        // A commune with the same figures: A 45, B 40, C full 20, D out of
        // the scale → 105 of 120 = 87.5.
        unit("XA", "xa", 3.0, 4.0, 1.0, 2.0, false),
        // An office with no evaluation forms: D's zero denominator is "zero".
        unit("CQ2", "co_quan", 3.0, 4.0, 0.0, 0.0, false),
    ];
    let cards = score_units(&units, &book.rulesets[0], None).unwrap();
    let (cq, xa, cq2) = (&cards[0], &cards[1], &cards[2]);
    assert_eq!(cq.total, 78.57);
    let c = |card: &ScoreCard, code: &str| {
        card.criteria
            .iter()
            .find(|k| k.code == code)
            .unwrap()
            .clone()
    };
    assert_eq!((c(cq, "C").points, c(cq, "D").points), (15.0, 10.0));
    assert_eq!(xa.total, 87.5);
    let (xc, xd) = (c(xa, "C"), c(xa, "D"));
    assert!(xc.applicable && xc.points == 20.0 && xc.numerator.is_none());
    assert!(!xd.applicable && xd.points == 0.0);
    // 45 + 40 (no forms: B full) + 15 + 0 → 100 of 140 = 71.43.
    assert_eq!(c(cq2, "D").points, 0.0);
    assert!(c(cq2, "D").applicable);
    assert_eq!(cq2.total, 71.43);
}

#[test]
fn a_criterion_for_some_leagues_must_say_what_the_others_get() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "\n[[criteria]]\ncode = \"C\"\ngroup = \"G\"\nlabel = \"x\"\nvalue = \"truoc_han\"\npoints = 5\nshape = \"linear\"\nleagues = [\"co_quan\"]\n";
    std::fs::write(dir.path().join("r.toml"), format!("{RULESET}{extra}")).unwrap();
    crate::with_form(dir.path());
    let err = load_dir(dir.path()).unwrap_err();
    assert!(err.0[0].message.contains("elsewhere"), "{err}");
}

fn fields(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The shipped 2025–2026 ruleset (the national index as the portal computes
/// it) on an office and a commune worked out by hand, criterion by criterion.
#[test]
fn the_2025_ruleset_scores_an_office_and_a_commune_as_worked_out_by_hand() {
    let book = load_dir(&crate::repo().join("rules")).unwrap();
    let rules = book.ruleset_for("2025-Q3".parse().unwrap()).unwrap();
    assert_eq!(rules.criteria.len(), 21);
    assert_eq!(rules.criteria.iter().map(|c| c.points).sum::<f64>(), 100.0);
    let office = UnitInput {
        code: "SO".into(),
        league: "co_quan".into(),
        late: false,
        fields: fields(&[
            ("tthc_phai_cong_bo", 10.0), // 1.1: 6 × 0.8 = 4.8
            ("tthc_cong_bo_dung_han", 8.0),
            ("tthc_phai_cap_nhat", 0.0), // 1.2: none to update, full 4
            ("tthc_cong_khai", 20.0),    // 1.3: 2 × 0.75 = 1.5
            ("tthc_cong_khai_day_du", 15.0),
            ("nhan_tong", 100.0), // 1.4: 6 × 0.9 = 5.4
            ("ho_so_dong_bo", 90.0),
            ("truoc_han", 30.0), // 2.1: 20 × 0.8 = 16
            ("dung_han", 40.0),
            ("trong_han", 10.0),
            ("tthc_tong", 50.0), // 3.1: 0.6 of a 0.8 target: 1.5
            ("tthc_truc_tuyen", 30.0),
            ("dvctt_co_ho_so", 15.0),  // 3.2: 4 × 0.5 = 2
            ("nhan_truc_tuyen", 40.0), // 3.3: (40/90) / 0.5 × 6 = 5.333…
            ("nhan_truc_tiep", 50.0),
            ("tthc_co_phi", 10.0), // 3.5: 1.0 ≥ 0.8: 2
            ("tthc_thanh_toan_tt", 10.0),
            ("tthc_co_phi_phat_sinh", 5.0), // 3.5b: 2 × 0.8 = 1.6
            ("tthc_co_giao_dich_tt", 4.0),
            ("ho_so_co_phi", 20.0), // 3.6: 6 × 0.25 = 1.5
            ("ho_so_thanh_toan_tt", 5.0),
            ("ho_so_tra_ket_qua", 60.0), // 4.1: 6 × 0.5 = 3
            ("ket_qua_dien_tu", 30.0),
            ("ho_so_so_hoa", 50.0),      // 4.2: 4 × 0.5 = 2
            ("ho_so_tai_su_dung", 40.0), // 4.3: 0.4 of a 0.8 target: 1
            ("ho_so_kho_du_lieu", 20.0), // 4.4: 4 × 0.2 = 0.8
            ("tthc_ca_nhan", 40.0),      // 4.5a (province only): 2 × 0.5 = 1
            ("tthc_dung_csdl_dan_cu", 20.0),
            ("ho_so_dung_du_lieu_dan_cu", 25.0), // 4.5b: 2 × 0.25 = 0.5
            // 4.6 is the communes': full 2 for an office.
            ("pakn_tong", 0.0),      // 5.2, 5.3: no petitions, full 6 + 6
            ("da_giai_quyet", 80.0), // 5.4: 76/80 = 0.95 ≥ 0.9: 6
            ("ho_so_khong_hai_long", 4.0),
        ]),
    };
    let commune = UnitInput {
        code: "XA".into(),
        league: "xa".into(),
        late: false,
        fields: fields(&[
            ("tthc_phai_cong_bo", 4.0), // 1.1: 6
            ("tthc_cong_bo_dung_han", 4.0),
            ("tthc_phai_cap_nhat", 2.0), // 1.2: 4 × 0.5 = 2
            ("tthc_cap_nhat_dung_han", 1.0),
            ("tthc_cong_khai", 0.0), // 1.3: excluded
            ("nhan_tong", 0.0),      // 1.4, 2.1, 4.2, 4.3, 4.4: excluded
            ("tthc_tong", 20.0),     // 3.1: 2
            ("tthc_truc_tuyen", 20.0),
            ("dvctt_co_ho_so", 0.0), // 3.2: 0
            // 3.3: no dossiers in the period: excluded.
            ("tthc_co_phi", 0.0), // 3.5, 3.5b, 3.6: no fees, full 2 + 2 + 6
            ("ho_so_co_phi", 0.0),
            ("ho_so_tra_ket_qua", 0.0), // 4.1: excluded
            // 4.5a, 4.5b are the province's: full 2 + 2.
            ("chung_thuc_dien_tu", 0.0), // 4.6: no electronic copies, 0
            ("pakn_tong", 4.0),          // 5.2: 6 × 3/4 = 4.5
            ("pakn_dung_han", 2.0),
            ("pakn_trong_han", 1.0),
            ("pakn_hai_long", 3.0), // 5.3: 6 × 3/4 = 4.5
            ("da_giai_quyet", 0.0), // 5.4: no dossiers, 0
        ]),
    };
    let cards = score_units(&[office, commune], rules, None).unwrap();
    let points = |card: &ScoreCard, code: &str| {
        let k = card.criteria.iter().find(|k| k.code == code).unwrap();
        (k.points, k.applicable)
    };
    let (o, x) = (&cards[0], &cards[1]);
    // 73.9333… of 100.
    assert!((o.scaled - 73.933_333_333).abs() < 1e-6, "{}", o.scaled);
    assert_eq!(o.total, 73.93);
    assert_eq!(points(o, "4.5a"), (1.0, true));
    assert_eq!(
        points(o, "4.6"),
        (2.0, true),
        "the communes' criterion: full"
    );
    assert_eq!(points(o, "5.2"), (6.0, true));
    // 33 of the 50 points that apply.
    assert_eq!(points(x, "4.5a"), (2.0, true), "province only: full points");
    assert_eq!(points(x, "4.5b"), (2.0, true));
    assert_eq!(points(x, "4.6"), (0.0, true));
    assert_eq!(points(x, "2.1"), (0.0, false));
    assert_eq!(
        points(x, "5.4"),
        (0.0, true),
        "no dossiers: 0, not excluded"
    );
    assert_eq!(points(x, "3.6"), (6.0, true), "no fees: full");
    assert_eq!(x.total, 66.0);
}
