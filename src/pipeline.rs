//! The one place that knows the order of the stages: ingest the inbox into
//! the store, gather each unit's submission for a period, score, rank, and
//! write the artifacts as a numbered report version.

use crate::domain::{Finding, Period, Submission, Unit, combine_year};
use crate::rank::{LeagueTable, Previous, Status, UnitResult, league_tables};
use crate::report::Results;
use crate::rules::RuleBook;
use crate::score::{UnitInput, evaluate_tasks, score_units};
use crate::settings::Settings;
use crate::store::{NewSubmission, Store, StoredSubmission};
use crate::validate::{Checked, Context, check_bytes};
use anyhow::{Context as _, Result, anyhow};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The incoming-document register an inbox folder may carry.
pub const REGISTER_FILE: &str = "so-nhan.csv";

/// The configured engine: settings, rules and the store.
pub struct Engine {
    pub settings: Settings,
    pub rules: RuleBook,
    pub store: Store,
}

/// What an ingest did.
#[derive(Debug, Default)]
pub struct IngestSummary {
    pub seen: usize,
    pub new: usize,
    pub accepted: usize,
    /// (file, unit if known, findings) of the newly rejected files.
    pub rejected: Vec<(String, Option<String>, Vec<Finding>)>,
    /// The ids of the submissions recorded by this ingest.
    pub recorded: Vec<i64>,
    /// Bytes of workbook read.
    pub bytes: u64,
    /// What the office should know about this read beyond each file's
    /// findings: register lines that match no file, or several.
    pub warnings: Vec<String>,
    /// How long each step took, for the benchmark.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Where a unit stands for a period.
struct Standing {
    status: Status,
    received_at: Option<DateTime<FixedOffset>>,
    deadline: NaiveDate,
    days_late: Option<i64>,
    findings: Vec<Finding>,
    submission: Option<Submission>,
    notes: Vec<String>,
}

/// What a run wrote.
#[derive(Debug)]
pub struct RunOutcome {
    pub period: Period,
    pub version: i64,
    /// False when the inputs were unchanged and the existing version was rewritten.
    pub new_version: bool,
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub results: Results,
    /// The `.eml` files written to the outbox (with no SMTP server configured).
    pub emails: Vec<PathBuf>,
    pub deliveries: Vec<crate::deliver::Outcome>,
}

impl Engine {
    pub fn open(settings: Settings) -> Result<Engine> {
        let rules = crate::rules::load_dir(&settings.rules_dir).map_err(|e| anyhow!(e))?;
        let leagues = rules.league_codes();
        settings
            .check_leagues(leagues.iter().map(String::as_str))
            .map_err(|e| anyhow!(e))?;
        let store = Store::open(&settings.paths.data)
            .with_context(|| format!("mở kho dữ liệu {}", settings.paths.data.display()))?;
        Ok(Engine {
            settings,
            rules,
            store,
        })
    }

    pub fn context(&self) -> Context<'_> {
        Context {
            units: &self.settings.units,
            expected_unit: None,
            expected_period: None,
            window_mode: self.settings.period.window,
            file_name: None,
        }
    }

