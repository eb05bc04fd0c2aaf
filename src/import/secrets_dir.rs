//! `--secrets-dir`: the source's inline credentials as root-only files, created atomically and
//! never replacing a different file that is already there.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::Secret;
use crate::error::Error;

/// Writes every secret into `dir`; a file that exists with the same contents is kept, one with
/// different contents is an error (the file is left as it was).
pub(crate) fn write_secrets(dir: &Path, secrets: &[Secret]) -> Result<(), Error> {
    for secret in secrets {
        if secret.file_name.contains('/') || secret.file_name.starts_with('.') {
            return Err(Error::Partial(format!(
                "secret file name `{}` is not a plain file name",
                secret.file_name
            )));
        }
        let target = dir.join(&secret.file_name);
        if let Ok(existing) = std::fs::symlink_metadata(&target) {
            if existing.file_type().is_file()
                && std::fs::read(&target).ok().as_deref() == Some(secret.value.as_bytes())
            {
                continue;
            }
            return Err(Error::Partial(format!(
                "{}: exists with other contents; not overwritten (remove it or choose another --secrets-dir)",
                target.display()
            )));
        }
        let temp = dir.join(format!(".{}.mirrorctl-tmp", secret.file_name));
        let _ = std::fs::remove_file(&temp);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|e| Error::io("create", &temp, e))?;
        file.write_all(secret.value.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io("write", &temp, e))?;
        // A hard link never replaces an existing file: a race with another writer fails here.
        let linked = std::fs::hard_link(&temp, &target);
        let _ = std::fs::remove_file(&temp);
        linked.map_err(|e| Error::io("create", &target, e))?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
