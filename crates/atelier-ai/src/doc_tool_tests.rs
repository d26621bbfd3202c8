use super::*;
use crate::openai::{FunctionCall, ToolCall};
use atelier_doc::markdown;

/// A document with a heading, a paragraph, a list item with a nested
/// item, and a table (not editable as text).
fn doc() -> (Document, Vec<String>) {
    let d = Document::new();
    markdown::import(
        &d,
        "# Titre\n\nUn paragraphe.\n\n- un\n  - deux\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n",
    )
    .expect("imports");
    let ids = BlockIndex::from_document(&d);
    let mut order = Vec::new();
    let blocks = d.blocks();
    let mut stack: Vec<&Block> = blocks.iter().rev().collect();
    while let Some(b) = stack.pop() {
        order.push(b.id.to_string());
        stack.extend(b.children.iter().rev());
    }
    assert_eq!(ids.len(), order.len());
    (d, order)
}

fn review(d: &Document, args: &Value) -> ToolCallReview {
    review_tool_call(
        &args.to_string(),
        &BlockIndex::from_document(d),
        &ToolLimits::default(),
    )
    .expect("the tool's shape")
}

fn problems(r: &ToolCallReview) -> Vec<(usize, OperationProblem)> {
    r.refused
        .iter()
        .map(|e| match e {
            AiError::InvalidOperation { index, problem } => (*index, problem.clone()),
            other => panic!("not an operation error: {other:?}"),
        })
        .collect()
}

#[test]
fn update_add_and_delete_apply_as_the_model_meant() {
    let (d, ids) = doc();
    let r = review(
        &d,
        &json!({"operations": [
            {"type": "update", "id": format!("{}$", ids[1]), "block": "<p>Un <strong>beau</strong> paragraphe.</p>"},
            {"type": "add", "referenceId": format!("{}$", ids[0]), "position": "after",
             "blocks": ["<p>Intro.</p>", "<h2>Partie</h2>"]},
            {"type": "delete", "id": ids[3]},
        ]}),
    );
    assert!(r.refused.is_empty(), "{:?}", r.refused);
    assert_eq!(r.accepted.len(), 3);
    d.apply_ops(&r.ops(), "assistant").expect("applies");
    assert_eq!(
        markdown::export(&d.blocks()),
        "# Titre\n\nIntro.\n\n## Partie\n\nUn **beau** paragraphe.\n\n- un\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"
    );
    // The updated block kept its id.
    assert_eq!(d.blocks()[3].id.as_str(), ids[1]);
}

#[test]
fn an_update_that_changes_the_type_keeps_the_block() {
    let (d, ids) = doc();
    let r = review(
        &d,
        &json!({"operations": [{"type": "update", "id": format!("{}$", ids[1]), "block": "<h3>Devenu titre</h3>"}]}),
    );
    d.apply_ops(&r.ops(), "assistant").expect("applies");
    let b = &d.blocks()[1];
    assert_eq!(
        (b.kind.as_str(), b.id.as_str()),
        ("heading", ids[1].as_str())
    );
    assert_eq!(b.props["level"], 3);
}

#[test]
fn an_update_of_a_table_replaces_it() {
    let (d, ids) = doc();
    let table = ids.last().expect("table");
    let r = review(
        &d,
        &json!({"operations": [{"type": "update", "id": table, "block": "<p>Plus de table.</p>"}]}),
    );
    assert!(r.refused.is_empty());
    d.apply_ops(&r.ops(), "assistant").expect("applies");
    assert_eq!(
        markdown::export(&d.blocks()),
        "# Titre\n\nUn paragraphe.\n\n- un\n  - deux\n\nPlus de table.\n"
    );
}

