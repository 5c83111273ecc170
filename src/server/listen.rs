//! Binding listeners: the Unix socket (private from its first instant, stale files replaced,
//! live servers never displaced) and TCP.
//!
//! How the socket is never briefly wider than its final mode: it is bound inside a fresh
//! directory of mode 0700 next to the target path, so no other user can reach it there whatever
//! the umask made of the socket's own bits; it is then chmod-ed to the wanted mode and `rename`d
//! onto the target, which is atomic and replaces a stale socket in one step. The process umask is
//! never touched (it is process-wide, and other threads may be creating files).
//!
//! Two servers starting on the same path at once are serialised by an `flock` on the parent
//! directory held across probe-and-rename, so the loser sees the winner's live socket. The lock
//! is taken without blocking and retried for [`LOCK_TIMEOUT`]: in a shared directory such as
//! `/tmp` another user can hold an `flock` on it, and startup must then fail with a message
//! naming the directory, not hang. The temporary directory's name is random, so nobody can
//! pre-create it to make the bind fail.
//!
//! Windows has no Unix sockets (neither std nor tokio offer them there): everything but
//! [`bind_tcp`] and [`DEFAULT_TCP_PORT`] is Unix-only, and a Windows daemon listens on TCP.

#[cfg(unix)]
use std::fs;
use std::io;
#[cfg(unix)]
use std::os::fd::AsRawFd;
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
#[cfg(unix)]
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;

/// The TCP port a daemon on Windows listens on without `--port`, and the one clients there try
/// when no flag names a daemon (Redis's port): Windows has no Unix socket to default to.
pub const DEFAULT_TCP_PORT: u16 = 6379;

/// Longest path a Unix socket address holds (`sun_path` is 108 bytes with the NUL).
#[cfg(unix)]
const MAX_SOCKET_PATH: usize = 107;

/// How long [`bind_unix`] retries the lock on the socket's directory before giving up.
#[cfg(unix)]
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// A listening Unix socket; dropping it removes its file (if the file is still this socket).
#[cfg(unix)]
#[derive(Debug)]
pub struct UnixSocket {
    /// The tokio listener.
    listener: UnixListener,
    /// Where the socket file is.
    path: PathBuf,
    /// Device and inode of our socket file, so drop never removes a successor's socket.
    ident: (u64, u64),
}

#[cfg(unix)]
impl UnixSocket {
    /// The socket file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn listener(&self) -> &UnixListener {
        &self.listener
    }

    /// Device and inode of the socket file as bound, for [`remove_socket`].
    pub fn ident(&self) -> (u64, u64) {
        self.ident
    }
}

#[cfg(unix)]
impl Drop for UnixSocket {
    fn drop(&mut self) {
        remove_socket(&self.path, self.ident);
    }
}

/// Removes the socket file at `path` if it is still the one with device and inode `ident`, so a
/// daemon never removes the socket of a successor that bound the same path after it closed its
/// listener.
#[cfg(unix)]
pub fn remove_socket(path: &Path, ident: (u64, u64)) {
    if let Ok(m) = fs::symlink_metadata(path) {
        if (m.dev(), m.ino()) == ident {
            let _ = fs::remove_file(path);
        }
    }
}

/// The default socket path: `$XDG_RUNTIME_DIR/tinykv.sock`, else `/tmp/tinykv-$UID/tinykv.sock`.
#[cfg(unix)]
pub fn default_socket_path() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => Path::new(&dir).join("tinykv.sock"),
        // SAFETY: geteuid has no preconditions and cannot fail.
        _ => {
            PathBuf::from(format!("/tmp/tinykv-{}", unsafe { libc::geteuid() })).join("tinykv.sock")
        }
    }
}

/// Makes sure `dir` exists as a private (0700) directory owned by us; creates it if missing.
/// Refuses a directory someone else owns or others can write, where they could swap our socket.
#[cfg(unix)]
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", dir.display()),
            ))
        }
    }
    let m = fs::symlink_metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !m.is_dir() || m.uid() != me || m.mode() & 0o022 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a directory owned by uid {me} and writable only by it; refusing to put the socket there",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// Binds a Unix socket at `path` with permission bits `mode` (0600 by default in `serve`).
