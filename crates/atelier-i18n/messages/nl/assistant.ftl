assistant-panel = Assistent
assistant-on-selection = Op de selectie
assistant-on-document = Op het document
assistant-translate-to = Vertalen naar
assistant-other-language = Andere taal…
assistant-language-name = Taal
assistant-translate = Vertalen
assistant-prompt = Vraag het de assistent
assistant-prompt-placeholder = Wat moet de assistent doen?
assistant-send = Versturen
assistant-stop = Stoppen
assistant-conversation = Gesprek met de assistent
assistant-empty = Selecteer tekst in de editor en kies een actie, of stel een vraag.
assistant-clear = Gesprek wissen
assistant-waiting = Wachten op het model…
assistant-writing = Schrijft…
assistant-preparing-edits = { $n ->
    [one] Wijzigingen voorbereiden… ({ $n } teken)
   *[other] Wijzigingen voorbereiden… ({ $n } tekens)
}
assistant-preview = Voorgestelde wijzigingen
assistant-preview-private = Alleen u ziet dit voorbeeld totdat u het accepteert.
assistant-block-changed = Gewijzigd
assistant-block-added = Toegevoegd
assistant-block-deleted = Verwijderd
assistant-block-stale = Iemand heeft dit blok sinds de vraag gewijzigd: het wordt niet veranderd.
assistant-deleted-text = verwijderd
assistant-inserted-text = ingevoegd
assistant-accept = Accepteren
assistant-reject = Weigeren
assistant-insert-below = Hieronder invoegen
assistant-replace-selection = Selectie vervangen
assistant-undo = Ongedaan maken
assistant-applied = { $n ->
    [one] Toegepast ({ $n } blok).
   *[other] Toegepast ({ $n } blokken).
}
assistant-rejected = Geweigerd: het document is ongewijzigd.
assistant-undone = Ongedaan gemaakt.
assistant-stopped = Gestopt.
assistant-dropped = Niet toegepast: „{ $text }” is sinds de vraag door iemand gewijzigd.
assistant-nothing-applied = Er is niets toegepast.
assistant-refused-operations = { $n ->
    [one] { $n } voorgestelde wijziging is geweigerd: { $reasons }
   *[other] { $n } voorgestelde wijzigingen zijn geweigerd: { $reasons }
}
assistant-refused-call = De wijziging van het model is onbruikbaar: { $reason }
assistant-no-change = Het antwoord stelt geen wijziging voor.
assistant-empty-answer = Het model gaf een leeg antwoord.
assistant-no-selection = Selecteer eerst tekst in de editor.
assistant-empty-document = Het document is leeg.
assistant-busy-here = Wacht op het huidige antwoord of stop het.
assistant-read-only = Alleen lezen: de assistent kan dit document niet wijzigen.
assistant-apply-failed = De wijziging kon niet worden toegepast: { $reason }
assistant-you = U
assistant-assistant = Assistent
assistant-errors-timeout = Het model deed er te lang over om te antwoorden. Probeer het opnieuw.
assistant-errors-key-refused = De modelserver weigerde de sleutel van de server. Vraag uw beheerder de AI-configuratie te controleren.
assistant-errors-rate-limited = Te veel verzoeken { $scope }. { $wait }
assistant-errors-scope-user = van u
assistant-errors-scope-document = op dit document
assistant-errors-scope-model = aan de modelserver
assistant-errors-wait-secs = Probeer het over { $secs } s opnieuw.
assistant-errors-wait-later = Probeer het later opnieuw.
assistant-errors-model-missing = Er is geen AI-model op deze server geïnstalleerd (scripts/fetch-model.sh haalt het standaardmodel op).
assistant-errors-model-loading = Het AI-model wordt nog geladen. Probeer het over enkele seconden opnieuw.
assistant-errors-model-failed = Het AI-model kon op de server niet worden geladen.
assistant-errors-ai-off = AI staat uit op deze server.
assistant-errors-busy = Het AI-model is bezet. Probeer het zo opnieuw.
assistant-errors-malformed = Het antwoord is onleesbaar (niet het verwachte formaat).
assistant-errors-unreachable = De modelserver is onbereikbaar.
assistant-errors-upstream = De modelserver meldde een fout: { $message }
assistant-errors-network = De AI-server is onbereikbaar. Controleer uw verbinding.
assistant-errors-unauthenticated = U bent niet aangemeld (of uw sessie is verlopen).
assistant-errors-forbidden = U hebt schrijfrechten op dit document nodig om de assistent te gebruiken.
assistant-errors-too-large = Het verzoek is te groot: selecteer minder tekst.
assistant-errors-invalid-request = De server weigerde het verzoek: { $message }
assistant-errors-other = Het AI-verzoek is mislukt ({ $status }): { $message }
assistant-errors-other-status = Het AI-verzoek is mislukt (HTTP-status { $status }).
