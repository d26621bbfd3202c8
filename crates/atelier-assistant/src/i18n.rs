//! The pane's user-visible strings in French, German, Dutch and English:
//! one catalogue, one struct per language, so a missing string is a
//! compile error rather than a blank label. The actions' own labels come
//! from [`atelier_ai::prompts::Action::label`], which the prompts share.

use atelier_ai::prompts::Lang as PromptLang;

/// A supported interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Français.
    Fr,
    /// Deutsch.
    De,
    /// Nederlands.
    Nl,
    /// English (the fallback).
    #[default]
    En,
}

impl Lang {
    /// Reads a BCP 47 tag (`fr`, `de-AT`, `nl-BE`, …); unknown tags give English.
    pub fn from_tag(tag: &str) -> Self {
        match PromptLang::from_tag(tag) {
            Some(PromptLang::Fr) => Lang::Fr,
            Some(PromptLang::De) => Lang::De,
            Some(PromptLang::Nl) => Lang::Nl,
            _ => Lang::En,
        }
    }

    /// The language's BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The same language for [`atelier_ai::prompts`] (action labels).
    pub fn prompt_lang(self) -> PromptLang {
        match self {
            Lang::Fr => PromptLang::Fr,
            Lang::De => PromptLang::De,
            Lang::Nl => PromptLang::Nl,
            Lang::En => PromptLang::En,
        }
    }

    /// The strings of this language.
    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Fr => &FR,
            Lang::De => &DE,
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }
}

/// Every string the pane shows or announces. `{…}` placeholders are
/// filled by [`fill`].
#[derive(Debug)]
pub struct Strings {
    /// Accessible name and title of the pane.
    pub panel: &'static str,
    /// Heading of the actions on the selection.
    pub on_selection: &'static str,
    /// Heading of the actions on the document or at the caret.
    pub on_document: &'static str,
    /// Label of the translation target list.
    pub translate_to: &'static str,
    /// Its entry for a language the user types.
    pub other_language: &'static str,
    /// Label of the field for that language.
    pub language_name: &'static str,
    /// Button that runs the translation.
    pub translate: &'static str,
    /// Label of the free prompt.
    pub prompt: &'static str,
    /// Its placeholder.
    pub prompt_placeholder: &'static str,
    /// Send the prompt.
    pub send: &'static str,
    /// Stop the answer being written.
    pub stop: &'static str,
    /// Accessible name of the conversation.
    pub conversation: &'static str,
    /// Shown when the conversation is empty.
    pub empty: &'static str,
    /// Forget this document's conversation.
    pub clear: &'static str,
    /// While waiting for the first words.
    pub waiting: &'static str,
    /// While the answer streams.
    pub writing: &'static str,
    /// While a tool call streams, `{n}` characters so far.
    pub preparing_edits: &'static str,
    /// Heading of a preview.
    pub preview: &'static str,
    /// Says who sees a preview.
    pub preview_private: &'static str,
    /// A block the proposal changes.
    pub block_changed: &'static str,
    /// A block the proposal adds.
    pub block_added: &'static str,
    /// A block the proposal deletes.
    pub block_deleted: &'static str,
    /// A previewed block someone changed since the request.
    pub block_stale: &'static str,
    /// Accessible name of deleted text in a preview.
    pub deleted_text: &'static str,
    /// Accessible name of inserted text in a preview.
    pub inserted_text: &'static str,
    /// Apply the proposal.
    pub accept: &'static str,
    /// Discard it.
    pub reject: &'static str,
    /// Turn prose into new blocks below the caret.
    pub insert_below: &'static str,
    /// Turn prose into a replacement of the selection.
    pub replace_selection: &'static str,
    /// Undo the assistant's last change.
    pub undo: &'static str,
    /// After Accept, `{n}` blocks.
    pub applied: &'static str,
    /// After Reject.
    pub rejected: &'static str,
    /// After Undo.
    pub undone: &'static str,
    /// After Stop.
    pub stopped: &'static str,
    /// A part dropped at Accept, `{text}` the block's first words.
    pub dropped: &'static str,
    /// Every part dropped: nothing applied.
    pub nothing_applied: &'static str,
    /// Operations the review refused, `{n}` and `{reasons}`.
    pub refused_operations: &'static str,
    /// A tool call that is not the tool's shape, `{reason}`.
    pub refused_call: &'static str,
    /// The answer proposes no change.
    pub no_change: &'static str,
    /// An empty answer.
    pub empty_answer: &'static str,
    /// A selection action with nothing selected and no caret.
    pub no_selection: &'static str,
    /// A document action on an empty document.
    pub empty_document: &'static str,
    /// A run asked while another streams.
    pub busy_here: &'static str,
    /// Read-only access.
    pub read_only: &'static str,
    /// Applying failed, `{reason}`.
    pub apply_failed: &'static str,
    /// The user's turn, before its action label.
    pub you: &'static str,
    /// The model's turn.
    pub assistant: &'static str,
    /// Errors by kind (see [`crate::error::ErrorKind`]).
    pub errors: ErrorStrings,
}

