//! Results: every active unit of a period scored under the rules in force,
//! ranked in its league, with its change since the period before.

use super::standing::{Received, merged, of, received, standing, year_standing};
use crate::config::Config;
use crate::domain::{Period, UnitCode};
use crate::rank::{LeagueTable, Previous, Status, UnitResult, league_tables};
use crate::report::Results;
use crate::score::{UnitInput, evaluate_tasks, score_units};
use crate::store::Store;
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};

/// Scores and ranks a quarter or a year from what the store holds; with
/// `with_previous`, also the period before, for each unit's change.
pub fn results(
    cfg: &Config,
    store: &Store,
    period: Period,
    with_previous: bool,
) -> Result<Option<Results>> {
    let Some(ruleset) = cfg.rules.ruleset_for(period) else {
        return Err(crate::rules::NotInForce {
            period,
            dir: cfg.settings.rules_dir.clone(),
        }
        .into());
    };
    let targets = cfg.rules.targets_for(period);
    let tasks = cfg.rules.tasks_for(period);
    let mode = cfg.settings.period.window;
    let (from, to) = period.window(mode);
    let stored = received(store, period.quarters())?;
    if stored.values().all(|l| l.is_empty()) && !with_previous {
        return Ok(None);
    }
    let (mut units, inputs) = standings(cfg, period, &stored)?;
    let cards = score_units(&inputs, ruleset, targets)?;
    let mut by_code: HashMap<String, crate::score::ScoreCard> =
        cards.into_iter().map(|c| (c.unit.clone(), c)).collect();
    for u in &mut units {
        u.card = by_code.remove(&u.code.0);
    }
    let previous = if with_previous {
        previous_places(cfg, store, period, &units)?
    } else {
        BTreeMap::new()
    };
    for u in &mut units {
        if let Some((p, note, names)) = previous.get(&u.code) {
            u.previous = *p;
            u.notes.extend(note.clone());
            u.compared_with = names.clone();
        }
    }
    let league_list: Vec<(String, String)> = ruleset
        .leagues
        .iter()
        .map(|l| (l.code.clone(), l.label.clone()))
        .collect();
    let leagues: Vec<LeagueTable> = league_tables(units, &league_list)?;
    Ok(Some(Results {
        period,
        window: (from, to),
        version: 0,
        generated_at: String::new(),
        organisation: cfg.settings.organisation.clone(),
        ruleset: ruleset.clone(),
        targets: targets.cloned(),
        tasks: tasks.cloned(),
        form: cfg.rules.form_in_force(period).clone(),
        form_digest: cfg.rules.form_file_for(period).map(|f| f.digest.clone()),
        leagues,
    }))
}

/// Every unit active in the period: where it stands, as a result still
/// to be scored, and the figures to score it by (units with an accepted
/// workbook only).
fn standings(
    cfg: &Config,
    period: Period,
    stored: &Received,
) -> Result<(Vec<UnitResult>, Vec<UnitInput>)> {
    let is_year = matches!(period, Period::Year { .. });

    let tasks = cfg.rules.tasks_for(period);
    let mode = cfg.settings.period.window;
    let (_, to) = period.window(mode);
    // Each unit stands on its own: they are worked out in parallel (the
    // stored figures are read back from their JSON), in the units' order.
    use rayon::prelude::*;
    let active: Vec<&crate::domain::Unit> = cfg
        .settings
        .units
        .iter()
        .filter(|u| u.reports_at(to))
        .collect();
    let each: Vec<(UnitResult, Option<UnitInput>)> = active
        .par_iter()
        .map(|&unit| {
            let st = match period {
                Period::Quarter { .. } => standing(cfg, unit, period, of(stored, unit, period))?,
                Period::Year { year } => year_standing(cfg, unit, year, stored)?,
            };
            let mut rows = Vec::new();
            let mut task_results = Vec::new();
            let mut input = None;
            if let Some(sub) = st.submission {
                input = Some(UnitInput {
                    code: unit.code.0.clone(),
                    league: unit.league.0.clone(),
                    fields: sub.fields(),
                    // Lateness is a quarter's matter; a year is not submitted.
                    late: st.status == Status::Late && !is_year,
                });
                if let Some(ts) = tasks {
                    task_results = evaluate_tasks(ts, &unit.league.0, period, mode, &sub);
                }
                rows = sub.rows;
            }
            let result = UnitResult {
                code: unit.code.clone(),
                name: unit.name.clone(),
                league: unit.league.clone(),
                status: st.status,
                received_at: st.received_at,
                deadline: st.deadline,
                days_late: st.days_late,
                card: None,
                rank: None,
                previous: None,
                tasks: task_results,
                rows,
                findings: st.findings,
                notes: st.notes,
                compared_with: Vec::new(),
            };
            Ok((result, input))
        })
        .collect::<Result<_>>()?;
    let mut units = Vec::with_capacity(each.len());
    let mut inputs = Vec::new();
    for (u, input) in each {
        units.push(u);
        inputs.extend(input);
    }
    Ok((units, inputs))
}

/// Where figures `sub` of `unit` would have stood in `among`'s league,
/// scored under `ruleset` (the rules of that period): the total, and the
/// place the total takes among the league's scored units.
fn place_of(
    cfg: &Config,
    unit: &crate::domain::Unit,
    sub: &crate::domain::Submission,
    among: &Results,
    ruleset: &crate::rules::Ruleset,
) -> Result<Option<Previous>> {
    let input = UnitInput {
        code: unit.code.0.clone(),
        league: unit.league.0.clone(),
        fields: sub.fields(),
        late: false,
    };
    let cards = score_units(&[input], ruleset, cfg.rules.targets_for(among.period))?;
    let Some(card) = cards.first() else {
        return Ok(None);
    };
    let above = among
        .units()
        .filter(|p| p.league == unit.league && p.code != unit.code)
        .filter_map(|p| p.card.as_ref())
        .filter(|c| c.total > card.total)
        .count();
    Ok(Some(Previous {
        total: card.total,
        rank: above as u32 + 1,
        merged: true,
    }))
}

