//! Publication: a period's results written as a numbered report version
//! (xlsx, pdf, json), the same inputs keeping their number. What is
//! written is handed back as plain data, for the caller to deliver.

use super::{Publication, Refusal, ingest, results};
use crate::config::Config;
use crate::domain::Period;
use crate::pipeline::IngestSummary;
use crate::store::{Store, StoreError};
use anyhow::Result;

/// Ingests, scores and writes the period's report as a version: the same
/// inputs give the same version again, changed inputs a new one.
pub fn publish(
    cfg: &Config,
    store: &Store,
    period: Period,
) -> Result<(IngestSummary, Publication)> {
    crate::report::pdf::prepare();
    let summary = ingest(cfg, store)?;
    let mut results = results(cfg, store, period, true)?.ok_or(Refusal::NoData(period))?;
    let key = period.to_string();
    let now = chrono::Utc::now()
        .with_timezone(&cfg.settings.time_zone())
        .to_rfc3339();
    // The PDF's data depends on the version only through its date: it is
    // made with today's beside the JSON, the digest and the version's row
    // (the appendices' layout is the larger part of it), and made again
    // when the version is one kept from before, with that version's date.
    results.generated_at = now.clone();
    let mut text = None;
    let (reserved, early) = std::thread::scope(|s| {
        let early = s.spawn(|| crate::report::pdf::template_data(&results));
        let reserved = (|| {
            // The results' JSON text is made once: its digest, the store's
            // copy of a new version and the file are all made from it.
            let blank = crate::report::json::blank(&results)?;
            let digest = results.digest_of(&blank)?;
            let reserved = store.reserve_version(&key, &digest, &now, |v, at| {
                // The blank text always has both fields (`json::blank` writes them).
                let made = crate::report::json::with_version(&blank, v, at).ok_or_else(|| {
                    StoreError::Corrupt(
                        "kết quả JSON thiếu trường version hoặc generated_at".into(),
                    )
                })?;
                text = Some(made.clone());
                Ok(made)
            })?;
            anyhow::Ok(reserved)
        })();
        let early = early
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (reserved, early)
    });
    let (stored, new_version) = reserved?;
    let pdf_data = (stored.generated_at == now).then_some(early);
    results.version = stored.version;
    results.generated_at = stored.generated_at;
    let dir = cfg.settings.paths.output.join(&key);
    let files = crate::report::write_all_timed(&results, &dir, text, pdf_data)?.0;
    Ok((
        summary,
        Publication {
            period,
            version: stored.version,
            new_version,
            dir,
            files,
            results,
        },
    ))
}

/// The period's latest report version, its files written again, for
/// sending. Refused when the inputs changed since that version was made:
/// the period is to be run first.
pub fn latest(cfg: &Config, store: &Store, period: Period) -> Result<Publication> {
    let key = period.to_string();
    let latest = store
        .latest_version(&key)?
        .ok_or(Refusal::NoVersion(period))?;
    let mut results = results(cfg, store, period, true)?.ok_or(Refusal::NoData(period))?;
    if results.digest()? != latest.digest {
        return Err(Refusal::Changed {
            period,
            version: latest.version,
        }
        .into());
    }
    results.version = latest.version;
    results.generated_at = latest.generated_at.clone();
    let dir = cfg.settings.paths.output.join(&key);
    let files = crate::report::write_all(&results, &dir)?;
    Ok(Publication {
        period,
        version: latest.version,
        new_version: false,
        dir,
        files,
        results,
    })
}
