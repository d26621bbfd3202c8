//! `cargo xtask schema [--check]`: writes `www/operations.schema.json`, the
//! JSON Schema of the operations agents send (`atelier_doc::Op`, through
//! `<atelier-editor>`'s `applyOperations`, `POST /api/docs/{doc}/ops` and
//! the MCP tools), from `atelier_doc::operations_schema()`.
//!
//! The file is committed so page authors find it beside the pages and the
//! TypeScript declarations; the test below fails when it no longer matches
//! the operations, and `--check` says so without writing.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the schema is published, relative to the workspace root.
const SCHEMA_PATH: &str = "www/operations.schema.json";

/// The schema as committed: pretty JSON with a final newline.
fn render() -> Result<String> {
    let schema = atelier_doc::agent_ops::operations_schema();
    let mut text = serde_json::to_string_pretty(&schema).context("serializing the schema")?;
    text.push('\n');
    Ok(text)
}

fn schema_file(root: &Path) -> PathBuf {
    root.join(SCHEMA_PATH)
}

/// Writes the schema, or with `--check` fails if the committed one is stale.
pub fn run(args: &[String]) -> Result<ExitCode> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        other => bail!("usage: cargo xtask schema [--check], not {other:?}"),
    };
    let path = schema_file(&crate::workspace_root()?);
    let fresh = render()?;
    if check {
        let committed = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if committed != fresh {
            bail!(
                "{} is stale: the operations changed; run `cargo xtask schema` and commit it",
                path.display()
            );
        }
        println!("{} is up to date", path.display());
    } else {
        std::fs::write(&path, &fresh).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), fresh.len());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_operations_schema_matches_the_operations() -> Result<()> {
        let path = schema_file(&crate::workspace_root()?);
        let committed = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        assert!(
            committed == render()?,
            "{} is stale: run `cargo xtask schema` and commit it",
            path.display()
        );
        Ok(())
    }

    #[test]
    fn the_schema_describes_a_batch_of_every_operation() -> Result<()> {
        let schema: serde_json::Value = serde_json::from_str(&render()?)?;
        assert_eq!(schema["type"], "array", "{schema:#}");
        let text = schema.to_string();
        for op in ["insertText", "deleteBlock", "insertBlocks", "updateBlock"] {
            assert!(text.contains(op), "no {op} in the schema");
        }
        Ok(())
    }
}
