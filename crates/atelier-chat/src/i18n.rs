//! The chat panel's user-visible strings in French, German, Dutch and
//! English: one catalogue, one struct per language, so a missing string is
//! a compile error rather than a blank label.

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
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Lang::Fr,
            "de" => Lang::De,
            "nl" => Lang::Nl,
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

/// Every string the chat panel shows or announces. `{…}` placeholders are
/// filled by [`fill`].
#[derive(Debug)]
pub struct Strings {
    /// Accessible name of the whole panel.
    pub panel: &'static str,
    /// Accessible name of the message log.
    pub log: &'static str,
    /// Shown in an empty chat.
    pub empty: &'static str,
    /// Accessible name of the composer.
    pub composer: &'static str,
    /// Placeholder of the composer.
    pub placeholder: &'static str,
    /// How the composer's keys work (its description).
    pub composer_hint: &'static str,
    /// Send button.
    pub send: &'static str,
    /// Save button while editing.
    pub save: &'static str,
    /// Cancel a reply or an edit.
    pub cancel: &'static str,
    /// Banner while replying, `{name}`.
    pub replying_to: &'static str,
    /// Banner while editing.
    pub editing: &'static str,
    /// Reply action.
    pub reply: &'static str,
    /// Open the reaction picker.
    pub react: &'static str,
    /// Edit action.
    pub edit: &'static str,
    /// Delete action.
    pub delete: &'static str,
    /// Question before deleting.
    pub delete_confirm: &'static str,
    /// Keep the message (declines the deletion).
    pub keep: &'static str,
    /// Accessible name of a message's actions.
    pub actions: &'static str,
    /// A tombstone.
    pub deleted: &'static str,
    /// After an edited message's time.
    pub edited: &'static str,
    /// A message the server does not have yet.
    pub pending: &'static str,
    /// Thread summary for one reply.
    pub replies_one: &'static str,
    /// Thread summary for `{n}` replies.
    pub replies_many: &'static str,
    /// Heading of a thread view.
    pub thread: &'static str,
    /// Leaves the thread view.
    pub back: &'static str,
    /// Before a reply's quote of its parent, `{name}`.
    pub in_reply_to: &'static str,
    /// A reply whose parent is not (yet) here.
    pub parent_missing: &'static str,
    /// Accessible name of a message's reactions.
    pub reactions: &'static str,
    /// Who reacted, `{names}` with `{emoji}`.
    pub reacted_by: &'static str,
    /// Accessible name of the reaction picker.
    pub picker: &'static str,
    /// The unread marker line.
    pub unread_marker: &'static str,
    /// Unread count, `{n}`.
    pub unread_count: &'static str,
    /// Jump to the latest message.
    pub jump_latest: &'static str,
    /// Day separator for today.
    pub today: &'static str,
    /// Day separator for yesterday.
    pub yesterday: &'static str,
    /// One person typing, `{a}`.
    pub typing_one: &'static str,
    /// Two people typing, `{a}` and `{b}`.
    pub typing_two: &'static str,
    /// More people typing.
    pub typing_many: &'static str,
    /// Accessible name of the presence list.
    pub here: &'static str,
    /// After the local user's own name.
    pub you: &'static str,
    /// Shown while offline.
    pub offline: &'static str,
    /// Shown to readers who may not write.
    pub read_only: &'static str,
    /// A too long message: `{n}` bytes of `{max}`.
    pub too_long: &'static str,
    /// A refused operation, `{reason}`.
    pub failed: &'static str,
    /// Accessible name of the mention suggestions.
    pub mentions: &'static str,
    /// Someone unnamed.
    pub someone: &'static str,
}

