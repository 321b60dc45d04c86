//! Which process this is, in leases and job runs, and whether the process
//! another name stands for is known to be gone.

use chrono::Utc;
use std::sync::OnceLock;

pub(super) static HOLDER: OnceLock<String> = OnceLock::new();

/// This process's name in leases and job runs:
/// `KIND:HOST:PID:START`, where KIND is `serve` or `cli`.
pub fn holder() -> &'static str {
    HOLDER.get_or_init(|| name_process("cli"))
}

pub(super) fn name_process(kind: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let start = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{kind}:{host}:{}:{start}", std::process::id())
}

/// Whether a holder's process is known to be gone: same machine, and no
/// such process any more. Elsewhere (or without /proc) it is not known,
/// and only the lease's end frees what it held.
pub fn holder_is_dead(holder: &str) -> bool {
    let mut parts = holder.split(':');
    let (_, Some(host), Some(pid)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ours = self::holder().split(':').nth(1).unwrap_or_default();
    host == ours
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// From now on this process is the service (`tthc serve`) in the names it
/// leaves in leases and job runs.
pub fn serving() {
    let _ = HOLDER.set(name_process("serve"));
}
