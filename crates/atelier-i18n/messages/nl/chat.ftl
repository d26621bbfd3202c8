chat-panel = Chat
chat-log = Berichten
chat-empty = Nog geen berichten.
chat-composer = Bericht
chat-placeholder = Schrijf een bericht…
chat-composer-hint = Enter verstuurt, Shift+Enter begint een nieuwe regel, Escape annuleert een antwoord of een bewerking. Typ @ om iemand te vermelden.
chat-send = Versturen
chat-save = Opslaan
chat-cancel = Annuleren
chat-replying-to = Antwoord aan { $name }
chat-editing = U bewerkt uw bericht
chat-reply = Beantwoorden
chat-react = Reactie toevoegen
chat-edit = Bewerken
chat-delete = Verwijderen
chat-delete-confirm = Dit bericht verwijderen?
chat-keep = Behouden
chat-actions = Acties voor het bericht
chat-deleted = Bericht verwijderd
chat-edited = (bewerkt)
chat-pending = Nog niet verstuurd
chat-refused = Niet afgeleverd bij Matrix
chat-refused-reason = De Matrix-ruimte heeft dit bericht geweigerd: { $reason }
chat-replies = { $n ->
    [one] { $n } antwoord
   *[other] { $n } antwoorden
}
chat-thread = Draad
chat-back = Terug naar alle berichten
chat-in-reply-to = Antwoord op { $name }
chat-parent-missing = Oorspronkelijk bericht niet beschikbaar
chat-reactions = Reacties
chat-reacted-by = { $names } reageerde met { $emoji }
chat-picker = Kies een reactie
chat-unread-marker = Nieuwe berichten
chat-unread-count = { $n ->
    [one] { $n } ongelezen
   *[other] { $n } ongelezen
}
chat-jump-latest = Naar de nieuwste berichten
chat-today = Vandaag
chat-yesterday = Gisteren
chat-typing-one = { $a } is aan het typen…
chat-typing-two = { $a } en { $b } zijn aan het typen…
chat-typing-many = Meerdere mensen zijn aan het typen…
chat-here = Nu aanwezig
chat-you = (u)
chat-offline = Offline: uw berichten worden verstuurd zodra de verbinding terug is.
chat-read-only = U kunt deze chat lezen, maar er niet in schrijven.
chat-too-long = { $n ->
    [one] Dit bericht is te lang: { $n } byte, de limiet is { $max }.
   *[other] Dit bericht is te lang: { $n } bytes, de limiet is { $max }.
}
chat-failed = Niet gelukt: { $reason }
chat-mentions = Personen om te vermelden
chat-someone = Iemand
chat-denied = U hebt geen toegang tot deze chat.