    /// Reads every spreadsheet in the inbox (any depth, any file name) that
    /// was not read before, archives it and records what it holds. Files
    /// are read, hashed, checked and archived in parallel, on every core;
    /// then all new submissions are recorded in one transaction, so a crash
    /// records all of them or none (and the next run reads them again).
    pub fn ingest(&self) -> Result<IngestSummary> {
        let inbox = &self.settings.paths.inbox;
        let mut summary = IngestSummary::default();
        if !inbox.exists() {
            return Ok(summary);
        }
        let started = Instant::now();
        let mut files = Vec::new();
        collect_files(inbox, &mut files)
            .with_context(|| format!("đọc thư mục nhận {}", inbox.display()))?;
        files.sort();
        let tz = self.settings.time_zone();
        let mut registers: BTreeMap<PathBuf, Register> = BTreeMap::new();
        let mut listed = Vec::with_capacity(files.len());
        for path in files {
            let dir = path.parent().unwrap_or(inbox).to_path_buf();
            if !registers.contains_key(&dir) {
                let reg = Register::read(&dir.join(REGISTER_FILE), tz)?;
                registers.insert(dir.clone(), reg);
            }
            let base = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let registered = registers.get_mut(&dir).and_then(|r| r.take(&base));
            let received_at = match registered {
                Some(t) => t,
                None => mtime(&path, tz)?,
            };
            let rel = path
                .strip_prefix(inbox)
                .unwrap_or(&path)
                .to_string_lossy()
                .to_string();
            listed.push((path, rel, base, received_at));
        }
        for (dir, reg) in &registers {
            summary
                .warnings
                .extend(reg.warnings(&dir.join(REGISTER_FILE)));
        }
        summary.seen = listed.len();

        // Read and hash every file; keep those not recorded before.
        let read: Vec<Result<(Vec<u8>, String)>> = listed
            .par_iter()
            .map(|(path, ..)| {
                let bytes =
                    std::fs::read(path).with_context(|| format!("đọc {}", path.display()))?;
                let sha = crate::store::sha256_hex(&bytes);
                Ok((bytes, sha))
            })
            .collect();
        let mut fresh = Vec::new();
        for ((_, rel, base, received_at), r) in listed.into_iter().zip(read) {
            let (bytes, sha) = r?;
            summary.bytes += bytes.len() as u64;
            if !self
                .store
                .has_submission(&sha, "inbox", &rel, &received_at)?
            {
                fresh.push((rel, base, received_at, bytes, sha));
            }
        }
        summary.new = fresh.len();
        summary
            .timings
            .push(("list, read, hash", started.elapsed()));

        // Check on every core while another thread archives: checking is
        // bound by the processor, archiving by waiting for the disk.
        let started = Instant::now();
        let archive = self.store.archive_root();
        let ctx = self.context();
        let (checked, archived) = std::thread::scope(|s| {
            let archiver = s.spawn(|| {
                let items: Vec<(&str, &[u8])> = fresh
                    .iter()
                    .map(|(_, _, _, bytes, sha)| (sha.as_str(), bytes.as_slice()))
                    .collect();
                let paths = crate::store::archive_write_all(&archive, &items);
                (paths, started.elapsed())
            });
            let checked: Vec<Checked> = fresh
                .par_iter()
                .map(|(_, base, _, bytes, _)| {
                    check_bytes(
                        bytes,
                        &Context {
                            file_name: Some(base),
                            ..ctx
                        },
                    )
                })
                .collect();
            let checked_in = started.elapsed();
            let archived = archiver
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            ((checked, checked_in), archived)
        });
        let ((checked, checked_in), (paths, archived_in)) = (checked, archived);
        let paths = paths?;
        // The stage lasts as long as the slower of the two; each is shown
        // too, marked "·" as part of the stage rather than a stage.
        summary
            .timings
            .push(("check, archive", checked_in.max(archived_in)));
        summary.timings.push(("· check", checked_in));
        summary.timings.push(("· archive (fsync)", archived_in));

        let started = Instant::now();
        let channel = if self.settings.smtp.is_some() {
            "smtp"
        } else {
            "outbox"
        };
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let mut batch = Vec::with_capacity(fresh.len());
        for ((rel, _, received_at, bytes, sha), (checked, path)) in
            fresh.into_iter().zip(checked.into_iter().zip(paths))
        {
            let receipt_to = checked
                .unit
                .as_deref()
                .and_then(|c| self.settings.unit(c))
                .filter(|u| crate::deliver::receipt_owed(self, u, checked.period, today))
                .map(|u| u.email.clone());
            let content_json = checked
                .submission
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?;
            if checked.accepted() {
                summary.accepted += 1;
            } else {
                summary.rejected.push((
                    rel.clone(),
                    checked.unit.clone(),
                    checked.findings.clone(),
                ));
            }
            batch.push(NewSubmission {
                submission: StoredSubmission {
                    id: 0,
                    sha256: sha,
                    source: "inbox".into(),
                    file_name: rel,
                    unit: checked.unit.clone(),
                    period: checked.period.map(|p| p.to_string()),
                    received_at,
                    accepted: checked.accepted(),
                    findings_json: serde_json::to_string(&checked.findings)?,
                    content_json,
                },
                size: bytes.len() as u64,
                archived_at: path,
                receipt: receipt_to.map(|to| (to, channel.to_string())),
            });
        }
        summary.recorded = self.store.record_submissions(&batch)?;
        summary.timings.push(("record (SQLite)", started.elapsed()));
        // Without a mail server the receipts are written to the outbox at
        // once; with one they wait in the ledger until sending is asked for
        // (`--send`, the service, `tthc jobs run retry`): see `send_receipts`.
        if self.settings.smtp.is_none() {
            self.send_receipts(&summary.recorded);
        }
        Ok(summary)
    }

