### The editor's strings: its toolbar, menus and announcements.

# Accessible name of the editing surface.
editor-editor = Document editor

# Accessible name of the toolbar.
editor-toolbar = Formatting

# Bold button.
editor-bold = Bold

# Italic button.
editor-italic = Italic

# Underline button.
editor-underline = Underline

# Strike-through button.
editor-strike = Strikethrough

# Inline code button.
editor-code = Inline code

# Link button.
editor-link = Link

# Prompt for a link target.
editor-link-prompt = Link address (https://…)

# Message when a link target is refused.
editor-link-refused = Only http, https and mailto links are allowed.

# How the link field works (its description).
editor-link-hint = Enter applies, Escape cancels; an empty address removes the link.

# Undo button.
editor-undo = Undo

# Redo button.
editor-redo = Redo

# Block type selector.
editor-block-type = Block type

# Paragraph.
editor-paragraph = Paragraph

# Heading 1.
editor-heading1 = Heading 1

# Heading 2.
editor-heading2 = Heading 2

# Heading 3.
editor-heading3 = Heading 3

# Bulleted list.
editor-bullet-list = Bulleted list

# Numbered list.
editor-numbered-list = Numbered list

# Check list.
editor-check-list = Check list

# Quote.
editor-quote = Quote

# Code block.
editor-code-block = Code block

# Divider.
editor-divider = Divider

# Slash menu name.
editor-slash-menu = Insert block

# Shown by the slash menu when no block type matches what was typed.
editor-no-result = No result

# Placeholder in an empty document.
editor-placeholder = Type “/” for commands…

# Word count of the document, { $n } the number of words.
editor-words = { $n ->
    [one] { $n } word
   *[other] { $n } words
}

# Check-list checkbox name.
editor-done = Done

# Label of a block the editor cannot edit yet.
editor-unsupported = Block not editable here

# Announced when the editor is read-only.
editor-read-only = Read only

# Description of the editing surface: how Tab behaves and how to leave.
editor-keyboard-hint = Tab indents a block and Shift+Tab outdents it; press Escape, then Tab or Shift+Tab, to leave the editor.

# Announced when a collaborator opens the document; { $name } is their name.
editor-peer-joined = { $name } joined the document.

# Announced when a collaborator leaves the document; { $name } is their name.
editor-peer-left = { $name } left the document.

# Stands for a collaborator who published no name.
editor-someone = A collaborator

# Announced when the connection to the server drops.
editor-connection-lost = Connection lost. Your changes are kept and will be sent when it is back.

# Announced when the connection to the server is back.
editor-connection-back = Connection restored.

# Shown and announced when the server refuses access to the document.
editor-denied = You do not have access to this document.
