//! A real redis-server for the side-by-side tests: started on a Unix socket in a temp dir (no
//! TCP port, no persistence), stopped by its PID when dropped. The tests send the same commands
//! to it and to TinyKV and compare the replies.
#![allow(dead_code)]

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server child process.
pub struct RealRedis {
    /// Its socket.
    pub sock: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl RealRedis {
    /// Starts `redis-server` (which `.ci/run` installs) and waits until it accepts.
    pub fn start() -> RealRedis {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("redis.sock");
        let child = Command::new("redis-server")
            .args(["--port", "0", "--save", "", "--appendonly", "no"])
            .arg("--unixsocket")
            .arg(&sock)
            .args(["--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "redis-server must be installed for the side-by-side tests (.ci/run installs it)",
            );
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&sock).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        RealRedis {
            sock,
            child,
            _dir: dir,
        }
    }

    /// A new connection.
    pub fn connect(&self) -> UnixStream {
        UnixStream::connect(&self.sock).unwrap()
    }

    /// The server's major.minor version, from INFO.
    pub fn version(info: &str) -> Option<(u32, u32)> {
        let v = info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))?;
        let mut it = v.trim().split('.').map(|p| p.parse::<u32>().ok());
        Some((it.next()??, it.next()??))
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