    /// Sends the receipts owed for these submissions. A receipt that cannot
    /// go now stays in the ledger for the next run; it never holds up or
    /// undoes what was read.
    pub fn send_receipts(&self, recorded: &[i64]) -> Vec<crate::deliver::Outcome> {
        if !self.settings.delivery.receipts || recorded.is_empty() {
            return Vec::new();
        }
        crate::deliver::send_receipts(self, recorded).unwrap_or_else(|e| {
            tracing::error!(error = %format!("{e:#}"), "receipts not sent");
            Vec::new()
        })
    }

    /// The deadline day of a unit for a period.
    pub fn deadline(&self, unit: &Unit, period: Period) -> NaiveDate {
        let (_, end) = period.window(self.settings.period.window);
        end + chrono::Days::new(u64::from(self.settings.deadline_days(&unit.league)))
    }

    /// Whether a unit reported a quarter on time, late, only rejected
    /// workbooks or nothing, from the quarter's stored submissions.
    pub fn status(
        &self,
        unit: &Unit,
        quarter: Period,
        stored: &[StoredSubmission],
    ) -> Result<Status> {
        Ok(self.standing(unit, quarter, stored)?.status)
    }

    /// Where a unit stands for one quarter, from the store's submissions.
    fn standing(
        &self,
        unit: &Unit,
        quarter: Period,
        stored: &[StoredSubmission],
    ) -> Result<Standing> {
        let mine: Vec<&StoredSubmission> = stored
            .iter()
            .filter(|s| s.unit.as_deref() == Some(unit.code.0.as_str()))
            .collect();
        let deadline = self.deadline(unit, quarter);
        let accepted = mine.iter().rev().find(|s| s.accepted);
        let tz = self.settings.time_zone();
        let (status, received_at, days_late) = match (accepted, mine.last()) {
            (Some(s), _) => {
                let local = s.received_at.with_timezone(&tz).date_naive();
                let late = local > deadline;
                let status = if late { Status::Late } else { Status::OnTime };
                (
                    status,
                    Some(s.received_at),
                    late.then(|| (local - deadline).num_days()),
                )
            }
            (None, Some(s)) => (Status::Rejected, Some(s.received_at), None),
            (None, None) => (Status::Missing, None, None),
        };
        let shown = accepted.or(mine.last());
        let findings: Vec<Finding> = shown
            .map(|s| serde_json::from_str(&s.findings_json))
            .transpose()?
            .unwrap_or_default();
        let submission: Option<Submission> = accepted
            .map(|s| {
                serde_json::from_str(s.content_json.as_deref().unwrap_or("null"))
                    .with_context(|| format!("đọc lại bài nộp {} của {}", s.file_name, unit.code))
            })
            .transpose()?;
        Ok(Standing {
            status,
            received_at,
            deadline,
            days_late,
            findings,
            submission,
            notes: Vec::new(),
        })
    }

