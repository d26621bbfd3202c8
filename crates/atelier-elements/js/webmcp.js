// WebMCP: agents in the browser find the editors' tools by themselves.
//
// WebMCP (W3C Web Machine Learning CG draft) lets a page register named
// tools with a JSON Schema on `document.modelContext`; an agent in the
// browser lists them (`getTools`) and calls them (`executeTool`) instead of
// clicking through the DOM. Where `document.modelContext` is absent (every
// browser without the feature) this module does nothing.
//
// One set of tools per page, not per element: every tool takes an optional
// `editor` argument naming the element (its `id`, else its `doc`), needed
// only when the page has several editors. The tool list an agent learns
// stays the same whatever the page holds, and the schemas say which
// editors exist (an enum, updated as elements come and go). Read tools are
// marked read-only; the write tools are registered only while a writable
// editor is on the page, and refuse a read-only one. Tools that change the
// document act as a named agent (`agent`), whose caret and name every
// collaborator sees and whose changes undo on their own.
// A host turns them off per element with `agent-tools="off"`.

/** @typedef {import("./editor-element.js").AtelierEditor} AtelierEditor */

/** Editors offering tools, in connection order. @type {Set<HTMLElement>} */
const editors = new Set();
/** Aborts the registration of the current tool set. @type {AbortController | null} */
let registration = null;
/** A refresh is queued for the next microtask. */
let queued = false;
/** The registration under way: refreshes run one after another. @type {Promise<void>} */
let registering = Promise.resolve();
/** The operations' JSON Schema, fetched once. @type {Promise<object> | null} */
let opsSchema = null;

/** The page's WebMCP entry point, if the browser has one. */
function modelContext() {
  const mc = /** @type {any} */ (document).modelContext;
  return mc && typeof mc.registerTool === "function" ? mc : null;
}

/**
 * Whether `el` offers tools: connected, and not turned off by its host.
 * @param {HTMLElement} el
 */
function offers(el) {
  return el.isConnected && el.getAttribute("agent-tools") !== "off";
}

/**
 * The name agents use for `el`: its id, else its document's name.
 * @param {HTMLElement} el
 */
export function editorName(el) {
  return el.id || el.getAttribute("doc") || "editor";
}

/** The schema of the operations (`www/pkg/operations.schema.json`, from `atelier_doc::Op`). */
function operationsSchema() {
  if (!opsSchema) {
    opsSchema = fetch(new URL("./operations.schema.json", import.meta.url))
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .catch(() => {
        opsSchema = null;
        // Without the file the tool still works; its schema says less.
        return { type: "array", items: { type: "object", required: ["op"] } };
      });
  }
  return opsSchema;
}

/** Starts (or queues) tool registration for `el`. @param {HTMLElement} el */
export function offerAgentTools(el) {
  editors.add(el);
  refreshAgentTools();
}

/** Withdraws `el`'s share of the tools. @param {HTMLElement} el */
export function withdrawAgentTools(el) {
  editors.delete(el);
  refreshAgentTools();
}

/** Registers the tool set again, once per microtask, from what the page holds now. */
export function refreshAgentTools() {
  if (!modelContext() || queued) return;
  queued = true;
  queueMicrotask(() => {
    queued = false;
    registering = registering
      .then(register)
      .catch((e) => console.warn("atelier: WebMCP tools not registered:", e));
  });
}

/**
 * The editor a call names (or the only one).
 * @param {Record<string, any>} args
 * @param {boolean} write whether the call changes the document
 * @returns {any}
 */
function target(args, write) {
  const live = [...editors].filter(offers);
  const name = typeof args.editor === "string" ? args.editor : null;
  // Unnamed, a write goes to the one writable editor if there is one.
  const writable = live.filter((el) => !(/** @type {any} */ (el)._readOnlyNow));
  const matches = name ? live.filter((el) => editorName(el) === name) : write && writable.length === 1 ? writable : live;
  if (matches.length === 0) {
    throw new Error(name ? `no editor named ${JSON.stringify(name)} on this page` : "no editor on this page");
  }
  if (matches.length > 1) {
    throw new Error(`several editors: name one with "editor" (${live.map(editorName).join(", ")})`);
  }
  const el = /** @type {any} */ (matches[0]);
  if (write && el._readOnlyNow) throw new Error(`the editor ${JSON.stringify(editorName(el))} is read-only`);
  return el;
}

/**
 * A tool's answer: text, or JSON for anything else.
 * @param {unknown} value
 */
