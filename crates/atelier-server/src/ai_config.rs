//! The AI endpoint's options: where answers come from (a model server
//! or the embedded model), its key, its limits.

use crate::ai_limits::RateSpec;
use crate::error::{StartError, setting};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `atelier serve` flags of the AI endpoint (flattened into
/// [`crate::config::ServeArgs`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AiArgs {
    /// OpenAI-compatible model server that `/ai/v1/chat/completions`
    /// forwards to: its base URL, ending in `/v1` (vLLM
    /// `http://HOST:8000/v1`, Ollama `http://localhost:11434/v1`, llama.cpp
    /// `http://localhost:8080/v1`, Albert, `https://api.mistral.ai/v1`).
    /// Without it, the embedded model answers.
    #[arg(long, env = "ATELIER_AI_URL", value_name = "URL")]
    pub ai_url: Option<String>,
    /// Model name sent to the model server, replacing the client's
    /// [default: the client's `model`].
    #[arg(long, env = "ATELIER_AI_MODEL", value_name = "NAME")]
    pub ai_model: Option<String>,
    /// File holding the model server's API key (else the environment
    /// variable ATELIER_AI_KEY). Sent as a bearer token to the model
    /// server only: never logged, never sent to browsers.
    #[arg(long, env = "ATELIER_AI_KEY_FILE", value_name = "PATH")]
    pub ai_key_file: Option<PathBuf>,
    /// The embedded model's GGUF file, used when there is no --ai-url
    /// [default: $ATELIER_MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf, else
    /// data/models/…; `scripts/fetch-model.sh` puts it there]. `none`
    /// turns the embedded model off.
    #[arg(long, env = "ATELIER_AI_MODEL_PATH", value_name = "PATH")]
    pub ai_model_path: Option<PathBuf>,
    /// AI requests allowed per user, as windows: COUNT/UNIT,… with units
    /// s, min, h, day, or `none` [default: 3/min,50/h,200/day].
    #[arg(long, env = "ATELIER_AI_RATE_USER", value_name = "LIMITS")]
    pub ai_rate_user: Option<String>,
    /// AI requests allowed per document [default: 5/min,100/h,500/day].
    #[arg(long, env = "ATELIER_AI_RATE_DOCUMENT", value_name = "LIMITS")]
    pub ai_rate_document: Option<String>,
    /// Longest wait, in seconds, for the model server to start answering
    /// and between two parts of a streamed answer [default: 60].
    #[arg(long, env = "ATELIER_AI_TIMEOUT_SECS", value_name = "SECS")]
    pub ai_timeout_secs: Option<u64>,
}

/// The same options in the TOML file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AiFileOptions {
    /// `ai_url`.
    pub ai_url: Option<String>,
    /// `ai_model`.
    pub ai_model: Option<String>,
    /// `ai_key_file`.
    pub ai_key_file: Option<PathBuf>,
    /// `ai_model_path`.
    pub ai_model_path: Option<PathBuf>,
    /// `ai_rate_user`.
    pub ai_rate_user: Option<String>,
    /// `ai_rate_document`.
    pub ai_rate_document: Option<String>,
    /// `ai_timeout_secs`.
    pub ai_timeout_secs: Option<u64>,
}

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key, for the `Authorization` header alone.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// The resolved AI options.
#[derive(Debug, Clone)]
pub struct AiConfig {
    /// The model server's base URL (`…/v1`), if any.
    pub url: Option<String>,
    /// The model name to send it.
    pub model: Option<String>,
    /// Its API key.
    pub key: Option<ApiKey>,
    /// The embedded model's file, when it is on (no `url`).
    pub model_path: Option<PathBuf>,
    /// Per-user limit.
    pub rate_user: RateSpec,
    /// Per-document limit.
    pub rate_document: RateSpec,
    /// Longest wait for the model server.
    pub timeout: Duration,
}

