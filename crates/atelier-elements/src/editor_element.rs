//! `<atelier-editor>`'s side: [`mount_editor`] and the [`EditorMount`] the
//! element (`js/editor-element.js`) drives.
//!
//! Events, on the element and once on `document` (see the crate docs):
//! `atelier-change` `{doc, element, source, agent, blocks, structure}`
//! (who changed the document: `user`, `agent` with its name, or `remote`;
//! the ids of the blocks whose content changed; whether blocks were added,
//! removed or moved), `atelier-status` and `atelier-presence` `{doc,
//! peers}` with peers `[{clientId, name, color, cursor: {anchor, head} |
//! null}]`, positions as `{block, offset}`.
//!
//! The agents' door (issue 14): an in-page script or a browser automation
//! reads the document with its block ids, finds text, and applies
//! `atelier_doc::Op` batches as a named agent. The reading and the checks
//! run in the lazily loaded Markdown module (`atelier_markdown::
//! agent_batch`) on this document's state ([`EditorMount::encode_state`]),
//! so they cost the editor's first download nothing; the batch's update
//! comes back through [`EditorMount::apply_agent_update`] to
//! `atelier_editor`'s [`EditorCore::apply_agent_update`]: all or nothing,
//! undone apart from the user's changes, the agent's name and caret
//! published to every peer under an awareness client id of its own
//! (`DocHandle::set_agent_presence`).

use crate::{
    NetOptions, fire, fire_for_mount, fire_status, js_message, mount_host, next_mount_key,
    open_doc, register_mount, set_field, status_detail, unregister_mount,
};
use atelier_doc::{BlockId, Document};
use atelier_editor::{
    AgentInfo, AgentPresenceUpdate, ChangeReport, ChangeSource, Editor, EditorCore, Lang,
    MarkdownParser, Pos, RemoteCaret, Selection,
};
use atelier_web::announce::{Announcement, Announcer};
use atelier_web::status::ConnectionStatus;
use atelier_web::{AgentPresence, DocHandle, Peer, Subscription, WeakDocHandle};
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

thread_local! {
    /// Mounted editors by mount key, to redraw remote carets.
    static CORES: RefCell<HashMap<u64, std::rc::Weak<EditorCore>>> = RefCell::new(HashMap::new());
}

/// The editor mounted on the page for the document the hub knows as
/// `doc_id`, if any (the assistant edits through it).
#[cfg_attr(not(feature = "assistant"), allow(dead_code))]
pub(crate) fn editor_core_of_doc(doc_id: u64) -> Option<Rc<EditorCore>> {
    let keys = crate::mounts_of_doc(doc_id);
    CORES.with(|c| {
        let cores = c.borrow();
        keys.iter()
            .find_map(|k| cores.get(k).and_then(std::rc::Weak::upgrade))
    })
}

/// Subscribes mount `key` to its document's status, persistence and
/// presence; the events go to its element (and once to `document`), and
/// the changes that matter are said in its live region.
fn subscribe(key: u64, handle: &DocHandle, region: &Rc<LiveRegion>) -> Vec<Subscription> {
    let weak = handle.downgrade();
    let (on_status, on_persistence) = (weak.clone(), weak.clone());
    let name = handle.name().to_owned();
    let (status_region, presence_region) = (region.clone(), region.clone());
    vec![
        handle.on_status(move |status| {
            status_region.status(status);
            fire_status(key, &on_status);
        }),
        handle.on_persistence(move |_| fire_status(key, &on_persistence)),
        handle.on_presence(move |peers| {
            let core = CORES.with(|c| c.borrow().get(&key).and_then(std::rc::Weak::upgrade));
            if let Some(core) = core {
                core.refresh_carets();
            }
            presence_region.presence(peers);
            fire_for_mount(key, "atelier-presence", &presence_detail(&name, peers));
        }),
    ]
}

/// A polite live region in the element, after the editor: it says who
/// joined or left and when the connection dropped or came back
/// (`atelier_web::announce`), and shows why when the server refused the
/// document.
struct LiveRegion {
    el: web_sys::Element,
    strings: &'static atelier_editor::i18n::Strings,
    announcer: RefCell<Announcer>,
}