#[test]
fn every_bad_argument_is_refused_with_its_reason() {
    let (d, ids) = doc();
    let id = format!("{}$", ids[1]);
    let r = review(
        &d,
        &json!({"operations": [
            "update",
            {"id": id},
            {"type": "move", "id": id},
            {"type": "update", "id": "nope$", "block": "<p>x</p>"},
            {"type": "update", "id": 3, "block": "<p>x</p>"},
            {"type": "update", "id": id, "block": ["<p>x</p>"]},
            {"type": "update", "id": id, "block": "<p>x</p>", "style": "bold"},
            {"type": "add", "referenceId": id, "position": "inside", "blocks": ["<p>x</p>"]},
            {"type": "add", "referenceId": id, "position": "after", "blocks": "<p>x</p>"},
            {"type": "add", "referenceId": id, "position": "after", "blocks": ["<script>alert(1)</script>"]},
            {"type": "add", "referenceId": id, "position": "after"},
            {"type": "update", "id": id, "block": "x".repeat(70_000)},
            {"type": "delete", "id": id},
            {"type": "update", "id": id, "block": "<p>again</p>"},
            {"type": "add", "referenceId": id, "position": "before", "blocks": ["<p>y</p>"]},
        ]}),
    );
    assert!(r.accepted.iter().all(|a| a.index == 12), "{:?}", r.accepted);
    let expected = vec![
        (0, OperationProblem::NotAnObject),
        (1, OperationProblem::Missing("type")),
        (2, OperationProblem::UnknownType("move".into())),
        (3, OperationProblem::UnknownBlock("nope$".into())),
        (
            4,
            OperationProblem::WrongType {
                field: "id",
                expected: "a block id string",
            },
        ),
        (
            5,
            OperationProblem::WrongType {
                field: "block",
                expected: "an HTML string",
            },
        ),
        (6, OperationProblem::UnknownField("style".into())),
        (7, OperationProblem::BadPosition("inside".into())),
        (
            8,
            OperationProblem::WrongType {
                field: "blocks",
                expected: "an array of HTML strings",
            },
        ),
        (9, OperationProblem::EmptyHtml),
        (10, OperationProblem::Missing("blocks")),
        (
            11,
            OperationProblem::TooLong {
                field: "block",
                limit: 65536,
            },
        ),
        (
            13,
            OperationProblem::SameBlockTwice {
                id: ids[1].clone(),
                first: 12,
            },
        ),
        (
            14,
            OperationProblem::SameBlockTwice {
                id: ids[1].clone(),
                first: 12,
            },
        ),
    ];
    assert_eq!(problems(&r), expected);
    // Every message names the operation and says what to fix.
    let text = r.refused[3].to_string();
    assert_eq!(text, "operation 3: no block \"nope$\" in the document");
}

#[test]
fn arguments_that_are_not_the_tools_shape_fail_whole() {
    let (d, _) = doc();
    let index = BlockIndex::from_document(&d);
    let limits = ToolLimits::default();
    for bad in [
        "not json",
        "[]",
        "{\"ops\": []}",
        "{\"operations\": {}}",
        "{\"operations\": [], \"extra\": 1}",
    ] {
        assert!(
            matches!(
                review_tool_call(bad, &index, &limits),
                Err(AiError::InvalidToolCall(_))
            ),
            "{bad}"
        );
    }
    let many = json!({"operations": vec![json!({"type": "delete", "id": "x"}); 65]});
    assert!(review_tool_call(&many.to_string(), &index, &limits).is_err());
    let empty = review_tool_call("{\"operations\": []}", &index, &limits).expect("nothing to do");
    assert!(empty.accepted.is_empty() && empty.refused.is_empty());
}

#[test]
fn html_from_a_model_never_enters_as_markup() {
    let (d, ids) = doc();
    let r = review(
        &d,
        &json!({"operations": [{"type": "update", "id": ids[1],
            "block": "<p onclick=\"x()\">Clic <a href=\"javascript:alert(1)\">ici</a><img src=x onerror=y><script>z()</script></p>"}]}),
    );
    d.apply_ops(&r.ops(), "assistant").expect("applies");
    let b = &d.blocks()[1];
    let json = serde_json::to_string(b).expect("json");
    assert!(!json.contains("javascript"), "{json}");
    assert!(
        !json.contains("onclick") && !json.contains("onerror"),
        "{json}"
    );
    assert!(!json.contains('<'), "{json}");
    assert_eq!(markdown::export(std::slice::from_ref(b)), "Clic ici\n");
}

#[test]
fn an_empty_update_empties_the_block() {
    let d = Document::new();
    markdown::import(&d, "x\n").expect("imports");
    let id = d.blocks()[0].id.to_string();
    let r = review(
        &d,
        &json!({"operations": [{"type": "update", "id": id, "block": "<p></p>"}]}),
    );
    d.apply_ops(&r.ops(), "assistant").expect("applies");
    assert!(d.blocks()[0].content.is_empty());
}

