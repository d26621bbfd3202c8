editor-editor = Dokumenteditor
editor-toolbar = Formatierung
editor-bold = Fett
editor-italic = Kursiv
editor-underline = Unterstrichen
editor-strike = Durchgestrichen
editor-code = Inline-Code
editor-link = Link
editor-link-prompt = Linkadresse (https://…)
editor-link-refused = Nur http-, https- und mailto-Links sind erlaubt.
editor-link-hint = Eingabe übernimmt, Escape bricht ab; eine leere Adresse entfernt den Link.
editor-undo = Rückgängig
editor-redo = Wiederholen
editor-block-type = Blocktyp
editor-paragraph = Absatz
editor-heading1 = Überschrift 1
editor-heading2 = Überschrift 2
editor-heading3 = Überschrift 3
editor-bullet-list = Aufzählung
editor-numbered-list = Nummerierte Liste
editor-check-list = Checkliste
editor-quote = Zitat
editor-code-block = Codeblock
editor-divider = Trennlinie
editor-slash-menu = Block einfügen
editor-no-result = Kein Ergebnis
editor-placeholder = „/“ für Befehle eingeben…
editor-words = { $n ->
    [one] { $n } Wort
   *[other] { $n } Wörter
}
editor-done = Erledigt
editor-unsupported = Block hier nicht bearbeitbar
editor-read-only = Schreibgeschützt
editor-keyboard-hint = Tab rückt einen Block ein, Umschalt+Tab rückt ihn aus; Escape und dann Tab oder Umschalt+Tab verlässt den Editor.
