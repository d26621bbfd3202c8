//! The page's document hub (`atelier_web::hub`) in a real browser
//! (headless Chromium via wasm-bindgen-test), as the elements use it:
//! sharing, counted handles that linger, subscriptions that end with their
//! guard, siblings sharing one socket, database and channel, and the
//! migration of a database written by the first IndexedDB schema.
//!
//! No sync server runs here: networked documents point at a closed port,
//! so they stay offline (and keep retrying) while IndexedDB and the hub's
//! bookkeeping are checked. Syncing through a real server is
//! `e2e/shared-connection.test.mjs`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use atelier_doc::{NewBlock, Placement, markdown};
use atelier_web::idb_store::database_name;
use atelier_web::{ConnectionStatus, DocOptions, PersistenceStatus, hub};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Promise, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{IdbDatabase, IdbObjectStoreParameters, IdbRequest, IdbTransactionMode};

wasm_bindgen_test_configure!(run_in_browser);

/// Nothing listens there: documents stay offline.
const SERVER: &str = "ws://127.0.0.1:9/sync";
/// Longer than the hub's linger (3 s) with room for a busy machine.
const DEADLINE_MS: f64 = 15_000.0;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", js_sys::Date::now() as u64)
}

/// Waits until `cond` holds, polling every 20 ms; panics with `what` and
/// the last value `seen` returns after the deadline.
async fn wait_for(what: &str, cond: impl Fn() -> bool, seen: impl Fn() -> String) {
    let start = js_sys::Date::now();
    while !cond() {
        assert!(
            js_sys::Date::now() - start < DEADLINE_MS,
            "{what}: not within {DEADLINE_MS} ms; saw {}",
            seen()
        );
        TimeoutFuture::new(20).await;
    }
}

/// Waits until the hub holds no networked document (a previous test's
/// lingering ones closed), so counts start from a known state.
async fn hub_settled() {
    wait_for(
        "the hub closes lingering documents",
        || {
            let s = hub::stats();
            s.sockets == 0 && s.databases == 0 && s.channels == 0
        },
        || format!("{:?}", hub::stats()),
    )
    .await;
}

async fn request(req: &IdbRequest) -> JsValue {
    let promise = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    JsFuture::from(promise).await.unwrap();
    req.result().unwrap()
}

fn factory() -> web_sys::IdbFactory {
    web_sys::window().unwrap().indexed_db().unwrap().unwrap()
}

/// Every record of database `name`, as stored (whatever its schema).
async fn records(name: &str) -> Vec<JsValue> {
    let db: IdbDatabase = request(&factory().open(name).unwrap())
        .await
        .unchecked_into();
    let tx = db
        .transaction_with_str_and_mode("updates", IdbTransactionMode::Readonly)
        .unwrap();
    let all = request(&tx.object_store("updates").unwrap().get_all().unwrap()).await;
    db.close();
    all.unchecked_into::<Array>().iter().collect()
}

