use super::*;
use std::sync::{Arc, Mutex};
use yrs::updates::decoder::Decode;
use yrs::{Update, WriteTxn};

fn sync(from: &Doc, to: &Doc) {
    let sv = to.transact().state_vector();
    let update = from.transact().encode_diff_v1(&sv);
    let update = Update::decode_v1(&update).expect("valid update");
    to.transact_mut().apply_update(update).expect("apply");
}

fn sync_both(a: &Doc, b: &Doc) {
    sync(a, b);
    sync(b, a);
}

/// A copy of the list kept up to date from [`Chat::observe`] alone, as a
/// widget keeps it.
fn follow(chat: &Chat, key: &str) -> Arc<Mutex<Vec<ChatMessage>>> {
    let copy = Arc::new(Mutex::new(chat.entries()));
    let sink = copy.clone();
    chat.observe(key, move |edits| {
        let mut list = sink.lock().expect("lock");
        for edit in edits {
            match edit {
                ChatEdit::Insert { at, messages } => {
                    let tail = list.split_off(at);
                    list.extend(messages);
                    list.extend(tail);
                }
                ChatEdit::Remove { at, len } => {
                    list.drain(at..at + len);
                }
                ChatEdit::Update { at, message } => list[at] = message,
            }
        }
    });
    copy
}

#[test]
fn send_reply_edit_delete_react() {
    let doc = Doc::with_client_id(3);
    let chat = Chat::new(&doc);
    let a = chat
        .send("alice", 1.0, "Bonjour @bob et @carol.", None)
        .expect("send");
    let b = chat.send("bob", 2.0, "Salut", Some(&a)).expect("reply");
    assert!(chat.send("bob", 2.0, "x", Some("missing")).is_err());
    assert!(chat.send("bob", 2.0, "   ", None).is_err());
    assert!(chat.edit(&a, "bob", 3.0, "hijack").is_err());
    chat.edit(&b, "bob", 3.0, "Salut !").expect("edit own");
    chat.react(&a, "bob", "👍", true).expect("react");
    chat.react(&a, "carol", "👍", true).expect("react");
    chat.react(&a, "carol", "👍", false).expect("unreact");
    chat.delete(&b, "bob").expect("delete own");
    let msgs = chat.messages();
    assert_eq!(
        msgs[0].mentions(),
        vec!["bob".to_string(), "carol".to_string()]
    );
    assert_eq!(msgs[0].reactions["👍"].len(), 1);
    assert_eq!(msgs[1].reply_to.as_deref(), Some(a.as_str()));
    assert!(msgs[1].deleted && msgs[1].body.is_empty());
    assert_eq!(msgs[1].edited_ts, Some(3.0));
    // A tombstone cannot be edited, deleted again, reacted to or answered.
    assert!(chat.edit(&b, "bob", 4.0, "back").is_err());
    assert!(chat.delete(&b, "bob").is_err());
    assert!(chat.react(&b, "alice", "👍", true).is_err());
    assert!(chat.send("alice", 5.0, "re", Some(&b)).is_err());
}

#[test]
fn body_limits_name_the_problem() {
    assert_eq!(body_problem(" \n\t"), Some(BodyProblem::Empty));
    assert_eq!(body_problem("ok"), None);
    let long = "é".repeat(MAX_BODY_BYTES / 2 + 1);
    assert_eq!(
        body_problem(&long),
        Some(BodyProblem::TooLong { bytes: long.len() })
    );
    assert_eq!(body_problem(&"a".repeat(MAX_BODY_BYTES)), None);
    let chat = Chat::new(&Doc::new());
    let err = chat.send("a", 1.0, &long, None).expect_err("too long");
    assert!(err.to_string().contains("16384"), "{err}");
}

#[test]
fn author_and_reactor_names_are_stored_and_cut() {
    let doc = Doc::with_client_id(4);
    let chat = Chat::new(&doc);
    let long_name = "Ä".repeat(100);
    let id = chat
        .post(&NewMessage {
            author_name: Some(&long_name),
            ..NewMessage::new("u1", 1.0, "hi")
        })
        .expect("post");
    chat.react_as(&id, "u2", Some("Bob"), "🎉", true)
        .expect("react");
    chat.react(&id, "u3", "🎉", true).expect("react");
    let m = chat.message(&id).expect("found");
    let name = m.author_name.as_deref().expect("name");
    assert!(name.len() <= MAX_NAME_BYTES && name.starts_with('Ä'));
    assert_eq!(m.fallback_author_name(), name);
    assert_eq!(m.reactions["🎉"].len(), 2);
    assert_eq!(m.reactor_names.get("u2").map(String::as_str), Some("Bob"));
    assert!(!m.reactor_names.contains_key("u3"));
    assert!(chat.react(&id, "u2", "", true).is_err());
    assert!(chat.react(&id, "u2", "a\u{1f}b", true).is_err());
    assert!(chat.react(&id, "u2", &"x".repeat(33), true).is_err());
}