function answer(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The agent an argument names (a name or {name, color}), or "Agent". @param {unknown} a */
function agentOf(a) {
  if (typeof a === "string" && a.trim()) return { name: a.trim() };
  if (a && typeof a === "object" && typeof (/** @type {any} */ (a).name) === "string") {
    const { name, color } = /** @type {any} */ (a);
    return typeof color === "string" ? { name, color } : { name };
  }
  return { name: "Agent" };
}

const AGENT = {
  description: "Who acts: a name, or {name, color: '#rrggbb'}; collaborators see it by the caret. Default 'Agent'.",
  anyOf: [
    { type: "string" },
    { type: "object", properties: { name: { type: "string" }, color: { type: "string" } }, required: ["name"] },
  ],
};

/** The actions of `<atelier-assistant>`'s `run`. */
const ASSISTANT_ACTIONS = [
  "improve", "fix-spelling", "simplify", "shorten", "rephrase", "translate", "continue", "summarize",
  "action-items", "prompt",
];
/** Longest wait for the assistant's model (a small CPU model on a busy machine is slow). */
const ASSISTANT_DEADLINE_MS = 180_000;

/**
 * Runs `action` on `pane` and waits for its outcome: the proposal under
 * review (or applied, with `accept`), or the endpoint's error.
 * @param {any} pane an `<atelier-assistant>`
 * @param {string} action
 * @param {string | undefined} arg
 * @param {boolean} accept
 */
function runAssistant(pane, action, arg, accept) {
  return new Promise((resolve, reject) => {
    /** @type {ReturnType<typeof setInterval> | undefined} */
    let poll;
    const done = (/** @type {() => void} */ settle) => {
      clearInterval(poll);
      clearTimeout(timer);
      pane.removeEventListener("atelier-assistant", onEvent);
      settle();
    };
    const onEvent = (/** @type {Event} */ e) => {
      const d = /** @type {CustomEvent} */ (e).detail;
      if (d.type === "failed") done(() => reject(new Error(`${d.code}: ${d.message}`)));
      else if (d.type === "applied") done(() => resolve({ applied: true, kept: d.kept, dropped: d.dropped }));
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`no answer from the assistant within ${ASSISTANT_DEADLINE_MS / 1000} s`))),
      ASSISTANT_DEADLINE_MS,
    );
    pane.addEventListener("atelier-assistant", onEvent);
    // A notice left from an earlier run does not count: wait for a change.
    const before = pane.phase;
    let moved = false;
    pane.run(action, arg);
    poll = setInterval(() => {
      const phase = pane.phase;
      moved ||= phase !== before;
      if (phase === "notice" && moved) {
        // Normally a `failed` event came first; this catches any other notice.
        const text = (pane.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 300);
        done(() => reject(new Error(`the assistant says: ${text}`)));
        return;
      }
      if (phase !== "review" && phase !== "prose") return;
      if (accept) {
        clearInterval(poll);
        pane.accept();
      } else {
        done(() => resolve({ applied: false, proposal: "in the pane, for the user to accept or reject" }));
      }
    }, 100);
  });
}