fn field(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

#[wasm_bindgen_test]
async fn local_documents_are_shared_initialised_and_kept() {
    let name = unique("local");
    let a = hub::open(DocOptions::local(&name)).unwrap();
    let b = hub::open(DocOptions::local(&name)).unwrap();
    assert!(Rc::ptr_eq(&a.document(), &b.document()));
    assert_eq!(a.id(), b.id());
    assert_eq!(a.status(), ConnectionStatus::Local);
    assert_eq!(a.persistence(), PersistenceStatus::Disabled);
    assert!(!a.document().block_ids().is_empty(), "initialised at once");
    a.document()
        .insert_blocks(&Placement::End, &[NewBlock::paragraph("gardé")])
        .unwrap();
    drop((a, b));
    // A local document has no other copy: the page keeps it past the
    // linger that closes a networked one (a negative check needs the wait).
    TimeoutFuture::new(u32::try_from(hub::LINGER_MS).unwrap() + 500).await;
    let again = hub::open(DocOptions::local(&name)).unwrap();
    assert!(markdown::export(&again.document().blocks()).contains("gardé"));
    assert_eq!(again.unsynced_changes(), 0);
}

#[wasm_bindgen_test]
async fn siblings_share_one_socket_database_and_channel_and_close_after_lingering() {
    hub_settled().await;
    let before = hub::stats();
    let name = unique("family");
    let chat_name = atelier_web::chat_document_name(&name);
    let text = hub::open(DocOptions::new(SERVER, &name)).unwrap();
    let chat = hub::open(DocOptions::new(SERVER, &chat_name)).unwrap();
    let second_text = text.clone();
    let after = hub::stats();
    assert_eq!(after.documents, before.documents + 2, "{after:?}");
    assert_eq!(after.sockets, before.sockets + 1, "one socket: {after:?}");
    assert_eq!(
        after.databases,
        before.databases + 1,
        "one database: {after:?}"
    );
    assert_eq!(
        after.channels,
        before.channels + 1,
        "one channel: {after:?}"
    );
    assert!(!Rc::ptr_eq(&text.document(), &chat.document()));

    for h in [&text, &chat] {
        wait_for(
            "both documents load from IndexedDB",
            || h.persistence() == PersistenceStatus::Saved,
            || format!("{} {:?} {:?}", h.name(), h.persistence(), h.status()),
        )
        .await;
    }
    // Never synced: no BlockNote structure was made up, and nothing is
    // initialised in the chat.
    assert!(text.document().block_ids().is_empty());
    assert_eq!(
        text.status(),
        ConnectionStatus::Offline,
        "the closed port refuses"
    );
    // Each document writes its own records into the one database.
    let (t, c) = (text.document(), chat.document());
    for (doc, line) in [(&t, "le texte"), (&c, "la discussion")] {
        doc.ensure_initialized();
        doc.insert_blocks(&Placement::End, &[NewBlock::paragraph(line)])
            .unwrap();
    }
    let db = database_name(SERVER, &name);
    let tags = || async {
        let mut tags: Vec<String> = records(&db)
            .await
            .iter()
            .map(|r| field(r, "d").as_string().unwrap_or_default())
            .collect();
        tags.sort();
        tags.dedup();
        tags
    };
    let start = js_sys::Date::now();
    loop {
        let seen = tags().await;
        if seen == [name.clone(), chat_name.clone()] {
            break;
        }
        assert!(
            js_sys::Date::now() - start < DEADLINE_MS,
            "records of both documents in {db}; saw {seen:?}"
        );
        TimeoutFuture::new(50).await;
    }
    drop(t);
    drop(c);

    // A handle dropped while another remains keeps it open (the counting
    // and its grace period are `leases.rs`'s unit tests).
    drop(text);
    assert_eq!(hub::stats().documents, before.documents + 2);
    // The last handles go: after lingering, everything closes.
    drop((second_text, chat));
    hub_settled().await;
    assert_eq!(hub::stats(), before);

    // Reopened, the chat reads back its own records only.
    let chat = hub::open(DocOptions::new(SERVER, &chat_name)).unwrap();
    wait_for(
        "the chat reloads",
        || chat.persistence() == PersistenceStatus::Saved,
        || format!("{:?}", chat.persistence()),
    )
    .await;
    let md = markdown::export(&chat.document().blocks());
    assert!(
        md.contains("la discussion") && !md.contains("le texte"),
        "{md:?}"
    );
    drop(chat);
    hub_settled().await;
}

#[wasm_bindgen_test]
async fn a_database_of_the_first_schema_is_migrated_in_place() {
    hub_settled().await;
    let name = unique("legacy");
    let db_name = database_name(SERVER, &name);
    // What the first schema wrote: version 1, bare updates.
    let old = atelier_doc::Document::new();
    old.ensure_initialized();
    old.insert_blocks(&Placement::End, &[NewBlock::paragraph("écrit en v1")])
        .unwrap();
    let state = old.encode_state_v1();
    let open = factory().open_with_u32(&db_name, 1).unwrap();
    let on_upgrade = wasm_bindgen::closure::Closure::<dyn FnMut()>::new({
        let open = open.clone();
        move || {
            let db: IdbDatabase = open.result().unwrap().unchecked_into();
            let params = IdbObjectStoreParameters::new();
            params.set_auto_increment(true);
            db.create_object_store_with_optional_parameters("updates", &params)
                .unwrap();
        }
    });
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db: IdbDatabase = request(&open).await.unchecked_into();
    let tx = db
        .transaction_with_str_and_mode("updates", IdbTransactionMode::Readwrite)
        .unwrap();
    request(
        &tx.object_store("updates")
            .unwrap()
            .add(&Uint8Array::from(state.as_slice()))
            .unwrap(),
    )
    .await;
    db.close();

    let h = hub::open(DocOptions::new(SERVER, &name)).unwrap();
    wait_for(
        "the old database loads",
        || h.persistence() == PersistenceStatus::Saved,
        || format!("{:?}", h.persistence()),
    )
    .await;
    let md = markdown::export(&h.document().blocks());
    assert!(md.contains("écrit en v1"), "{md:?}");
    // The record now names its document; the sibling does not see it.
    let stored = records(&db_name).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(field(&stored[0], "d").as_string(), Some(name.clone()));
    assert!(field(&stored[0], "u").is_instance_of::<Uint8Array>());
    let chat = hub::open(DocOptions::new(
        SERVER,
        atelier_web::chat_document_name(&name),
    ))
    .unwrap();
    wait_for(
        "the sibling loads",
        || chat.persistence() == PersistenceStatus::Saved,
        || format!("{:?}", chat.persistence()),
    )
    .await;
    assert!(chat.document().block_ids().is_empty());
    drop((h, chat));
    hub_settled().await;
}

#[wasm_bindgen_test]
async fn subscriptions_end_with_their_guard_and_fields_are_checked() {
    hub_settled().await;
    let h = hub::open(DocOptions::new(SERVER, unique("subs"))).unwrap();
    let seen_a: Rc<RefCell<Vec<ConnectionStatus>>> = Rc::default();
    let seen_b: Rc<RefCell<Vec<ConnectionStatus>>> = Rc::default();
    let a = {
        let seen = seen_a.clone();
        h.on_status(move |s| seen.borrow_mut().push(s))
    };
    let b = {
        let seen = seen_b.clone();
        h.on_status(move |s| seen.borrow_mut().push(s))
    };
    wait_for(
        "the document loads",
        || h.persistence() == PersistenceStatus::Saved,
        || format!("{:?}", h.persistence()),
    )
    .await;
    drop(a);
    let (len_a, len_b) = (seen_a.borrow().len(), seen_b.borrow().len());
    // The browser goes offline then online: only the live subscription hears.
    let window = web_sys::window().unwrap();
    for event in ["offline", "online", "offline"] {
        window
            .dispatch_event(&web_sys::Event::new(event).unwrap())
            .unwrap();
    }
    wait_for(
        "offline is reported",
        || seen_b.borrow().len() > len_b && h.status() == ConnectionStatus::Offline,
        || format!("{:?} {:?}", h.status(), seen_b.borrow()),
    )
    .await;
    assert_eq!(seen_a.borrow().len(), len_a, "a dropped guard still heard");
    window
        .dispatch_event(&web_sys::Event::new("online").unwrap())
        .unwrap();
    drop(b);

    assert!(h.set_awareness_field("user", None).is_err());
    assert!(h.set_awareness_field("typing", Some("yes".into())).is_err());
    h.set_awareness_field("typing", Some(true.into())).unwrap();
    h.set_awareness_field("typing", None).unwrap();
    assert!(h.peers().is_empty());
    drop(h);
    hub_settled().await;
}
