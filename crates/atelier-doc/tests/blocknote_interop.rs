//! Interop with the real BlockNote (`@blocknote/core` 0.55 from npm, through
//! `peers/blocknote.mjs`): what BlockNote writes, Atelier reads into the same
//! blocks; what Atelier writes, BlockNote reads back; and for the same blocks
//! both write the same XML tree, attribute types included.

use atelier_doc::{Block, BlockId, InlineRun, Mark, Marks, NewBlock, Op, Placement};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

/// Runs the BlockNote peer; `None` (with a SKIPPED line) when Node or the
/// npm packages are not installed.
fn blocknote(test: &str, cmd: &str, stdin: &str) -> Option<Value> {
    let dir = peers_dir();
    if !dir.join("node_modules/@blocknote/server-util").exists() {
        println!("SKIPPED: {test} (peers/node_modules missing: run `npm ci` in peers/)");
        return None;
    }
    let mut child = match Command::new("node")
        .arg("blocknote.mjs")
        .arg(cmd)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            println!("SKIPPED: {test} (cannot run node: {e})");
            return None;
        }
    };
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write to node");
    let out = child.wait_with_output().expect("node runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "blocknote.mjs {cmd}: bad output ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    if let Some(err) = v.get("error") {
        panic!("blocknote.mjs {cmd} failed: {err}");
    }
    Some(v)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("base64 string"))
        .expect("valid base64")
}

/// BlockNote styles → marks.
fn marks_of(styles: &Value, link: Option<&str>) -> Marks {
    let flag = |k: &str| styles.get(k).and_then(Value::as_bool).unwrap_or(false);
    let s = |k: &str| styles.get(k).and_then(Value::as_str).map(str::to_owned);
    Marks {
        bold: flag("bold"),
        italic: flag("italic"),
        underline: flag("underline"),
        strike: flag("strike"),
        code: flag("code"),
        text_color: s("textColor"),
        background_color: s("backgroundColor"),
        link: link.map(str::to_owned),
        other: Default::default(),
    }
}

/// BlockNote inline content → runs with adjacent equal marks merged.
fn runs_of(content: &Value) -> Vec<InlineRun> {
    let mut runs: Vec<InlineRun> = Vec::new();
    let mut push = |text: &str, marks: Marks| match runs.last_mut() {
        Some(last) if last.marks == marks => last.text.push_str(text),
        _ if text.is_empty() => {}
        _ => runs.push(InlineRun::styled(text, marks)),
    };
    for item in content.as_array().into_iter().flatten() {
        match item["type"].as_str() {
            Some("text") => push(
                item["text"].as_str().unwrap_or(""),
                marks_of(&item["styles"], None),
            ),
            Some("link") => {
                for inner in item["content"].as_array().into_iter().flatten() {
                    push(
                        inner["text"].as_str().unwrap_or(""),
                        marks_of(&inner["styles"], item["href"].as_str()),
                    );
                }
            }
            other => panic!("unexpected inline content {other:?}"),
        }
    }
    runs
}

fn table_of(content: &Value) -> Vec<Vec<Vec<InlineRun>>> {
    content["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            row["cells"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|cell| runs_of(&cell["content"]))
                .collect()
        })
        .collect()
}

/// A BlockNote JSON block as Atelier's read model.
fn block_of(v: &Value) -> Block {
    let kind = v["type"].as_str().expect("type").to_owned();
    let is_table = v["content"]["type"] == "tableContent";
    Block {
        id: BlockId(v["id"].as_str().expect("id").to_owned()),
        kind,
        props: v["props"].as_object().cloned().unwrap_or_default(),
        content: if is_table {
            Vec::new()
        } else {
            runs_of(&v["content"])
        },
        table: is_table.then(|| table_of(&v["content"])),
        children: v["children"]
            .as_array()
            .into_iter()
            .flatten()
            .map(block_of)
            .collect(),
    }
}

fn blocks_of(v: &Value) -> Vec<Block> {
    v.as_array()
        .expect("blocks array")
        .iter()
        .map(block_of)
        .collect()
}

/// First difference between two block lists, for readable failures.
fn assert_same_blocks(ours: &[Block], theirs: &[Block], what: &str) {
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(a, b, "{what}: block {i} differs");
    }
    assert_eq!(ours.len(), theirs.len(), "{what}: block counts differ");
}

