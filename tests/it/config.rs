//! The shipped example configuration.

use crate::sample_config;
use tthc::settings::{PathOverrides, Settings};

#[test]
fn the_sample_config_loads_with_12_offices_and_21_communes() {
    let s = Settings::load(&sample_config(), &PathOverrides::default()).unwrap();
    let count = |k: &str| s.units.iter().filter(|u| u.league.0 == k).count();
    assert_eq!((count("co_quan"), count("xa")), (12, 21));
    assert_eq!(s.organisation.name, "Ủy ban nhân dân huyện Trực Ninh");
    assert!(
        s.units.iter().any(|u| u.name == "UBND xã Trực Hưng")
            && s.units.iter().any(|u| u.name == "UBND xã Trực Hùng")
    );
    assert!(!s.delivery.recipients.is_empty());
}

#[test]
fn command_line_paths_override_the_config() {
    let o = PathOverrides {
        inbox: Some("/x/in".into()),
        data: Some("/x/data".into()),
        output: Some("/x/out".into()),
    };
    let s = Settings::load(&sample_config(), &o).unwrap();
    assert_eq!(s.paths.inbox, std::path::PathBuf::from("/x/in"));
    assert_eq!(s.paths.outbox, std::path::PathBuf::from("/x/out/outbox"));
}
