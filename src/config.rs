//! Which model the crew talks to, if any: `<home>/shopcrew.toml`, then the environment.
//!
//! ```toml
//! [model]
//! base_url = "https://api.deepseek.com/v1"   # any OpenAI-compatible endpoint (Ollama, vLLM, Qwen …)
//! model = "deepseek-chat"
//! api_key_env = "DEEPSEEK_API_KEY"           # the variable that holds the key, never the key
//! timeout_secs = 60
//! retries = 3                                # per call, on 429, 5xx and timeouts
//! plan_retries = 2                           # invalid plans sent back to the model
//! max_steps = 8                              # model turns an employee may take per task
//! daily_ai_budget = 5.0                      # yuan of model calls a day, priced by [model.prices]
//!
//! [model.prices."deepseek-chat"]
//! prompt_per_million = 2.0
//! completion_per_million = 8.0
//! ```
//!
//! `OPENAI_BASE_URL`, `OPENAI_API_KEY` and `SHOPCREW_MODEL` override the file. With neither a
//! base URL nor a key anywhere, there is no model and the offline planner serves. The key is
//! kept in [`ApiKey`], whose `Debug` and `Display` never show it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{FileError, Result};

pub const CONFIG_FILE: &str = "shopcrew.toml";
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// An API key. Printing it in any way shows only that it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Yuan per million tokens of one model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub prompt_per_million: f64,
    pub completion_per_million: f64,
}

/// A configured model endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelConfig {
    pub base_url: String,
    pub model: String,
    /// Where the key came from (a variable name), for `doctor`; never the key.
    pub key_source: Option<String>,
    #[serde(skip)]
    pub api_key: Option<ApiKey>,
    pub timeout_secs: u64,
    pub retries: u32,
    pub plan_retries: u32,
    /// Model turns an employee may take for one task.
    pub max_steps: u32,
    /// Yuan the crew may spend on model calls per shop-local day (needs a price table).
    pub daily_ai_budget: Option<f64>,
    /// A different model for some employees.
    pub employee_models: BTreeMap<String, String>,
    pub prices: BTreeMap<String, Price>,
}

impl ModelConfig {
    /// An endpoint and model with the defaults `shopcrew.toml` gives when silent: no key,
    /// 60 s timeout, 3 retries, 2 plan retries, 8 steps per task, no AI budget or prices.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> ModelConfig {
        ModelConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            model: model.into(),
            key_source: None,
            api_key: None,
            timeout_secs: 60,
            retries: 3,
            plan_retries: 2,
            max_steps: 8,
            daily_ai_budget: None,
            employee_models: BTreeMap::new(),
            prices: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    model: RawModel,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawModel {
    base_url: Option<String>,
    model: Option<String>,
    api_key_env: Option<String>,
    timeout_secs: Option<u64>,
    retries: Option<u32>,
    plan_retries: Option<u32>,
    max_steps: Option<u32>,
    daily_ai_budget: Option<f64>,
    #[serde(default)]
    employees: BTreeMap<String, String>,
    #[serde(default)]
    prices: BTreeMap<String, Price>,
}

/// Reads the home's `shopcrew.toml` (if any) and the environment through `env`. `Ok(None)`
/// means no model is configured.
pub fn load(home: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<ModelConfig>> {
    let file = home.join(CONFIG_FILE);
    let raw = match std::fs::read_to_string(&file) {
        Ok(text) => toml::from_str::<RawConfig>(&text).map_err(|e| FileError::from_toml(&file, &text, &e))?,
        // No file, or no usable home yet (opening the home reports that): no model settings.
        Err(_) if !home.is_dir() => RawConfig::default(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => RawConfig::default(),
        Err(e) => return Err(FileError::new(&file, None, format!("cannot read the config file: {e}")).into()),
    };
    let m = raw.model;
    let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let (key, key_source) = match set(env("OPENAI_API_KEY")) {
        Some(k) => (Some(k), Some("OPENAI_API_KEY".to_string())),
        None => match &m.api_key_env {
            Some(var) => (set(env(var)), Some(var.clone())),
            None => (None, None),
        },
    };
    let base_url = set(env("OPENAI_BASE_URL")).or(m.base_url);
    if base_url.is_none() && key.is_none() {
        return Ok(None);
    }
    let timeout_secs = m.timeout_secs.unwrap_or(60);
    if timeout_secs == 0 {
        return Err(FileError::new(&file, None, "model.timeout_secs must be at least 1").into());
    }
    Ok(Some(ModelConfig {
        base_url: base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_string()).trim_end_matches('/').to_string(),
        model: set(env("SHOPCREW_MODEL")).or(m.model).unwrap_or_else(|| DEFAULT_MODEL.to_string()),
        key_source: key.as_ref().and(key_source),
        api_key: key.map(ApiKey),
        timeout_secs,
        retries: m.retries.unwrap_or(3),
        plan_retries: m.plan_retries.unwrap_or(2),
        max_steps: m.max_steps.unwrap_or(8).max(1),
        daily_ai_budget: m.daily_ai_budget,
        employee_models: m.employees,
        prices: m.prices,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn nothing_set_means_no_model() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path(), &env_of(&[])).unwrap(), None);
    }

    #[test]
    fn the_environment_overrides_the_file_and_the_key_never_prints() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "[model]\nbase_url = \"http://file/v1/\"\nmodel = \"file-model\"\napi_key_env = \"MY_KEY\"\n",
        )
        .unwrap();
        let cfg = load(dir.path(), &env_of(&[("MY_KEY", "sk-file-secret")])).unwrap().unwrap();
        assert_eq!((cfg.base_url.as_str(), cfg.model.as_str()), ("http://file/v1", "file-model"));
        assert_eq!(cfg.key_source.as_deref(), Some("MY_KEY"));
        let shown = format!("{cfg:?} {}", serde_json::to_string(&cfg).unwrap());
        assert!(!shown.contains("sk-file-secret"), "{shown}");

        let env = env_of(&[
            ("OPENAI_BASE_URL", "http://env/v1"),
            ("OPENAI_API_KEY", "sk-env"),
            ("SHOPCREW_MODEL", "env-model"),
        ]);
        let cfg = load(dir.path(), &env).unwrap().unwrap();
        assert_eq!((cfg.base_url.as_str(), cfg.model.as_str()), ("http://env/v1", "env-model"));
        assert_eq!(cfg.api_key.as_ref().map(ApiKey::expose), Some("sk-env"));
    }

    #[test]
    fn a_broken_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "[model]\nbase_url = \"x\"\ntimeout = 5\n").unwrap();
        let err = load(dir.path(), &env_of(&[])).unwrap_err().to_string();
        assert!(err.contains("shopcrew.toml:3"), "{err}");
    }
}
