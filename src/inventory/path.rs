//! Field paths as users read them: `registries."docker.io".mirrors[0].url`.

/// `parent.name`, quoting `name` unless it is a plain identifier. A long `name` is clipped
/// (field paths are for people, and every problem under a registry repeats its name).
pub fn key(parent: &str, name: &str) -> String {
    let name = &*crate::error::clip_text(name);
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    let name = if plain {
        name.to_string()
    } else {
        format!("{name:?}")
    };
    if parent.is_empty() {
        name
    } else {
        format!("{parent}.{name}")
    }
}

/// `parent[i]`.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}