impl LiveRegion {
    /// Appends the region to `host`; `None` if the DOM refused.
    fn new(host: &HtmlElement, lang: Lang) -> Option<Rc<Self>> {
        let doc = host.owner_document()?;
        let el = doc.create_element("p").ok()?;
        el.set_class_name("atelier-visually-hidden atelier-announcer");
        let _ = el.set_attribute("role", "status");
        host.append_child(&el).ok()?;
        Some(Rc::new(Self {
            el,
            strings: lang.editor(),
            announcer: RefCell::new(Announcer::new()),
        }))
    }

    fn status(&self, status: ConnectionStatus) {
        let said = self.announcer.borrow_mut().status(status);
        if let Some(a) = said {
            self.say(&[a]);
        }
    }

    fn presence(&self, peers: &[Peer]) {
        let said = self.announcer.borrow_mut().presence(peers);
        self.say(&said);
    }

    fn say(&self, said: &[Announcement]) {
        if said.is_empty() {
            return;
        }
        let s = self.strings;
        let mut text = String::new();
        for a in said {
            if !text.is_empty() {
                text.push(' ');
            }
            let (template, name) = match a {
                Announcement::Joined(n) => (s.peer_joined, n.as_str()),
                Announcement::Left(n) => (s.peer_left, n.as_str()),
                Announcement::ConnectionLost => (s.connection_lost, ""),
                Announcement::ConnectionBack => (s.connection_back, ""),
                Announcement::Denied => {
                    // Sighted users need it too: the region shows as a notice.
                    self.el.set_class_name("atelier-notice atelier-announcer");
                    (s.denied, "")
                }
            };
            let name = if name.is_empty() { s.someone } else { name };
            text.push_str(&template.replace("{name}", name));
        }
        self.el.set_text_content(Some(&text));
    }

    fn remove(&self) {
        self.el.remove();
    }
}

/// The remote carets of the document, resolved in it now.
fn remote_carets(weak: &WeakDocHandle) -> Vec<RemoteCaret> {
    let peers = weak.upgrade().map(|h| h.peers()).unwrap_or_default();
    peers
        .into_iter()
        .filter_map(|p| {
            let c = p.cursor?;
            Some(RemoteCaret {
                name: p.name,
                color: p.color,
                anchor: Pos::new(c.anchor.block, c.anchor.offset),
                head: Pos::new(c.head.block, c.head.offset),
            })
        })
        .collect()
}

fn presence_detail(doc_name: &str, peers: &[Peer]) -> js_sys::Object {
    let detail = js_sys::Object::new();
    set_field(&detail, "doc", &doc_name.into());
    let peers = serde_json::to_string(peers)
        .ok()
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .unwrap_or_else(|| js_sys::Array::new().into());
    set_field(&detail, "peers", &peers);
    detail
}

/// One mounted editor, driven by the `<atelier-editor>` element.
#[wasm_bindgen]
pub struct EditorMount {
    doc: Rc<Document>,
    /// The hub's handle (`None` if the document could not be opened).
    handle: Option<DocHandle>,
    subscriptions: Vec<Subscription>,
    doc_name: String,
    host: HtmlElement,
    key: u64,
    networked: bool,
    markdown: Option<MarkdownParser>,
    /// The live region (networked editors only).
    region: Option<Rc<LiveRegion>>,
    unmount: Option<Box<dyn std::any::Any>>,
}

