//! The npm package `@atelier/elements`, written by `cargo xtask dist` into
//! `target/npm/atelier-elements/` from the freshly built `www/pkg`: the
//! entry modules, the wasm files, the Markdown module, the `.d.ts` files,
//! `custom-elements.json`, `operations.schema.json`, the stylesheets under
//! `styles/`, a `package.json` and a README for frontend teams.
//!
//! A directory of its own rather than `www/pkg`: `www/pkg` is what the
//! server publishes at `/pkg/` to every visitor (a `package.json` and
//! README there would be served too), pages link its stylesheets at the
//! top level while the package's `./styles/*.css` export keeps them apart
//! from the modules, and `npm pack` packs exactly what this directory
//! holds. Every file of `www/pkg` is copied, so a file a later step adds
//! there (translations, …) ships without a change here.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The package's name on npm.
pub const NAME: &str = "@atelier/elements";

/// `version` and `license` of the root `Cargo.toml`'s `[workspace.package]`.
fn workspace_package(root: &Path) -> Result<(String, String)> {
    let toml = std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let mut in_section = false;
    let (mut version, mut license) = (None, None);
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().trim_matches('"').to_string();
            match key.trim() {
                "version" => version = Some(value),
                "license" => license = Some(value),
                _ => {}
            }
        }
    }
    Ok((
        version.context("no version in Cargo.toml's [workspace.package]")?,
        license.context("no license in Cargo.toml's [workspace.package]")?,
    ))
}

/// JSON text of an object whose keys keep the order given (serde_json's
/// map sorts them, and the order of export conditions matters: `types`
/// must come before `default`).
fn ordered(fields: &[(&str, String)], indent: usize) -> String {
    let pad = " ".repeat(indent + 2);
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{pad}{}: {v}", Value::from(*k)))
        .collect();
    format!("{{\n{}\n{}}}", body.join(",\n"), " ".repeat(indent))
}

/// An `exports` entry for an entry module with its types.
fn entry(module: &str) -> String {
    ordered(
        &[
            ("types", json!(format!("./{module}.d.ts")).to_string()),
            ("default", json!(format!("./{module}.js")).to_string()),
        ],
        4,
    )
}

/// The package's `package.json`.
fn package_json(version: &str, license: &str) -> String {
    let s = |v: &str| Value::from(v).to_string();
    let exports = ordered(
        &[
            ("./elements", entry("atelier-elements")),
            ("./suite", entry("atelier-suite")),
            ("./styles/*.css", s("./styles/*.css")),
            ("./custom-elements.json", s("./custom-elements.json")),
            ("./operations.schema.json", s("./operations.schema.json")),
            ("./package.json", s("./package.json")),
        ],
        2,
    );
    let types_versions = ordered(
        &[(
            "*",
            ordered(
                &[
                    ("elements", json!(["./atelier-elements.d.ts"]).to_string()),
                    ("suite", json!(["./atelier-suite.d.ts"]).to_string()),
                ],
                4,
            ),
        )],
        2,
    );
    ordered(
        &[
            ("name", s(NAME)),
            ("version", s(version)),
            (
                "description",
                s(
                    "Collaborative editing custom elements: <atelier-editor>, <atelier-chat> and \
                   <atelier-assistant> (Rust/Leptos compiled to WebAssembly; BlockNote documents \
                   over the Yjs protocol).",
                ),
            ),
            ("license", s(license)),
            ("type", s("module")),
            ("exports", exports),
            ("types", s("./atelier-suite.d.ts")),
            ("typesVersions", types_versions),
            ("customElements", s("./custom-elements.json")),
            // The entry modules define the elements when imported, and a
            // stylesheet import is all it does: neither may be dropped as
            // unused.
            (
                "sideEffects",
                json!([
                    "./atelier-elements.js",
                    "./atelier-suite.js",
                    "./styles/*.css"
                ])
                .to_string(),
            ),
            (
                "files",
                json!(["*.js", "*.wasm", "*.d.ts", "*.json", "styles/", "README.md"]).to_string(),
            ),
            (
                "keywords",
                json!([
                    "web-components",
                    "custom-elements",
                    "collaborative-editing",
                    "yjs",
                    "blocknote",
                    "webassembly"
                ])
                .to_string(),
            ),
        ],
        0,
    ) + "\n"
}

/// The package's README (what npm shows).
fn readme(version: &str) -> String {
    README.replace("{version}", version)
}

const README: &str = r#"# @atelier/elements {version}

Collaborative editing as custom elements, written in Rust (Leptos, yrs)
and compiled to WebAssembly:

- `<atelier-editor>`: a rich-text editor of BlockNote documents, synced
  live over the Yjs protocol (Hocuspocus or y-websocket framing), kept
  offline in IndexedDB, with an API for agents (typed operations);
- `<atelier-chat>`: the chat of a document;
- `<atelier-assistant>`: an AI assistant pane beside the editor.

## Install

```sh
npm install @atelier/elements
```

## Import

A page loads **one** of the two entry modules, never both:

```js
// The editor alone (the smaller download).
import "@atelier/elements/elements";
// Or the editor, the chat and the assistant on one runtime.
import "@atelier/elements/suite";
```

