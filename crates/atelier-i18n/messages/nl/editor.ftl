editor-editor = Documenteditor
editor-toolbar = Opmaak
editor-bold = Vet
editor-italic = Cursief
editor-underline = Onderstrepen
editor-strike = Doorhalen
editor-code = Inline code
editor-link = Link
editor-link-prompt = Linkadres (https://…)
editor-link-refused = Alleen http-, https- en mailto-links zijn toegestaan.
editor-link-hint = Enter past toe, Escape annuleert; een leeg adres verwijdert de link.
editor-undo = Ongedaan maken
editor-redo = Opnieuw
editor-block-type = Bloktype
editor-paragraph = Alinea
editor-heading1 = Kop 1
editor-heading2 = Kop 2
editor-heading3 = Kop 3
editor-bullet-list = Opsomming
editor-numbered-list = Genummerde lijst
editor-check-list = Takenlijst
editor-quote = Citaat
editor-code-block = Codeblok
editor-divider = Scheidingslijn
editor-slash-menu = Blok invoegen
editor-no-result = Geen resultaat
editor-placeholder = Typ „/” voor opdrachten…
editor-words = { $n ->
    [one] { $n } woord
   *[other] { $n } woorden
}
editor-done = Klaar
editor-unsupported = Blok hier niet bewerkbaar
editor-read-only = Alleen-lezen
editor-keyboard-hint = Tab laat een blok inspringen, Shift+Tab maakt dat ongedaan; druk op Escape en dan Tab of Shift+Tab om de editor te verlaten.
