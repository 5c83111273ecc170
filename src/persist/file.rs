//! Files that are never half-written: [`write_atomic`] writes a temporary file in the target's
//! directory, fsyncs it, renames it over the target and fsyncs the directory, so after a crash
//! at any moment the target is either the old file or the new one, whole.
//!
//! On Windows the file has no mode bits to set (it inherits its directory's ACL), and the
//! directory is not fsynced: Windows cannot open a directory as a file to flush it, and NTFS
//! journals the rename itself.
//!
//! Invariant: the temporary file's name is unique per process and call (`.NAME.tmp-PID-N`), so
//! two saves in flight never write the same temporary file; a crash leaves at most such a
//! temporary file behind, which [`remove_stale_temps`] clears at the next start.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes the temporary files of concurrent writes in one process.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// The prefix of `path`'s temporary files: `.NAME.tmp-`.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    format!(".{name}.tmp-")
}

/// The directory holding `path` (`.` for a bare file name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A file being written in place of `path`: the bytes go to a temporary file beside it, and
/// only [`AtomicFile::commit`] (fsync, rename, fsync of the directory) makes them `path`'s.
/// Dropped without a commit, it removes the temporary file and leaves `path` as it was.
#[derive(Debug)]
pub struct AtomicFile {
    /// The temporary file, buffered; `None` once committed.
    file: Option<BufWriter<File>>,
    /// The temporary file's path.
    tmp: PathBuf,
    /// The target.
    path: PathBuf,
}

impl AtomicFile {
    /// Starts replacing `path` (mode 0600 on Unix: a cache's contents are its users' data).
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}{}-{n}", temp_prefix(path), std::process::id());
        let tmp = parent(path).join(name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&tmp).map_err(|e| named(e, path))?;
        Ok(AtomicFile {
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// Makes the written bytes `path`'s contents, durably.
    pub fn commit(mut self) -> io::Result<()> {
        let result = (|| {
            let Some(w) = self.file.take() else {
                return Ok(());
            };
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            drop(f);
            fs::rename(&self.tmp, &self.path)?;
            sync_dir(&parent(&self.path))
        })();
        result.map_err(|e| named(e, &self.path))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("already committed")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write_all(buf),
            None => Err(io::Error::other("already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (an error, a panic): the target stays as it was.
        if self.file.is_some() || self.tmp.exists() {
            self.file = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Flushes `dir`'s entries (the rename) to disk.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Nothing to do on Windows (see the module docs).
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// `e` with the file it concerns named.
fn named(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
}

/// Writes `parts` one after another as the new contents of `path`, atomically and durably
/// (see the module docs). Errors name the file; on error the target is untouched.
pub fn write_atomic(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    for p in parts {
        f.write_all(p).map_err(|e| named(e, path))?;
    }
    f.commit()
}

/// Removes temporary files a crashed write of `path` left behind (their names start with
/// `.NAME.tmp-`); returns how many. Only for a process that owns `path` (the daemon at start).
pub fn remove_stale_temps(path: &Path) -> usize {
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(parent(path)) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

/// The whole of `path` (`-` is stdin). Errors name the file.
pub fn read_all(path: &Path) -> io::Result<Vec<u8>> {
    let named =
        |e: io::Error| io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()));
    if path == Path::new("-") {
        let mut buf = Vec::new();
        io::Read::read_to_end(&mut io::stdin().lock(), &mut buf).map_err(named)?;
        return Ok(buf);
    }
    fs::read(path).map_err(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snap");
        write_atomic(&p, &[b"one", b"two"]).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"onetwo");
        write_atomic(&p, &[b"three"]).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"three");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("snap")]);
    }

    #[test]
    fn stale_temps_are_removed_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snap");
        fs::write(dir.path().join(".snap.tmp-1-0"), b"half").unwrap();
        fs::write(dir.path().join("other"), b"keep").unwrap();
        assert_eq!(remove_stale_temps(&p), 1);
        assert!(dir.path().join("other").exists());
    }

    #[test]
    fn errors_name_the_file() {
        let e = write_atomic(Path::new("/nonexistent-dir/x"), &[b"a"]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent-dir/x"), "{e}");
        let e = read_all(Path::new("/nonexistent-dir/y")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent-dir/y"), "{e}");
    }
}