Importing a module defines its elements; `whenReady()` resolves once the
wasm has loaded:

```js
import { whenReady } from "@atelier/elements/suite";
await whenReady();
document.querySelector("atelier-editor").getMarkdown();
```

```html
<atelier-editor doc="notes" server="wss://example.org/sync"></atelier-editor>
<atelier-chat doc="notes" server="wss://example.org/sync"></atelier-chat>
<atelier-assistant for="editor-id"></atelier-assistant>
```

Without `server`, a document stays in the page. The attributes, properties,
methods and events of each element are in `custom-elements.json` (the
Custom Elements Manifest; the `customElements` field of `package.json`
points to it) and in the TypeScript declarations.

## Stylesheets

Link the design tokens and the stylesheet of each element you use
(the elements render in light DOM, so page CSS reaches them; restyle them
by overriding the `--atelier-*` custom properties of `tokens.css`, listed
per element in the manifest):

```js
import "@atelier/elements/styles/tokens.css";
import "@atelier/elements/styles/editor.css";
import "@atelier/elements/styles/chat.css";      // with <atelier-chat>
import "@atelier/elements/styles/assistant.css"; // with <atelier-assistant>
```

## Bundlers

The entry modules find their wasm with
`new URL("./….wasm", import.meta.url)`, which Vite, webpack 5, Rollup and
esbuild (with a file loader for `.wasm`) follow: the wasm files are emitted
as assets of the build. The Markdown module (`atelier_markdown.js` and its
wasm) is imported on first use and becomes a chunk of its own.

With Vite's dev server, exclude the package from dependency pre-bundling,
which would move the modules away from their wasm files:

```js
// vite.config.js
export default { optimizeDeps: { exclude: ["@atelier/elements"] } };
```

## Content Security Policy

Compiling WebAssembly needs `'wasm-unsafe-eval'` (not `'unsafe-eval'`):

```
Content-Security-Policy: script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' wss://example.org
```

`connect-src` must allow the sync server's WebSocket URL (and the AI
endpoint for the assistant); the wasm files are fetched from the page's
own origin when the bundle is served with it.

## Files

- `atelier-elements.js`, `atelier_elements_bg.wasm`: the editor bundle;
- `atelier-suite.js`, `atelier_suite_bg.wasm`: the suite bundle;
- `atelier_markdown.js`, `atelier_markdown_bg.wasm`: loaded on first use;
- `*.d.ts`: TypeScript declarations;
- `custom-elements.json`: the Custom Elements Manifest;
- `operations.schema.json`: JSON Schema of the operations agents send
  (`applyOperations`);
- `styles/*.css`: design tokens and each element's stylesheet.
"#;

/// Writes the package into `target/npm/atelier-elements/` from the built
/// `pkg` directory (`www/pkg`); returns its path.
pub fn write(root: &Path, pkg: &Path) -> Result<PathBuf> {
    let (version, license) = workspace_package(root)?;
    let dir = crate::cargo::target_dir(root)?.join("npm/atelier-elements");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    let styles = dir.join("styles");
    std::fs::create_dir_all(&styles).with_context(|| format!("creating {}", styles.display()))?;
    for entry in std::fs::read_dir(pkg).with_context(|| format!("listing {}", pkg.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // The precompressed copies are for `atelier serve`, not bundlers.
        if name.starts_with('.') || !path.is_file() || crate::precompress::is_precompressed(name) {
            continue;
        }
        let to = if name.ends_with(".css") {
            styles.join(name)
        } else {
            dir.join(name)
        };
        std::fs::copy(&path, &to).with_context(|| format!("copying {name} into the package"))?;
    }
    for needed in [
        "atelier-elements.js",
        "atelier-suite.js",
        "custom-elements.json",
    ] {
        if !dir.join(needed).exists() {
            anyhow::bail!("{} has no {needed}: run cargo xtask dist", pkg.display());
        }
    }
    std::fs::write(dir.join("package.json"), package_json(&version, &license))
        .context("writing package.json")?;
    std::fs::write(dir.join("README.md"), readme(&version)).context("writing README.md")?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_json_is_json_with_types_before_default() -> Result<()> {
        let text = package_json("1.2.3", "MIT OR Apache-2.0");
        let v: Value = serde_json::from_str(&text)?;
        assert_eq!(v["name"], NAME);
        assert_eq!(v["version"], "1.2.3");
        assert_eq!(v["exports"]["./suite"]["default"], "./atelier-suite.js");
        assert_eq!(v["customElements"], "./custom-elements.json");
        let suite = text.find("\"./suite\"").context("no ./suite")?;
        let types = suite + text[suite..].find("\"types\"").context("no types")?;
        let default = suite + text[suite..].find("\"default\"").context("no default")?;
        assert!(types < default, "{text}");
        Ok(())
    }

    #[test]
    fn the_workspace_gives_version_and_license() -> Result<()> {
        let root = crate::workspace_root()?;
        let (version, license) = workspace_package(&root)?;
        assert!(version.split('.').count() == 3, "{version}");
        assert!(!license.is_empty());
        Ok(())
    }
}