/// Messages for the errors a run can end with.
#[derive(Debug)]
pub struct ErrorStrings {
    /// The model server did not answer in time.
    pub timeout: &'static str,
    /// The model server refused the configured key.
    pub key_refused: &'static str,
    /// A rate limit, `{scope}` and `{wait}`.
    pub rate_limited: &'static str,
    /// `{scope}` for the user's own limit.
    pub scope_user: &'static str,
    /// `{scope}` for the document's limit.
    pub scope_document: &'static str,
    /// `{scope}` for the model server's limit.
    pub scope_model: &'static str,
    /// `{wait}` with a known delay, `{secs}`.
    pub wait_secs: &'static str,
    /// `{wait}` without one.
    pub wait_later: &'static str,
    /// The embedded model file is absent.
    pub model_missing: &'static str,
    /// The embedded model is still loading.
    pub model_loading: &'static str,
    /// The embedded model failed to load.
    pub model_failed: &'static str,
    /// AI is off on this server.
    pub ai_off: &'static str,
    /// The model has a full queue.
    pub busy: &'static str,
    /// The answer is not the protocol.
    pub malformed: &'static str,
    /// The model server cannot be reached or went away.
    pub unreachable: &'static str,
    /// The model server reported an error, `{message}`.
    pub upstream: &'static str,
    /// The request never reached the server.
    pub network: &'static str,
    /// No valid credentials.
    pub unauthenticated: &'static str,
    /// No write access to the document.
    pub forbidden: &'static str,
    /// The request is too large.
    pub too_large: &'static str,
    /// The server refused the request, `{message}`.
    pub invalid_request: &'static str,
    /// Anything else, `{status}` and `{message}`.
    pub other: &'static str,
}