#[test]
fn blocknote_document_reads_into_the_same_blocks() {
    let Some(fx) = blocknote(
        "blocknote_document_reads_into_the_same_blocks",
        "fixture",
        "",
    ) else {
        return;
    };
    let doc = atelier_doc::Document::from_update_v1(&unb64(&fx["update"])).expect("loads");
    assert_same_blocks(
        &doc.blocks(),
        &blocks_of(&fx["blocks"]),
        "BlockNote → Atelier",
    );
    // Spot checks that do not depend on the conversion above.
    let blocks = doc.blocks();
    assert_eq!(blocks[0].prop_f64("level"), Some(1.0));
    assert_eq!(
        blocks[2].plain_text(),
        "Plain, bold and all code rouge lien 中文 é\nnouvelle ligne"
    );
    assert_eq!(blocks[3].children[0].children[0].kind, "numberedListItem");
    assert_eq!(blocks[6].prop_bool("checked"), Some(true));
    assert_eq!(blocks[8].prop_str("language"), Some("rust"));
    let md = atelier_doc::markdown::export(&blocks);
    assert!(md.contains("- [x] fait") && md.contains("```rust"), "{md}");
}

#[test]
fn atelier_writes_what_blocknote_writes() {
    let Some(fx) = blocknote("atelier_writes_what_blocknote_writes", "fixture", "") else {
        return;
    };
    let theirs = blocks_of(&fx["blocks"]);
    let new_blocks: Vec<NewBlock> = theirs.iter().map(NewBlock::from).collect();
    let doc = atelier_doc::Document::new();
    doc.insert_blocks(&Placement::End, &new_blocks)
        .expect("write");
    let seen = blocknote(
        "atelier_writes_what_blocknote_writes",
        "inspect",
        &b64(&doc.encode_state_v1()),
    )
    .expect("node ran once already");
    assert_eq!(seen["pending"], false);
    // Same element names, attribute values and JSON types, text deltas.
    let (ours, theirs_tree) = (&seen["tree"], &fx["tree"]);
    let ours_blocks = ours["children"][0]["children"].as_array().expect("blocks");
    let their_blocks = theirs_tree["children"][0]["children"]
        .as_array()
        .expect("blocks");
    for (a, b) in ours_blocks.iter().zip(their_blocks) {
        assert_eq!(a, b, "XML of block {} differs", b["attrs"]["id"]);
    }
    assert_eq!(ours, theirs_tree);
    assert_same_blocks(&blocks_of(&seen["blocks"]), &theirs, "Atelier → BlockNote");
}

#[test]
fn blocknote_reads_atelier_edits() {
    let test = "blocknote_reads_atelier_edits";
    let Some(fx) = blocknote(test, "fixture", "") else {
        return;
    };
    let doc = atelier_doc::Document::from_update_v1(&unb64(&fx["update"])).expect("loads");
    let id = |s: &str| BlockId::from(s);
    let ops = vec![
        Op::InsertText {
            block: id("h1"),
            offset: 0,
            text: "🇫🇷 ".into(),
            marks: None,
        },
        Op::Format {
            block: id("p1"),
            offset: 0,
            len: 5,
            mark: Mark::Link("https://docs.numerique.gouv.fr".into()),
            on: true,
        },
        Op::Format {
            block: id("p1"),
            offset: 7,
            len: 4,
            mark: Mark::Bold,
            on: false,
        },
        Op::SplitBlock {
            block: id("q"),
            offset: 4,
        },
        Op::UpdateBlock {
            block: id("c2"),
            kind: Some("heading".into()),
            props: Map::from_iter([("level".to_owned(), json!(2))]),
        },
        Op::MoveBlock {
            block: id("tbl"),
            to: Placement::After(id("h1")),
        },
        Op::DeleteBlock { block: id("n1") },
        Op::InsertBlocks {
            at: Placement::LastChildOf(id("b3")),
            blocks: vec![
                NewBlock::text("checkListItem", "nouvelle tâche").with_prop("checked", true),
                NewBlock::text("codeBlock", "a\n\tb").with_prop("language", "python"),
                NewBlock::text("divider", ""),
            ],
        },
        Op::DeleteText {
            block: id("code"),
            offset: 0,
            len: 3,
        },
        Op::MergeWithPrevious { block: id("t1") },
    ];
    doc.apply_ops(&ops, "test").expect("ops apply");
    assert!(doc.indent_block(&id("c1")).expect("indent"));
    let seen = blocknote(test, "inspect", &b64(&doc.encode_state_v1())).expect("node ran");
    assert_eq!(seen["pending"], false);
    assert_same_blocks(&doc.blocks(), &blocks_of(&seen["blocks"]), "edited doc");
    // The table and the image were moved or left alone, never changed.
    let fixture_blocks = blocks_of(&fx["blocks"]);
    let find = |blocks: &[Block], id: &str| {
        let mut found = None;
        for b in blocks {
            b.walk(&mut |b, _| {
                if b.id.as_str() == id {
                    found = Some(b.clone());
                }
            });
        }
        found.expect("block present")
    };
    let now = doc.blocks();
    assert_eq!(find(&now, "tbl"), find(&fixture_blocks, "tbl"));
    assert_eq!(find(&now, "img"), find(&fixture_blocks, "img"));
    assert_eq!(now[1].id.as_str(), "tbl");
}

