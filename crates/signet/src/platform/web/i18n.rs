//! The web pages' languages: the message catalog (`crates/signet/web/i18n/*.json`, one file per
//! area of the app, every key in English and Chinese, no key in two files) and the choice of a
//! request's language.
//!
//! The choice, first match wins: `?lang=en|zh` (which also sets the `signet_lang` cookie), the
//! `signet_lang` cookie, `Accept-Language` (the most preferred of its English and Chinese
//! entries), English. This module does not render pages (`page.rs` does) and does not hold the
//! command line's messages (`crate::messages` does).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, header};
use serde::Deserialize;

/// The catalog's files, as embedded in the binary: (name, JSON). A new area of the app adds
/// its own file here.
const CATALOG_FILES: &[(&str, &str)] = &[
    ("common.json", include_str!("../../../web/i18n/common.json")),
    ("sender.json", include_str!("../../../web/i18n/sender.json")),
    ("signer.json", include_str!("../../../web/i18n/signer.json")),
    ("create.json", include_str!("../../../web/i18n/create.json")),
];

/// The name of the language cookie.
pub const COOKIE: &str = "signet_lang";

/// A language of the web pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Both languages, in the order the language switch shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The short code used in `?lang=` and the cookie: `en`, `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The BCP 47 tag for `<html lang>`: `en`, `zh-CN`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// `en` or `zh` (exactly, ASCII case-insensitive); anything else is not a choice.
    pub fn from_code(code: &str) -> Option<Lang> {
        if code.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if code.eq_ignore_ascii_case("zh") {
            Some(Lang::Zh)
        } else {
            None
        }
    }
}

/// One entry of the catalog.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    en: String,
    zh: String,
}

/// Every message, by key.
static CATALOG: LazyLock<BTreeMap<String, Entry>> = LazyLock::new(|| {
    let mut all = BTreeMap::new();
    for (name, json) in CATALOG_FILES {
        // The catalog files are files of this crate, checked by the tests below: they parse.
        let part: BTreeMap<String, Entry> = serde_json::from_str(json).unwrap_or_else(|e| panic!("crates/signet/web/i18n/{name}: {e}"));
        all.extend(part);
    }
    all
});

/// The message `key` in `lang`; a missing key is shown as itself (the tests make sure none is).
pub fn t(lang: Lang, key: &str) -> &str {
    match CATALOG.get(key) {
        Some(e) => match lang {
            Lang::En => &e.en,
            Lang::Zh => &e.zh,
        },
        None => key,
    }
}

/// Every message in `lang`, as the JSON object a page embeds for its scripts, with `<`, `>`
/// and `&` written as `\u00XX` so that the text can never end the `<script>` element.
pub fn catalog_json(lang: Lang) -> String {
    let map: BTreeMap<&str, &str> = CATALOG.keys().map(|k| (k.as_str(), t(lang, k))).collect();
    // A map of strings always serializes.
    let json = serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned());
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// A request's language and whether the answer must set the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The language of the answer.
    pub lang: Lang,
    /// Chosen by `?lang=`: the answer sets the cookie so that the next pages keep it.
    pub remember: bool,
}

impl Choice {
    /// The `Set-Cookie` value that remembers this language for a year.
    pub fn cookie(self) -> HeaderValue {
        HeaderValue::from_static(match self.lang {
            Lang::En => "signet_lang=en; Path=/; Max-Age=31536000; SameSite=Lax",
            Lang::Zh => "signet_lang=zh; Path=/; Max-Age=31536000; SameSite=Lax",
        })
    }
}

/// Chooses the language of a request from its query string and headers.
pub fn choose(query: Option<&str>, headers: &HeaderMap) -> Choice {
    if let Some(lang) = query.and_then(from_query) {
        return Choice { lang, remember: true };
    }
    let lang = from_cookie(headers).or_else(|| from_accept_language(headers)).unwrap_or(Lang::En);
    Choice { lang, remember: false }
}

/// The `lang` parameter of a query string, when it names a language.
fn from_query(query: &str) -> Option<Lang> {
    query.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::from_code(v))
}

/// The `signet_lang` cookie, when it names a language.
fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    crate::platform::session::cookie(headers, COOKIE).and_then(Lang::from_code)
}

