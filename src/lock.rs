//! One writing run at a time per root: an advisory `flock` on a file beside the state record.
//! A second run waits a bounded time, then fails naming the holder's pid, which it asks the
//! kernel for: the lock file is never written, so a run that changes nothing writes nothing.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::fsx;
use crate::inventory::NodePath;
use crate::state::LOCK_FILE;

/// Held for as long as the value lives; the kernel releases it if the process dies.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl Lock {
    pub(crate) fn acquire(
        root: &Path,
        state_dir: &NodePath,
        timeout: Duration,
    ) -> Result<Lock, Error> {
        let dir = state_dir.under(root);
        fsx::create_dirs(&dir)?;
        let path = dir.join(LOCK_FILE);
        fsx::refuse_symlink(&path, "file")?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open the lock file", &path, e))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { _file: file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        holder: holder(&file),
                        path,
                        waited_secs: timeout.as_secs_f64(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
            }
        }
    }
}

/// The pid of the process holding a `flock` on `file`, from the kernel's table of locks;
/// `None` when the table is unreadable or no longer lists it (the holder just exited).
fn holder(file: &File) -> Option<u32> {
    let meta = file.metadata().ok()?;
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let dev = meta.dev();
    flock_holder(&locks, (libc::major(dev), libc::minor(dev)), meta.ino())
}

/// Reads `/proc/locks` lines such as `3: FLOCK  ADVISORY  WRITE 4711 fe:00:246951 0 EOF`
/// (pid, then device as hex `major:minor` and inode). Waiters (`3: -> FLOCK …`) are skipped.
/// The device is preferred but not required: on overlayfs the device the kernel lists can
/// differ from the one `stat` reports for the same file.
fn flock_holder(locks: &str, device: (u32, u32), inode: u64) -> Option<u32> {
    let mut same_inode = None;
    for line in locks.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, "FLOCK", _, _, pid, id, ..] = fields.as_slice() else {
            continue;
        };
        let mut id = id.split(':');
        let (Some(major), Some(minor), Some(ino)) = (id.next(), id.next(), id.next()) else {
            continue;
        };
        let (Ok(pid), Ok(ino)) = (pid.parse::<u32>(), ino.parse::<u64>()) else {
            continue;
        };
        // 0: the holder lives in a pid namespace this process cannot see.
        if ino != inode || pid == 0 {
            continue;
        }
        let on = (
            u32::from_str_radix(major, 16).ok(),
            u32::from_str_radix(minor, 16).ok(),
        );
        if on == (Some(device.0), Some(device.1)) {
            return Some(pid);
        }
        same_inode.get_or_insert(pid);
    }
    same_inode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_holder_and_skips_waiters_and_other_files() {
        let locks = "\
1: POSIX  ADVISORY  WRITE 10 fe:00:77 0 EOF
2: FLOCK  ADVISORY  WRITE 20 fe:01:77 0 EOF
3: -> FLOCK  ADVISORY  WRITE 30 fe:00:77 0 EOF
4: FLOCK  ADVISORY  WRITE 40 fe:00:77 0 EOF
5: FLOCK  ADVISORY  WRITE 0 fe:00:79 0 EOF
";
        assert_eq!(flock_holder(locks, (0xfe, 0), 77), Some(40));
        assert_eq!(flock_holder(locks, (0xfe, 0), 79), None);
        assert_eq!(flock_holder(locks, (0x08, 1), 77), Some(20));
        assert_eq!(flock_holder(locks, (0xfe, 0), 78), None);
    }
}