#[test]
fn mentions_follow_word_boundaries() {
    let spans: Vec<_> = mention_spans("@a, x@b.fr (@c.d) @e. @ @é_1-2").collect();
    let ids: Vec<&str> = spans.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids, vec!["a", "c.d", "e", "é_1-2"]);
    let text = "hi @bob.";
    let (range, _) = mention_spans(text).next().expect("one");
    assert_eq!(&text[range], "@bob");
    assert_eq!(mentions_in("@x @y @x"), vec!["x", "y"]);
    assert!(is_mentionable("jean.dupont"));
    assert!(!is_mentionable("a b"));
    assert!(!is_mentionable("x."));
    assert!(!is_mentionable("a@b"));
    let m = ChatMessage {
        deleted: true,
        ..chat_message("@bob")
    };
    assert!(!m.mentions_user("bob"));
    assert!(chat_message("cc @bob").mentions_user("bob"));
}

fn chat_message(body: &str) -> ChatMessage {
    ChatMessage {
        id: "1".into(),
        author: "a".into(),
        author_name: None,
        ts: 0.0,
        body: body.into(),
        reply_to: None,
        reactions: BTreeMap::new(),
        reactor_names: BTreeMap::new(),
        edited_ts: None,
        deleted: false,
        item: None,
    }
}

#[test]
fn concurrent_messages_and_reactions_merge() {
    let d1 = Doc::with_client_id(1);
    let d2 = Doc::with_client_id(2);
    let c1 = Chat::new(&d1);
    let c2 = Chat::new(&d2);
    let m = c1.send("alice", 1.0, "hi", None).expect("send");
    sync(&d1, &d2);
    c1.react(&m, "alice", "🎉", true).expect("react");
    c2.react(&m, "bob", "🎉", true).expect("react");
    c2.send("bob", 2.0, "yo", None).expect("send");
    sync_both(&d1, &d2);
    assert_eq!(c1.messages(), c2.messages());
    assert_eq!(c1.messages()[0].reactions["🎉"].len(), 2);
    assert_eq!(c1.messages().len(), 2);
}

#[test]
fn concurrent_edit_and_delete_leave_a_tombstone_everywhere() {
    // The same user on two devices: one edits while the other deletes.
    let d1 = Doc::with_client_id(1);
    let d2 = Doc::with_client_id(2);
    let c1 = Chat::new(&d1);
    let c2 = Chat::new(&d2);
    let m = c1.send("alice", 1.0, "draft", None).expect("send");
    sync(&d1, &d2);
    c1.edit(&m, "alice", 2.0, "final").expect("edit");
    c2.delete(&m, "alice").expect("delete");
    c2.react(&m, "bob", "👀", false)
        .expect("unreact is always allowed");
    sync_both(&d1, &d2);
    for c in [&c1, &c2] {
        let msg = c.message(&m).expect("kept");
        assert!(msg.deleted, "deletion wins over the text");
        assert!(msg.body.is_empty());
    }
    assert_eq!(c1.messages(), c2.messages());
}

#[test]
fn concurrent_edits_and_reaction_toggles_converge() {
    let d1 = Doc::with_client_id(1);
    let d2 = Doc::with_client_id(2);
    let d3 = Doc::with_client_id(3);
    let chats = [Chat::new(&d1), Chat::new(&d2), Chat::new(&d3)];
    let m = chats[0].send("alice", 1.0, "v0", None).expect("send");
    sync(&d1, &d2);
    sync(&d1, &d3);
    chats[0].edit(&m, "alice", 2.0, "v1").expect("edit");
    chats[1].edit(&m, "alice", 3.0, "v2").expect("edit");
    // bob toggles on two devices, carol only on one.
    chats[1].react(&m, "bob", "👍", true).expect("react");
    chats[2].react(&m, "bob", "👍", true).expect("react");
    chats[2].react(&m, "bob", "👍", false).expect("react");
    chats[2].react(&m, "carol", "❤️", true).expect("react");
    for (a, b) in [(&d1, &d2), (&d2, &d3), (&d1, &d3), (&d1, &d2)] {
        sync_both(a, b);
    }
    let all: Vec<_> = chats.iter().map(Chat::messages).collect();
    assert_eq!(all[0], all[1]);
    assert_eq!(all[1], all[2]);
    let msg = &all[0][0];
    assert!(msg.body == "v1" || msg.body == "v2");
    assert!(msg.edited_ts.is_some());
    assert_eq!(msg.reactions["❤️"].len(), 1);
}