/// Fills `{name}` placeholders in `template`.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// English.
pub static EN: Strings = Strings {
    panel: "Assistant",
    on_selection: "On the selection",
    on_document: "On the document",
    translate_to: "Translate to",
    other_language: "Another language…",
    language_name: "Language",
    translate: "Translate",
    prompt: "Ask the assistant",
    prompt_placeholder: "What should the assistant do?",
    send: "Send",
    stop: "Stop",
    conversation: "Conversation with the assistant",
    empty: "Select text in the editor, then choose an action, or ask a question.",
    clear: "Clear the conversation",
    waiting: "Waiting for the model…",
    writing: "Writing…",
    preparing_edits: "Preparing changes… ({n} characters)",
    preview: "Proposed changes",
    preview_private: "Only you see this preview until you accept it.",
    block_changed: "Changed",
    block_added: "Added",
    block_deleted: "Deleted",
    block_stale: "Someone changed this block since the request: it will not be changed.",
    deleted_text: "deleted",
    inserted_text: "inserted",
    accept: "Accept",
    reject: "Reject",
    insert_below: "Insert below",
    replace_selection: "Replace the selection",
    undo: "Undo",
    applied: "Applied ({n} blocks).",
    rejected: "Rejected: the document is unchanged.",
    undone: "Undone.",
    stopped: "Stopped.",
    dropped: "Not applied: “{text}” was changed by someone since the request.",
    nothing_applied: "Nothing was applied.",
    refused_operations: "{n} proposed changes were refused: {reasons}",
    refused_call: "The model's edit could not be used: {reason}",
    no_change: "The answer proposes no change.",
    empty_answer: "The model gave an empty answer.",
    no_selection: "Select some text in the editor first.",
    empty_document: "The document is empty.",
    busy_here: "Wait for the current answer, or stop it.",
    read_only: "Read only: the assistant cannot change this document.",
    apply_failed: "The change could not be applied: {reason}",
    you: "You",
    assistant: "Assistant",
    errors: ErrorStrings {
        timeout: "The model took too long to answer. Try again.",
        key_refused: "The model server refused the server's key. Ask your administrator to check the AI configuration.",
        rate_limited: "Too many requests {scope}. {wait}",
        scope_user: "from you",
        scope_document: "on this document",
        scope_model: "to the model server",
        wait_secs: "Try again in {secs} s.",
        wait_later: "Try again later.",
        model_missing: "No AI model is installed on this server (scripts/fetch-model.sh fetches the default one).",
        model_loading: "The AI model is still loading. Try again in a few seconds.",
        model_failed: "The AI model could not be loaded on the server.",
        ai_off: "AI is turned off on this server.",
        busy: "The AI model is busy. Try again in a moment.",
        malformed: "The answer could not be read (it is not the expected format).",
        unreachable: "The model server cannot be reached.",
        upstream: "The model server reported an error: {message}",
        network: "The AI server cannot be reached. Check your connection.",
        unauthenticated: "You are not signed in (or your session expired).",
        forbidden: "You need edit access to this document to use the assistant.",
        too_large: "The request is too large: select less text.",
        invalid_request: "The server refused the request: {message}",
        other: "The AI request failed ({status}): {message}",
    },
};