/// Must be called inside a tokio runtime.
#[cfg(unix)]
pub fn bind_unix(path: &Path, mode: u32) -> io::Result<UnixSocket> {
    let too_long = |p: &Path| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "socket path {} is longer than {MAX_SOCKET_PATH} bytes",
                p.display()
            ),
        )
    };
    if path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(too_long(path));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = fs::File::open(&parent)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", parent.display())))?;
    lock_dir(&dir, &parent)?;
    probe_existing(path)?;

    let with_path = |p: &Path, e: io::Error| {
        io::Error::new(e.kind(), format!("cannot create {}: {e}", p.display()))
    };
    // `.tkv-` and 8 random hex digits, then `/s`: the same length whatever the digits.
    let tmp_name = |n: u32| parent.join(format!(".tkv-{n:08x}"));
    if tmp_name(0).join("s").as_os_str().len() > MAX_SOCKET_PATH {
        return Err(too_long(&tmp_name(0).join("s")));
    }
    let mut attempt = 0;
    let tmp_dir = loop {
        let candidate = tmp_name(rand::random::<u32>());
        match fs::DirBuilder::new().mode(0o700).create(&candidate) {
            Ok(()) => break candidate,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(with_path(&candidate, e)),
        }
    };
    let tmp_sock = tmp_dir.join("s");
    let bound = (|| {
        let l = std::os::unix::net::UnixListener::bind(&tmp_sock)?;
        fs::set_permissions(&tmp_sock, fs::Permissions::from_mode(mode))?;
        fs::rename(&tmp_sock, path)?;
        Ok::<_, io::Error>(l)
    })();
    let _ = fs::remove_file(&tmp_sock);
    let _ = fs::remove_dir(&tmp_dir);
    let std_listener = bound
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {}: {e}", path.display())))?;
    let m = fs::symlink_metadata(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot stat {}: {e}", path.display())))?;
    drop(dir);
    std_listener.set_nonblocking(true)?;
    Ok(UnixSocket {
        listener: UnixListener::from_std(std_listener)?,
        path: path.to_path_buf(),
        ident: (m.dev(), m.ino()),
    })
}

/// Takes an exclusive `flock` on `dir` (the directory `name`), retrying without blocking for
/// [`LOCK_TIMEOUT`]; the lock is released when `dir` closes.
#[cfg(unix)]
fn lock_dir(dir: &fs::File, name: &Path) -> io::Result<()> {
    let deadline = Instant::now() + LOCK_TIMEOUT;
    loop {
        // SAFETY: flock on a valid open descriptor.
        if unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Some(libc::EWOULDBLOCK) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "another process has held the lock on directory {} for {}s (flock); \
                         is another daemon starting there? Otherwise put the socket in a \
                         directory only you can use (--socket)",
                        name.display(),
                        LOCK_TIMEOUT.as_secs()
                    ),
                ))
            }
            Some(libc::EINTR) => {}
            _ => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot lock directory {}: {e}", name.display()),
                ))
            }
        }
    }
}

/// Fails if `path` holds a live server's socket or a non-socket file; a stale socket is fine
/// (the rename replaces it).
#[cfg(unix)]
fn probe_existing(path: &Path) -> io::Result<()> {
    let m = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !m.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} exists and is not a socket; refusing to replace it",
                path.display()
            ),
        ));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("another server is already listening on {}", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            tracing::info!("replacing stale socket {}", path.display());
            Ok(())
        }
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot check existing socket {}: {e}", path.display()),
        )),
    }
}

/// Binds TCP on `addr`. Must be called inside a tokio runtime.
pub fn bind_tcp(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let l = std::net::TcpListener::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    l.set_nonblocking(true)?;
    TcpListener::from_std(l)
}

// Every test here binds Unix sockets.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn socket_is_private_stale_replaced_live_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sock");
        let s = bind_unix(&path, 0o600).unwrap();
        let m = fs::metadata(&path).unwrap();
        assert_eq!(m.mode() & 0o777, 0o600);
        // A second bind on a live socket fails and leaves the first alone.
        let e = bind_unix(&path, 0o600).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
        assert!(e.to_string().contains("already listening"), "{e}");
        drop(s);
        assert!(!path.exists(), "socket file removed on drop");
        // A stale socket (bound, listener gone, file left) is replaced.
        let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(stale);
        assert!(path.exists());
        let s = bind_unix(&path, 0o660).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o660);
        drop(s);
        // A regular file is never replaced.
        fs::write(&path, b"x").unwrap();
        assert!(bind_unix(&path, 0o600).is_err());
        assert_eq!(fs::read(&path).unwrap(), b"x");
        // A path too long for sun_path is refused with a message, not truncated.
        let long = dir.path().join("x".repeat(120));
        let e = bind_unix(&long, 0o600).unwrap_err();
        assert!(e.to_string().contains("longer than 107 bytes"), "{e}");
        // No temporary directories are left behind.
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[tokio::test]
    async fn predictable_temp_names_cannot_block_bind() {
        let dir = tempfile::tempdir().unwrap();
        // The names the temporary directory once had: `.tkv<pid>.<sequence>`.
        for seq in 0..1000 {
            fs::create_dir(dir.path().join(format!(".tkv{}.{seq}", std::process::id()))).unwrap();
        }
        let path = dir.path().join("t.sock");
        let s = bind_unix(&path, 0o600).unwrap();
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket());
        drop(s);
    }
}
