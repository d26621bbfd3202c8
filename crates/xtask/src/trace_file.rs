//! Reading trace files: gzipped or plain JSON, found by name in a directory.

use anyhow::{Context, Result};
use atelier_doc::trace::Trace;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The traces the data set is expected to hold, as (sub-directory, name).
pub const EXPECTED: [(&str, &str); 6] = [
    ("sequential", "automerge-paper"),
    ("sequential", "seph-blog1"),
    ("sequential", "rustcode"),
    ("sequential", "sveltecomponent"),
    ("sequential", "friendsforever_flat"),
    ("concurrent", "friendsforever"),
];

/// A trace's name: its file name without `.json` / `.json.gz`.
pub fn trace_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = file.strip_suffix(".gz").unwrap_or(&file);
    file.strip_suffix(".json").unwrap_or(file).to_owned()
}

/// The JSON bytes of a trace file, decompressed when it is gzipped (judged
/// by its magic number, not its name).
pub fn read_json(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut json = Vec::with_capacity(raw.len() * 8);
        GzDecoder::new(raw.as_slice())
            .read_to_end(&mut json)
            .with_context(|| format!("{} is not valid gzip", path.display()))?;
        Ok(json)
    } else {
        Ok(raw)
    }
}

/// Reads and parses a trace file.
pub fn load(path: &Path) -> Result<Trace> {
    let json = read_json(path)?;
    Trace::from_json_slice(&json).with_context(|| format!("in {}", path.display()))
}

/// Every `*.json` / `*.json.gz` file under `dir` (one level of
/// sub-directories), sequential before concurrent, then by name.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    for d in dirs {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
        {
            let path = entry?.path();
            let name = path.to_string_lossy();
            if path.is_file() && (name.ends_with(".json") || name.ends_with(".json.gz")) {
                found.push(path);
            }
        }
    }
    let rank = |p: &Path| {
        let parent = p
            .parent()
            .and_then(Path::file_name)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        (parent == "concurrent", trace_name(p))
    };
    found.sort_by_key(|p| rank(p));
    Ok(found)
}