    /// A unit's year from its quarters: figures combined as the spec says,
    /// the year's status from its quarters, and notes on what is missing or
    /// does not carry over.
    fn year_standing(
        &self,
        unit: &Unit,
        year: i32,
        stored: &HashMap<Period, Vec<StoredSubmission>>,
    ) -> Result<Standing> {
        let mut quarters = Vec::new();
        let mut notes = Vec::new();
        for q in (Period::Year { year }).quarters() {
            let (from, to) = q.window(self.settings.period.window);
            if !unit.active_during(from, to) {
                continue;
            }
            let st = self.standing(
                unit,
                q,
                stored.get(&q).map(Vec::as_slice).unwrap_or_default(),
            )?;
            if st.submission.is_none() {
                notes.push(format!(
                    "Không có báo cáo hợp lệ {}: điểm năm tính trên các quý còn lại.",
                    q.label_vi()
                ));
            }
            quarters.push((q, st));
        }
        let accepted: Vec<(Period, &Submission)> = quarters
            .iter()
            .filter_map(|(q, st)| st.submission.as_ref().map(|s| (*q, s)))
            .collect();
        let (submission, mut carry) = match accepted.as_slice() {
            [] => (None, Vec::new()),
            list => {
                let (s, n) = combine_year(list);
                (Some(s), n)
            }
        };
        notes.append(&mut carry);
        let any = |s: Status| quarters.iter().any(|(_, st)| st.status == s);
        let status = match &submission {
            Some(_) if any(Status::Late) => Status::Late,
            Some(_) => Status::OnTime,
            None if any(Status::Rejected) => Status::Rejected,
            None => Status::Missing,
        };
        let last = quarters.last();
        Ok(Standing {
            status,
            received_at: quarters.iter().filter_map(|(_, st)| st.received_at).max(),
            deadline: last
                .map(|(_, st)| st.deadline)
                .unwrap_or_else(|| self.deadline(unit, Period::quarter(year, 4))),
            days_late: quarters
                .iter()
                .filter_map(|(_, st)| st.days_late)
                .reduce(|a, b| a + b),
            findings: quarters
                .iter()
                .flat_map(|(_, st)| st.findings.iter().cloned())
                .collect(),
            submission,
            notes,
        })
    }