/// Mounts an editor into `host` (light DOM) on the shared document
/// `doc_name`. With a non-empty `server`, the document is kept in sync with
/// it (`protocol`: `hocuspocus`, the default, or `y-websocket`), and the
/// local user (`user_name`, `user_color`) and caret are published.
/// `parse_markdown` (`(md) => Promise<string>`, the blocks as JSON) reads
/// pasted and set Markdown; the JS module passes one backed by the lazily
/// loaded Markdown module (`atelier-markdown`).
#[wasm_bindgen(js_name = mountEditor)]
#[allow(clippy::too_many_arguments)]
pub fn mount_editor(
    host: HtmlElement,
    doc_name: String,
    readonly: bool,
    lang: String,
    server: Option<String>,
    token: Option<String>,
    protocol: Option<String>,
    user_name: Option<String>,
    user_color: Option<String>,
    parse_markdown: Option<js_sys::Function>,
) -> EditorMount {
    let markdown = parse_markdown.map(markdown_parser);
    let core_markdown = markdown.clone();
    let net = NetOptions::from_attributes(server, token, protocol, user_name, user_color);
    let networked = net.is_some();
    // An editor edits text whatever the document is called.
    let (handle, error) = match open_doc(&doc_name, net, true) {
        Ok(h) => (Some(h), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let doc = handle.as_ref().map_or_else(
        || {
            // Not shared and not synced; a local one is still editable.
            let doc = Rc::new(Document::new());
            if !networked {
                doc.ensure_initialized();
            }
            doc
        },
        DocHandle::document,
    );
    let lang = Lang::from_tag(&lang);
    let d = doc.clone();
    let key = next_mount_key();
    let change_name = doc_name.clone();
    let weak = handle
        .as_ref()
        .map(DocHandle::downgrade)
        .unwrap_or_default();
    let on_ready: Rc<dyn Fn(Rc<EditorCore>)> = Rc::new(move |core: Rc<EditorCore>| {
        CORES.with(|c| c.borrow_mut().insert(key, Rc::downgrade(&core)));
        core.set_markdown_parser(core_markdown.clone());
        if networked {
            let for_selection = weak.clone();
            core.set_selection_listener(Some(Rc::new(move |sel: &Selection| {
                if let Some(h) = for_selection.upgrade() {
                    h.set_selection(Some((
                        (&sel.anchor.block, sel.anchor.offset),
                        (&sel.focus.block, sel.focus.offset),
                    )));
                }
            })));
            let for_carets = weak.clone();
            core.set_caret_source(Some(Rc::new(move || remote_carets(&for_carets))));
        }
        let for_agents = weak.clone();
        core.set_agent_listener(Some(Rc::new(move |agent, update| {
            if let Some(h) = for_agents.upgrade() {
                publish_agent(&h, key, agent, update);
            }
        })));
        let change_doc = change_name.clone();
        core.set_change_listener(Some(Rc::new(move |reports: &[ChangeReport]| {
            if let Some(host) = mount_host(key) {
                for report in reports {
                    fire_for_mount(
                        key,
                        "atelier-change",
                        &change_detail(&host, &change_doc, report),
                    );
                }
            }
        })));
    });
    let view = leptos::mount::mount_to(host.clone(), move || {
        view! { <Editor doc=d.clone() readonly=readonly lang=lang on_ready=on_ready.clone() /> }
    });
    let doc_id = handle.as_ref().map(DocHandle::id);
    register_mount(key, &host, doc_id);
    let mut subscriptions = Vec::new();
    let mut region = None;
    match (&handle, error) {
        (_, Some(error)) => {
            let detail = status_detail(&doc_name, "denied", "unavailable", Some(&error));
            fire(&host, "atelier-status", &detail, true);
        }
        (Some(h), None) if networked => {
            region = LiveRegion::new(&host, lang);
            if let Some(r) = &region {
                r.status(h.status());
                subscriptions = subscribe(key, h, r);
            }
            fire_status(key, &h.downgrade());
        }
        _ => {}
    }
    EditorMount {
        doc,
        handle,
        subscriptions,
        doc_name,
        host,
        key,
        networked,
        markdown,
        region,
        unmount: Some(Box::new(view)),
    }
}

/// Wraps the JS Markdown function (`(md) => Promise<string>`, a JSON array
/// of blocks) as the editor's parser; a rejection or unreadable JSON
/// becomes the error message.
fn markdown_parser(f: js_sys::Function) -> MarkdownParser {
    Rc::new(move |text: String| {
        let called = f.call1(&JsValue::NULL, &JsValue::from_str(&text));
        Box::pin(async move {
            let promise: js_sys::Promise = called
                .map_err(|e| js_message(&e))?
                .dyn_into()
                .map_err(|_| "the Markdown parser did not return a promise".to_owned())?;
            let json = wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map_err(|e| js_message(&e))?
                .as_string()
                .ok_or_else(|| "the Markdown parser did not return a string".to_owned())?;
            atelier_doc::block_json::new_blocks_from_json(&json)
                .map_err(|e| format!("the Markdown parser returned unreadable blocks: {e}"))
        })
    })
}

/// The detail of `atelier-change` for one author's consecutive changes.
fn change_detail(host: &HtmlElement, doc_name: &str, report: &ChangeReport) -> js_sys::Object {
    let detail = js_sys::Object::new();
    set_field(&detail, "doc", &doc_name.into());
    set_field(&detail, "element", host);
    let (source, agent) = match &report.source {
        ChangeSource::Local => ("user", JsValue::NULL),
        ChangeSource::Agent(name) => ("agent", JsValue::from_str(name)),
        ChangeSource::Remote => ("remote", JsValue::NULL),
    };
    set_field(&detail, "source", &source.into());
    set_field(&detail, "agent", &agent);
    let blocks: js_sys::Array = report
        .changes
        .blocks
        .iter()
        .map(|b| JsValue::from_str(b.as_str()))
        .collect();
    set_field(&detail, "blocks", &blocks);
    set_field(&detail, "structure", &report.changes.structure.into());
    detail
}

/// Publishes (or withdraws) an agent of mount `key` in the document's
/// awareness, under a client id of its own, so every peer sees its name
/// and caret.
fn publish_agent(h: &DocHandle, key: u64, agent: &AgentInfo, update: &AgentPresenceUpdate) {
    let slot = format!("editor-{key}:{}", agent.name);
    match update {
        AgentPresenceUpdate::Present(sel) => {
            let presence = AgentPresence {
                name: agent.name.clone(),
                color: agent.color.clone(),
                cursor: sel.as_ref().map(|s| {
                    (
                        (s.anchor.block.clone(), s.anchor.offset),
                        (s.focus.block.clone(), s.focus.offset),
                    )
                }),
            };
            h.set_agent_presence(&slot, Some(&presence));
        }
        AgentPresenceUpdate::Gone => h.set_agent_presence(&slot, None),
    }
}

#[wasm_bindgen]
impl EditorMount {
    /// The document as Markdown.
    #[wasm_bindgen(js_name = getMarkdown)]
    pub fn get_markdown(&self) -> String {
        atelier_doc::markdown::export(&self.doc.blocks())
    }

    /// Replaces the document with Markdown (one undoable change); rejects
    /// with the reason if the Markdown module cannot read it.
    #[wasm_bindgen(js_name = setMarkdown)]
    pub fn set_markdown(&self, markdown: String) -> js_sys::Promise {
        let parser = self.markdown.clone();
        let doc = self.doc.clone();
        let key = self.key;
        wasm_bindgen_futures::future_to_promise(async move {
            let parser = parser
                .ok_or_else(|| JsError::new("no Markdown parser was given to mountEditor"))?;
            let blocks = parser(markdown)
                .await
                .map_err(|e| JsError::new(&format!("setMarkdown: {e}")))?;
            // Through this element's editor, so its undo can take it back.
            let core = CORES.with(|c| c.borrow().get(&key).and_then(std::rc::Weak::upgrade));
            let done = match core {
                Some(core) => core.session().replace_with_blocks(blocks),
                None => doc
                    .apply_ops(
                        &atelier_editor::session::replace_blocks_ops(&doc, blocks),
                        atelier_editor::LOCAL_ORIGIN,
                    )
                    .map(|_| ())
                    .map_err(Into::into),
            };
            done.map_err(|e| JsError::new(&e.to_string()))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The document as sanitized HTML.
    #[wasm_bindgen(js_name = getHTML)]
    pub fn get_html(&self) -> String {
        atelier_doc::html::export(&self.doc.blocks())
    }

    /// The name of the shared document.
    #[wasm_bindgen(getter, js_name = docName)]
    pub fn doc_name(&self) -> String {
        self.doc_name.clone()
    }

    /// Moves the keyboard focus into the editing surface.
    pub fn focus(&self) {
        if let Ok(Some(el)) = self.host.query_selector(".atelier-surface")
            && let Ok(el) = el.dyn_into::<HtmlElement>()
        {
            let _ = el.focus();
        }
    }

    /// Removes the editor from its element.
    pub fn unmount(&mut self) {
        unregister_mount(self.key);
        CORES.with(|c| c.borrow_mut().remove(&self.key));
        self.subscriptions.clear();
        if let Some(r) = self.region.take() {
            r.remove();
        }
        self.unmount.take();
        // The document lingers a moment for a re-mount, then closes.
        self.handle.take();
    }

    /// The connection status: `local` without a server, else `connecting`,
    /// `synced`, `offline`, `read-only` or `denied`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        match &self.handle {
            _ if !self.networked => "local",
            Some(h) => h.status().as_str(),
            None => "offline",
        }
        .to_owned()
    }

    /// The IndexedDB copy: `disabled` without a server, else `loading`,
    /// `saving`, `saved` or `unavailable` (kept in memory only).
    #[wasm_bindgen(getter)]
    pub fn persistence(&self) -> String {
        match &self.handle {
            _ if !self.networked => "disabled",
            Some(h) => h.persistence().as_str(),
            None => "unavailable",
        }
        .to_owned()
    }

    /// The remote peers (`[{clientId, name, color, cursor}]`), as in
    /// `atelier-presence` events.
    #[wasm_bindgen(getter)]
    pub fn peers(&self) -> JsValue {
        let peers: Vec<Peer> = self
            .handle
            .as_ref()
            .map(DocHandle::peers)
            .unwrap_or_default();
        serde_json::to_string(&peers)
            .ok()
            .and_then(|json| js_sys::JSON::parse(&json).ok())
            .unwrap_or_else(|| js_sys::Array::new().into())
    }

    /// Local changes the server has not confirmed yet (0 without a server).
    #[wasm_bindgen(js_name = unsyncedChanges)]
    pub fn unsynced_changes(&self) -> f64 {
        self.handle
            .as_ref()
            .map_or(0.0, |h| h.unsynced_changes() as f64)
    }

    /// The document's full state as a Yjs v1 update, for the Markdown
    /// module to read or to check an agent's batch against
    /// (`atelier_markdown::agent_batch`).
    #[wasm_bindgen(js_name = encodeState)]
    pub fn encode_state(&self) -> Vec<u8> {
        self.doc.encode_state_v1()
    }

    /// The client id this page writes the document with (an agent's
    /// batch is checked on a copy written by it).
    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> f64 {
        self.doc.ydoc().client_id().get() as f64
    }

    /// Applies an agent's checked batch (`update`, from the Markdown
    /// module's `tryOperations` on this document's state) as the agent
    /// `name` (`color`: its caret's, `#rrggbb`; the one it gave before when
    /// absent): one undo step of the agent's own, its caret at
    /// (`caret_block`, `caret_offset`) if given, shown to every peer.
    #[wasm_bindgen(js_name = applyAgentUpdate)]
    pub fn apply_agent_update(
        &self,
        update: &[u8],
        name: &str,
        color: Option<String>,
        caret_block: Option<String>,
        caret_offset: u32,
    ) -> Result<(), JsValue> {
        let core = self.core()?;
        let agent = agent_info(&core, name, color);
        let caret = caret_block.map(|b| Selection::caret(Pos::new(BlockId::from(b), caret_offset)));
        core.apply_agent_update(&agent, update, caret)
            .map_err(|e| JsError::new(&e).into())
    }

    /// Every block's id and plain text (a hard break is `\n`), in reading
    /// order, as `[[id, text], ...]`: what `find` searches, in JS, whose
    /// case folding costs the wasm nothing.
    #[wasm_bindgen(js_name = blockTexts)]
    pub fn block_texts(&self) -> js_sys::Array {
        self.doc
            .block_ids()
            .into_iter()
            .map(|id| {
                let text = self.doc.block_plain_text(&id).unwrap_or_default();
                JsValue::from(js_sys::Array::of2(
                    &id.as_str().into(),
                    &text.as_str().into(),
                ))
            })
            .collect()
    }

    /// The user's selection as `{anchor: {block, offset}, head: {block,
    /// offset}}` (UTF-16 offsets), or `null` when the editor has none.
    #[wasm_bindgen(getter)]
    pub fn selection(&self) -> JsValue {
        let Some(sel) = self.core().ok().and_then(|c| c.selection()) else {
            return JsValue::NULL;
        };
        let pos = |p: &Pos| {
            let o = js_sys::Object::new();
            set_field(&o, "block", &p.block.as_str().into());
            set_field(&o, "offset", &p.offset.into());
            o
        };
        let out = js_sys::Object::new();
        set_field(&out, "anchor", &pos(&sel.anchor));
        set_field(&out, "head", &pos(&sel.focus));
        out.into()
    }

    /// Selects from (`anchor_block`, `anchor_offset`) to (`head_block`,
    /// `head_offset`), UTF-16 offsets clamped to the blocks' text: the
    /// agent `agent`'s selection, shown to every peer, or with no agent the
    /// user's own. Throws if a block is unknown.
    #[wasm_bindgen(js_name = selectRange)]
    pub fn select_range(
        &self,
        anchor_block: &str,
        anchor_offset: u32,
        head_block: &str,
        head_offset: u32,
        agent: Option<String>,
        color: Option<String>,
    ) -> Result<(), JsValue> {
        let pos = |block: &str, offset: u32| {
            let id = BlockId::from(block);
            match self.doc.block_len(&id) {
                Ok(len) => Ok(Pos::new(id, offset.min(len))),
                Err(_) => Err(JsValue::from(JsError::new(&format!(
                    "select: no block \"{block}\" in the document"
                )))),
            }
        };
        let sel = Selection::range(
            pos(anchor_block, anchor_offset)?,
            pos(head_block, head_offset)?,
        );
        let core = self.core()?;
        match agent {
            Some(name) => core.set_agent_caret(&agent_info(&core, &name, color), Some(&sel)),
            None => core.select(&sel),
        }
        Ok(())
    }

    /// Shows the agent `name` (colour `color`) to every peer, with its
    /// caret where it last was.
    #[wasm_bindgen(js_name = showAgent)]
    pub fn show_agent(&self, name: &str, color: Option<String>) -> Result<(), JsValue> {
        let core = self.core()?;
        let agent = agent_info(&core, name, color);
        let caret = core.agent_caret(&agent);
        core.set_agent_caret(&agent, caret.as_ref());
        Ok(())
    }

    /// Withdraws the agent `name`'s presence (its caret and name leave
    /// every page); its undo history stays.
    #[wasm_bindgen(js_name = clearAgent)]
    pub fn clear_agent(&self, name: &str) -> Result<(), JsValue> {
        let core = self.core()?;
        core.clear_agent(&agent_info(&core, name, None));
        Ok(())
    }

    /// Takes back the agent `name`'s last batch, never the user's changes
    /// nor another agent's; false if it has none.
    #[wasm_bindgen(js_name = undoAgent)]
    pub fn undo_agent(&self, name: &str) -> Result<bool, JsValue> {
        let core = self.core()?;
        Ok(core.undo_agent(&agent_info(&core, name, None)))
    }

    /// Redoes the agent `name`'s last undone batch; false if it has none.
    #[wasm_bindgen(js_name = redoAgent)]
    pub fn redo_agent(&self, name: &str) -> Result<bool, JsValue> {
        let core = self.core()?;
        Ok(core.redo_agent(&agent_info(&core, name, None)))
    }
}

impl EditorMount {
    /// The mounted editor (it mounts synchronously; gone after `unmount`).
    fn core(&self) -> Result<Rc<EditorCore>, JsValue> {
        CORES
            .with(|c| c.borrow().get(&self.key).and_then(std::rc::Weak::upgrade))
            .ok_or_else(|| JsError::new("atelier-editor is not mounted").into())
    }
}

/// The agent `name`: with `color` as given, else the colour it gave before.
fn agent_info(core: &EditorCore, name: &str, color: Option<String>) -> AgentInfo {
    match (color, core.agent_named(name)) {
        (None, Some(known)) => known,
        (color, _) => AgentInfo::new(name, color.as_deref()),
    }
}