#[test]
fn observed_copy_equals_a_fresh_read_through_concurrent_work() {
    // A widget's copy, fed only by observed edits, must equal the list
    // read afresh after every kind of local and remote change.
    let d1 = Doc::with_client_id(1);
    let d2 = Doc::with_client_id(2);
    let c1 = Chat::new(&d1);
    let c2 = Chat::new(&d2);
    let copy = follow(&c1, "copy");
    let mut ids = Vec::new();
    for round in 0..30u32 {
        let ts = f64::from(round);
        let id1 = c1.send("a", ts, &format!("a{round}"), None).expect("send");
        let id2 = c2.send("b", ts, &format!("b{round}"), None).expect("send");
        ids.push((id1.clone(), "a"));
        ids.push((id2.clone(), "b"));
        if round % 3 == 0 {
            sync_both(&d1, &d2);
        }
        let (target, author) = &ids[(round as usize * 7) % ids.len()];
        let on_1 = c1.message(target).is_some();
        let chat = if on_1 { &c1 } else { &c2 };
        chat.react(target, "z", "👍", round % 2 == 0)
            .expect("react");
        if round % 5 == 4 {
            let _ = chat.edit(target, author, ts, "edited");
        }
        if round % 7 == 6 {
            let _ = chat.delete(target, author);
        }
        assert_eq!(*copy.lock().expect("lock"), c1.entries(), "round {round}");
    }
    sync_both(&d1, &d2);
    assert_eq!(*copy.lock().expect("lock"), c1.entries());
    assert_eq!(c1.messages(), c2.messages());
    assert!(c1.unobserve("copy"));
}

#[test]
fn entries_that_are_not_messages_keep_indices_aligned() {
    // Another client may put anything in the array: it reads as an empty
    // tombstone in entries(), is skipped by messages(), and lookups by id
    // still find the real messages.
    let doc = Doc::with_client_id(9);
    let chat = Chat::new(&doc);
    let copy = follow(&chat, "copy");
    let a = chat.send("a", 1.0, "first", None).expect("send");
    {
        let mut txn = doc.transact_mut();
        let array = txn.get_or_insert_array(CHAT);
        array.push_back(&mut txn, "<script>not a message</script>");
        array.push_back(
            &mut txn,
            MapPrelim::from_iter([("body", Any::from("no id"))]),
        );
    }
    let b = chat.send("a", 2.0, "second", None).expect("send");
    assert_eq!(chat.entries().len(), 4);
    assert_eq!(chat.messages().len(), 2);
    assert!(chat.entries()[1].deleted && chat.entries()[1].id.is_empty());
    chat.react(&b, "u", "👍", true)
        .expect("found past the junk");
    chat.react(&a, "u", "👍", true).expect("found");
    assert_eq!(*copy.lock().expect("lock"), chat.entries());
}

#[test]
fn index_lookup_survives_concurrent_inserts_before_a_message() {
    let d1 = Doc::with_client_id(5);
    let d2 = Doc::with_client_id(1);
    let c1 = Chat::new(&d1);
    let c2 = Chat::new(&d2);
    let mine = c1.send("a", 1.0, "mine", None).expect("send");
    // Warm the index, then let a concurrent append from a lower client id
    // land before `mine` (Yjs orders concurrent inserts by client id).
    c1.react(&mine, "a", "👍", true).expect("react");
    for i in 0..5 {
        c2.send("b", 1.0, &format!("theirs {i}"), None)
            .expect("send");
    }
    sync_both(&d1, &d2);
    let order: Vec<String> = c1.messages().into_iter().map(|m| m.body).collect();
    assert_eq!(order.len(), 6);
    c1.react(&mine, "a", "🎉", true).expect("still found");
    let m = c1.message(&mine).expect("found");
    assert_eq!(m.reactions.len(), 2);
}

#[test]
fn held_by_tells_what_a_replica_has() {
    let local = Doc::with_client_id(7);
    let server = Doc::with_client_id(8);
    let chat = Chat::new(&local);
    let a = chat.send("me", 1.0, "one", None).expect("send");
    sync(&local, &server);
    let b = chat.send("me", 2.0, "two", None).expect("send");
    let sv = server.transact().state_vector();
    let msgs = chat.messages();
    assert_eq!(msgs[0].id, a);
    assert!(msgs[0].is_held_by(&sv));
    assert_eq!(msgs[1].id, b);
    assert!(!msgs[1].is_held_by(&sv), "not yet on the server");
    // Sending again is idempotent: the message exists once.
    sync(&local, &server);
    sync(&local, &server);
    let sv = server.transact().state_vector();
    assert!(chat.messages().iter().all(|m| m.is_held_by(&sv)));
    assert_eq!(Chat::new(&server).messages().len(), 2);
}
