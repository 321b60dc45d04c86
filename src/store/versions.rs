//! Report versions: each run of a period records its results under a
//! number; the same inputs keep the number, changed inputs take the next.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};

/// A report version as recorded.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub version: i64,
    pub digest: String,
    pub generated_at: String,
}

impl Store {
    /// The report versions of a period, newest first.
    pub fn versions(&self, period: &str) -> Result<Vec<StoredVersion>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT version, digest, generated_at FROM report_versions WHERE period = ?1 ORDER BY version DESC",
        )?;
        let rows = stmt.query_map(params![period], |r| {
            Ok(StoredVersion {
                version: r.get(0)?,
                digest: r.get(1)?,
                generated_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The results JSON a report version was made from.
    pub fn version_results(
        &self,
        period: &str,
        version: i64,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT results FROM report_versions WHERE period = ?1 AND version = ?2",
                params![period, version],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn latest_version(&self, period: &str) -> Result<Option<StoredVersion>, StoreError> {
        Ok(self.versions(period)?.into_iter().next())
    }

    /// The report version of `period` for results with `digest`: the
    /// latest version if it has the same digest, else a new one numbered
    /// after it, recorded with the JSON `results(version, generated_at)`
    /// gives. Decided and recorded under the write lock, so two runs at
    /// once agree on the number. Returns the version and whether it is new.
    pub fn reserve_version(
        &self,
        period: &str,
        digest: &str,
        generated_at: &str,
        results: impl FnOnce(i64, &str) -> Result<String, StoreError>,
    ) -> Result<(StoredVersion, bool), StoreError> {
        self.immediate(|| {
            let last = self.latest_version(period)?;
            if let Some(v) = last.as_ref().filter(|v| v.digest == digest) {
                return Ok((v.clone(), false));
            }
            let v = StoredVersion {
                version: last.map(|v| v.version + 1).unwrap_or(1),
                digest: digest.to_string(),
                generated_at: generated_at.to_string(),
            };
            let json = results(v.version, &v.generated_at)?;
            self.conn.execute(
                "INSERT INTO report_versions (period, version, digest, generated_at, results) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![period, v.version, v.digest, v.generated_at, json],
            )?;
            Ok((v, true))
        })
    }
}