/// A unit's total and rank over the quarters up to `last` (`count` of
/// them, oldest first): its own where it reported, its predecessors'
/// figures added up for a quarter before it existed (`merged`), `None`
/// where there is nothing to score.
pub fn history(
    cfg: &Config,
    store: &Store,
    unit: &crate::domain::Unit,
    last: Period,
    known: Option<&Results>,
    count: usize,
) -> Result<Vec<(Period, Option<Previous>)>> {
    let (quarters, places) =
        places_over(cfg, store, std::slice::from_ref(unit), last, known, count)?;
    Ok(quarters
        .into_iter()
        .zip(places.into_iter().next().unwrap_or_default())
        .collect())
}

/// A unit's place in each of a run of quarters.
pub type Places = Vec<Option<Previous>>;

/// The quarters up to `last` (`count` of them, oldest first) side by
/// side: for each of `units`, its place in each, as `history` says it.
/// Each quarter is scored once for all the units; `known`, results the
/// caller already has for one of the quarters, are used as they are.
pub fn places_over(
    cfg: &Config,
    store: &Store,
    units: &[crate::domain::Unit],
    last: Period,
    known: Option<&Results>,
    count: usize,
) -> Result<(Vec<Period>, Vec<Places>)> {
    let mut quarters = vec![last];
    while quarters.len() < count {
        let q = quarters[quarters.len() - 1].previous();
        quarters.push(q);
    }
    quarters.reverse();
    let mut places = vec![Vec::new(); units.len()];
    for &q in &quarters {
        let ruleset = cfg.rules.ruleset_for(q);
        let r = match (ruleset, known) {
            (Some(_), Some(k)) if k.period == q => Some(std::borrow::Cow::Borrowed(k)),
            (Some(_), _) => results(cfg, store, q, false)?.map(std::borrow::Cow::Owned),
            (None, _) => None,
        };
        let (Some(ruleset), Some(r)) = (ruleset, r) else {
            for p in &mut places {
                p.push(None);
            }
            continue;
        };
        let mut stored: Option<Received> = None;
        for (unit, p) in units.iter().zip(&mut places) {
            let here = r.units().find(|u| u.code == unit.code);
            let place = match here {
                Some(u) => u.card.as_ref().zip(u.rank).map(|(c, rank)| Previous {
                    total: c.total,
                    rank,
                    merged: false,
                }),
                None => {
                    let stored = match &mut stored {
                        Some(s) => s,
                        None => stored.insert(received(store, [q])?),
                    };
                    match merged(cfg, unit, q, stored, 0)? {
                        Some(m) if m.missing.is_empty() => {
                            place_of(cfg, unit, &m.submission, &r, ruleset)?
                        }
                        _ => None,
                    }
                }
            };
            p.push(place);
        }
    }
    Ok((quarters, places))
}

/// A unit's place in the period before, a note on how it was found, and
/// the predecessors it is made of (for a unit that did not exist then).
type Place = (Option<Previous>, Option<String>, Vec<String>);

/// Each unit's total and rank in the period before, to show its change.
fn previous_places(
    cfg: &Config,
    store: &Store,
    period: Period,
    units: &[UnitResult],
) -> Result<BTreeMap<UnitCode, Place>> {
    let before = period.previous();
    let Ok(Some(prev)) = results(cfg, store, before, false) else {
        return Ok(BTreeMap::new());
    };
    let mut out: BTreeMap<UnitCode, Place> = prev
        .units()
        .filter_map(|u| {
            Some((
                u.code.clone(),
                (
                    Some(Previous {
                        total: u.card.as_ref()?.total,
                        rank: u.rank?,
                        merged: false,
                    }),
                    None,
                    Vec::new(),
                ),
            ))
        })
        .collect();
    // A unit that did not exist then is compared with its predecessors'
    // figures of that period, added up and scored under that period's
    // rules, at the place the sum would have taken in its league.
    let merged_units: Vec<&UnitResult> = units
        .iter()
        .filter(|u| !prev.units().any(|p| p.code == u.code))
        .collect();
    if merged_units.is_empty() {
        return Ok(out);
    }
    let Some(ruleset) = cfg.rules.ruleset_for(before) else {
        return Ok(out);
    };
    let stored = received(store, before.quarters())?;
    for u in merged_units {
        let Some(unit) = cfg.settings.units.unit(u.code.as_str()) else {
            continue;
        };
        let Some(m) = merged(cfg, unit, before, &stored, 0)? else {
            continue;
        };
        if !m.missing.is_empty() {
            out.insert(
                u.code.clone(),
                (
                    None,
                    Some(format!(
                        "Không so sánh với {}: đơn vị tiền thân {} chưa có báo cáo hợp lệ kỳ đó.",
                        prev.period.label_vi(),
                        m.missing.join(", ")
                    )),
                    Vec::new(),
                ),
            );
            continue;
        }
        let Some(place) = place_of(cfg, unit, &m.submission, &prev, ruleset)? else {
            continue;
        };
        out.insert(
            u.code.clone(),
            (
                Some(place),
                Some(format!(
                    "So sánh với {}: tổng số liệu của các đơn vị tiền thân ({}), chấm theo bộ chỉ số của kỳ đó.",
                    prev.period.label_vi(),
                    m.names.join(", ")
                )),
                m.names,
            ),
        );
    }
    Ok(out)
}
