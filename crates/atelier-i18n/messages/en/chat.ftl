### The chat panel's strings. Variables: { $name } and { $a }/{ $b } are people's names, { $n } a count.

# Accessible name of the whole panel.
chat-panel = Chat

# Accessible name of the message log.
chat-log = Messages

# Shown in an empty chat.
chat-empty = No messages yet.

# Accessible name of the composer.
chat-composer = Message

# Placeholder of the composer.
chat-placeholder = Write a message…

# How the composer's keys work (its description).
chat-composer-hint = Enter sends, Shift+Enter starts a new line, Escape cancels a reply or an edit. Type @ to mention someone.

# Send button.
chat-send = Send

# Save button while editing.
chat-save = Save

# Cancel a reply or an edit.
chat-cancel = Cancel

# Banner while replying, { $name }.
chat-replying-to = Replying to { $name }

# Banner while editing.
chat-editing = Editing your message

# Reply action.
chat-reply = Reply

# Open the reaction picker.
chat-react = Add a reaction

# Edit action.
chat-edit = Edit

# Delete action.
chat-delete = Delete

# Question before deleting.
chat-delete-confirm = Delete this message?

# Keep the message (declines the deletion).
chat-keep = Keep

# Accessible name of a message's actions.
chat-actions = Message actions

# A tombstone.
chat-deleted = Message deleted

# After an edited message's time.
chat-edited = (edited)

# A message the server does not have yet.
chat-pending = Not sent yet

# A message a bridged chat room (Matrix) refused: the mark beside its time.
chat-refused = Not delivered to Matrix

# Below a refused message: Matrix's reason, { $reason }, as Matrix wrote it.
chat-refused-reason = The Matrix room refused this message: { $reason }

# Thread summary: how many replies a message has.
chat-replies = { $n ->
    [one] { $n } reply
   *[other] { $n } replies
}

# Heading of a thread view.
chat-thread = Thread

# Leaves the thread view.
chat-back = Back to all messages

# Before a reply's quote of its parent, { $name }.
chat-in-reply-to = In reply to { $name }

# A reply whose parent is not (yet) here.
chat-parent-missing = Original message unavailable

# Accessible name of a message's reactions.
chat-reactions = Reactions

# Who reacted, { $names } with { $emoji }.
chat-reacted-by = { $names } reacted with { $emoji }

# Accessible name of the reaction picker.
chat-picker = Choose a reaction

# The unread marker line.
chat-unread-marker = New messages

# Unread count, { $n }.
chat-unread-count = { $n ->
    [one] { $n } unread
   *[other] { $n } unread
}

# Jump to the latest message.
chat-jump-latest = Jump to latest

# Day separator for today.
chat-today = Today

# Day separator for yesterday.
chat-yesterday = Yesterday

# One person typing, { $a }.
chat-typing-one = { $a } is typing…

# Two people typing, { $a } and { $b }.
chat-typing-two = { $a } and { $b } are typing…

# More people typing.
chat-typing-many = Several people are typing…

# Accessible name of the presence list.
chat-here = Here now

# After the local user's own name.
chat-you = (you)

# Shown while offline.
chat-offline = Offline: your messages will be sent when the connection is back.

# Shown to readers who may not write.
chat-read-only = You can read this chat but not write in it.

# A too long message: { $n } bytes of { $max }.
chat-too-long = { $n ->
    [one] This message is too long: { $n } byte, the limit is { $max }.
   *[other] This message is too long: { $n } bytes, the limit is { $max }.
}

# A refused operation, { $reason }.
chat-failed = Not done: { $reason }

# Accessible name of the mention suggestions.
chat-mentions = People to mention

# Someone unnamed.
chat-someone = Someone

# Shown when the server refused this chat (a wrong or expired token, no grant).
chat-denied = You do not have access to this chat.
