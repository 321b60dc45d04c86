//! Shutting down: the service asks every delivery of the process to finish
//! the message it is sending and start no other; what is left stays in
//! the ledger for the next run.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every delivery in this process to finish the message it is
/// sending and start no other (the service is shutting down). What is
/// left stays in the ledger for the next run.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}
