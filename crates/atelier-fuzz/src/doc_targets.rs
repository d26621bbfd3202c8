//! Text that becomes document content: Markdown, pasted HTML, chat
//! messages and agents' operations.

use crate::text;
use atelier_doc::sanitize::is_safe_href;
use atelier_doc::{Block, Document, InlineRun, NewBlock, Placement};
use std::sync::LazyLock;

/// Every link and media URL of `runs`, `props` and their tables must be
/// safe to render.
fn check_runs(runs: &[InlineRun]) {
    for run in runs {
        if let Some(href) = &run.marks.link {
            assert!(is_safe_href(href), "an unsafe link was kept: {href:?}");
        }
    }
}

fn check_props(props: &serde_json::Map<String, serde_json::Value>) {
    if let Some(serde_json::Value::String(url)) = props.get("url") {
        assert!(
            url.is_empty() || is_safe_href(url),
            "an unsafe media URL was kept: {url:?}"
        );
    }
}

/// A block's parts the checks read: new blocks (parsed, not yet inserted)
/// and blocks read back from a document have the same shape.
trait Parts: Sized {
    fn parts(
        &self,
    ) -> (
        &[InlineRun],
        &serde_json::Map<String, serde_json::Value>,
        Option<&Table>,
        &[Self],
    );
}

/// A table's rows of cells of runs.
type Table = Vec<Vec<Vec<InlineRun>>>;

impl Parts for NewBlock {
    fn parts(
        &self,
    ) -> (
        &[InlineRun],
        &serde_json::Map<String, serde_json::Value>,
        Option<&Table>,
        &[Self],
    ) {
        (
            &self.content,
            &self.props,
            self.table.as_ref(),
            &self.children,
        )
    }
}

impl Parts for Block {
    fn parts(
        &self,
    ) -> (
        &[InlineRun],
        &serde_json::Map<String, serde_json::Value>,
        Option<&Table>,
        &[Self],
    ) {
        (
            &self.content,
            &self.props,
            self.table.as_ref(),
            &self.children,
        )
    }
}

/// Checks every block, its table and its children.
fn check_tree<B: Parts>(blocks: &[B]) {
    for b in blocks {
        let (content, props, table, children) = b.parts();
        check_runs(content);
        check_props(props);
        table
            .into_iter()
            .flatten()
            .flatten()
            .for_each(|c| check_runs(c));
        check_tree(children);
    }
}

/// Reads `doc` through every export, checking what it holds.
fn read_back(doc: &Document) {
    let blocks = doc.blocks();
    check_tree(&blocks);
    let markdown = atelier_doc::markdown_export::export(&blocks);
    let html = atelier_doc::html::export(&blocks);
    let lower = html.to_ascii_lowercase();
    for tag in ["<script", "<iframe", "<style", "<object", "<embed", "<svg"] {
        assert!(!lower.contains(tag), "the HTML export holds {tag}: {html}");
    }
    // The export must import again, keeping links safe.
    check_tree(&atelier_doc::markdown::parse(&markdown));
}

/// Markdown imported into a document, then read back.
pub fn markdown(data: &[u8]) {
    let source = text(data);
    let blocks = atelier_doc::markdown::parse(&source);
    check_tree(&blocks);
    // What `markdown::import` does (parse, then insert unless empty),
    // without parsing the input a second time.
    let doc = Document::new();
    if blocks.is_empty() || doc.insert_blocks(&Placement::End, &blocks).is_ok() {
        read_back(&doc);
    }
}

/// Pasted HTML sanitized into blocks and inserted, then read back.
pub fn html_paste(data: &[u8]) {
    let blocks = atelier_doc::html::sanitize_paste(&text(data));
    check_tree(&blocks);
    let doc = Document::new();
    if !blocks.is_empty() && doc.insert_blocks(&Placement::End, &blocks).is_ok() {
        read_back(&doc);
    }
}

/// A chat message body parsed into blocks.
pub fn chat_message(data: &[u8]) {
    let body = text(data);
    check_tree(&atelier_doc::chat_format::parse(&body));
    check_runs(&atelier_doc::chat_format::parse_inline(&body));
    let _ = atelier_doc::chat_format::excerpt(&body, 80);
}

/// The document the `agent_ops` target edits, its blocks named
/// [`AGENT_BLOCK_IDS`] in order (so seeds can address them).
pub const AGENT_DOC: &str = "# Title\n\nA paragraph with **bold**.\n\n- one\n- two";

/// The ids of [`AGENT_DOC`]'s blocks.
pub const AGENT_BLOCK_IDS: &[&str] = &["a", "b", "c", "d"];

/// An agent's JSON operations applied to a small document, all or nothing:
/// a refused batch leaves the document exactly as it was.
pub fn agent_ops(data: &[u8]) {
    let Ok(ops) = atelier_doc::op_json::ops_from_json(&text(data)) else {
        return;
    };
    // The starting blocks are parsed once per process; only the document
    // they go into is new for every input.
    static BLOCKS: LazyLock<Vec<NewBlock>> = LazyLock::new(|| {
        let mut blocks = atelier_doc::markdown::parse(AGENT_DOC);
        for (i, b) in blocks.iter_mut().enumerate() {
            b.id = Some(atelier_doc::BlockId(
                AGENT_BLOCK_IDS[i % AGENT_BLOCK_IDS.len()].into(),
            ));
        }
        blocks
    });
    let doc = Document::new();
    if doc.insert_blocks(&Placement::End, &BLOCKS).is_err() {
        return;
    }
    let before = doc.encode_state_v1();
    match doc.apply_ops_atomically(&ops, "fuzz") {
        Ok(_) => read_back(&doc),
        Err(_) => assert_eq!(
            doc.encode_state_v1(),
            before,
            "a refused batch changed the document"
        ),
    }
}
