//! Measures the embedded model for `cargo xtask bench ai`: time to first
//! token for a 200-token prompt (cold, then with the action's system message
//! cached and a different text after it) and generated tokens per second.
//! Prints one JSON object on stdout.
//!
//! ```text
//! cargo run --release -p atelier-llm --example bench -- [MODEL.gguf] [--runs N]
//! ```

use atelier_ai::prompts::{Action, action_request};
use atelier_llm::{Engine, GenerateOptions, chat_template, default_model_path};
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

/// Sentences the 200-token prompts are made of (two different documents,
/// so the warm run reuses only the system prompt).
const TEXT_A: &str = "The team met on Monday to plan the spring release. Maria will update the onboarding guide and Tom will fix the login bug before Friday. The design review moves to Thursday afternoon. Everyone agreed to write shorter status notes. The budget for the conference trip is approved, but hotel rooms must be booked this week. Customer feedback on the new editor is positive, although several people asked for a dark theme and better keyboard shortcuts. ";
const TEXT_B: &str = "Le conseil municipal a voté le nouveau plan de mobilité. Les pistes cyclables seront prolongées jusqu'à la gare et le parking du centre deviendra payant le samedi. Les riverains pourront donner leur avis lors de trois réunions publiques en mars. La ville espère réduire le trafic de vingt pour cent en cinq ans. Une navette électrique gratuite reliera les quartiers nord au marché. ";

fn tokens(engine: &Engine, p: &chat_template::Prompt) -> usize {
    p.segments
        .iter()
        .map(|s| engine.tokenize(s).map(|t| t.len()).unwrap_or(0))
        .sum()
}

fn prompt_of(engine: &Engine, text: &str, target: usize) -> (chat_template::Prompt, usize) {
    let mut body = String::new();
    loop {
        // Grow word by word until the whole prompt has `target` tokens.
        for word in text.split_inclusive(' ') {
            let mut candidate = body.clone();
            candidate.push_str(word);
            let req = action_request(&Action::Summarize, candidate.trim_end());
            let p = chat_template::render(&req.messages, None);
            if tokens(engine, &p) > target {
                let req = action_request(&Action::Summarize, body.trim_end());
                let p = chat_template::render(&req.messages, None);
                let n = tokens(engine, &p);
                return (p, n);
            }
            body = candidate;
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() -> ExitCode {
    let mut path = default_model_path();
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(3).max(1),
            other => path = other.into(),
        }
    }
    let started = Instant::now();
    let engine = match Engine::load(&path) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (a, a_tokens) = prompt_of(&engine, TEXT_A, 200);
    let (b, b_tokens) = prompt_of(&engine, TEXT_B, 200);
    let first = |p: &chat_template::Prompt| {
        engine
            .generate(p, &GenerateOptions::up_to(1), |_| true)
            .map(|s| (s.first_token_ms, s.cached_prompt_tokens))
    };
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut cached = 0;
    let mut speeds = Vec::new();
    let mut generated = 0;
    for _ in 0..runs {
        engine.clear_prefix_cache();
        let Ok((ms, _)) = first(&a) else {
            return ExitCode::FAILURE;
        };
        cold.push(ms);
        // Another document after the same system prompt.
        let Ok((ms, c)) = first(&b) else {
            return ExitCode::FAILURE;
        };
        warm.push(ms);
        cached = c;
        let opts = GenerateOptions {
            max_tokens: 128,
            ignore_stop: true,
        };
        match engine.generate(&b, &opts, |_| true) {
            Ok(s) => {
                speeds.push(s.tokens_per_second());
                generated = s.completion_tokens;
            }
            Err(e) => {
                eprintln!("bench: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let out = json!({
        "model": engine.info().name,
        "load_ms": load_ms.round(),
        "requantized_tensors": engine.info().requantized_tensors,
        "runs": runs,
        "prompt_tokens": [a_tokens, b_tokens],
        "cached_prefix_tokens": cached,
        "first_token_ms_cold": median(cold.clone()),
        "first_token_ms_cached_prefix": median(warm.clone()),
        "first_token_ms_cold_runs": cold,
        "first_token_ms_cached_prefix_runs": warm,
        "generated_tokens": generated,
        "tokens_per_second": median(speeds.clone()),
        "tokens_per_second_runs": speeds,
        "threads": candle_core::utils::get_num_threads(),
    });
    println!("{out}");
    ExitCode::SUCCESS
}
