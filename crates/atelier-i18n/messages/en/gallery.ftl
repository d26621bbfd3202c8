### The gallery page's strings (www/gallery/, www/index.html).

# The gallery's title.
gallery-title = Atelier component gallery

# The gallery's intro.
gallery-intro = Every widget in every state, live on this server. Pick a story, change its controls, copy its code.

# The gallery's skip.
gallery-skip = Skip to the preview

# The gallery's server.
gallery-server = Server

# The gallery's health checking.
gallery-health-checking = checking…

# The gallery's health ok.
gallery-health-ok = running

# The gallery's health down.
gallery-health-down = a dependency is down

# The gallery's health unreachable.
gallery-health-unreachable = unreachable

# The gallery's links.
gallery-links = Demo pages and endpoints

# The gallery's link editor.
gallery-link-editor = Editor demo

# The gallery's link chat.
gallery-link-chat = Editor and chat demo

# The gallery's link assistant.
gallery-link-assistant = Editor and assistant demo

# The gallery's link schema.
gallery-link-schema = Agents' operations schema

# The gallery's link metrics.
gallery-link-metrics = Metrics (Prometheus)

# The gallery's link healthz.
gallery-link-healthz = Health check

# The gallery's endpoints note.
gallery-endpoints-note = Sync: ws://HOST/sync (Hocuspocus), ws://HOST/sync/NAME (y-websocket). Documents: GET /api/docs/NAME, POST /api/docs/NAME/ops.

# The gallery's nav.
gallery-nav = Stories

# The gallery's settings.
gallery-settings = Gallery settings

# The gallery's theme.
gallery-theme = Theme

# The gallery's theme light.
gallery-theme-light = Light

# The gallery's theme dark.
gallery-theme-dark = Dark

# The gallery's theme high contrast.
gallery-theme-high-contrast = High contrast

# The gallery's theme dsfr.
gallery-theme-dsfr = DSFR

# The gallery's theme neutral.
gallery-theme-neutral = Neutral

# The gallery's language.
gallery-language = Language

# The gallery's viewport.
gallery-viewport = Preview width

# The gallery's viewport full.
gallery-viewport-full = Full

# The gallery's viewport px.
gallery-viewport-px = { $width } px

# The gallery's preview.
gallery-preview = Preview

# The gallery's controls.
gallery-controls = Controls

# The gallery's controls none.
gallery-controls-none = This state has no controls.

# The gallery's code.
gallery-code = Code

# The gallery's code hint.
gallery-code-hint = The HTML of the state shown, attributes as they are now.

# The gallery's copy.
gallery-copy = Copy

# The gallery's copied.
gallery-copied = Code copied to the clipboard.

# The gallery's copy failed.
gallery-copy-failed = Could not copy: the code is selected, press Ctrl+C.

# The gallery's api.
gallery-api = API

# The gallery's api missing.
gallery-api-missing = The components manifest (pkg/custom-elements.json) is missing: run cargo xtask dist to write it.

# The gallery's api unlisted.
gallery-api-unlisted = The manifest does not describe { $tag }.

# The gallery's api attributes.
gallery-api-attributes = Attributes

# The gallery's api properties.
gallery-api-properties = Properties

# The gallery's api methods.
gallery-api-methods = Methods

# The gallery's api events.
gallery-api-events = Events

# The gallery's api parts.
gallery-api-parts = CSS parts

# The gallery's api cssprops.
gallery-api-cssprops = CSS custom properties

# The gallery's api name.
gallery-api-name = Name

# The gallery's api type.
gallery-api-type = Type

# The gallery's api default.
gallery-api-default = Default

# The gallery's api description.
gallery-api-description = Description

# The gallery's api none.
gallery-api-none = None declared.

# The gallery's story suite.
gallery-story-suite = Editor, chat and assistant

# The gallery's story suite desc.
gallery-story-suite-desc = The three widgets side by side on one document, sharing one connection.

# The gallery's story editor.
gallery-story-editor = Editor

# The gallery's story editor desc.
gallery-story-editor-desc = <atelier-editor> alone.

# The gallery's story chat.
gallery-story-chat = Chat

# The gallery's story chat desc.
gallery-story-chat-desc = <atelier-chat>: the discussion of a document.

# The gallery's story assistant.
gallery-story-assistant = Assistant

# The gallery's story assistant desc.
gallery-story-assistant-desc = <atelier-assistant> alone: the AI pane of a document.

# The gallery's story two clients.
gallery-story-two-clients = Two clients

# The gallery's story two clients desc.
gallery-story-two-clients-desc = Two editors on one document, each with its own connection to the server: a collaborator types in client A and both converge.

# The gallery's story restyle.
gallery-story-restyle = Restyling

# The gallery's story restyle desc.
gallery-story-restyle-desc = A host restyles the widgets by overriding design tokens on an ancestor (and ::part()s where the manifest declares them), never their internals.

# The gallery's state default.
gallery-state-default = Default

# The gallery's state default desc.
gallery-state-default-desc = Connected to this server, with some content.

# The gallery's state empty.
gallery-state-empty = Empty

# The gallery's state empty desc.
gallery-state-empty-desc = A new, empty document.

