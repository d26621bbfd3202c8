//! Brotli and gzip copies of a built page's files, written ahead of time
//! beside each one (`app.js.br`, `app.js.gz`): `atelier serve` sends the
//! copy a browser accepts (tower-http's `ServeDir` with precompressed
//! files), so nothing is compressed per request.

use anyhow::{Context, Result};
use std::io::Write as _;
use std::path::Path;

/// Whether `name` is a copy [`write_copies`] wrote.
pub fn is_precompressed(name: &str) -> bool {
    name.ends_with(".br") || name.ends_with(".gz")
}

/// Writes a brotli (`.br`, quality 11) and a gzip (`.gz`) copy beside each
/// module, wasm file, stylesheet and JSON file of `dir`, which `atelier
/// serve` sends to browsers that accept them: the editor page's download
/// is about a quarter of its raw bytes, which is most of its time to
/// editable on a slow network (issue 16).
pub fn write_copies(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let wanted = [".js", ".wasm", ".css", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if !wanted || name.ends_with(".d.ts") || !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path).with_context(|| path.display().to_string())?;
        let mut br = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut br, 64 * 1024, 11, 22);
            w.write_all(&data).context("brotli")?;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&data).context("gzip")?;
        let gz = gz.finish().context("gzip")?;
        std::fs::write(dir.join(format!("{name}.br")), br)
            .with_context(|| format!("writing {name}.br"))?;
        std::fs::write(dir.join(format!("{name}.gz")), gz)
            .with_context(|| format!("writing {name}.gz"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn each_copy_decompresses_to_its_file_and_declarations_are_left_alone() {
        let dir = std::env::temp_dir().join(format!("atelier-precompress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let js = "export const x = 1;\n".repeat(200);
        std::fs::write(dir.join("app.js"), &js).expect("js");
        std::fs::write(dir.join("app.d.ts"), "export const x: number;\n").expect("d.ts");
        write_copies(&dir).expect("copies");
        let mut from_br = Vec::new();
        brotli::Decompressor::new(&std::fs::read(dir.join("app.js.br")).expect("br")[..], 4096)
            .read_to_end(&mut from_br)
            .expect("brotli decodes");
        let mut from_gz = Vec::new();
        flate2::read::GzDecoder::new(&std::fs::read(dir.join("app.js.gz")).expect("gz")[..])
            .read_to_end(&mut from_gz)
            .expect("gzip decodes");
        assert_eq!(from_br, js.as_bytes());
        assert_eq!(from_gz, js.as_bytes());
        assert!(
            !dir.join("app.d.ts.br").exists(),
            "declarations are not served"
        );
        assert!(is_precompressed("app.js.br") && !is_precompressed("app.js"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