    /// Scores and ranks a quarter or a year from what the store holds; with
    /// `with_previous`, also the period before, for each unit's change.
    pub fn results(&self, period: Period, with_previous: bool) -> Result<Option<Results>> {
        let Some(ruleset) = self.rules.ruleset_for(period) else {
            return Err(crate::rules::NotInForce {
                period,
                dir: self.settings.rules_dir.clone(),
            }
            .into());
        };
        let targets = self.rules.targets_for(period);
        let tasks = self.rules.tasks_for(period);
        let mode = self.settings.period.window;
        let (from, to) = period.window(mode);
        let mut stored: HashMap<Period, Vec<StoredSubmission>> = HashMap::new();
        for q in period.quarters() {
            stored.insert(q, self.store.submissions_for(&q.to_string())?);
        }
        if stored.values().all(Vec::is_empty) && !with_previous {
            return Ok(None);
        }
        let is_year = matches!(period, Period::Year { .. });

        let mut units = Vec::new();
        let mut inputs = Vec::new();
        for unit in self
            .settings
            .units
            .iter()
            .filter(|u| u.active_during(from, to))
        {
            let st = match period {
                Period::Quarter { .. } => self.standing(
                    unit,
                    period,
                    stored.get(&period).map(Vec::as_slice).unwrap_or_default(),
                )?,
                Period::Year { year } => self.year_standing(unit, year, &stored)?,
            };
            let mut rows = Vec::new();
            let mut task_results = Vec::new();
            if let Some(sub) = &st.submission {
                inputs.push(UnitInput {
                    code: unit.code.0.clone(),
                    league: unit.league.0.clone(),
                    fields: sub.fields(),
                    // Lateness is a quarter's matter; a year is not submitted.
                    late: st.status == Status::Late && !is_year,
                });
                rows = sub.rows.clone();
                if let Some(ts) = tasks {
                    task_results = evaluate_tasks(ts, &unit.league.0, period, mode, sub);
                }
            }
            units.push(UnitResult {
                code: unit.code.0.clone(),
                name: unit.name.clone(),
                league: unit.league.0.clone(),
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
            });
        }
        let cards = score_units(&inputs, ruleset, targets)?;
        let mut by_code: HashMap<String, crate::score::ScoreCard> =
            cards.into_iter().map(|c| (c.unit.clone(), c)).collect();
        for u in &mut units {
            u.card = by_code.remove(&u.code);
        }
        let previous: BTreeMap<String, Previous> = if with_previous {
            match self.results(period.previous(), false) {
                Ok(Some(prev)) => prev
                    .leagues
                    .iter()
                    .flat_map(|l| l.units.iter())
                    .filter_map(|u| {
                        Some((
                            u.code.clone(),
                            Previous {
                                total: u.card.as_ref()?.total,
                                rank: u.rank?,
                            },
                        ))
                    })
                    .collect(),
                _ => BTreeMap::new(),
            }
        } else {
            BTreeMap::new()
        };
        for u in &mut units {
            u.previous = previous.get(&u.code).copied();
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
            organisation: self.settings.organisation.clone(),
            ruleset: ruleset.clone(),
            targets: targets.cloned(),
            tasks: tasks.cloned(),
            leagues,
        }))
    }

    /// Ingests, scores and writes the quarter's report as a version: the
    /// same inputs give the same version again, changed inputs a new one.
    pub fn run(&self, period: Period) -> Result<(IngestSummary, RunOutcome)> {
        let summary = self.ingest()?;
        let mut results = self
            .results(period, true)?
            .ok_or_else(|| anyhow!("không có dữ liệu cho {period}"))?;
        let digest = results.digest()?;
        let key = period.to_string();
        let now = chrono::Utc::now()
            .with_timezone(&self.settings.time_zone())
            .to_rfc3339();
        let (stored, new_version) = self.store.reserve_version(&key, &digest, &now, |v, at| {
            results.version = v;
            results.generated_at = at.to_string();
            crate::report::json::to_string(&results)
                .map_err(|e| crate::store::StoreError::Corrupt(format!("{e:#}")))
        })?;
        let version = stored.version;
        results.version = version;
        results.generated_at = stored.generated_at;
        let dir = self.settings.paths.output.join(&key);
        let files = crate::report::write_all(&results, &dir)?;
        // Without a mail server the outbox is the delivery; with one,
        // sending is asked for (`tthc run --send`, `tthc send`).
        let deliveries = if self.settings.smtp.is_none() {
            crate::deliver::deliver_report(self, &results, &files, crate::deliver::ClaimMode::Auto)?
        } else {
            Vec::new()
        };
        let emails = deliveries.iter().filter_map(|d| d.file.clone()).collect();
        Ok((
            summary,
            RunOutcome {
                period,
                version,
                new_version,
                dir,
                files,
                results,
                emails,
                deliveries,
            },
        ))
    }

    /// Sends the period's latest report version to the recipients that do
    /// not have it yet (all of them with `resend`). Refuses when the inputs
    /// changed since that version was made: run the period first.
    pub fn send(
        &self,
        period: Period,
        resend: bool,
    ) -> Result<(i64, Vec<crate::deliver::Outcome>)> {
        let key = period.to_string();
        let latest = self.store.latest_version(&key)?.ok_or_else(|| {
            anyhow!(
                "chưa có báo cáo {} nào: chạy tthc run --period {period} trước",
                period.label_vi()
            )
        })?;
        let mut results = self
            .results(period, true)?
            .ok_or_else(|| anyhow!("không có dữ liệu cho {period}"))?;
        if results.digest()? != latest.digest {
            return Err(anyhow!(
                "dữ liệu {} đã thay đổi từ phiên bản {}: chạy tthc run --period {period} để lập phiên bản mới rồi gửi",
                period.label_vi(),
                latest.version
            ));
        }
        results.version = latest.version;
        results.generated_at = latest.generated_at.clone();
        let files = crate::report::write_all(&results, &self.settings.paths.output.join(&key))?;
        let mode = if resend {
            crate::deliver::ClaimMode::Force
        } else {
            crate::deliver::ClaimMode::Manual
        };
        let outcomes = crate::deliver::deliver_report(self, &results, &files, mode)?;
        Ok((latest.version, outcomes))
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name == REGISTER_FILE {
            continue;
        }
        if entry.file_type()?.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn mtime(path: &Path, tz: chrono_tz::Tz) -> Result<DateTime<FixedOffset>> {
    let t = std::fs::metadata(path)?.modified()?;
    let utc: DateTime<chrono::Utc> = t.into();
    Ok(utc.with_timezone(&tz).fixed_offset())
}

/// An inbox folder's `so-nhan.csv`: when each file was received, by file
/// name. Names are compared through the project's text folding, so a name
/// written in NFD on disk (as a Mac writes it) matches the same name typed
/// in NFC in the register.
#[derive(Debug, Default)]
pub struct Register {
    /// Folded file name → the line that registers it.
    lines: HashMap<String, RegisterLine>,
    /// Lines naming a file an earlier line named (the later line counts).
    repeated: Vec<String>,
}

#[derive(Debug)]
struct RegisterLine {
    line: usize,
    name: String,
    at: DateTime<FixedOffset>,
    matched: usize,
}

impl Register {
    /// Reads the register: a header row, then file name and the time it
    /// was received ("2022-12-15 08:30" or "15/12/2022 08:30", local time).
    /// A folder without one has an empty register.
    pub fn read(path: &Path, tz: chrono_tz::Tz) -> Result<Register> {
        let mut out = Register::default();
        if !path.exists() {
            return Ok(out);
        }
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .with_context(|| format!("mở sổ nhận {}", path.display()))?;
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.with_context(|| format!("{}: dòng {line}", path.display()))?;
            let (Some(name), Some(at)) = (rec.get(0), rec.get(1)) else {
                continue;
            };
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let at = parse_received_at(at.trim(), tz)
                .map_err(|why| anyhow!("{}: dòng {line}: {why}", path.display()))?;
            let key = crate::domain::fold(name);
            if let Some(earlier) = out.lines.get(&key) {
                out.repeated.push(format!(
                    "{}: dòng {line}: tệp \"{name}\" đã ghi ở dòng {}; dùng thời điểm của dòng {line}",
                    path.display(),
                    earlier.line
                ));
            }
            out.lines.insert(
                key,
                RegisterLine {
                    line,
                    name: name.to_string(),
                    at: at.fixed_offset(),
                    matched: 0,
                },
            );
        }
        Ok(out)
    }

    /// The time registered for this file name, if any; counts the match.
    pub fn take(&mut self, file_name: &str) -> Option<DateTime<FixedOffset>> {
        let line = self.lines.get_mut(&crate::domain::fold(file_name))?;
        line.matched += 1;
        Some(line.at)
    }

    /// A line that matched no file, or more than one, after the inbox was
    /// listed: said in the run's summary, since a unit's lateness then
    /// comes from the file's modification time or is shared.
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let mut lines: Vec<&RegisterLine> = self.lines.values().collect();
        lines.sort_by_key(|l| l.line);
        let mut out = self.repeated.clone();
        out.extend(lines.into_iter().filter_map(|l| match l.matched {
                1 => None,
                0 => Some(format!(
                    "{}: dòng {}: không có tệp nào tên \"{}\" trong thư mục",
                    path.display(),
                    l.line,
                    l.name
                )),
                n => Some(format!(
                    "{}: dòng {}: \"{}\" khớp {n} tệp trong thư mục; thời điểm nhận được dùng cho cả {n}",
                    path.display(),
                    l.line,
                    l.name
                )),
            }));
        out
    }
}

/// A register's time of receipt, local time, in one of the forms offices type.
fn parse_received_at(at: &str, tz: chrono_tz::Tz) -> Result<DateTime<chrono_tz::Tz>, String> {
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(at, f).ok())
    .ok_or_else(|| format!("thời điểm nhận \"{at}\" không đúng dạng \"2022-12-15 08:30\""))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| "thời điểm không tồn tại theo giờ địa phương".to_string())
}