impl Default for AiConfig {
    /// No model server and the embedded model off (what tests start);
    /// `atelier serve` turns the embedded model on through
    /// [`AiConfig::resolve`].
    fn default() -> Self {
        AiConfig {
            url: None,
            model: None,
            key: None,
            model_path: None,
            rate_user: RateSpec::docs_user_default(),
            rate_document: RateSpec::docs_document_default(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Where the embedded model is looked for by default.
pub fn default_model_path() -> PathBuf {
    let dir = std::env::var_os("ATELIER_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("data/models"));
    dir.join("SmolLM2-135M-Instruct.Q4_1.gguf")
}

impl AiConfig {
    /// Flags over the file over defaults; reads the key file, or the
    /// `ATELIER_AI_KEY` environment variable.
    pub fn resolve(args: AiArgs, file: AiFileOptions) -> Result<AiConfig, StartError> {
        let d = AiConfig::default();
        let url = args
            .ai_url
            .or(file.ai_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(u) = &url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(setting(format!(
                "--ai-url {u:?} must be an http:// or https:// URL (ending in /v1)"
            )));
        }
        let key = match args.ai_key_file.or(file.ai_key_file) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    setting(format!(
                        "cannot read the AI key file {}: {e}",
                        path.display()
                    ))
                })?;
                let key = text.trim();
                if key.is_empty() {
                    return Err(setting(format!(
                        "the AI key file {} is empty",
                        path.display()
                    )));
                }
                Some(ApiKey::new(key))
            }
            None => std::env::var("ATELIER_AI_KEY")
                .ok()
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .map(ApiKey::new),
        };
        let model_path = match args.ai_model_path.or(file.ai_model_path) {
            Some(p) if p.as_os_str() == "none" => None,
            Some(p) => Some(p),
            None => Some(default_model_path()),
        };
        let rate =
            |flag: &str, v: Option<String>, default: RateSpec| -> Result<RateSpec, StartError> {
                match v {
                    Some(s) => s.parse().map_err(|e| setting(format!("--{flag}: {e}"))),
                    None => Ok(default),
                }
            };
        let timeout_secs = args
            .ai_timeout_secs
            .or(file.ai_timeout_secs)
            .unwrap_or(d.timeout.as_secs());
        if timeout_secs == 0 {
            return Err(setting("--ai-timeout-secs must be at least 1"));
        }
        Ok(AiConfig {
            // With a model server, the embedded model stays unloaded.
            model_path: if url.is_some() { None } else { model_path },
            url,
            model: args.ai_model.or(file.ai_model),
            key,
            rate_user: rate(
                "ai-rate-user",
                args.ai_rate_user.or(file.ai_rate_user),
                d.rate_user,
            )?,
            rate_document: rate(
                "ai-rate-document",
                args.ai_rate_document.or(file.ai_rate_document),
                d.rate_document,
            )?,
            timeout: Duration::from_secs(timeout_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_its_file_and_never_shows() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("key");
        std::fs::write(&path, "sk-secret-123\n").expect("write");
        let cfg = AiConfig::resolve(
            AiArgs {
                ai_url: Some("http://127.0.0.1:9/v1/".into()),
                ai_key_file: Some(path),
                ai_rate_user: Some("1/s".into()),
                ..Default::default()
            },
            AiFileOptions::default(),
        )
        .expect("valid");
        assert_eq!(cfg.url.as_deref(), Some("http://127.0.0.1:9/v1"));
        assert_eq!(cfg.key.as_ref().map(ApiKey::expose), Some("sk-secret-123"));
        assert_eq!(
            cfg.model_path, None,
            "a model server turns the embedded model off"
        );
        assert_eq!(cfg.rate_user.to_string(), "1/s");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("sk-secret"), "{shown}");
    }

    #[test]
    fn bad_options_say_what_to_fix() {
        let err = |args: AiArgs| {
            AiConfig::resolve(args, AiFileOptions::default())
                .expect_err("invalid")
                .to_string()
        };
        assert!(
            err(AiArgs {
                ai_url: Some("localhost:11434".into()),
                ..Default::default()
            })
            .contains("http")
        );
        assert!(
            err(AiArgs {
                ai_rate_document: Some("5/fortnight".into()),
                ..Default::default()
            })
            .contains("--ai-rate-document")
        );
        assert!(
            err(AiArgs {
                ai_key_file: Some("/nonexistent/key".into()),
                ..Default::default()
            })
            .contains("key file")
        );
        let off = AiConfig::resolve(
            AiArgs {
                ai_model_path: Some("none".into()),
                ..Default::default()
            },
            AiFileOptions::default(),
        )
        .expect("valid");
        assert_eq!(off.model_path, None);
    }
}