/// The most preferred English (`en`, `en-*`) or Chinese (`zh`, `zh-*`) entry of
/// `Accept-Language`, by quality and then order; entries with `q=0` are refused ones.
fn from_accept_language(headers: &HeaderMap) -> Option<Lang> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',').take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q.is_nan() || q <= 0.0 {
            continue;
        }
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = Lang::from_code(primary) else { continue };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn no_key_is_in_two_catalog_files() {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (name, json) in CATALOG_FILES {
            let part: BTreeMap<String, Entry> = serde_json::from_str(json).expect("parses");
            for key in part.keys() {
                assert!(seen.insert(key.clone(), name).is_none(), "{key} is in {name} and {}", seen[key]);
            }
        }
    }

    #[test]
    fn every_message_has_both_languages() {
        assert!(CATALOG.len() > 50);
        for (key, e) in CATALOG.iter() {
            assert!(!e.en.trim().is_empty() && !e.zh.trim().is_empty(), "{key} is empty in a language");
            // Placeholders must be the same in both languages.
            let holes = |s: &str| {
                let mut v: Vec<String> = s.split('{').skip(1).filter_map(|p| p.split_once('}')).map(|(h, _)| h.to_owned()).collect();
                v.sort();
                v
            };
            assert_eq!(holes(&e.en), holes(&e.zh), "{key}: placeholders differ");
        }
    }

    #[test]
    fn every_key_the_pages_and_scripts_use_is_in_the_catalog() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("page.rs"),
            include_str!("../../../web/app.js"),
            include_str!("../../../web/verify.js"),
            include_str!("sender.rs"),
            include_str!("../../../web/login.js"),
            include_str!("../../../web/member.js"),
            include_str!("../../../web/dashboard.js"),
            include_str!("../../../web/contract.js"),
            include_str!("../../../web/admin.js"),
            include_str!("../../../web/account.js"),
            include_str!("sign.rs"),
            include_str!("../../../web/sign.js"),
            include_str!("../../../web/new.js"),
        ];
        let mut used = 0;
        for src in sources {
            // Keys are written as t(lang, "key") in Rust and t('key', …) in the scripts.
            let mut rest = src;
            while let Some(at) = rest.find("t(") {
                let word_start = at == 0 || !rest[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                rest = &rest[at + 2..];
                let call = rest.split(')').next().unwrap_or("");
                let Some(q) = call.find(['"', '\'']) else { continue };
                let quote = call[q..].chars().next().unwrap();
                let Some(key) = call[q + 1..].split(quote).next() else { continue };
                if word_start && !key.is_empty() && !key.ends_with(['.', '_']) && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
                    used += 1;
                    assert!(CATALOG.contains_key(key), "{key} is used but not in the catalog");
                }
            }
        }
        assert!(used > 30, "only {used} keys found");
    }

    #[test]
    fn every_value_of_the_report_the_page_words_has_a_message() {
        // verify.js looks these up as prefix + the report's value (docs/verify.md).
        let families: [(&str, &[&str]); 7] = [
            ("verdict.", &["valid", "modified", "invalid"]),
            ("value.", &["TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE", "NONE", "PERMITTED", "NOT_PERMITTED", "intact", "broken", "unknown"]),
            ("value.rev_", &["good", "revoked", "unknown", "not_checked"]),
            ("category.", &["dss", "metadata", "signature", "form_fill", "annotation", "other"]),
            ("reason.", &["HASH_FAILURE", "SIG_CRYPTO_FAILURE", "FORMAT_FAILURE", "NO_CERTIFICATE_CHAIN_FOUND", "REVOKED", "OUT_OF_BOUNDS_NO_POE"]),
            ("level.", &["document_timestamp", "cms"]),
            ("details.", &["signature", "document_timestamp"]),
        ];
        for (prefix, values) in families {
            for v in values {
                assert!(CATALOG.contains_key(&format!("{prefix}{v}")), "{prefix}{v}");
            }
        }
    }

    #[test]
    fn the_query_wins_then_the_cookie_then_accept_language() {
        let zh_browser = headers(&[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")]);
        assert_eq!(choose(Some("lang=en"), &zh_browser), Choice { lang: Lang::En, remember: true });
        assert_eq!(choose(Some("x=1&lang=zh"), &HeaderMap::new()), Choice { lang: Lang::Zh, remember: true });
        assert_eq!(choose(None, &zh_browser), Choice { lang: Lang::Zh, remember: false });
        assert_eq!(choose(Some("lang=fr"), &zh_browser).lang, Lang::Zh, "an unknown ?lang= is ignored");
        let cookie_en = headers(&[("accept-language", "zh-CN"), ("cookie", "a=b; signet_lang=en")]);
        assert_eq!(choose(None, &cookie_en), Choice { lang: Lang::En, remember: false });
        assert_eq!(choose(Some("lang=zh"), &cookie_en).lang, Lang::Zh);
        assert_eq!(choose(None, &HeaderMap::new()).lang, Lang::En);
        assert_eq!(choose(None, &headers(&[("cookie", "signet_lang=klingon")])).lang, Lang::En);
    }

    #[test]
    fn accept_language_takes_the_most_preferred_of_english_and_chinese() {
        let pick = |v: &'static str| choose(None, &headers(&[("accept-language", v)])).lang;
        assert_eq!(pick("zh-TW"), Lang::Zh);
        assert_eq!(pick("zh"), Lang::Zh);
        assert_eq!(pick("fr-FR,zh-CN;q=0.8,en;q=0.5"), Lang::Zh);
        assert_eq!(pick("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En);
        assert_eq!(pick("en;q=0.5,zh-CN;q=0.9"), Lang::Zh);
        assert_eq!(pick("zh;q=0,en"), Lang::En);
        assert_eq!(pick("fr,de"), Lang::En);
        assert_eq!(pick("zhx"), Lang::En, "only zh and zh-* are Chinese");
    }

    #[test]
    fn the_embedded_catalog_cannot_close_its_script_element() {
        for lang in Lang::ALL {
            let json = catalog_json(lang);
            assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
            let back: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
            assert_eq!(back.get("verify.submit").map(String::as_str), Some(if lang == Lang::En { "Verify" } else { "验证" }));
        }
    }
}