/** The tool set for the page as it is now. */
async function tools() {
  const live = [...editors].filter(offers);
  if (live.length === 0) return [];
  const names = [...new Set(live.map(editorName))];
  const editor = {
    type: "string",
    enum: names,
    description: names.length > 1
      ? "Which editor (this page has several; a write may leave it out when only one is writable)."
      : "Which editor (optional: the page has one).",
  };
  const writable = live.some((el) => !(/** @type {any} */ (el)._readOnlyNow));
  // Documents by the elements' `doc` properties (an assistant may take its
  // document from the editor it is `for`).
  const docOf = (/** @type {any} */ el) => el.doc;
  const docs = new Set(live.map(docOf));
  const chats = [...document.querySelectorAll("atelier-chat")].filter(
    (c) => c.getAttribute("agent-tools") !== "off" && docs.has(docOf(c)) && !(/** @type {any} */ (c).readOnly),
  );
  const readOnly = { readOnlyHint: true };
  // What collaborators wrote reaches the agent: text to read, not orders.
  const readsContent = { readOnlyHint: true, untrustedContentHint: true };
  const writes = { readOnlyHint: false };
  /** @type {any[]} */
  const list = [
    {
      name: "atelier_read_document",
      title: "Read the document",
      description:
        "The document with its block ids: Markdown (default) with each block's id in an HTML comment `<!-- id:ID -->`, or `blocks` (BlockNote's block JSON with ids). Operations name blocks by these ids.",
      inputSchema: {
        type: "object",
        properties: { editor, format: { type: "string", enum: ["markdown", "blocks"] } },
      },
      annotations: readsContent,
      execute: async (/** @type {any} */ args) =>
        answer(await target(args, false).getDocument({ format: args.format === "blocks" ? "blocks" : "markdown" })),
    },
    {
      name: "atelier_find_text",
      title: "Find text",
      description: "Where `text` occurs: [{block, offset, length}] in UTF-16 units, never across two blocks.",
      inputSchema: {
        type: "object",
        properties: { editor, text: { type: "string" }, ignoreCase: { type: "boolean" }, limit: { type: "integer", minimum: 1 } },
        required: ["text"],
      },
      annotations: readOnly,
      execute: async (/** @type {any} */ args) =>
        answer(await target(args, false).find(String(args.text), { ignoreCase: !!args.ignoreCase, limit: args.limit })),
    },
    {
      name: "atelier_get_selection",
      title: "Read the user's selection",
      description: "The user's selection: {anchor: {block, offset}, head: {block, offset}}, or null when the editor has none.",
      inputSchema: { type: "object", properties: { editor } },
      annotations: readOnly,
      execute: async (/** @type {any} */ args) => answer(target(args, false).selection ?? null),
    },
  ];
  if (writable) {
    const ops = await operationsSchema();
    list.push(
      {
        name: "atelier_apply_operations",
        title: "Edit the document",
        description:
          "Applies a batch of operations all or nothing, as a named agent whose caret every collaborator sees; one undo step of the agent's own. Read the document first for block ids. Offsets count UTF-16 units of a block's text.",
        inputSchema: {
          type: "object",
          properties: { editor, agent: AGENT, operations: ops },
          required: ["operations"],
        },
        annotations: writes,
        execute: async (/** @type {any} */ args) =>
          answer(await target(args, true).applyOperations(args.operations, { agent: agentOf(args.agent) })),
      },
      {
        name: "atelier_select",
        title: "Select text",
        description:
          "Selects `length` UTF-16 units from `offset` in a block (a caret when 0): as the agent, shown to collaborators.",
        inputSchema: {
          type: "object",
          properties: {
            editor,
            agent: AGENT,
            block: { type: "string" },
            offset: { type: "integer", minimum: 0 },
            length: { type: "integer", minimum: 0 },
          },
          required: ["block", "offset"],
        },
        annotations: writes,
        execute: async (/** @type {any} */ args) => {
          await target(args, true).select(
            { block: String(args.block), offset: args.offset, length: args.length ?? 0 },
            { agent: agentOf(args.agent) },
          );
          return "selected";
        },
      },
      {
        name: "atelier_undo_agent",
        title: "Undo the agent's last edit",
        description: "Takes back the agent's last batch (never the user's or another agent's changes).",
        inputSchema: { type: "object", properties: { editor, agent: AGENT } },
        annotations: writes,
        execute: async (/** @type {any} */ args) =>
          (await target(args, true).undoAgent({ agent: agentOf(args.agent) })) ? "undone" : "nothing to undo",
      },
    );
  }
  const panes = [...document.querySelectorAll("atelier-assistant")].filter(
    (c) => c.getAttribute("agent-tools") !== "off" && docs.has(docOf(c)) && !(/** @type {any} */ (c).readOnly),
  );
  if (panes.length > 0) {
    list.push({
      name: "atelier_run_assistant_action",
      title: "Ask the assistant",
      description:
        "Runs an action of the assistant pane beside the editor on a range of a block (block, offset, length in UTF-16 units), or on the user's selection when no block is given. The model's proposal shows in the pane for the user to accept or reject; with accept: true it is applied at once, as the collaborator 'Assistant', whose change undoes on its own. Answers once the proposal is ready or applied, or with the AI endpoint's error code.",
      inputSchema: {
        type: "object",
        properties: {
          editor,
          action: { type: "string", enum: ASSISTANT_ACTIONS },
          arg: { type: "string", description: "The language of 'translate', or the request of 'prompt'." },
          block: { type: "string" },
          offset: { type: "integer", minimum: 0 },
          length: { type: "integer", minimum: 0 },
          accept: { type: "boolean" },
        },
        required: ["action"],
      },
      annotations: writes,
      execute: async (/** @type {any} */ args) => {
        const ed = target(args, false);
        const pane = panes.find((c) => docOf(c) === docOf(ed));
        if (!pane) throw new Error("this editor's document has no assistant on the page");
        if (!ASSISTANT_ACTIONS.includes(args.action)) throw new Error(`unknown action ${JSON.stringify(args.action)}`);
        if (typeof args.block === "string") {
          await ed.select({ block: args.block, offset: args.offset ?? 0, length: args.length ?? 0 });
        }
        return answer(await runAssistant(pane, args.action, args.arg, !!args.accept));
      },
    });
  }
  if (chats.length > 0) {
    list.push({
      name: "atelier_post_chat_message",
      title: "Post in the document's chat",
      description: "Posts a message in the chat beside the document, as the page's user.",
      inputSchema: { type: "object", properties: { editor, text: { type: "string" } }, required: ["text"] },
      annotations: writes,
      execute: async (/** @type {any} */ args) => {
        const doc = docOf(target(args, false));
        const chat = /** @type {any} */ (chats.find((c) => docOf(c) === doc));
        if (!chat) throw new Error("this editor's document has no chat on the page");
        return answer({ id: await chat.send(String(args.text)) });
      },
    });
  }
  return list;
}

/** Replaces the registered tool set with the current one. */
async function register() {
  const mc = modelContext();
  if (!mc) return;
  const list = await tools();
  registration?.abort();
  registration = list.length ? new AbortController() : null;
  for (const tool of list) {
    const execute = tool.execute;
    mc.registerTool(
      {
        ...tool,
        // An error becomes the tool's answer, for the agent to act on.
        execute: async (/** @type {any} */ args) => {
          try {
            return await execute(args ?? {});
          } catch (e) {
            return `error: ${e instanceof Error ? e.message : String(e)}`;
          }
        },
      },
      { signal: /** @type {AbortController} */ (registration).signal },
    );
  }
}
