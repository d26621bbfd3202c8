//! The message catalogue for JavaScript: `atelier-i18n`'s messages as
//! `messages.json` beside the bundles (`{"en": {"editor-bold": "Bold", …},
//! …}`; plural messages as `{"one": …, "other": …}`, variables as Fluent's
//! `{ $n }`), for pages and scripts that show a widget's words outside the
//! wasm.

use anyhow::{Context, Result};
use std::path::Path;

/// Writes the catalogue to `<pkg_dir>/messages.json`.
pub fn write(pkg_dir: &Path) -> Result<()> {
    let path = pkg_dir.join("messages.json");
    std::fs::write(&path, atelier_i18n::catalogue_json())
        .with_context(|| format!("writing {}", path.display()))
}
