//! The archive: every file read, kept under its SHA-256, written to a
//! temporary name, synced and renamed; never overwritten or deleted.

use super::StoreError;
use std::io::Write;
use std::path::{Path, PathBuf};

fn path_of(root: &Path, sha: &str) -> PathBuf {
    root.join(&sha[..2]).join(sha)
}

/// Writes the bytes under their hash unless already there: to a temporary
/// file, synced, then renamed, so a crash never leaves half a file.
pub fn write(root: &Path, sha: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    put(root, sha, bytes, true)
}

/// Writes many files as `write` does, on a pool of threads sized for
/// waiting on the disk rather than for the cores: every temporary file
/// written, then one sync of the file system for all of them (where the
/// system has one; else each file's own), then the renames, then each
/// folder synced once. When this returns, every file is durable under its
/// hash; none is ever under its hash before its bytes are on disk.
pub fn write_all(root: &Path, items: &[(&str, &[u8])]) -> Result<Vec<PathBuf>, StoreError> {
    use rayon::prelude::*;
    // One pool for the process, built on first use.
    static IO_POOL: std::sync::LazyLock<Option<rayon::ThreadPool>> =
        std::sync::LazyLock::new(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(16)
                .thread_name(|i| format!("archive-{i}"))
                .build()
                .ok()
        });
    let io_pool = IO_POOL
        .as_ref()
        .ok_or_else(|| StoreError::Corrupt("không tạo được luồng ghi".into()))?;
    // One write per content: a later item with the same hash gets the
    // first one's path.
    let mut first: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let unique: Vec<(&str, &[u8])> = items
        .iter()
        .filter(|(sha, _)| {
            let n = first.len();
            first.entry(sha).or_insert(n) == &n
        })
        .copied()
        .collect();
    io_pool.install(|| {
        let staged = unique
            .par_iter()
            .map(|(sha, bytes)| stage(root, sha, bytes, false))
            .collect::<Result<Vec<_>, _>>()?;
        let pending: Vec<&(PathBuf, PathBuf)> = staged.iter().flatten().collect();
        if !pending.is_empty() && !sync_file_system(root) {
            pending.par_iter().try_for_each(|(tmp, _)| {
                std::fs::File::open(tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(|source| StoreError::Io {
                        path: tmp.clone(),
                        source,
                    })
            })?;
        }
        pending.par_iter().try_for_each(|(tmp, path)| {
            std::fs::rename(tmp, path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })
        })?;
        let written: Vec<PathBuf> = unique.iter().map(|(sha, _)| path_of(root, sha)).collect();
        let paths: Vec<PathBuf> = items
            .iter()
            .map(|(sha, _)| written[first[sha]].clone())
            .collect();
        let mut dirs: Vec<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
        dirs.sort();
        dirs.dedup();
        dirs.par_iter().for_each(|d| {
            if let Ok(d) = std::fs::File::open(d) {
                let _ = d.sync_all();
            }
        });
        Ok(paths)
    })
}

/// One sync of the file system the archive is on, for a whole batch
/// (Linux's `syncfs`); false where there is none, or it failed.
fn sync_file_system(root: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if let Ok(d) = std::fs::File::open(root) {
            // SAFETY: syncfs only reads the descriptor, which `d` keeps open.
            return unsafe { libc::syncfs(d.as_raw_fd()) } == 0;
        }
    }
    let _ = root;
    false
}

fn put(root: &Path, sha: &str, bytes: &[u8], sync_dir: bool) -> Result<PathBuf, StoreError> {
    let path = path_of(root, sha);
    let Some((tmp, path)) = stage(root, sha, bytes, true)? else {
        return Ok(path);
    };
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    std::fs::rename(&tmp, &path).map_err(io)?;
    if sync_dir
        && let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(path)
}

/// Writes the bytes to a temporary name beside their place (synced, with
/// `sync`): the temporary and final paths, or `None` when the content is
/// already archived.
fn stage(
    root: &Path,
    sha: &str,
    bytes: &[u8],
    sync: bool,
) -> Result<Option<(PathBuf, PathBuf)>, StoreError> {
    let path = path_of(root, sha);
    if path.exists() {
        return Ok(None);
    }
    let dir = path.parent().unwrap_or(root);
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    // A name of this writer's own: two threads of one process writing the
    // same content (the same workbook twice in an inbox, two uploads of one
    // file) must not share a temporary file. The renames are then of equal
    // bytes onto one name, which is harmless.
    static WRITER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{sha}.{n}.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        if sync {
            f.sync_all().map_err(io)?;
        }
    }
    Ok(Some((tmp, path)))
}

pub fn read(root: &Path, sha: &str) -> Result<Vec<u8>, StoreError> {
    if sha.len() < 3 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(StoreError::Corrupt(format!("mã băm không hợp lệ: {sha}")));
    }
    let path = path_of(root, sha);
    std::fs::read(&path).map_err(|source| StoreError::Io { path, source })
}

/// Removes the temporary files a process that died left in the archive
/// (`.{sha}.{pid}.tmp` of a pid no longer running), so no half-written
/// file stays behind. Returns how many were removed.
pub fn sweep(root: &Path) -> usize {
    let mut removed = 0;
    let Ok(dirs) = std::fs::read_dir(root) else {
        return 0;
    };
    for dir in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().to_string();
            let Some(pid) = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".tmp"))
                .and_then(|n| n.rsplit('.').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
            if !alive && std::fs::remove_file(f.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sha256_hex;

    #[test]
    fn the_same_content_twice_in_one_batch_is_written_once_and_both_get_its_path() {
        for _ in 0..10 {
            let root = tempfile::tempdir().unwrap();
            let bytes = b"PK same workbook".as_slice();
            let sha = sha256_hex(bytes);
            let items: Vec<(&str, &[u8])> = (0..5).map(|_| (sha.as_str(), bytes)).collect();
            let paths = write_all(root.path(), &items).unwrap();
            assert_eq!(paths.len(), 5);
            assert!(paths.iter().all(|p| p == &paths[0]));
            assert_eq!(std::fs::read(&paths[0]).unwrap(), bytes);
            let files: Vec<_> = std::fs::read_dir(paths[0].parent().unwrap())
                .unwrap()
                .collect();
            assert_eq!(files.len(), 1, "one archived file, no temporary left");
        }
    }

    #[test]
    fn two_threads_writing_one_content_at_once_both_succeed() {
        for _ in 0..20 {
            let root = tempfile::tempdir().unwrap();
            let bytes = vec![7u8; 200_000];
            let sha = sha256_hex(&bytes);
            std::thread::scope(|s| {
                let a = s.spawn(|| put(root.path(), &sha, &bytes, false));
                let b = s.spawn(|| put(root.path(), &sha, &bytes, false));
                a.join().unwrap().unwrap();
                b.join().unwrap().unwrap();
            });
        }
    }

    #[test]
    fn a_dead_process_s_temporary_file_is_swept_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("ab");
        std::fs::create_dir_all(&dir).unwrap();
        let dead = dir.join(".abcd.999999999.tmp");
        let mine = dir.join(format!(".abcd.{}.tmp", std::process::id()));
        let whole = dir.join("abcd");
        for f in [&dead, &mine, &whole] {
            std::fs::write(f, b"x").unwrap();
        }
        assert_eq!(sweep(root.path()), 1);
        assert!(!dead.exists() && mine.exists() && whole.exists());
    }
}
