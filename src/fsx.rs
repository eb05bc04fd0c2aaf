//! Every filesystem call mirrorctl makes, wrapped once so that each error names its path and
//! what was being done; and the one atomic write that every file goes through.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Suffix of temporary files: never `.toml`, `.yaml`, `.yml` or `.json`, so neither containerd
/// nor a kubelet reading a config directory can mistake one for configuration.
pub const TEMP_SUFFIX: &str = ".mirrorctl-tmp";

/// `root` + an absolute node path.
pub fn under_root(root: &Path, node_path: &str) -> PathBuf {
    root.join(node_path.trim_start_matches('/'))
}

/// What is on disk at a path, read without following a symlink at the path itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actual {
    Absent,
    File {
        bytes: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    NotAFile,
    Symlink,
}

pub fn inspect(path: &Path) -> Result<Actual, Error> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Actual::Absent),
        // A path component is a file: nothing can be below it.
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(Actual::NotAFile),
        Err(e) => return Err(Error::io("inspect", path, e)),
    };
    if meta.file_type().is_symlink() {
        return Ok(Actual::Symlink);
    }
    if !meta.is_file() {
        return Ok(Actual::NotAFile);
    }
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io("read", path, e))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(Actual::File {
        bytes,
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

/// Reads at most `limit` bytes of a file the inventory names (a secret, a certificate).
pub fn read_limited(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// Refuses when `path` is a symlink; mirrorctl never writes through one.
pub fn refuse_symlink(path: &Path, expected: &'static str) -> Result<(), Error> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::Symlink {
            path: path.to_path_buf(),
            expected,
        }),
        _ => Ok(()),
    }
}

/// Creates `dir` and missing parents with mode 0755 (whatever the umask), fsyncing each
/// parent so the new entry survives a crash. Returns the directories it created, outermost
/// first. The last component must not be a symlink.
pub fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut dirty = Dirty::default();
    let created = create_dirs_deferred(dir, &mut dirty)?;
    dirty.sync()?;
    Ok(created)
}

/// Directories whose entries changed and still need an fsync to make the change durable.
/// Syncing each once at the end of a run, rather than after every entry, saves thousands of
/// fsyncs when a fleet-sized inventory lands on an empty node.
#[derive(Debug, Default)]
pub struct Dirty(std::collections::BTreeSet<PathBuf>);

impl Dirty {
    pub fn add(&mut self, dir: &Path) {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        self.0.insert(dir.to_path_buf());
    }

    pub fn merge(&mut self, other: Dirty) {
        self.0.extend(other.0);
    }

    /// fsyncs every directory, deepest first, so a parent is synced after its children.
    pub fn sync(&mut self) -> Result<(), Error> {
        let mut dirs: Vec<PathBuf> = std::mem::take(&mut self.0).into_iter().collect();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in dirs {
            sync_dir(&dir)?;
        }
        Ok(())
    }
}

/// [`create_dirs`], leaving the fsync of each new entry's parent to `dirty`.
pub fn create_dirs_deferred(dir: &Path, dirty: &mut Dirty) -> Result<Vec<PathBuf>, Error> {
    refuse_symlink(dir, "directory")?;
    let mut missing = Vec::new();
    let mut cursor = Some(dir).filter(|d| !d.as_os_str().is_empty());
    while let Some(d) = cursor {
        match fs::symlink_metadata(d) {
            Ok(meta) if meta.is_dir() || meta.file_type().is_symlink() => break,
            Ok(_) => {
                return Err(Error::io(
                    "create the directory",
                    d,
                    io::Error::other("a file is in the way"),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(d.to_path_buf()),
            Err(e) => return Err(Error::io("inspect", d, e)),
        }
        cursor = d.parent().filter(|p| !p.as_os_str().is_empty());
    }
    missing.reverse();
    for d in &missing {
        match fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("create the directory", d, e)),
        }
        fs::set_permissions(d, Permissions::from_mode(0o755))
            .map_err(|e| Error::io("set the mode of", d, e))?;
        if let Some(parent) = d.parent() {
            dirty.add(parent);
        }
    }
    Ok(missing)
}

pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync the directory", dir, e))
}

