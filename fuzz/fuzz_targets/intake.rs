//! Any bytes through intake and validation: never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tthc::domain::{LeagueCode, Unit, UnitCode, WindowMode};
use tthc::validate::{Context, check_bytes};

fuzz_target!(
    init: {
        // Intake catches a panic inside the spreadsheet reader and turns it
        // into a finding, as the service does; only a panic that escapes
        // intake is a crash.
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| {
    let units = [Unit {
        code: UnitCode("XA10".into()),
        name: "UBND xã Trực Hùng".into(),
        league: LeagueCode("xa".into()),
        email: "xa10@example.vn".into(),
        valid_from: None,
        valid_to: None,
        successor: None,
    }];
    let ctx = Context {
        units: &units,
        expected_unit: None,
        expected_period: None,
        window_mode: WindowMode::Reporting,
        file_name: Some("XA10-2022-Q4.xlsx"),
        forms: &[],
    };
    let checked = check_bytes(data, &ctx);
    // A rejected file always says why.
    assert!(checked.accepted() || checked.findings.iter().any(|f| f.is_error()));
});
