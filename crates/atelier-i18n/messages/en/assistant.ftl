### The assistant pane's strings (the actions' own labels are in atelier-ai's prompts).

# Accessible name and title of the pane.
assistant-panel = Assistant

# Heading of the actions on the selection.
assistant-on-selection = On the selection

# Heading of the actions on the document or at the caret.
assistant-on-document = On the document

# Label of the translation target list.
assistant-translate-to = Translate to

# Its entry for a language the user types.
assistant-other-language = Another language…

# Label of the field for that language.
assistant-language-name = Language

# Button that runs the translation.
assistant-translate = Translate

# Label of the free prompt.
assistant-prompt = Ask the assistant

# Its placeholder.
assistant-prompt-placeholder = What should the assistant do?

# Send the prompt.
assistant-send = Send

# Stop the answer being written.
assistant-stop = Stop

# Accessible name of the conversation.
assistant-conversation = Conversation with the assistant

# Shown when the conversation is empty.
assistant-empty = Select text in the editor, then choose an action, or ask a question.

# Forget this document's conversation.
assistant-clear = Clear the conversation

# While waiting for the first words.
assistant-waiting = Waiting for the model…

# While the answer streams.
assistant-writing = Writing…

# While a tool call streams, { $n } characters so far.
assistant-preparing-edits = { $n ->
    [one] Preparing changes… ({ $n } character)
   *[other] Preparing changes… ({ $n } characters)
}

# Heading of a preview.
assistant-preview = Proposed changes

# Says who sees a preview.
assistant-preview-private = Only you see this preview until you accept it.

# A block the proposal changes.
assistant-block-changed = Changed

# A block the proposal adds.
assistant-block-added = Added

# A block the proposal deletes.
assistant-block-deleted = Deleted

# A previewed block someone changed since the request.
assistant-block-stale = Someone changed this block since the request: it will not be changed.

# Accessible name of deleted text in a preview.
assistant-deleted-text = deleted

# Accessible name of inserted text in a preview.
assistant-inserted-text = inserted

# Apply the proposal.
assistant-accept = Accept

# Discard it.
assistant-reject = Reject

# Turn prose into new blocks below the caret.
assistant-insert-below = Insert below

# Turn prose into a replacement of the selection.
assistant-replace-selection = Replace the selection

# Undo the assistant's last change.
assistant-undo = Undo

# After Accept, { $n } blocks.
assistant-applied = { $n ->
    [one] Applied ({ $n } block).
   *[other] Applied ({ $n } blocks).
}

# After Reject.
assistant-rejected = Rejected: the document is unchanged.

# After Undo.
assistant-undone = Undone.

# After Stop.
assistant-stopped = Stopped.

# A part dropped at Accept, { $text } the block's first words.
assistant-dropped = Not applied: “{ $text }” was changed by someone since the request.

# Every part dropped: nothing applied.
assistant-nothing-applied = Nothing was applied.

# Operations the review refused, { $n } and { $reasons }.
assistant-refused-operations = { $n ->
    [one] { $n } proposed change was refused: { $reasons }
   *[other] { $n } proposed changes were refused: { $reasons }
}

# A tool call that is not the tool's shape, { $reason }.
assistant-refused-call = The model's edit could not be used: { $reason }

# The answer proposes no change.
assistant-no-change = The answer proposes no change.

# An empty answer.
assistant-empty-answer = The model gave an empty answer.

# A selection action with nothing selected and no caret.
assistant-no-selection = Select some text in the editor first.

# A document action on an empty document.
assistant-empty-document = The document is empty.

# A run asked while another streams.
assistant-busy-here = Wait for the current answer, or stop it.

# Read-only access.
assistant-read-only = Read only: the assistant cannot change this document.

# Applying failed, { $reason }.
assistant-apply-failed = The change could not be applied: { $reason }

# The user's turn, before its action label.
assistant-you = You

# The model's turn.
assistant-assistant = Assistant

# The model server did not answer in time.
assistant-errors-timeout = The model took too long to answer. Try again.

# The model server refused the configured key.
assistant-errors-key-refused = The model server refused the server's key. Ask your administrator to check the AI configuration.

# A rate limit, { $scope } and { $wait }.
assistant-errors-rate-limited = Too many requests { $scope }. { $wait }

# { $scope } for the user's own limit.
assistant-errors-scope-user = from you

# { $scope } for the document's limit.
assistant-errors-scope-document = on this document

# { $scope } for the model server's limit.
assistant-errors-scope-model = to the model server

# { $wait } with a known delay, { $secs }.
assistant-errors-wait-secs = Try again in { $secs } s.

# { $wait } without one.
assistant-errors-wait-later = Try again later.

# The embedded model file is absent.
assistant-errors-model-missing = No AI model is installed on this server (scripts/fetch-model.sh fetches the default one).

# The embedded model is still loading.
assistant-errors-model-loading = The AI model is still loading. Try again in a few seconds.

# The embedded model failed to load.
assistant-errors-model-failed = The AI model could not be loaded on the server.

# AI is off on this server.
assistant-errors-ai-off = AI is turned off on this server.

# The model has a full queue.
assistant-errors-busy = The AI model is busy. Try again in a moment.

# The answer is not the protocol.
assistant-errors-malformed = The answer could not be read (it is not the expected format).

# The model server cannot be reached or went away.
assistant-errors-unreachable = The model server cannot be reached.

# The model server reported an error, { $message }.
assistant-errors-upstream = The model server reported an error: { $message }

# The request never reached the server.
assistant-errors-network = The AI server cannot be reached. Check your connection.

# No valid credentials.
assistant-errors-unauthenticated = You are not signed in (or your session expired).

# No write access to the document.
assistant-errors-forbidden = You need edit access to this document to use the assistant.

# The request is too large.
assistant-errors-too-large = The request is too large: select less text.

# The server refused the request, { $message }.
assistant-errors-invalid-request = The server refused the request: { $message }

# Anything else, { $status } and { $message }.
assistant-errors-other = The AI request failed ({ $status }): { $message }

# Anything else when the answer gave no message, { $status }.
assistant-errors-other-status = The AI request failed (HTTP status { $status }).
