chat-panel = Chat
chat-log = Nachrichten
chat-empty = Noch keine Nachrichten.
chat-composer = Nachricht
chat-placeholder = Nachricht schreiben…
chat-composer-hint = Eingabe sendet, Umschalt+Eingabe beginnt eine neue Zeile, Escape bricht eine Antwort oder Bearbeitung ab. Mit @ erwähnen Sie jemanden.
chat-send = Senden
chat-save = Speichern
chat-cancel = Abbrechen
chat-replying-to = Antwort an { $name }
chat-editing = Sie bearbeiten Ihre Nachricht
chat-reply = Antworten
chat-react = Reaktion hinzufügen
chat-edit = Bearbeiten
chat-delete = Löschen
chat-delete-confirm = Diese Nachricht löschen?
chat-keep = Behalten
chat-actions = Aktionen zur Nachricht
chat-deleted = Nachricht gelöscht
chat-edited = (bearbeitet)
chat-pending = Noch nicht gesendet
chat-refused = Nicht an Matrix zugestellt
chat-refused-reason = Der Matrix-Raum hat diese Nachricht abgelehnt: { $reason }
chat-replies = { $n ->
    [one] { $n } Antwort
   *[other] { $n } Antworten
}
chat-thread = Thread
chat-back = Zurück zu allen Nachrichten
chat-in-reply-to = Antwort auf { $name }
chat-parent-missing = Ursprüngliche Nachricht nicht verfügbar
chat-reactions = Reaktionen
chat-reacted-by = { $names } hat mit { $emoji } reagiert
chat-picker = Reaktion auswählen
chat-unread-marker = Neue Nachrichten
chat-unread-count = { $n ->
    [one] { $n } ungelesen
   *[other] { $n } ungelesen
}
chat-jump-latest = Zu den neuesten Nachrichten
chat-today = Heute
chat-yesterday = Gestern
chat-typing-one = { $a } schreibt…
chat-typing-two = { $a } und { $b } schreiben…
chat-typing-many = Mehrere Personen schreiben…
chat-here = Jetzt hier
chat-you = (Sie)
chat-offline = Offline: Ihre Nachrichten werden gesendet, sobald die Verbindung zurück ist.
chat-read-only = Sie können diesen Chat lesen, aber nicht darin schreiben.
chat-too-long = { $n ->
    [one] Diese Nachricht ist zu lang: { $n } Byte, erlaubt sind { $max }.
   *[other] Diese Nachricht ist zu lang: { $n } Bytes, erlaubt sind { $max }.
}
chat-failed = Nicht möglich: { $reason }
chat-mentions = Personen zum Erwähnen
chat-someone = Jemand
chat-denied = Sie haben keinen Zugriff auf diesen Chat.