# The gallery's state long.
gallery-state-long = Long document

# The gallery's state long desc.
gallery-state-long-desc = Several hundred blocks: headings, lists, quotes and code.

# The gallery's state collaborators.
gallery-state-collaborators = Three live collaborators

# The gallery's state collaborators desc.
gallery-state-collaborators-desc = Three simulated collaborators edit through the server's agents' door (POST /api/docs/NAME/ops); their named carets move as they write.

# The gallery's state offline.
gallery-state-offline = Offline

# The gallery's state offline desc.
gallery-state-offline-desc = The widget's server address answers no WebSocket (an address on this server, since the server's Content-Security-Policy refuses connections elsewhere): the widget keeps working on its local copy and says it is offline.

# The gallery's state readonly.
gallery-state-readonly = Read-only

# The gallery's state readonly desc.
gallery-state-readonly-desc = The readonly attribute: the content shows, nothing can be changed.

# The gallery's state bad token.
gallery-state-bad-token = Bad token

# The gallery's state bad token desc.
gallery-state-bad-token-desc = The server refuses the token: the widget says access is denied.

# The gallery's state chat only.
gallery-state-chat-only = Chat only

# The gallery's state chat only desc.
gallery-state-chat-only-desc = The user may chat but not write the text (a chat grant): the editor is read-only, the chat stays open. Shown here with the readonly attribute, which is what the server's chat grant turns the editor into.

# The gallery's state ai down.
gallery-state-ai-down = AI endpoint down

# The gallery's state ai down desc.
gallery-state-ai-down-desc = ai-url points to an address where no AI endpoint answers: the summary asked on opening fails with a sentence.

# The gallery's peers.
gallery-peers =
    { $n ->
        [one] One simulated collaborator is editing.
       *[other] { $n } simulated collaborators are editing.
    }

# The gallery's peers paused.
gallery-peers-paused = Collaborators paused.

# The gallery's peers error.
gallery-peers-error = A collaborator's edit was refused: { $reason }

# The gallery's pause.
gallery-pause = Pause the collaborators

# The gallery's resume.
gallery-resume = Resume the collaborators

# The gallery's client a.
gallery-client-a = Client A

# The gallery's client b.
gallery-client-b = Client B

# The gallery's converged.
gallery-converged = Converged ✓

# The gallery's converging.
gallery-converging = Converging…

# The gallery's convergence.
gallery-convergence = Convergence

# The gallery's status.
gallery-status = Connection: { $status }

# The gallery's status local.
gallery-status-local = local

# The gallery's status connecting.
gallery-status-connecting = connecting

# The gallery's status synced.
gallery-status-synced = synced

# The gallery's status offline.
gallery-status-offline = offline

# The gallery's status read only.
gallery-status-read-only = read-only (granted by the server)

# The gallery's status denied.
gallery-status-denied = access denied

# The gallery's typing.
gallery-typing = A collaborator types in client A

# The gallery's control readonly.
gallery-control-readonly = Read-only

# The gallery's control user name.
gallery-control-user-name = User name

# The gallery's control user color.
gallery-control-user-color = User colour

# The gallery's control agent tools.
gallery-control-agent-tools = WebMCP tools

# The gallery's control on.
gallery-control-on = on

# The gallery's control off.
gallery-control-off = off

# The gallery's control ai url.
gallery-control-ai-url = AI endpoint (ai-url)

# The gallery's control accent.
gallery-control-accent = Accent (--atelier-accent)

# The gallery's control radius.
gallery-control-radius = Corner radius (--atelier-radius)

# The gallery's control font.
gallery-control-font = Font (--atelier-font)

# The gallery's font system.
gallery-font-system = System

# The gallery's font serif.
gallery-font-serif = Serif

# The gallery's font mono.
gallery-font-mono = Monospace

# The gallery's restyle parts none.
gallery-restyle-parts-none = The manifest declares no CSS part yet: this example overrides tokens only.

# The gallery's restyle parts missing.
gallery-restyle-parts-missing = Without the manifest, the parts cannot be listed: this example overrides tokens only.

# The gallery's shown.
gallery-shown = Showing { $story }: { $state }.

# The gallery's theme set.
gallery-theme-set = Theme: { $theme }.

# The gallery's language set.
gallery-language-set = Language: English.

# The gallery's viewport set.
gallery-viewport-set = Preview width: { $width }.

# The gallery's sample title.
gallery-sample-title = Meeting notes

# The gallery's sample body.
gallery-sample-body = Welcome to the **gallery**. This paragraph has *italics*, `code` and a [link](https://lasuite.numerique.gouv.fr).

# The gallery's sample item.
gallery-sample-item = Agree on the agenda

# The gallery's sample done.
gallery-sample-done = Send the invitations

# The gallery's sample chat.
gallery-sample-chat = Hello! Could you check the second paragraph?

# The gallery's long section.
gallery-long-section = Section { $n }

# The gallery's long paragraph.
gallery-long-paragraph = Paragraph { $n } of a long document, long enough to wrap over several lines at narrow widths and to show how the editor lays out what is off screen.

# The gallery's peer text.
gallery-peer-text = collaborators write here while you watch their carets move

