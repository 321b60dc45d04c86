//! The database schema and its migrations, each run once, in order, under
//! the write lock.

use rusqlite::Connection;

/// Each migration runs once, in order; `user_version` counts those done.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    path TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES files(sha256),
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    unit TEXT,
    period TEXT,
    received_at TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    findings TEXT NOT NULL,
    content TEXT,
    checked_at TEXT NOT NULL
);
CREATE INDEX submissions_period ON submissions(period, unit);
CREATE TABLE report_versions (
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    results TEXT NOT NULL,
    PRIMARY KEY (period, version)
);
CREATE TABLE deliveries (
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    detail TEXT NOT NULL,
    message_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (period, version, recipient)
);
"#,
    r#"
ALTER TABLE deliveries ADD COLUMN next_attempt_at TEXT;
ALTER TABLE deliveries ADD COLUMN lease_until TEXT;
ALTER TABLE deliveries ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    trigger TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT,
    summary TEXT NOT NULL DEFAULT ''
);
"#,
    r#"
ALTER TABLE job_runs ADD COLUMN holder TEXT NOT NULL DEFAULT '';
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
"#,
    r#"
CREATE TABLE accounts (
    login TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    unit TEXT,
    hash TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX submissions_unit ON submissions(unit, id);
"#,
    r#"
ALTER TABLE deliveries ADD COLUMN first_at TEXT;
ALTER TABLE deliveries ADD COLUMN notified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notices ADD COLUMN kind TEXT NOT NULL DEFAULT 'failed';
ALTER TABLE notices ADD COLUMN next_attempt_at TEXT;
ALTER TABLE notices ADD COLUMN gave_up_at TEXT;
ALTER TABLE notices ADD COLUMN period TEXT;
ALTER TABLE notices ADD COLUMN version INTEGER;
ALTER TABLE notices ADD COLUMN recipient TEXT;
"#,
    r#"
CREATE TABLE sign_in_counters (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at TEXT NOT NULL,
    next_at TEXT,
    locked_until TEXT
);
"#,
    // Every run asks, for each file of the inbox, whether it was read
    // before: without this index each question read the whole table, and
    // a run that found nothing new took longer than the first.
    r#"
CREATE INDEX submissions_file ON submissions(sha256, source, file_name, received_at);
"#,
];

/// Brings the schema up to date. Two processes may open a new data dir
/// at the same moment: the version is read again under the write lock
/// (`BEGIN IMMEDIATE`), so only one of them applies each migration and
/// the other finds it done.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version = |c: &Connection| -> rusqlite::Result<usize> {
        Ok(c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize)
    };
    if version(conn)? >= MIGRATIONS.len() {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        let done = version(conn)?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(done) {
            conn.execute_batch(m)?;
            conn.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
