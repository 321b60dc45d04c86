//! `ket-qua-<period>.json`: the results for machines.

use super::{ReportError, Results};
use crate::score::round_half_away;
use serde_json::{Map, Value, json};

fn round(x: f64, dp: u32) -> Value {
    if x.is_finite() {
        json!(round_half_away(x, dp))
    } else {
        Value::Null
    }
}

pub fn to_value(r: &Results) -> Value {
    use rayon::prelude::*;
    // Each unit's part is built on its own (a tenth of a second at 3,355
    // units, on one core otherwise), in the units' order.
    let all: Vec<&crate::rank::UnitResult> = r.units().collect();
    let units: Vec<Value> = all
        .par_iter()
        .map(|u| {
            let card = u.card.as_ref();
            let groups: Map<String, Value> =
                card.map(|c| c.groups.iter().map(|(g, p)| (g.clone(), round(*p, 2))).collect()).unwrap_or_default();
            let criteria: Map<String, Value> = card
                .map(|c| {
                    c.criteria
                        .iter()
                        .map(|k| {
                            let value = k.value.map(|v| round(v, 6)).unwrap_or(Value::Null);
                            (k.code.clone(), json!({ "value": value, "points": round(k.points, 4), "applicable": k.applicable }))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let targets: Map<String, Value> =
                card.map(|c| c.targets.iter().map(|t| (t.code.clone(), json!(t.passed))).collect()).unwrap_or_default();
            json!({
                "code": u.code,
                "name": u.name,
                "league": u.league,
                "status": u.status,
                "received_at": u.received_at.map(|t| t.to_rfc3339()),
                "deadline": u.deadline.to_string(),
                "days_late": u.days_late,
                "total": card.map(|c| round(c.total, 2)),
                "rank": u.rank,
                "band": card.map(|c| c.band.clone()),
                "penalty": card.map(|c| round(c.penalty, 2)),
                "groups": groups,
                "criteria": criteria,
                "targets": targets,
                "previous": u.previous.map(|p| if p.merged {
                    json!({ "total": round(p.total, 2), "rank": p.rank, "from_predecessors": u.compared_with })
                } else {
                    json!({ "total": round(p.total, 2), "rank": p.rank })
                }),
                "notes": u.notes,
            })
        })
        .collect();
    json!({
        "period": r.period.to_string(),
        "window": { "from": r.window.0.to_string(), "to": r.window.1.to_string() },
        "ruleset": { "name": r.ruleset.name, "version": r.ruleset.version },
        "version": r.version,
        "generated_at": r.generated_at,
        "units": units,
    })
}

pub fn to_string(r: &Results) -> Result<String, ReportError> {
    pretty(&to_value(r))
}

/// The file's text of a results value: indented, with a final newline.
pub fn pretty(v: &Value) -> Result<String, ReportError> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// The file's text of a version from the text of its content (`pretty` of
/// the value with version 0 and no time, as the digest is taken): the two
/// top-level fields put in, without writing the rest again. `None` if the
/// text is not of that shape.
pub fn with_version(blank: &str, version: i64, generated_at: &str) -> Option<String> {
    const VERSION: &str = "\n  \"version\": 0,\n";
    const TIME: &str = "\n  \"generated_at\": \"\",\n";
    if blank.matches(VERSION).count() != 1 || blank.matches(TIME).count() != 1 {
        return None;
    }
    let at = serde_json::to_string(generated_at).ok()?;
    Some(
        blank
            .replacen(VERSION, &format!("\n  \"version\": {version},\n"), 1)
            .replacen(TIME, &format!("\n  \"generated_at\": {at},\n"), 1),
    )
}

/// A published results file as read back (the portal shows a unit its
/// score from the version the province has): the part readers use.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Published {
    pub period: String,
    pub version: i64,
    pub units: Vec<PublishedUnit>,
}

/// One unit of a published results file.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PublishedUnit {
    pub code: crate::domain::UnitCode,
    pub name: String,
    pub league: String,
    pub total: Option<f64>,
    pub rank: Option<u32>,
    pub band: Option<String>,
}

impl Published {
    pub fn parse(json: &str) -> Result<Published, ReportError> {
        Ok(serde_json::from_str(json)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versions_text_made_from_the_blank_one_is_what_writing_it_whole_gives() {
        let mut v = json!({
            "period": "2022-Q4",
            "version": 0,
            "generated_at": "",
            "units": [{ "version": 0, "generated_at": "", "notes": ["\n  \"version\": 0,\n"] }],
            "window": { "from": "2022-09-15" },
        });
        let blank = pretty(&v).unwrap();
        let at = "2023-01-05T08:00:00+07:00";
        v["version"] = 12.into();
        v["generated_at"] = at.into();
        assert_eq!(with_version(&blank, 12, at).unwrap(), pretty(&v).unwrap());
        // Not of that shape: left to be written whole.
        assert_eq!(with_version("{}\n", 1, at), None);
    }
}
