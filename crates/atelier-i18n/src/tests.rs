use super::*;

#[test]
fn plural_rules_follow_cldr_for_integers() {
    use PluralCategory::{One, Other};
    for lang in [Lang::En, Lang::De, Lang::Nl] {
        assert_eq!(lang.plural_category(0), Other, "{lang:?}");
        assert_eq!(lang.plural_category(1), One, "{lang:?}");
        assert_eq!(lang.plural_category(2), Other, "{lang:?}");
        assert_eq!(lang.plural_category(11), Other, "{lang:?}");
        assert_eq!(lang.plural_category(21), Other, "{lang:?}");
        assert_eq!(lang.plural_category(101), Other, "{lang:?}");
    }
    assert_eq!(Lang::Fr.plural_category(0), One);
    assert_eq!(Lang::Fr.plural_category(1), One);
    assert_eq!(Lang::Fr.plural_category(2), Other);
    assert_eq!(Lang::Fr.plural_category(1_000_000), Other);
}

#[test]
fn plurals_pick_their_variant_and_fill_n() {
    assert_eq!(Lang::En.editor().words.format(1), "1 word");
    assert_eq!(Lang::En.editor().words.format(0), "0 words");
    assert_eq!(Lang::Fr.editor().word_count(0), "0 mot");
    assert_eq!(Lang::Fr.editor().word_count(2), "2 mots");
    assert_eq!(Lang::De.editor().word_count(1), "1 Wort");
    assert_eq!(Lang::Nl.chat().replies.format(3), "3 antwoorden");
    assert_eq!(
        Lang::En
            .assistant()
            .refused_operations
            .format_with(1, &[("reasons", "no such block")]),
        "1 proposed change was refused: no such block"
    );
    assert_eq!(
        Lang::Fr
            .chat()
            .too_long
            .format_with(9000, &[("max", "8192")]),
        "Ce message est trop long : 9000 octets, la limite est de 8192."
    );
    // German writes one form for both: the field is a Plural all the same.
    assert_eq!(Lang::De.chat().unread_count.format(1), "1 ungelesen");
}

#[test]
fn variables_are_substituted_once() {
    let s = Lang::En.chat();
    assert_eq!(fill(s.replying_to, &[("name", "Ana")]), "Replying to Ana");
    assert_eq!(
        fill(s.typing_two, &[("a", "{b}"), ("b", "Bo")]),
        "{b} and Bo are typing…"
    );
    assert_eq!(fill("{x} {", &[]), "{x} {");
    assert_eq!(
        fill(
            Lang::Fr.assistant().errors.rate_limited,
            &[("scope", "de votre part"), ("wait", "Réessayez plus tard.")]
        ),
        "Trop de demandes de votre part. Réessayez plus tard."
    );
}

#[test]
fn tags_choose_a_language() {
    assert_eq!(Lang::from_tag("de-AT"), Lang::De);
    assert_eq!(Lang::from_tag("nl_BE"), Lang::Nl);
    assert_eq!(Lang::from_tag("FR"), Lang::Fr);
    assert_eq!(Lang::from_tag("fr-CA"), Lang::Fr);
    assert_eq!(Lang::from_tag("xx"), Lang::En);
    assert_eq!(Lang::from_tag(""), Lang::En);
    assert_eq!(Lang::parse_tag("es"), None);
    assert_eq!(Lang::parse_tag("nl-BE"), Some(Lang::Nl));
    for lang in Lang::ALL {
        assert_eq!(Lang::from_tag(lang.tag()), lang);
    }
    assert_eq!(Lang::from_element(Some("de"), Some("fr")), Lang::De);
    assert_eq!(Lang::from_element(Some(""), Some("fr")), Lang::Fr);
    assert_eq!(Lang::from_element(None, Some("nl-NL")), Lang::Nl);
    assert_eq!(Lang::from_element(None, None), Lang::En);
    assert_eq!(Lang::from_element(Some("es"), Some("fr")), Lang::En);
}

#[test]
fn numbers_are_plain_digits_natively() {
    assert_eq!(Lang::Fr.format_number(12_345), "12345");
}

#[test]
fn every_language_has_every_message() {
    let json: serde_json::Value =
        serde_json::from_str(catalogue_json()).expect("catalogue_json is JSON");
    let langs = json.as_object().expect("an object of languages");
    let tags: Vec<&str> = Lang::ALL.iter().map(|l| l.tag()).collect();
    let mut keys: Vec<&String> = langs.keys().collect();
    keys.sort();
    assert_eq!(keys, tags);
    let en = langs["en"].as_object().expect("en's messages");
    for prefix in ["editor-", "chat-", "assistant-", "gallery-"] {
        assert!(en.keys().any(|k| k.starts_with(prefix)), "{prefix}");
    }
    for (tag, messages) in langs {
        let messages = messages.as_object().expect("messages");
        let mut ids: Vec<&String> = messages.keys().collect();
        let mut en_ids: Vec<&String> = en.keys().collect();
        ids.sort();
        en_ids.sort();
        assert_eq!(ids, en_ids, "{tag}");
        for (id, value) in messages {
            // Same shape as English: a string, or a plural object.
            assert_eq!(value.is_object(), en[id].is_object(), "{tag} {id}");
            if let Some(v) = value.as_str() {
                assert!(!v.is_empty(), "{tag} {id}");
            }
        }
    }
}

#[test]
fn the_json_catalogue_keeps_fluent_variables() {
    let json: serde_json::Value =
        serde_json::from_str(catalogue_json()).expect("catalogue_json is JSON");
    assert_eq!(json["en"]["editor-bold"], "Bold");
    assert_eq!(json["fr"]["chat-replying-to"], "Réponse à { $name }");
    assert_eq!(
        json["en"]["editor-words"],
        serde_json::json!({"one": "{ $n } word", "other": "{ $n } words"})
    );
    assert_eq!(
        json["de"]["chat-unread-count"],
        serde_json::json!({"one": "{ $n } ungelesen", "other": "{ $n } ungelesen"})
    );
    assert_eq!(
        json["en"]["assistant-errors-wait-secs"],
        "Try again in { $secs } s."
    );
    assert_eq!(json["nl"]["gallery-title"], "Atelier-componentengalerij");
}

#[test]
fn statics_are_the_languages_own() {
    assert_eq!(editor::FR.bold, "Gras");
    assert_eq!(Lang::De.editor().bold, "Fett");
    assert_eq!(
        Lang::Nl.assistant().errors.timeout,
        assistant::NL.errors.timeout
    );
    assert_eq!(gallery::EN.title, "Atelier component gallery");
    assert_eq!(Lang::Fr.chat().replies.lang, Lang::Fr);
}
