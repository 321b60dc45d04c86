//! Units and their registry: a unit's code, name, league, address and the
//! dates it is valid for, and the lookups by code and by name.

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

/// A unit's stable code from the registry, e.g. `TRUCHUNG`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct UnitCode(pub String);

/// A league's code from the ruleset, e.g. `co_quan` or `xa`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct LeagueCode(pub String);

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for LeagueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A code as text, and compared with text, for both kinds of code.
macro_rules! code_as_text {
    ($t:ty) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $t {
            fn from(s: &str) -> Self {
                Self(s.to_string())
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

code_as_text!(UnitCode);
code_as_text!(LeagueCode);

/// A reporting unit as the registry holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    pub league: LeagueCode,
    pub email: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub successor: Option<UnitCode>,
}

impl Unit {
    /// Whether the unit reports a period whose data window ends on `end`:
    /// it exists that day. A window that straddles a merge (15 June to 14
    /// September 2025 around 1 July) is reported by the units that exist
    /// at its end, the successors, for the whole window: their
    /// predecessors, gone by the time the report is due, report nothing.
    pub fn reports_at(&self, end: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= end) && self.valid_to.is_none_or(|t| t >= end)
    }
}

/// The units of an organisation with the lookups intake needs: by exact
/// code, by code ignoring case, by folded name and by folded name without
/// the body's prefix ("UBND xã Trực Hùng" → "xã trực hùng"). Built once,
/// so identifying a workbook's unit costs the same for 33 units as for
/// 3,355. Reads as a slice of units everywhere else.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    units: Vec<Unit>,
    exact: HashMap<String, usize>,
    upper: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
    by_core: HashMap<String, Vec<usize>>,
    /// The units merged into each unit, by its code.
    merged_into: HashMap<String, Vec<usize>>,
    folded: Vec<String>,
}

/// A folded name without "ủy ban nhân dân " or "ubnd " in front.
pub fn name_core(folded: &str) -> &str {
    ["ủy ban nhân dân ", "ubnd "]
        .iter()
        .find_map(|p| folded.strip_prefix(p))
        .unwrap_or(folded)
}

impl Registry {
    pub fn new(units: Vec<Unit>) -> Registry {
        let mut r = Registry {
            folded: units.iter().map(|u| super::fold(&u.name)).collect(),
            units,
            ..Registry::default()
        };
        for (i, u) in r.units.iter().enumerate() {
            r.exact.entry(u.code.0.clone()).or_insert(i);
            r.upper.entry(u.code.0.to_ascii_uppercase()).or_insert(i);
            let f = &r.folded[i];
            r.by_name.entry(f.clone()).or_default().push(i);
            r.by_core
                .entry(name_core(f).to_string())
                .or_default()
                .push(i);
            if let Some(s) = &u.successor {
                r.merged_into.entry(s.0.clone()).or_default().push(i);
            }
        }
        r
    }

    /// The units merged into `code`: those whose successor it is.
    pub fn predecessors(&self, code: &UnitCode) -> Vec<&Unit> {
        self.pick(self.merged_into.get(&code.0))
    }

    /// The unit with exactly this code.
    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.exact.get(code).map(|&i| &self.units[i])
    }

    /// The unit with this code, whatever the case of its letters.
    pub fn by_code_any_case(&self, code: &str) -> Option<&Unit> {
        self.upper
            .get(&code.to_ascii_uppercase())
            .map(|&i| &self.units[i])
    }

    /// Units whose folded name is `folded`.
    pub fn by_folded_name(&self, folded: &str) -> Vec<&Unit> {
        self.pick(self.by_name.get(folded))
    }

    /// Units whose folded name, without the body's prefix, is `core`.
    pub fn by_name_core(&self, core: &str) -> Vec<&Unit> {
        self.pick(self.by_core.get(core))
    }

    /// Units whose folded name starts `text`.
    pub fn named_at_start_of(&self, folded_text: &str) -> Vec<&Unit> {
        self.folded
            .iter()
            .zip(&self.units)
            .filter(|(f, _)| folded_text.starts_with(f.as_str()))
            .map(|(_, u)| u)
            .collect()
    }

    fn pick(&self, at: Option<&Vec<usize>>) -> Vec<&Unit> {
        at.map(|v| v.iter().map(|&i| &self.units[i]).collect())
            .unwrap_or_default()
    }
}

impl std::ops::Deref for Registry {
    type Target = [Unit];
    fn deref(&self) -> &[Unit] {
        &self.units
    }
}

impl From<Vec<Unit>> for Registry {
    fn from(units: Vec<Unit>) -> Registry {
        Registry::new(units)
    }
}