/// Français.
pub static FR: Strings = Strings {
    panel: "Assistant",
    on_selection: "Sur la sélection",
    on_document: "Sur le document",
    translate_to: "Traduire en",
    other_language: "Autre langue…",
    language_name: "Langue",
    translate: "Traduire",
    prompt: "Demander à l'assistant",
    prompt_placeholder: "Que doit faire l'assistant ?",
    send: "Envoyer",
    stop: "Arrêter",
    conversation: "Conversation avec l'assistant",
    empty: "Sélectionnez du texte dans l'éditeur puis choisissez une action, ou posez une question.",
    clear: "Effacer la conversation",
    waiting: "En attente du modèle…",
    writing: "Rédaction…",
    preparing_edits: "Préparation des modifications… ({n} caractères)",
    preview: "Modifications proposées",
    preview_private: "Vous seul voyez cet aperçu tant que vous ne l'acceptez pas.",
    block_changed: "Modifié",
    block_added: "Ajouté",
    block_deleted: "Supprimé",
    block_stale: "Quelqu'un a modifié ce bloc depuis la demande : il ne sera pas changé.",
    deleted_text: "supprimé",
    inserted_text: "inséré",
    accept: "Accepter",
    reject: "Refuser",
    insert_below: "Insérer en dessous",
    replace_selection: "Remplacer la sélection",
    undo: "Annuler",
    applied: "Appliqué ({n} blocs).",
    rejected: "Refusé : le document est inchangé.",
    undone: "Annulé.",
    stopped: "Arrêté.",
    dropped: "Non appliqué : « {text} » a été modifié par quelqu'un depuis la demande.",
    nothing_applied: "Rien n'a été appliqué.",
    refused_operations: "{n} modifications proposées ont été refusées : {reasons}",
    refused_call: "La modification du modèle est inutilisable : {reason}",
    no_change: "La réponse ne propose aucune modification.",
    empty_answer: "Le modèle a donné une réponse vide.",
    no_selection: "Sélectionnez d'abord du texte dans l'éditeur.",
    empty_document: "Le document est vide.",
    busy_here: "Attendez la réponse en cours, ou arrêtez-la.",
    read_only: "Lecture seule : l'assistant ne peut pas modifier ce document.",
    apply_failed: "La modification n'a pas pu être appliquée : {reason}",
    you: "Vous",
    assistant: "Assistant",
    errors: ErrorStrings {
        timeout: "Le modèle a mis trop de temps à répondre. Réessayez.",
        key_refused: "Le serveur du modèle a refusé la clé du serveur. Demandez à votre administrateur de vérifier la configuration de l'IA.",
        rate_limited: "Trop de demandes {scope}. {wait}",
        scope_user: "de votre part",
        scope_document: "sur ce document",
        scope_model: "au serveur du modèle",
        wait_secs: "Réessayez dans {secs} s.",
        wait_later: "Réessayez plus tard.",
        model_missing: "Aucun modèle d'IA n'est installé sur ce serveur (scripts/fetch-model.sh récupère celui par défaut).",
        model_loading: "Le modèle d'IA est en cours de chargement. Réessayez dans quelques secondes.",
        model_failed: "Le modèle d'IA n'a pas pu être chargé sur le serveur.",
        ai_off: "L'IA est désactivée sur ce serveur.",
        busy: "Le modèle d'IA est occupé. Réessayez dans un instant.",
        malformed: "La réponse est illisible (ce n'est pas le format attendu).",
        unreachable: "Le serveur du modèle est injoignable.",
        upstream: "Le serveur du modèle a signalé une erreur : {message}",
        network: "Le serveur d'IA est injoignable. Vérifiez votre connexion.",
        unauthenticated: "Vous n'êtes pas connecté (ou votre session a expiré).",
        forbidden: "Il faut le droit de modifier ce document pour utiliser l'assistant.",
        too_large: "La demande est trop grande : sélectionnez moins de texte.",
        invalid_request: "Le serveur a refusé la demande : {message}",
        other: "La demande d'IA a échoué ({status}) : {message}",
    },
};

