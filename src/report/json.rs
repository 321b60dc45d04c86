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

/// One unit's part of the results' JSON.
fn unit_value(u: &crate::rank::UnitResult) -> Value {
    let card = u.card.as_ref();
    let groups: Map<String, Value> = card
        .map(|c| {
            c.groups
                .iter()
                .map(|(g, p)| (g.clone(), round(*p, 2)))
                .collect()
        })
        .unwrap_or_default();
    let criteria: Map<String, Value> = card
        .map(|c| {
            c.criteria
                .iter()
                .map(|k| {
                    let value = k.value.map(|v| round(v, 6)).unwrap_or(Value::Null);
                    (
                        k.code.clone(),
                        json!({ "value": value, "points": round(k.points, 4), "applicable": k.applicable }),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let targets: Map<String, Value> = card
        .map(|c| {
            c.targets
                .iter()
                .map(|t| (t.code.clone(), json!(t.passed)))
                .collect()
        })
        .unwrap_or_default();
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
}

/// The results as a JSON value, whole (the file's text is `to_string`).
pub fn to_value(r: &Results) -> Value {
    let mut v = top(r, r.version.into(), r.generated_at.as_str().into());
    v["units"] = r.units().map(unit_value).collect();
    v
}

/// Everything but the units, whose list is left empty.
fn top(r: &Results, version: Value, generated_at: Value) -> Value {
    json!({
        "period": r.period.to_string(),
        "window": { "from": r.window.0.to_string(), "to": r.window.1.to_string() },
        "ruleset": { "name": r.ruleset.name, "version": r.ruleset.version },
        "version": version,
        "generated_at": generated_at,
        "units": [],
    })
}

/// The file's text, as `pretty(&to_value(r))` gives it, made unit by unit
/// in parallel (a tenth of a second at 3,355 units on one core
/// otherwise) and without the whole tree: each unit's part is written on
/// its own and indented to its place in the list.
fn text_with(r: &Results, version: Value, generated_at: Value) -> Result<String, ReportError> {
    use rayon::prelude::*;
    const EMPTY: &str = "\n  \"units\": [],\n";
    const INDENT: &str = "\n    ";
    let outer = pretty(&top(r, version, generated_at))?;
    let all: Vec<&crate::rank::UnitResult> = r.units().collect();
    let at = match outer.find(EMPTY) {
        Some(at) if !all.is_empty() => at + EMPTY.len() - ",\n".len() - "]".len(),
        _ => return Ok(outer),
    };
    let parts: Vec<String> = all
        .par_iter()
        .map(|u| {
            let own = serde_json::to_string_pretty(&unit_value(u))?;
            // A JSON text has no line break inside a string: every line
            // break is the layout's, and each line moves in by two levels.
            Ok(own.replace('\n', INDENT))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    let size = outer.len()
        + parts
            .iter()
            .map(|p| p.len() + INDENT.len() + 1)
            .sum::<usize>()
        + 3;
    let mut s = String::with_capacity(size);
    s.push_str(&outer[..at]);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(INDENT);
        s.push_str(part);
    }
    s.push_str("\n  ");
    s.push_str(&outer[at..]);
    // Each unit's text is freed where it was made.
    parts.into_par_iter().for_each(drop);
    Ok(s)
}

/// The file's text of the results, with their version and time.
pub fn to_string(r: &Results) -> Result<String, ReportError> {
    text_with(r, r.version.into(), r.generated_at.as_str().into())
}

/// The text the digest is taken over: the results with version 0 and no
/// time (they are not content). `with_version` makes a version's file of
/// it.
pub fn blank(r: &Results) -> Result<String, ReportError> {
    text_with(r, 0.into(), "".into())
}

/// The file's text of a results value: indented, with a final newline.
pub fn pretty(v: &Value) -> Result<String, ReportError> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// The file's text of a version from the text of its content (`blank`):
/// the two top-level fields put in, without writing the rest again.
/// `None` if the text is not of that shape. A top-level field is the only
/// line indented by two spaces (a string holds no line break): the time
/// is the first field, the version the one before the window.
pub fn with_version(blank: &str, version: i64, generated_at: &str) -> Option<String> {
    const VERSION: &str = "\n  \"version\": 0,\n";
    const TIME: &str = "\n  \"generated_at\": \"\",\n";
    let t = blank.find(TIME)?;
    let v = blank.rfind(VERSION)?;
    if v < t + TIME.len() {
        return None;
    }
    let at = serde_json::to_string(generated_at).ok()?;
    let time = format!("\n  \"generated_at\": {at},\n");
    let number = format!("\n  \"version\": {version},\n");
    let mut s = String::with_capacity(blank.len() + time.len() + number.len());
    s.push_str(&blank[..t]);
    s.push_str(&time);
    s.push_str(&blank[t + TIME.len()..v]);
    s.push_str(&number);
    s.push_str(&blank[v + VERSION.len()..]);
    Some(s)
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
        // Not of that shape: no text.
        assert_eq!(with_version("{}\n", 1, at), None);
    }
}
