//! Failed sign-ins, counted in SQLite so that they survive a restart and
//! so that attempts made at the same moment cannot all slip under the
//! limit: an attempt on an account is counted as a failure before its code
//! is checked, in one write transaction, and taken back when it succeeds.
//!
//! Two counters answer two threats. An account that fails `account_limit`
//! times within `window` is locked for `lock` (or until the office unlocks
//! it): nobody guesses a code. An address that fails more than
//! `address_free` times, whatever the logins, waits a delay that doubles
//! with each further failure, up to `address_max_delay`: a stranger
//! trying made-up logins slows only themself, and locks no account.

use super::{Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

/// How sign-in failures are limited.
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    pub account_limit: u32,
    pub window: Duration,
    pub lock: Duration,
    pub address_free: u32,
    pub address_max_delay: Duration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            account_limit: 5,
            window: Duration::minutes(15),
            lock: Duration::minutes(15),
            address_free: 10,
            address_max_delay: Duration::minutes(15),
        }
    }
}

/// Why an attempt is not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The account failed too often: until then, or until the office unlocks it.
    Locked { until: DateTime<Utc> },
    /// This address failed too often: its next attempt waits until then.
    Slowed { until: DateTime<Utc> },
}

/// An attempt counted in advance, to be settled by its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    account: String,
    address: String,
    /// The account's failures in the window, this attempt included.
    pub failures: u32,
    /// Whether the address's count already holds this attempt.
    address_counted: bool,
}

/// The key of an account's counter: logins are compared as the sign-in
/// form compares them (trimmed, upper case).
fn account_key(login: &str) -> String {
    format!("tk:{}", login.trim().to_uppercase())
}

fn address_key(address: &str) -> String {
    format!("dc:{address}")
}

struct Counter {
    failures: u32,
    next_at: Option<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
}

fn time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

