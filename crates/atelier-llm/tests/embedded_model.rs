//! The embedded model, for real: when the GGUF file is present (fetched
//! by `scripts/fetch-model.sh`), greedy generation runs and is checked
//! for its shape and its determinism; otherwise each test prints
//! `SKIPPED: <name> (reason)` and passes.

use atelier_ai::openai::{ChatMessage, Role};
use atelier_ai::prompts::{Action, Lang, action_request};
use atelier_llm::{Engine, Finish, GenerateOptions, chat_template, default_model_path};
use std::path::PathBuf;
use std::sync::OnceLock;

fn model_path() -> PathBuf {
    // Tests run in the crate's directory; the default cache is at the
    // workspace root.
    match std::env::var_os("ATELIER_MODEL_PATH") {
        Some(p) => PathBuf::from(p),
        None if std::env::var_os("ATELIER_MODEL_DIR").is_some() => default_model_path(),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(default_model_path()),
    }
}

/// One engine for the whole file (loading takes about a second).
fn engine(test: &str) -> Option<&'static Engine> {
    static ENGINE: OnceLock<Option<Engine>> = OnceLock::new();
    let e = ENGINE.get_or_init(|| {
        let path = model_path();
        if !path.exists() {
            return None;
        }
        Some(Engine::load(&path).expect("the model file present loads"))
    });
    if e.is_none() {
        println!(
            "SKIPPED: {test} (no model file at {}; run scripts/fetch-model.sh)",
            model_path().display()
        );
    }
    e.as_ref()
}

fn generate(
    engine: &Engine,
    messages: &[ChatMessage],
    max: usize,
) -> (String, atelier_llm::GenerationStats) {
    let prompt = chat_template::render(messages, None);
    let mut text = String::new();
    let stats = engine
        .generate(&prompt, &GenerateOptions::up_to(max), |piece| {
            text.push_str(piece);
            true
        })
        .expect("generates");
    (text, stats)
}

#[test]
fn the_tokenizer_keeps_chatml_markers_whole_and_round_trips() {
    let Some(e) = engine("the_tokenizer_keeps_chatml_markers_whole_and_round_trips") else {
        return;
    };
    let ids = e
        .tokenize("<|im_start|>user\nHi<|im_end|>\n")
        .expect("tokenizes");
    assert_eq!(ids.first(), Some(&1), "<|im_start|> is token 1: {ids:?}");
    assert!(ids.contains(&2), "<|im_end|> is token 2: {ids:?}");
    for text in [
        "Déjà vu à Zürich, 2024-12-31: 12345 €",
        "日本語のテキスト 😀 emoji",
        "  leading spaces\tand tabs\n\nnewlines",
    ] {
        let ids = e.tokenize(text).expect("tokenizes");
        assert_eq!(e.detokenize(&ids).expect("decodes"), text);
    }
    // Digits are split one by one, as SmolLM2's pre-tokenizer does.
    assert_eq!(e.tokenize("2024").expect("tokenizes").len(), 4);
    // The prompt's segments tokenize as the whole does.
    let p = chat_template::render(
        &[
            ChatMessage::text(Role::User, "Salut"),
            ChatMessage::text(Role::Assistant, "Bonjour !"),
            ChatMessage::text(Role::User, "Ça va ?"),
        ],
        None,
    );
    let mut parts = Vec::new();
    for s in &p.segments {
        parts.extend(e.tokenize(s).expect("segment"));
    }
    assert_eq!(parts, e.tokenize(&p.text()).expect("whole"));
}

#[test]
fn greedy_generation_is_deterministic_and_the_prefix_cache_changes_nothing() {
    let Some(e) = engine("greedy_generation_is_deterministic_and_the_prefix_cache_changes_nothing")
    else {
        return;
    };
    let req = action_request(&Action::Translate(Lang::En), "Le chat dort sur le canapé.");
    e.clear_prefix_cache();
    let (cold, cold_stats) = generate(e, &req.messages, 40);
    let (warm, warm_stats) = generate(e, &req.messages, 40);
    println!("cold: {cold:?} {cold_stats:?}");
    println!("warm: {warm:?} {warm_stats:?}");
    assert_eq!(cold_stats.cached_prompt_tokens, 0);
    assert!(warm_stats.cached_prompt_tokens > 50, "{warm_stats:?}");
    assert_eq!(cold, warm, "same prompt, same answer, cached or not");
    // A conversation that goes on does not read its earlier turns again:
    // the second turn reads past the system message, the third past the
    // first exchange too.
    let mut messages = req.messages.clone();
    messages.push(ChatMessage::text(Role::Assistant, cold.clone()));
    messages.push(ChatMessage::text(Role::User, "Shorter, please."));
    let (second, stats) = generate(e, &messages, 10);
    assert_eq!(stats.cached_prompt_tokens, warm_stats.cached_prompt_tokens);
    messages.push(ChatMessage::text(Role::Assistant, second));
    messages.push(ChatMessage::text(Role::User, "Thanks."));
    let (_, stats) = generate(e, &messages, 10);
    let first_exchange: usize = chat_template::render(&messages, None).segments[..3]
        .iter()
        .map(|s| e.tokenize(s).expect("tokens").len())
        .sum();
    assert_eq!(stats.cached_prompt_tokens, first_exchange, "{stats:?}");
    assert!(!cold.trim().is_empty(), "an answer: {cold:?}");
    assert!(!cold.contains("<|im_end|>"), "{cold:?}");
    assert!(cold_stats.completion_tokens <= 40);
}

#[test]
fn a_caller_that_stops_stops_generation() {
    let Some(e) = engine("a_caller_that_stops_stops_generation") else {
        return;
    };
    let prompt = chat_template::render(
        &[ChatMessage::text(Role::User, "Count from 1 to 100.")],
        None,
    );
    let mut pieces = 0;
    let stats = e
        .generate(&prompt, &GenerateOptions::up_to(200), |_| {
            pieces += 1;
            pieces < 3
        })
        .expect("generates");
    assert_eq!(stats.finish, Finish::Cancelled);
    assert_eq!(pieces, 3);
    assert!(stats.completion_tokens <= 6, "{stats:?}");
    let limited = e
        .generate(&prompt, &GenerateOptions::up_to(5), |_| true)
        .expect("generates");
    assert_eq!(
        (limited.finish, limited.completion_tokens),
        (Finish::Length, 5)
    );
}
