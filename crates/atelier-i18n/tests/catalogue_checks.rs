//! The build's checks on the catalogue, run on small broken catalogues:
//! each must fail with a message naming the file and the message.

#![allow(missing_docs)]

#[allow(dead_code)]
#[path = "../build/compile.rs"]
mod compile;

use std::path::Path;

/// A catalogue of `files` (`("fr/editor.ftl", "…")`); the generated Rust,
/// or every error.
fn compile_catalogue(files: &[(&str, &str)]) -> Result<String, Vec<String>> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let mut errors = Vec::new();
    match compile::compile(dir.path(), &mut errors) {
        Some(rust) if errors.is_empty() => Ok(rust),
        _ => Err(errors),
    }
}

const EN: &str = "\
### The test widget.

# A button.
editor-bold = Bold
# How many words, { $n }.
editor-words = { $n ->
    [one] { $n } word
   *[other] { $n } words
}
# A greeting, { $name }.
editor-hello = Hello { $name }
";

const FR: &str = "\
editor-bold = Gras
editor-words = { $n ->
    [one] { $n } mot
   *[other] { $n } mots
}
editor-hello = Bonjour { $name }
";

fn expect_error(files: &[(&str, &str)], needle: &str) {
    match compile_catalogue(files) {
        Ok(_) => panic!("the catalogue compiled; expected an error containing {needle:?}"),
        Err(errors) => assert!(
            errors.iter().any(|e| e.contains(needle)),
            "no error contains {needle:?}: {errors:#?}"
        ),
    }
}

#[test]
fn a_complete_catalogue_compiles() {
    let rust =
        compile_catalogue(&[("en/editor.ftl", EN), ("fr/editor.ftl", FR)]).expect("compiles");
    assert!(rust.contains("pub bold: &'static str"));
    assert!(rust.contains("pub words: Plural"));
    assert!(rust.contains(r#"hello: "Bonjour {name}""#));
    assert!(rust.contains(r#"Plural { lang: Lang::Fr, one: "{n} mot", other: "{n} mots" }"#));
    assert!(rust.contains(r#"#[doc = "A button.\n\n(`editor-bold`)"]"#));
}

#[test]
fn a_missing_message_fails_the_build() {
    let fr = FR.replace("editor-bold = Gras\n", "");
    expect_error(
        &[("en/editor.ftl", EN), ("fr/editor.ftl", &fr)],
        "messages/fr/editor.ftl: lacks editor-bold",
    );
}

#[test]
fn a_message_english_lacks_fails_the_build() {
    let fr = format!("{FR}editor-italic = Italique\n");
    expect_error(
        &[("en/editor.ftl", EN), ("fr/editor.ftl", &fr)],
        "messages/fr/editor.ftl: has editor-italic, which messages/en/editor.ftl lacks",
    );
}

#[test]
fn a_different_variable_fails_the_build() {
    let fr = FR.replace("Bonjour { $name }", "Bonjour { $nom }");
    expect_error(
        &[("en/editor.ftl", EN), ("fr/editor.ftl", &fr)],
        "editor-hello uses the variables {$nom} but messages/en/editor.ftl uses {$name}",
    );
}

#[test]
fn a_missing_file_fails_the_build() {
    expect_error(
        &[("en/editor.ftl", EN), ("fr/chat.ftl", "chat-x = x\n")],
        "messages/fr/editor.ftl",
    );
}

#[test]
fn unsupported_fluent_is_refused_with_a_reason() {
    let cases = [
        ("editor-bold = { -brand }", "term -brand"),
        ("editor-bold = { NUMBER($n) }", "function NUMBER()"),
        (
            "editor-bold = { editor-hello }",
            "reference to message editor-hello",
        ),
        (
            "editor-bold = { $n ->\n    [one] a\n    [other] b\n}",
            "must have a default variant",
        ),
        (
            "editor-bold = { $n ->\n   *[one] a\n    [other] b\n}",
            "not *[one]",
        ),
        (
            "editor-bold = { $n ->\n    [few] a\n   *[other] b\n}",
            "variant [few]",
        ),
        (
            "editor-bold = { $who ->\n    [one] a\n   *[other] b\n}",
            "other than `$n`",
        ),
        ("bold = Bold", "ids in editor.ftl start with `editor-`"),
        ("editor-bold = Bold\n    .title = Bold text", "attributes"),
        ("editor-bold = {", "messages/en/editor.ftl:"),
    ];
    for (line, needle) in cases {
        let en = format!("# Doc.\n{line}\n");
        expect_error(&[("en/editor.ftl", &en)], needle);
    }
}

#[test]
fn english_messages_need_a_comment() {
    expect_error(
        &[("en/editor.ftl", "editor-bold = Bold\n")],
        "editor-bold has no comment",
    );
}

#[test]
fn a_language_without_a_select_still_gets_a_plural() {
    let fr = FR.replace(
        "editor-words = { $n ->\n    [one] { $n } mot\n   *[other] { $n } mots\n}",
        "editor-words = { $n } mots",
    );
    let rust =
        compile_catalogue(&[("en/editor.ftl", EN), ("fr/editor.ftl", &fr)]).expect("compiles");
    assert!(rust.contains(r#"Plural { lang: Lang::Fr, one: "{n} mots", other: "{n} mots" }"#));
}
