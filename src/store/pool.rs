//! A small pool of SQLite connections to one data dir, so that each task
//! (a portal request, a job, a report run) works on a connection of its
//! own and none waits for another's work beyond SQLite's write lock for
//! the length of a commit. The database is in WAL mode: readers never
//! wait for the writer.
//!
//! A few lines rather than a pooling crate: the connection is opened the
//! store's way (busy timeout, WAL, full sync), migrations and the ledger's
//! journal run once when the pool opens, and a connection is simply opened
//! again when none is idle — opening one costs well under a millisecond.

use super::{Store, StoreError};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How many idle connections are kept for the next task.
const MAX_IDLE: usize = 8;

/// Connections to one data dir; cheap to clone (all clones share it).
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Pool {
    /// Opens the store in `dir` (creating and migrating it if need be) and
    /// keeps that first connection for the first task.
    pub fn open(dir: &Path) -> Result<Pool, StoreError> {
        let first = Store::open(dir)?;
        Ok(Pool {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                idle: Mutex::new(vec![first]),
            }),
        })
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// A connection for this task: an idle one, or a new one.
    pub fn get(&self) -> Result<Pooled, StoreError> {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let store = match idle {
            Some(s) => s,
            None => Store::connect(&self.inner.dir)?,
        };
        Ok(Pooled {
            pool: self.inner.clone(),
            store: Some(store),
        })
    }
}

/// A connection lent to one task; back to the pool when dropped.
pub struct Pooled {
    pool: Arc<Inner>,
    store: Option<Store>,
}

impl Deref for Pooled {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store
            .as_ref()
            .expect("a lent connection is there until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(store) = self.store.take() else {
            return;
        };
        // A connection left inside a transaction (a panic mid-write) is
        // not lent again.
        if !store.in_transaction() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(store);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_lent_side_by_side_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let pool = Pool::open(dir.path()).unwrap();
        let a = pool.get().unwrap();
        let b = pool.get().unwrap();
        // Two connections at once: one writes while the other reads.
        a.meta_set_once("k", "v").unwrap();
        assert_eq!(b.meta("k").unwrap().as_deref(), Some("v"));
        drop(a);
        drop(b);
        assert_eq!(pool.inner.idle.lock().unwrap().len(), 2);
    }
}