/// Deutsch.
pub static DE: Strings = Strings {
    panel: "Assistent",
    on_selection: "Auf die Auswahl",
    on_document: "Auf das Dokument",
    translate_to: "Übersetzen ins",
    other_language: "Andere Sprache…",
    language_name: "Sprache",
    translate: "Übersetzen",
    prompt: "Den Assistenten fragen",
    prompt_placeholder: "Was soll der Assistent tun?",
    send: "Senden",
    stop: "Stoppen",
    conversation: "Unterhaltung mit dem Assistenten",
    empty: "Wählen Sie Text im Editor aus und dann eine Aktion, oder stellen Sie eine Frage.",
    clear: "Unterhaltung löschen",
    waiting: "Warten auf das Modell…",
    writing: "Schreibt…",
    preparing_edits: "Änderungen werden vorbereitet… ({n} Zeichen)",
    preview: "Vorgeschlagene Änderungen",
    preview_private: "Nur Sie sehen diese Vorschau, bis Sie sie annehmen.",
    block_changed: "Geändert",
    block_added: "Hinzugefügt",
    block_deleted: "Gelöscht",
    block_stale: "Jemand hat diesen Block seit der Anfrage geändert: Er wird nicht verändert.",
    deleted_text: "gelöscht",
    inserted_text: "eingefügt",
    accept: "Annehmen",
    reject: "Ablehnen",
    insert_below: "Darunter einfügen",
    replace_selection: "Auswahl ersetzen",
    undo: "Rückgängig",
    applied: "Übernommen ({n} Blöcke).",
    rejected: "Abgelehnt: Das Dokument ist unverändert.",
    undone: "Rückgängig gemacht.",
    stopped: "Gestoppt.",
    dropped: "Nicht übernommen: „{text}“ wurde seit der Anfrage von jemandem geändert.",
    nothing_applied: "Nichts wurde übernommen.",
    refused_operations: "{n} vorgeschlagene Änderungen wurden abgelehnt: {reasons}",
    refused_call: "Die Änderung des Modells ist unbrauchbar: {reason}",
    no_change: "Die Antwort schlägt keine Änderung vor.",
    empty_answer: "Das Modell hat eine leere Antwort gegeben.",
    no_selection: "Wählen Sie zuerst Text im Editor aus.",
    empty_document: "Das Dokument ist leer.",
    busy_here: "Warten Sie auf die aktuelle Antwort oder stoppen Sie sie.",
    read_only: "Nur Lesen: Der Assistent kann dieses Dokument nicht ändern.",
    apply_failed: "Die Änderung konnte nicht übernommen werden: {reason}",
    you: "Sie",
    assistant: "Assistent",
    errors: ErrorStrings {
        timeout: "Das Modell hat zu lange für die Antwort gebraucht. Versuchen Sie es erneut.",
        key_refused: "Der Modellserver hat den Schlüssel des Servers abgelehnt. Bitten Sie Ihre Administration, die KI-Konfiguration zu prüfen.",
        rate_limited: "Zu viele Anfragen {scope}. {wait}",
        scope_user: "von Ihnen",
        scope_document: "zu diesem Dokument",
        scope_model: "an den Modellserver",
        wait_secs: "Versuchen Sie es in {secs} s erneut.",
        wait_later: "Versuchen Sie es später erneut.",
        model_missing: "Auf diesem Server ist kein KI-Modell installiert (scripts/fetch-model.sh lädt das Standardmodell).",
        model_loading: "Das KI-Modell wird noch geladen. Versuchen Sie es in einigen Sekunden erneut.",
        model_failed: "Das KI-Modell konnte auf dem Server nicht geladen werden.",
        ai_off: "KI ist auf diesem Server ausgeschaltet.",
        busy: "Das KI-Modell ist ausgelastet. Versuchen Sie es gleich erneut.",
        malformed: "Die Antwort ist unlesbar (nicht das erwartete Format).",
        unreachable: "Der Modellserver ist nicht erreichbar.",
        upstream: "Der Modellserver hat einen Fehler gemeldet: {message}",
        network: "Der KI-Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung.",
        unauthenticated: "Sie sind nicht angemeldet (oder Ihre Sitzung ist abgelaufen).",
        forbidden: "Sie brauchen Schreibrechte für dieses Dokument, um den Assistenten zu nutzen.",
        too_large: "Die Anfrage ist zu groß: Wählen Sie weniger Text aus.",
        invalid_request: "Der Server hat die Anfrage abgelehnt: {message}",
        other: "Die KI-Anfrage ist fehlgeschlagen ({status}): {message}",
    },
};

