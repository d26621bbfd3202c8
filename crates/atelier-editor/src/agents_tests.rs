use super::*;
use crate::session::{EditSession, Intent};
use atelier_doc::{NewBlock, Placement, markdown};

fn clock() -> u64 {
    0
}

/// A document holding `md` (loaded as a peer would, so the user's
/// history starts empty), a user's session and an agent desk on it.
fn setup(md: &str) -> (Rc<Document>, EditSession, AgentDesk, Vec<BlockId>) {
    let doc = Rc::new(Document::with_client_id(7));
    doc.ensure_initialized();
    let session = EditSession::new(doc.clone(), clock);
    doc.apply_ops(
        &crate::session::replace_blocks_ops(&doc, markdown::parse(md)),
        "load",
    )
    .expect("markdown loads");
    assert!(!session.can_undo(), "the load is not the user's");
    let desk = AgentDesk::new(doc.clone(), clock);
    let ids = doc.block_ids();
    (doc, session, desk, ids)
}

fn md(doc: &Document) -> String {
    markdown::export(&doc.blocks())
}

fn insert(block: &BlockId, offset: u32, text: &str) -> Op {
    Op::InsertText {
        block: block.clone(),
        offset,
        text: text.into(),
        marks: None,
    }
}

#[test]
fn the_users_undo_never_takes_back_an_agents_edit_and_the_agent_undoes_its_own() {
    let (doc, session, desk, ids) = setup("Bonjour\n");
    let bot = AgentInfo::new("Résumeur", Some("#0a7f5a"));
    // The user types, then the agent edits, then the user types again.
    session
        .apply(
            &Intent::InsertText(" à tous".into()),
            &Selection::caret(Pos::new(ids[0].clone(), 7)),
        )
        .expect("type");
    session.stop_capturing();
    desk.apply(&bot, &[insert(&ids[0], 0, "Résumé : ")])
        .expect("agent batch");
    assert_eq!(md(&doc), "Résumé : Bonjour à tous\n");
    // Ctrl+Z: only the user's own typing goes.
    session
        .apply(
            &Intent::Undo,
            &Selection::caret(Pos::new(ids[0].clone(), 0)),
        )
        .expect("undo");
    assert_eq!(md(&doc), "Résumé : Bonjour\n");
    assert!(!session.can_undo(), "the agent's edit is not the user's");
    // The agent takes back its own batch, and only it.
    assert!(desk.can_undo(&bot));
    assert!(desk.undo(&bot));
    assert_eq!(md(&doc), "Bonjour\n");
    assert!(!desk.undo(&bot), "nothing more to undo");
    assert!(desk.redo(&bot));
    assert_eq!(md(&doc), "Résumé : Bonjour\n");
    // Another agent's history is its own.
    let other = AgentInfo::new("Correcteur", None);
    assert!(!desk.undo(&other));
    assert_eq!(desk.agents().len(), 2);
}

#[test]
fn each_batch_is_one_undo_step_of_its_agent() {
    let (doc, _session, desk, ids) = setup("a\n");
    let bot = AgentInfo::new("bot", None);
    desk.apply(&bot, &[insert(&ids[0], 1, "b"), insert(&ids[0], 2, "c")])
        .expect("first");
    desk.apply(&bot, &[insert(&ids[0], 3, "d")])
        .expect("second");
    assert_eq!(md(&doc), "abcd\n");
    assert!(desk.undo(&bot));
    assert_eq!(md(&doc), "abc\n", "the second batch alone");
    assert!(desk.undo(&bot));
    assert_eq!(md(&doc), "a\n", "the first batch, both ops");
}

#[test]
fn a_refused_batch_changes_nothing_and_names_the_failing_op() {
    let (doc, _session, desk, ids) = setup("un\n\ndeux\n");
    let bot = AgentInfo::new("bot", None);
    let before = md(&doc);
    let err = desk
        .apply(
            &bot,
            &[
                insert(&ids[0], 2, " !"),
                Op::DeleteBlock {
                    block: "nope".into(),
                },
            ],
        )
        .expect_err("unknown block");
    assert_eq!((err.index, err.op), (1, "deleteBlock"));
    assert!(err.message.contains("nope"), "{}", err.message);
    assert_eq!(md(&doc), before);
    assert!(!desk.can_undo(&bot), "nothing was recorded");
    let err = desk
        .apply(&bot, &[insert(&ids[1], 99, "x")])
        .expect_err("out of range");
    assert_eq!((err.index, err.op), (0, "insertText"));
    assert_eq!(md(&doc), before);
}

#[test]
fn the_caret_follows_the_batch() {
    let (doc, _session, desk, ids) = setup("un\n\ndeux\n");
    let bot = AgentInfo::new("bot", None);
    assert_eq!(desk.caret(&bot), None);
    desk.apply(&bot, &[insert(&ids[0], 2, " 😀")])
        .expect("insert");
    assert_eq!(
        desk.caret(&bot),
        Some(Selection::caret(Pos::new(ids[0].clone(), 5)))
    );
    let outcomes = desk
        .apply(
            &bot,
            &[Op::InsertBlocks {
                at: Placement::After(ids[1].clone()),
                blocks: vec![NewBlock::paragraph("trois")],
            }],
        )
        .expect("insert blocks");
    let OpOutcome::Created { ids: created } = &outcomes[0] else {
        panic!("{outcomes:?}");
    };
    assert_eq!(
        desk.caret(&bot),
        Some(Selection::caret(Pos::new(created[0].clone(), 5)))
    );
    // A batch that only deletes keeps the caret where it was, clamped.
    desk.apply(
        &bot,
        &[Op::DeleteBlock {
            block: created[0].clone(),
        }],
    )
    .expect("delete");
    assert_eq!(desk.caret(&bot), None, "its block is gone");
    desk.set_caret(&bot, Some(Selection::caret(Pos::new(ids[1].clone(), 99))));
    assert_eq!(
        desk.caret(&bot),
        Some(Selection::caret(Pos::new(ids[1].clone(), 4)))
    );
    assert_eq!(md(&doc), "un 😀\n\ndeux\n");
}