impl Store {
    fn counter(&self, key: &str) -> Result<Option<Counter>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT failures, next_at, locked_until FROM sign_in_counters WHERE key = ?1",
                params![key],
                |r| {
                    Ok(Counter {
                        failures: r.get::<_, i64>(0)?.max(0) as u32,
                        next_at: time(r.get(1)?),
                        locked_until: time(r.get(2)?),
                    })
                },
            )
            .optional()?)
    }

    /// Writes a counter: its failures, the last one's time and, for an
    /// address, when its next try may come; any lock is lifted (a lock is
    /// set only after a failed try, by `sign_in_failed`).
    fn set_counter(
        &self,
        key: &str,
        failures: u32,
        now: DateTime<Utc>,
        next_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sign_in_counters (key, failures, last_at, next_at, locked_until)
             VALUES (?1, ?2, ?3, ?4, NULL)
             ON CONFLICT(key) DO UPDATE SET failures = ?2, last_at = ?3, next_at = ?4, locked_until = NULL",
            params![key, failures, now.to_rfc3339(), next_at.map(|t| t.to_rfc3339())],
        )?;
        Ok(())
    }

    /// Counts an attempt to sign in as `login` from `address` as a failure
    /// before its code is checked, or says why it may not be made now.
    pub fn begin_sign_in(
        &self,
        login: &str,
        address: &str,
        now: DateTime<Utc>,
        p: &SignInPolicy,
    ) -> Result<Result<Attempt, Refused>, StoreError> {
        self.immediate(|| self.begin_locked(login, address, now, p))
    }

    fn begin_locked(
        &self,
        login: &str,
        address: &str,
        now: DateTime<Utc>,
        p: &SignInPolicy,
    ) -> Result<Result<Attempt, Refused>, StoreError> {
        let stamp = now.to_rfc3339();
        // Counters go quiet after the window, unless a lock still runs.
        self.conn.execute(
            "DELETE FROM sign_in_counters WHERE last_at < ?1
               AND (locked_until IS NULL OR locked_until < ?2)",
            params![(now - p.window).to_rfc3339(), stamp],
        )?;
        let (account, addr) = (account_key(login), address_key(address));
        let mut failures = 0;
        if let Some(c) = self.counter(&account)? {
            match c.locked_until {
                Some(until) if until > now => return Ok(Err(Refused::Locked { until })),
                // A lock that ran out starts the count again.
                Some(_) => {}
                None if c.failures >= p.account_limit => {
                    // As many attempts as allowed are being checked right
                    // now: this one waits for their outcome.
                    return Ok(Err(Refused::Locked {
                        until: now + p.lock,
                    }));
                }
                None => failures = c.failures,
            }
        }
        let from_here = self.counter(&addr)?;
        if let Some(c) = &from_here
            && c.failures >= p.address_free
            && let Some(until) = c.next_at.filter(|t| *t > now)
        {
            return Ok(Err(Refused::Slowed { until }));
        }
        failures += 1;
        self.set_counter(&account, failures, now, None)?;
        // An address within its free tries is counted only when a try
        // fails, so that fifty units signing in at once from one office
        // network are not slowed. Past them, each try takes the next slot
        // at once, so tries sent together wait their turn.
        let here = from_here.map_or(0, |c| c.failures);
        let address_counted = here >= p.address_free;
        if address_counted {
            self.count_address_failure(&addr, here, now, p)?;
        }
        Ok(Ok(Attempt {
            account,
            address: addr,
            failures,
            address_counted,
        }))
    }

    /// One more failure from an address that had `before`; past its free
    /// tries, its next try waits 1 s, then 2 s, 4 s … up to the longest delay.
    fn count_address_failure(
        &self,
        key: &str,
        before: u32,
        now: DateTime<Utc>,
        p: &SignInPolicy,
    ) -> Result<(), StoreError> {
        let here = before + 1;
        let next_at = (here > p.address_free).then(|| {
            let doublings = (here - p.address_free - 1).min(20);
            now + Duration::seconds(1i64 << doublings).min(p.address_max_delay)
        });
        self.set_counter(key, here, now, next_at)
    }

    /// The code was wrong: the account is locked when that was its last
    /// allowed try. Returns the tries left before the lock.
    pub fn sign_in_failed(
        &self,
        a: &Attempt,
        now: DateTime<Utc>,
        p: &SignInPolicy,
    ) -> Result<u32, StoreError> {
        self.immediate(|| {
            if a.failures >= p.account_limit {
                self.conn.execute(
                    "UPDATE sign_in_counters SET locked_until = ?2 WHERE key = ?1",
                    params![a.account, (now + p.lock).to_rfc3339()],
                )?;
            }
            if !a.address_counted {
                let before = self.counter(&a.address)?.map_or(0, |c| c.failures);
                self.count_address_failure(&a.address, before, now, p)?;
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(p.account_limit.saturating_sub(a.failures))
    }

    /// The code was right: the account's count starts again, and the
    /// attempt is taken back from the address's.
    pub fn sign_in_succeeded(&self, a: &Attempt) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM sign_in_counters WHERE key = ?1",
            params![a.account],
        )?;
        if a.address_counted {
            tx.execute(
                "UPDATE sign_in_counters SET failures = MAX(failures - 1, 0) WHERE key = ?1",
                params![a.address],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Lifts an account's lock and forgets its failures (the office's
    /// "Mở khóa"). Whether there was anything to lift.
    pub fn unlock_sign_in(&self, login: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM sign_in_counters WHERE key = ?1",
            params![account_key(login)],
        )? > 0)
    }

    /// The accounts locked now, with when each lock ends: (login as typed
    /// in upper case, until).
    pub fn locked_sign_ins(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT key, locked_until FROM sign_in_counters
             WHERE key LIKE 'tk:%' AND locked_until > ?1 ORDER BY key",
        )?;
        let rows = stmt.query_map(params![now.to_rfc3339()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, until) = row?;
            if let Some(until) = time(until) {
                out.push((key.trim_start_matches("tk:").to_string(), until));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: SignInPolicy = SignInPolicy {
        account_limit: 5,
        window: Duration::minutes(15),
        lock: Duration::minutes(15),
        address_free: 10,
        address_max_delay: Duration::minutes(15),
    };

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn try_at(s: &Store, login: &str, addr: &str, at: DateTime<Utc>) -> Result<Attempt, Refused> {
        s.begin_sign_in(login, addr, at, &P).unwrap()
    }

    /// A try that is let through and fails; the tries left.
    fn fail_at(s: &Store, login: &str, addr: &str, at: DateTime<Utc>) -> u32 {
        let a = try_at(s, login, addr, at).expect("let through");
        s.sign_in_failed(&a, at, &P).unwrap()
    }

    #[test]
    fn the_default_policy_is_the_documented_one() {
        let d = SignInPolicy::default();
        assert_eq!(
            (d.account_limit, d.address_free),
            (P.account_limit, P.address_free)
        );
        assert_eq!((d.window, d.lock), (P.window, P.lock));
    }

    #[test]
    fn an_account_locks_after_its_limit_and_unlocks_by_hand() {
        let (_d, s) = store();
        let now = Utc::now();
        for n in 1..=5u32 {
            assert_eq!(fail_at(&s, "xa01", "10.0.0.1", now), 5 - n);
        }
        let refused = try_at(&s, " XA01 ", "10.0.0.2", now);
        assert!(
            matches!(refused, Err(Refused::Locked { .. })),
            "{refused:?}"
        );
        assert_eq!(s.locked_sign_ins(now).unwrap().len(), 1);
        assert!(s.unlock_sign_in("xa01").unwrap());
        assert!(try_at(&s, "XA01", "10.0.0.2", now).is_ok());
        // And a lock ends by itself.
        for _ in 0..5 {
            fail_at(&s, "XA02", "10.0.0.3", now);
        }
        assert!(try_at(&s, "XA02", "10.0.0.3", now).is_err());
        let later = now + P.lock + Duration::seconds(1);
        assert!(try_at(&s, "XA02", "10.0.0.3", later).is_ok());
    }

    #[test]
    fn tries_in_flight_count_against_the_account_before_they_are_checked() {
        let (_d, s) = store();
        let now = Utc::now();
        let in_flight: Vec<_> = (0..8)
            .map(|_| try_at(&s, "XA04", "10.0.0.4", now))
            .collect();
        assert_eq!(in_flight.iter().filter(|t| t.is_ok()).count(), 5);
    }

    #[test]
    fn an_address_trying_many_logins_is_slowed_and_locks_no_account() {
        let (_d, s) = store();
        let now = Utc::now();
        for n in 0..P.address_free {
            fail_at(&s, &format!("BIA{n}"), "10.9.9.9", now);
        }
        // One more goes through and sets a delay; the next waits for it.
        fail_at(&s, "BIA-X", "10.9.9.9", now);
        let slowed = try_at(&s, "VANPHONG", "10.9.9.9", now);
        assert!(matches!(slowed, Err(Refused::Slowed { .. })), "{slowed:?}");
        // The office, from its own address, is not touched.
        assert!(try_at(&s, "VANPHONG", "10.0.0.5", now).is_ok());
        assert!(s.locked_sign_ins(now).unwrap().is_empty());
        // The delay doubles: after 1 s one try, then 2 s.
        let t1 = now + Duration::seconds(1);
        fail_at(&s, "BIA-Y", "10.9.9.9", t1);
        assert!(try_at(&s, "BIA-Z", "10.9.9.9", t1 + Duration::seconds(1)).is_err());
        assert!(try_at(&s, "BIA-Z", "10.9.9.9", t1 + Duration::seconds(2)).is_ok());
    }

    #[test]
    fn many_accounts_signing_in_at_once_from_one_address_are_not_slowed() {
        let (_d, s) = store();
        let now = Utc::now();
        let begun: Vec<Attempt> = (0..50)
            .map(|n| try_at(&s, &format!("XA{n:02}"), "10.1.1.1", now).unwrap())
            .collect();
        for a in &begun {
            s.sign_in_succeeded(a).unwrap();
        }
        assert!(try_at(&s, "XA99", "10.1.1.1", now).is_ok());
    }

    #[test]
    fn a_success_clears_the_account_and_gives_back_the_addresss_try() {
        let (_d, s) = store();
        let now = Utc::now();
        for _ in 0..3 {
            fail_at(&s, "XA03", "10.0.0.7", now);
        }
        let a = try_at(&s, "XA03", "10.0.0.7", now).unwrap();
        assert_eq!(a.failures, 4);
        s.sign_in_succeeded(&a).unwrap();
        assert_eq!(
            try_at(&s, "XA03", "10.0.0.7", now).unwrap().failures,
            1,
            "the count starts again"
        );
    }
}
