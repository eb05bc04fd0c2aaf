//! One writing run at a time per root: an advisory `flock` on a file beside the state record.
//! A second run waits a bounded time, then fails naming the holder's pid.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::fsx;
use crate::state::LOCK_FILE;

/// Held for as long as the value lives; the kernel releases it if the process dies.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn acquire(root: &Path, state_dir: &str, timeout: Duration) -> Result<Lock, Error> {
        let dir = fsx::under_root(root, state_dir);
        fsx::create_dirs(&dir)?;
        let path = dir.join(LOCK_FILE);
        fsx::refuse_symlink(&path, "file")?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open the lock file", &path, e))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    let who = if holder.is_empty() {
                        "another mirrorctl run".to_string()
                    } else {
                        format!("another mirrorctl run (pid {holder})")
                    };
                    return Err(Error::Partial(format!(
                        "{who} holds the lock `{}`; gave up after {:.1}s (raise --lock-timeout to wait longer)",
                        path.display(),
                        timeout.as_secs_f64()
                    )));
                }
                Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
            }
        }
        let pid = std::process::id().to_string();
        let wrote = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(pid.as_bytes()));
        wrote.map_err(|e| Error::io("write the lock file", &path, e))?;
        Ok(Lock { _file: file })
    }
}