/// The longest file name Linux file systems take (`NAME_MAX`), in bytes.
const NAME_MAX: usize = 255;

/// The temp name beside `path` used by this process: `.NAME.PID.mirrorctl-tmp`. When that
/// would be longer than [`NAME_MAX`], NAME is cut short and followed by `~` and a digest of the
/// whole name, so that any legal name can be written and two long names that begin alike never
/// share a temp file. Either way it starts with `.` and ends with [`TEMP_SUFFIX`], as
/// [`stale_temps`] expects.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tail = format!(".{}{TEMP_SUFFIX}", std::process::id());
    if 1 + name.len() + tail.len() <= NAME_MAX {
        return path.with_file_name(format!(".{name}{tail}"));
    }
    let digest: String = Sha256::digest(name.as_bytes())[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let mut keep = NAME_MAX - 1 - 1 - digest.len() - tail.len();
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    path.with_file_name(format!(".{}~{digest}{tail}", &name[..keep]))
}

/// Atomic replace: temp file in the target's directory, mode (and owner) set before any data,
/// write, fsync, rename over the target, fsync the directory. Readers see the old or the new
/// complete file, never a mix, never a missing file.
pub fn write_atomic(
    path: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), Error> {
    let mut dirty = Dirty::default();
    write_atomic_deferred(path, contents, mode, owner, &mut dirty)?;
    dirty.sync()
}

/// [`write_atomic`], leaving the fsync of the directory (which makes the rename durable) to
/// `dirty`. Until then a crash leaves the old or the new complete file, never a torn one.
pub fn write_atomic_deferred(
    path: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
    dirty: &mut Dirty,
) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let temp = temp_path(path);
    let result = (|| {
        let _ = fs::remove_file(&temp);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temp)
            .map_err(|e| Error::io("create the temporary file", &temp, e))?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))
                .map_err(|e| Error::io("set the owner of", &temp, e))?;
        }
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(|e| Error::io("set the mode of", &temp, e))?;
        file.write_all(contents)
            .map_err(|e| Error::io("write", &temp, e))?;
        file.sync_all().map_err(|e| Error::io("fsync", &temp, e))?;
        drop(file);
        fs::rename(&temp, path).map_err(|e| Error::io("rename the temporary file onto", path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
        return result;
    }
    dirty.add(dir);
    Ok(())
}

pub fn chmod(path: &Path, mode: u32) -> Result<(), Error> {
    refuse_symlink(path, "file")?;
    fs::set_permissions(path, Permissions::from_mode(mode))
        .map_err(|e| Error::io("set the mode of", path, e))
}

pub fn remove_file(path: &Path) -> Result<(), Error> {
    let mut dirty = Dirty::default();
    remove_file_deferred(path, &mut dirty)?;
    dirty.sync()
}

/// [`remove_file`], leaving the fsync of the directory to `dirty`.
pub fn remove_file_deferred(path: &Path, dirty: &mut Dirty) -> Result<(), Error> {
    refuse_symlink(path, "file")?;
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("remove", path, e)),
    }
    dirty.add(path.parent().unwrap_or(Path::new("/")));
    Ok(())
}

/// Removes `dir` only when it is an empty real directory. Returns whether it did.
pub fn remove_dir_if_empty(dir: &Path) -> Result<bool, Error> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        _ => return Ok(false),
    }
    let empty = fs::read_dir(dir)
        .map_err(|e| Error::io("list", dir, e))?
        .next()
        .is_none();
    if !empty {
        return Ok(false);
    }
    match fs::remove_dir(dir) {
        Ok(()) => {
            sync_dir(dir.parent().unwrap_or(Path::new("/")))?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => Ok(false),
        Err(e) => Err(Error::io("remove the directory", dir, e)),
    }
}

/// Temporary files a killed run left in `dir`.
pub fn stale_temps(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') && n.ends_with(TEMP_SUFFIX))
        })
        .collect()
}