/// Nederlands.
pub static NL: Strings = Strings {
    panel: "Assistent",
    on_selection: "Op de selectie",
    on_document: "Op het document",
    translate_to: "Vertalen naar",
    other_language: "Andere taal…",
    language_name: "Taal",
    translate: "Vertalen",
    prompt: "Vraag het de assistent",
    prompt_placeholder: "Wat moet de assistent doen?",
    send: "Versturen",
    stop: "Stoppen",
    conversation: "Gesprek met de assistent",
    empty: "Selecteer tekst in de editor en kies een actie, of stel een vraag.",
    clear: "Gesprek wissen",
    waiting: "Wachten op het model…",
    writing: "Schrijft…",
    preparing_edits: "Wijzigingen voorbereiden… ({n} tekens)",
    preview: "Voorgestelde wijzigingen",
    preview_private: "Alleen u ziet dit voorbeeld totdat u het accepteert.",
    block_changed: "Gewijzigd",
    block_added: "Toegevoegd",
    block_deleted: "Verwijderd",
    block_stale: "Iemand heeft dit blok sinds de vraag gewijzigd: het wordt niet veranderd.",
    deleted_text: "verwijderd",
    inserted_text: "ingevoegd",
    accept: "Accepteren",
    reject: "Weigeren",
    insert_below: "Hieronder invoegen",
    replace_selection: "Selectie vervangen",
    undo: "Ongedaan maken",
    applied: "Toegepast ({n} blokken).",
    rejected: "Geweigerd: het document is ongewijzigd.",
    undone: "Ongedaan gemaakt.",
    stopped: "Gestopt.",
    dropped: "Niet toegepast: „{text}” is sinds de vraag door iemand gewijzigd.",
    nothing_applied: "Er is niets toegepast.",
    refused_operations: "{n} voorgestelde wijzigingen zijn geweigerd: {reasons}",
    refused_call: "De wijziging van het model is onbruikbaar: {reason}",
    no_change: "Het antwoord stelt geen wijziging voor.",
    empty_answer: "Het model gaf een leeg antwoord.",
    no_selection: "Selecteer eerst tekst in de editor.",
    empty_document: "Het document is leeg.",
    busy_here: "Wacht op het huidige antwoord of stop het.",
    read_only: "Alleen lezen: de assistent kan dit document niet wijzigen.",
    apply_failed: "De wijziging kon niet worden toegepast: {reason}",
    you: "U",
    assistant: "Assistent",
    errors: ErrorStrings {
        timeout: "Het model deed er te lang over om te antwoorden. Probeer het opnieuw.",
        key_refused: "De modelserver weigerde de sleutel van de server. Vraag uw beheerder de AI-configuratie te controleren.",
        rate_limited: "Te veel verzoeken {scope}. {wait}",
        scope_user: "van u",
        scope_document: "op dit document",
        scope_model: "aan de modelserver",
        wait_secs: "Probeer het over {secs} s opnieuw.",
        wait_later: "Probeer het later opnieuw.",
        model_missing: "Er is geen AI-model op deze server geïnstalleerd (scripts/fetch-model.sh haalt het standaardmodel op).",
        model_loading: "Het AI-model wordt nog geladen. Probeer het over enkele seconden opnieuw.",
        model_failed: "Het AI-model kon op de server niet worden geladen.",
        ai_off: "AI staat uit op deze server.",
        busy: "Het AI-model is bezet. Probeer het zo opnieuw.",
        malformed: "Het antwoord is onleesbaar (niet het verwachte formaat).",
        unreachable: "De modelserver is onbereikbaar.",
        upstream: "De modelserver meldde een fout: {message}",
        network: "De AI-server is onbereikbaar. Controleer uw verbinding.",
        unauthenticated: "U bent niet aangemeld (of uw sessie is verlopen).",
        forbidden: "U hebt schrijfrechten op dit document nodig om de assistent te gebruiken.",
        too_large: "Het verzoek is te groot: selecteer minder tekst.",
        invalid_request: "De server weigerde het verzoek: {message}",
        other: "Het AI-verzoek is mislukt ({status}): {message}",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_placeholders() {
        assert_eq!(Lang::from_tag("fr-BE"), Lang::Fr);
        assert_eq!(Lang::from_tag("es"), Lang::En);
        assert_eq!(Lang::Nl.tag(), "nl");
        assert_eq!(fill(EN.applied, &[("n", "2")]), "Applied (2 blocks).");
        for s in [&EN, &FR, &DE, &NL] {
            assert!(s.dropped.contains("{text}"));
            assert!(
                s.errors.rate_limited.contains("{scope}")
                    && s.errors.rate_limited.contains("{wait}")
            );
            assert!(s.errors.wait_secs.contains("{secs}"));
            assert!(s.preparing_edits.contains("{n}"));
        }
    }
}