/// Replaces each `{key}` in `template` by its value.
/// One pass over the template, so a value that itself contains `{b}` (a
/// user's name) is never substituted again.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v, close))
        });
        match hit {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

static EN: Strings = Strings {
    panel: "Chat",
    log: "Messages",
    empty: "No messages yet.",
    composer: "Message",
    placeholder: "Write a message…",
    composer_hint: "Enter sends, Shift+Enter starts a new line, Escape cancels a reply or an edit. Type @ to mention someone.",
    send: "Send",
    save: "Save",
    cancel: "Cancel",
    replying_to: "Replying to {name}",
    editing: "Editing your message",
    reply: "Reply",
    react: "Add a reaction",
    edit: "Edit",
    delete: "Delete",
    delete_confirm: "Delete this message?",
    keep: "Keep",
    actions: "Message actions",
    deleted: "Message deleted",
    edited: "(edited)",
    pending: "Not sent yet",
    replies_one: "1 reply",
    replies_many: "{n} replies",
    thread: "Thread",
    back: "Back to all messages",
    in_reply_to: "In reply to {name}",
    parent_missing: "Original message unavailable",
    reactions: "Reactions",
    reacted_by: "{names} reacted with {emoji}",
    picker: "Choose a reaction",
    unread_marker: "New messages",
    unread_count: "{n} unread",
    jump_latest: "Jump to latest",
    today: "Today",
    yesterday: "Yesterday",
    typing_one: "{a} is typing…",
    typing_two: "{a} and {b} are typing…",
    typing_many: "Several people are typing…",
    here: "Here now",
    you: "(you)",
    offline: "Offline: your messages will be sent when the connection is back.",
    read_only: "You can read this chat but not write in it.",
    too_long: "This message is too long: {n} bytes, the limit is {max}.",
    failed: "Not done: {reason}",
    mentions: "People to mention",
    someone: "Someone",
};

static FR: Strings = Strings {
    panel: "Discussion",
    log: "Messages",
    empty: "Aucun message pour l’instant.",
    composer: "Message",
    placeholder: "Écrire un message…",
    composer_hint: "Entrée envoie, Maj+Entrée passe à la ligne, Échap annule une réponse ou une modification. Tapez @ pour mentionner quelqu’un.",
    send: "Envoyer",
    save: "Enregistrer",
    cancel: "Annuler",
    replying_to: "Réponse à {name}",
    editing: "Modification de votre message",
    reply: "Répondre",
    react: "Ajouter une réaction",
    edit: "Modifier",
    delete: "Supprimer",
    delete_confirm: "Supprimer ce message ?",
    keep: "Conserver",
    actions: "Actions sur le message",
    deleted: "Message supprimé",
    edited: "(modifié)",
    pending: "Pas encore envoyé",
    replies_one: "1 réponse",
    replies_many: "{n} réponses",
    thread: "Fil de discussion",
    back: "Retour à tous les messages",
    in_reply_to: "En réponse à {name}",
    parent_missing: "Message d’origine indisponible",
    reactions: "Réactions",
    reacted_by: "{names} a réagi avec {emoji}",
    picker: "Choisir une réaction",
    unread_marker: "Nouveaux messages",
    unread_count: "{n} non lus",
    jump_latest: "Aller aux derniers messages",
    today: "Aujourd’hui",
    yesterday: "Hier",
    typing_one: "{a} est en train d’écrire…",
    typing_two: "{a} et {b} sont en train d’écrire…",
    typing_many: "Plusieurs personnes sont en train d’écrire…",
    here: "Présents",
    you: "(vous)",
    offline: "Hors ligne : vos messages partiront dès le retour de la connexion.",
    read_only: "Vous pouvez lire cette discussion mais pas y écrire.",
    too_long: "Ce message est trop long : {n} octets, la limite est de {max}.",
    failed: "Impossible : {reason}",
    mentions: "Personnes à mentionner",
    someone: "Quelqu’un",
};

static DE: Strings = Strings {
    panel: "Chat",
    log: "Nachrichten",
    empty: "Noch keine Nachrichten.",
    composer: "Nachricht",
    placeholder: "Nachricht schreiben…",
    composer_hint: "Eingabe sendet, Umschalt+Eingabe beginnt eine neue Zeile, Escape bricht eine Antwort oder Bearbeitung ab. Mit @ erwähnen Sie jemanden.",
    send: "Senden",
    save: "Speichern",
    cancel: "Abbrechen",
    replying_to: "Antwort an {name}",
    editing: "Sie bearbeiten Ihre Nachricht",
    reply: "Antworten",
    react: "Reaktion hinzufügen",
    edit: "Bearbeiten",
    delete: "Löschen",
    delete_confirm: "Diese Nachricht löschen?",
    keep: "Behalten",
    actions: "Aktionen zur Nachricht",
    deleted: "Nachricht gelöscht",
    edited: "(bearbeitet)",
    pending: "Noch nicht gesendet",
    replies_one: "1 Antwort",
    replies_many: "{n} Antworten",
    thread: "Thread",
    back: "Zurück zu allen Nachrichten",
    in_reply_to: "Antwort auf {name}",
    parent_missing: "Ursprüngliche Nachricht nicht verfügbar",
    reactions: "Reaktionen",
    reacted_by: "{names} hat mit {emoji} reagiert",
    picker: "Reaktion auswählen",
    unread_marker: "Neue Nachrichten",
    unread_count: "{n} ungelesen",
    jump_latest: "Zu den neuesten Nachrichten",
    today: "Heute",
    yesterday: "Gestern",
    typing_one: "{a} schreibt…",
    typing_two: "{a} und {b} schreiben…",
    typing_many: "Mehrere Personen schreiben…",
    here: "Jetzt hier",
    you: "(Sie)",
    offline: "Offline: Ihre Nachrichten werden gesendet, sobald die Verbindung zurück ist.",
    read_only: "Sie können diesen Chat lesen, aber nicht darin schreiben.",
    too_long: "Diese Nachricht ist zu lang: {n} Bytes, erlaubt sind {max}.",
    failed: "Nicht möglich: {reason}",
    mentions: "Personen zum Erwähnen",
    someone: "Jemand",
};

static NL: Strings = Strings {
    panel: "Chat",
    log: "Berichten",
    empty: "Nog geen berichten.",
    composer: "Bericht",
    placeholder: "Schrijf een bericht…",
    composer_hint: "Enter verstuurt, Shift+Enter begint een nieuwe regel, Escape annuleert een antwoord of een bewerking. Typ @ om iemand te vermelden.",
    send: "Versturen",
    save: "Opslaan",
    cancel: "Annuleren",
    replying_to: "Antwoord aan {name}",
    editing: "U bewerkt uw bericht",
    reply: "Beantwoorden",
    react: "Reactie toevoegen",
    edit: "Bewerken",
    delete: "Verwijderen",
    delete_confirm: "Dit bericht verwijderen?",
    keep: "Behouden",
    actions: "Acties voor het bericht",
    deleted: "Bericht verwijderd",
    edited: "(bewerkt)",
    pending: "Nog niet verstuurd",
    replies_one: "1 antwoord",
    replies_many: "{n} antwoorden",
    thread: "Draad",
    back: "Terug naar alle berichten",
    in_reply_to: "Antwoord op {name}",
    parent_missing: "Oorspronkelijk bericht niet beschikbaar",
    reactions: "Reacties",
    reacted_by: "{names} reageerde met {emoji}",
    picker: "Kies een reactie",
    unread_marker: "Nieuwe berichten",
    unread_count: "{n} ongelezen",
    jump_latest: "Naar de nieuwste berichten",
    today: "Vandaag",
    yesterday: "Gisteren",
    typing_one: "{a} is aan het typen…",
    typing_two: "{a} en {b} zijn aan het typen…",
    typing_many: "Meerdere mensen zijn aan het typen…",
    here: "Nu aanwezig",
    you: "(u)",
    offline: "Offline: uw berichten worden verstuurd zodra de verbinding terug is.",
    read_only: "U kunt deze chat lezen, maar er niet in schrijven.",
    too_long: "Dit bericht is te lang: {n} bytes, de limiet is {max}.",
    failed: "Niet gelukt: {reason}",
    mentions: "Personen om te vermelden",
    someone: "Iemand",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_placeholders() {
        assert_eq!(Lang::from_tag("nl-BE"), Lang::Nl);
        assert_eq!(Lang::from_tag("de_AT"), Lang::De);
        assert_eq!(Lang::from_tag("xx"), Lang::En);
        for lang in [Lang::Fr, Lang::De, Lang::Nl, Lang::En] {
            let s = lang.strings();
            assert!(s.replies_many.contains("{n}"), "{lang:?}");
            assert!(s.unread_count.contains("{n}"), "{lang:?}");
            assert!(s.replying_to.contains("{name}"), "{lang:?}");
            assert!(s.in_reply_to.contains("{name}"), "{lang:?}");
            assert!(s.typing_two.contains("{a}") && s.typing_two.contains("{b}"));
            assert!(s.too_long.contains("{n}") && s.too_long.contains("{max}"));
            assert!(s.reacted_by.contains("{names}") && s.reacted_by.contains("{emoji}"));
            assert_eq!(Lang::from_tag(lang.tag()), lang);
        }
        assert_eq!(
            fill("{a} & {b}", &[("a", "{b}"), ("b", "{a}")]),
            "{b} & {a}"
        );
        assert_eq!(fill("{x} {", &[]), "{x} {");
    }
}