/// Blocks created with no props get exactly the attributes, defaults and
/// JSON types BlockNote gives them (e.g. `level` a number, `checked` a bool,
/// `start` an explicit undefined).
#[test]
fn default_props_match_blocknote() {
    let test = "default_props_match_blocknote";
    let kinds = [
        "paragraph",
        "heading",
        "bulletListItem",
        "numberedListItem",
        "checkListItem",
        "toggleListItem",
        "codeBlock",
        "quote",
        "divider",
        "image",
        "video",
        "audio",
        "file",
    ];
    let with_text = |k: &str| atelier_doc::schema::has_inline_content(k);
    let input: Vec<Value> = kinds
        .iter()
        .map(|k| {
            let mut b = json!({"id": format!("id-{k}"), "type": k});
            if with_text(k) {
                b["content"] = json!("x");
            }
            b
        })
        .collect();
    let Some(theirs) = blocknote(test, "write", &Value::Array(input).to_string()) else {
        return;
    };
    let doc = atelier_doc::Document::new();
    let new_blocks: Vec<NewBlock> = kinds
        .iter()
        .map(|k| NewBlock {
            id: Some(BlockId(format!("id-{k}"))),
            ..NewBlock::text(k, if with_text(k) { "x" } else { "" })
        })
        .collect();
    doc.insert_blocks(&Placement::End, &new_blocks)
        .expect("write");
    let ours = blocknote(test, "inspect", &b64(&doc.encode_state_v1())).expect("node ran");
    let a = ours["tree"]["children"][0]["children"]
        .as_array()
        .expect("blocks");
    let b = theirs["tree"]["children"][0]["children"]
        .as_array()
        .expect("blocks");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x, y, "default XML of {} differs", y["attrs"]["id"]);
    }
    assert_eq!(a.len(), b.len());
}

/// Issue 14: what an agent reads is the whole document. Media blocks and
/// code languages come out of Atelier's Markdown export exactly as
/// BlockNote's own export (`blocksToMarkdownLossy`) writes them, read from
/// the document BlockNote wrote.
#[test]
fn markdown_export_carries_media_and_code_as_blocknote_does() {
    let blocks = serde_json::json!([
        { "type": "image", "props": { "url": "https://example.org/a.png", "name": "a.png" } },
        { "type": "image", "props": { "url": "https://example.org/b.png", "caption": "Une légende" } },
        { "type": "image", "props": { "url": "https://example.org/c.png", "name": "c.png", "caption": "c & d" } },
        { "type": "video", "props": { "url": "https://example.org/v.mp4", "name": "v.mp4" } },
        { "type": "video", "props": { "url": "https://example.org/v.mp4", "caption": "vidéo" } },
        { "type": "audio", "props": { "url": "https://example.org/s.mp3" } },
        { "type": "audio", "props": { "url": "https://example.org/s.mp3", "caption": "son" } },
        { "type": "file", "props": { "url": "https://example.org/f.pdf" } },
        { "type": "file", "props": { "url": "https://example.org/f.pdf", "name": "f.pdf", "caption": "le fichier" } },
        { "type": "codeBlock", "props": { "language": "rust" }, "content": "fn main() {}" },
        { "type": "codeBlock", "content": "plain" },
    ]);
    let Some(out) = blocknote(
        "markdown_export_carries_media_and_code_as_blocknote_does",
        "markdown",
        &blocks.to_string(),
    ) else {
        return;
    };
    let cases = out.as_array().expect("one answer per block");
    assert_eq!(cases.len(), 11);
    for (i, case) in cases.iter().enumerate() {
        let doc = atelier_doc::Document::from_update_v1(&unb64(&case["update"])).expect("loads");
        let ours = atelier_doc::markdown::export(&doc.blocks());
        let theirs = case["markdown"].as_str().expect("markdown");
        assert_eq!(
            ours.trim_end(),
            theirs.trim_end(),
            "block {i} ({}) exports differently",
            blocks[i]
        );
    }
}
