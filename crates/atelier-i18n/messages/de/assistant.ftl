assistant-panel = Assistent
assistant-on-selection = Auf die Auswahl
assistant-on-document = Auf das Dokument
assistant-translate-to = Übersetzen ins
assistant-other-language = Andere Sprache…
assistant-language-name = Sprache
assistant-translate = Übersetzen
assistant-prompt = Den Assistenten fragen
assistant-prompt-placeholder = Was soll der Assistent tun?
assistant-send = Senden
assistant-stop = Stoppen
assistant-conversation = Unterhaltung mit dem Assistenten
assistant-empty = Wählen Sie Text im Editor aus und dann eine Aktion, oder stellen Sie eine Frage.
assistant-clear = Unterhaltung löschen
assistant-waiting = Warten auf das Modell…
assistant-writing = Schreibt…
assistant-preparing-edits = { $n ->
    [one] Änderungen werden vorbereitet… ({ $n } Zeichen)
   *[other] Änderungen werden vorbereitet… ({ $n } Zeichen)
}
assistant-preview = Vorgeschlagene Änderungen
assistant-preview-private = Nur Sie sehen diese Vorschau, bis Sie sie annehmen.
assistant-block-changed = Geändert
assistant-block-added = Hinzugefügt
assistant-block-deleted = Gelöscht
assistant-block-stale = Jemand hat diesen Block seit der Anfrage geändert: Er wird nicht verändert.
assistant-deleted-text = gelöscht
assistant-inserted-text = eingefügt
assistant-accept = Annehmen
assistant-reject = Ablehnen
assistant-insert-below = Darunter einfügen
assistant-replace-selection = Auswahl ersetzen
assistant-undo = Rückgängig
assistant-applied = { $n ->
    [one] Übernommen ({ $n } Block).
   *[other] Übernommen ({ $n } Blöcke).
}
assistant-rejected = Abgelehnt: Das Dokument ist unverändert.
assistant-undone = Rückgängig gemacht.
assistant-stopped = Gestoppt.
assistant-dropped = Nicht übernommen: „{ $text }“ wurde seit der Anfrage von jemandem geändert.
assistant-nothing-applied = Nichts wurde übernommen.
assistant-refused-operations = { $n ->
    [one] { $n } vorgeschlagene Änderung wurde abgelehnt: { $reasons }
   *[other] { $n } vorgeschlagene Änderungen wurden abgelehnt: { $reasons }
}
assistant-refused-call = Die Änderung des Modells ist unbrauchbar: { $reason }
assistant-no-change = Die Antwort schlägt keine Änderung vor.
assistant-empty-answer = Das Modell hat eine leere Antwort gegeben.
assistant-no-selection = Wählen Sie zuerst Text im Editor aus.
assistant-empty-document = Das Dokument ist leer.
assistant-busy-here = Warten Sie auf die aktuelle Antwort oder stoppen Sie sie.
assistant-read-only = Nur Lesen: Der Assistent kann dieses Dokument nicht ändern.
assistant-apply-failed = Die Änderung konnte nicht übernommen werden: { $reason }
assistant-you = Sie
assistant-assistant = Assistent
assistant-errors-timeout = Das Modell hat zu lange für die Antwort gebraucht. Versuchen Sie es erneut.
assistant-errors-key-refused = Der Modellserver hat den Schlüssel des Servers abgelehnt. Bitten Sie Ihre Administration, die KI-Konfiguration zu prüfen.
assistant-errors-rate-limited = Zu viele Anfragen { $scope }. { $wait }
assistant-errors-scope-user = von Ihnen
assistant-errors-scope-document = zu diesem Dokument
assistant-errors-scope-model = an den Modellserver
assistant-errors-wait-secs = Versuchen Sie es in { $secs } s erneut.
assistant-errors-wait-later = Versuchen Sie es später erneut.
assistant-errors-model-missing = Auf diesem Server ist kein KI-Modell installiert (scripts/fetch-model.sh lädt das Standardmodell).
assistant-errors-model-loading = Das KI-Modell wird noch geladen. Versuchen Sie es in einigen Sekunden erneut.
assistant-errors-model-failed = Das KI-Modell konnte auf dem Server nicht geladen werden.
assistant-errors-ai-off = KI ist auf diesem Server ausgeschaltet.
assistant-errors-busy = Das KI-Modell ist ausgelastet. Versuchen Sie es gleich erneut.
assistant-errors-malformed = Die Antwort ist unlesbar (nicht das erwartete Format).
assistant-errors-unreachable = Der Modellserver ist nicht erreichbar.
assistant-errors-upstream = Der Modellserver hat einen Fehler gemeldet: { $message }
assistant-errors-network = Der KI-Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung.
assistant-errors-unauthenticated = Sie sind nicht angemeldet (oder Ihre Sitzung ist abgelaufen).
assistant-errors-forbidden = Sie brauchen Schreibrechte für dieses Dokument, um den Assistenten zu nutzen.
assistant-errors-too-large = Die Anfrage ist zu groß: Wählen Sie weniger Text aus.
assistant-errors-invalid-request = Der Server hat die Anfrage abgelehnt: { $message }
assistant-errors-other = Die KI-Anfrage ist fehlgeschlagen ({ $status }): { $message }
assistant-errors-other-status = Die KI-Anfrage ist fehlgeschlagen (HTTP-Status { $status }).
