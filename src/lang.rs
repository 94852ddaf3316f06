//! The two languages the crew speaks: Chinese for most merchants, English for the rest.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Chinese when the text holds any CJK ideograph, English otherwise.
    pub fn detect(text: &str) -> Lang {
        if text.chars().any(is_cjk) { Lang::Zh } else { Lang::En }
    }

    /// Picks the Chinese or the English form.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Text { zh: zh.into(), en: en.into() }
    }

    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }

    /// Both languages with the money sign of the shop's currency (see [`crate::money::in_currency`]).
    pub fn in_currency(&self, code: &str) -> Text {
        Text { zh: crate::money::in_currency(&self.zh, code), en: crate::money::in_currency(&self.en, code) }
    }
}
