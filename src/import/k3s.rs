//! `import k3s`: a k3s or RKE2 `registries.yaml`.

use std::path::Path;

use super::Imported;
use crate::error::Error;

pub(crate) fn read(source: &Path) -> Result<Imported, Error> {
    let _ = super::read_text(source)?;
    Err(Error::Partial(format!(
        "{}: import k3s: not implemented yet",
        source.display()
    )))
}