#[test]
fn an_update_run_elsewhere_is_the_agents_like_a_batch() {
    let (doc, session, desk, ids) = setup("x\n");
    let bot = AgentInfo::new("bot", None);
    let ops = [insert(&ids[0], 1, "yz")];
    let (update, outcomes) = doc
        .try_ops(&ops, doc.ydoc().client_id().get())
        .expect("checked on a copy");
    desk.apply_update(&bot, &update, caret_after(&doc, &ops, &outcomes))
        .expect("applied");
    assert_eq!(md(&doc), "xyz\n");
    assert!(!session.can_undo());
    assert!(desk.undo(&bot));
    assert_eq!(md(&doc), "x\n");
    assert!(desk.apply_update(&bot, b"\xff\xff", None).is_err());
}

#[test]
fn origins_say_who_changed_the_document() {
    let (doc, session, desk, ids) = setup("a\n");
    let bot = AgentInfo::new("bot", None);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    doc.observe_blocks_with_origin("who", move |_, origin| {
        sink.lock().expect("lock").push(origin.map(<[u8]>::to_vec));
    });
    session
        .apply(
            &Intent::InsertText("b".into()),
            &Selection::caret(Pos::new(ids[0].clone(), 1)),
        )
        .expect("type");
    desk.apply(&bot, &[insert(&ids[0], 0, "c")]).expect("agent");
    desk.undo(&bot);
    session
        .apply(
            &Intent::Undo,
            &Selection::caret(Pos::new(ids[0].clone(), 0)),
        )
        .expect("undo");
    let peer = Document::from_update_v1(&doc.encode_state_v1()).expect("copy");
    peer.insert_text(&ids[0], 0, "p").expect("peer types");
    doc.apply_update_v1(&peer.diff_v1(&doc.state_vector_v1()).expect("diff"))
        .expect("remote");
    doc.unobserve_blocks("who");
    let sources: Vec<ChangeSource> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|o| source_of(o.as_deref()))
        .collect();
    let agent = ChangeSource::Agent("bot".into());
    assert_eq!(
        sources,
        [
            ChangeSource::Local,
            agent.clone(),
            agent,
            ChangeSource::Local,
            ChangeSource::Remote
        ]
    );
    assert_eq!(
        source_of(Some(b"assistant")),
        ChangeSource::Agent("assistant".into())
    );
    assert_eq!(source_of(Some(b"atelier-sync/3")), ChangeSource::Remote);
}

#[test]
fn agent_names_and_colours_are_normalized() {
    let a = AgentInfo::new("  ", Some("red"));
    assert_eq!(
        (a.name.as_str(), a.color.as_str()),
        ("Agent", DEFAULT_AGENT_COLOR)
    );
    let long = "x".repeat(100);
    assert_eq!(AgentInfo::new(&long, Some("#abc")).name.len(), 64);
    assert_eq!(AgentInfo::new("R", Some("#abc")).origin(), "agent:R");
}

#[test]
fn find_counts_utf16_and_stays_in_blocks() {
    let (doc, _s, _d, ids) = setup("😀 Chat chat\n\nle chat\n");
    let hits = find_text(&doc, "chat", false, 10);
    assert_eq!(
        hits,
        [
            TextMatch {
                block: ids[0].clone(),
                offset: 8,
                len: 4
            },
            TextMatch {
                block: ids[1].clone(),
                offset: 3,
                len: 4
            }
        ]
    );
    let hits = find_text(&doc, "CHAT", true, 10);
    assert_eq!(hits.len(), 3);
    assert_eq!(hits[0].offset, 3, "after the emoji's two UTF-16 units");
    assert_eq!(find_text(&doc, "chat", true, 1).len(), 1);
    assert!(find_text(&doc, "", false, 10).is_empty());
    assert_eq!(find_text(&doc, "😀", false, 10)[0].len, 2);
}

/// The browser's path: the batch runs on a copy in the Markdown module and
/// comes back as an update written by the editor's own client id, which
/// the user's undo manager must still leave alone.
#[test]
fn the_users_undo_leaves_an_agents_update_run_elsewhere() {
    let (doc, session, desk, ids) = setup("Bonjour\n");
    let bot = AgentInfo::new("bot", None);
    session
        .apply(
            &Intent::InsertText(" à tous".into()),
            &Selection::caret(Pos::new(ids[0].clone(), 7)),
        )
        .expect("type");
    let ops = [insert(&ids[0], 0, "Note : ")];
    let (update, outcomes) = doc
        .try_ops(&ops, doc.ydoc().client_id().get())
        .expect("checked on a copy");
    desk.apply_update(&bot, &update, caret_after(&doc, &ops, &outcomes))
        .expect("applied");
    assert_eq!(md(&doc), "Note : Bonjour à tous\n");
    session
        .apply(
            &Intent::Undo,
            &Selection::caret(Pos::new(ids[0].clone(), 0)),
        )
        .expect("undo");
    assert_eq!(md(&doc), "Note : Bonjour\n");
    assert!(desk.undo(&bot));
    assert_eq!(md(&doc), "Bonjour\n");
}