fn answer(text: &str, calls: &[(&str, &str)]) -> Completion {
    Completion {
        text: text.into(),
        tool_calls: calls
            .iter()
            .map(|(name, args)| ToolCall {
                id: "c".into(),
                kind: "function".into(),
                function: FunctionCall {
                    name: (*name).into(),
                    arguments: (*args).into(),
                },
            })
            .collect(),
        finish_reason: None,
        usage: None,
    }
}

#[test]
fn answers_become_prose_edits_or_refusals() {
    let (d, ids) = doc();
    let index = BlockIndex::from_document(&d);
    let limits = ToolLimits::default();
    assert_eq!(
        interpret(&answer("Voici un résumé.", &[]), &index, &limits),
        Proposal::Prose("Voici un résumé.".into())
    );
    let args = json!({"operations": [{"type": "delete", "id": ids[1]}]}).to_string();
    assert!(matches!(
        interpret(&answer("", &[(TOOL_NAME, &args)]), &index, &limits),
        Proposal::Edits { review, .. } if review.accepted.len() == 1
    ));
    // A call written as text in a fence, as small models do.
    let fenced = format!("```json\n{args}\n```");
    assert!(matches!(
        interpret(&answer(&fenced, &[]), &index, &limits),
        Proposal::Edits { .. }
    ));
    // A broken call keeps the words that came with it.
    assert!(matches!(
        interpret(&answer("Je supprime.", &[(TOOL_NAME, "{\"operations\": [")]), &index, &limits),
        Proposal::Refused { prose, error: AiError::InvalidToolCall(_) } if prose == "Je supprime."
    ));
    // Calls of other tools are not edits.
    assert_eq!(
        interpret(&answer("mot", &[("search", "{}")]), &index, &limits),
        Proposal::Prose("mot".into())
    );
}

#[test]
fn tool_calls_written_as_text_are_recognised_only_whole() {
    let ops = "{\"operations\":[]}";
    let tools = [TOOL_NAME];
    assert_eq!(
        parse_tool_call_text(ops, &tools),
        Some((TOOL_NAME.into(), ops.into()))
    );
    for wrapped in [
        format!("<tool_call>\n{{\"name\": \"{TOOL_NAME}\", \"arguments\": {ops}}}\n</tool_call>"),
        format!("[{{\"name\": \"{TOOL_NAME}\", \"parameters\": {ops}}}]"),
        format!(
            "{{\"name\": \"{TOOL_NAME}\", \"arguments\": {}}}",
            serde_json::to_string(ops).expect("string")
        ),
    ] {
        assert_eq!(
            parse_tool_call_text(&wrapped, &tools),
            Some((TOOL_NAME.into(), ops.into())),
            "{wrapped}"
        );
    }
    for prose in [
        "Here is the JSON: {\"operations\": []}",
        "{\"operations\": [",
        "{\"name\": \"other\", \"arguments\": {}}",
        "{\"operations\": [], \"note\": 1}",
        "",
    ] {
        assert_eq!(parse_tool_call_text(prose, &tools), None, "{prose}");
    }
    assert_eq!(parse_tool_call_text(ops, &["other"]), None);
}

#[test]
fn the_schema_and_model_blocks_are_what_models_are_shown() {
    let tool = openai_tool();
    assert_eq!(tool.function.name, TOOL_NAME);
    let schema = operations_schema();
    assert_eq!(schema["required"], json!(["operations"]));
    assert_eq!(docs_tool_definitions()[TOOL_NAME]["inputSchema"], schema);
    let (d, ids) = doc();
    let blocks = model_blocks(&d);
    assert_eq!(blocks.len(), ids.len());
    assert_eq!(blocks[0].id, format!("{}$", ids[0]));
    assert_eq!(blocks[0].block, "<h1>Titre</h1>");
    assert_eq!(blocks[1].block, "<p>Un paragraphe.</p>");
    // A nested item is listed on its own, after its parent.
    assert_eq!(blocks[2].block, "<ul><li>un</li></ul>");
    assert_eq!(blocks[3].block, "<ul><li>deux</li></ul>");
}
