//! The shopper's language: Chinese (the tutorial's wording) by default, English when the
//! browser prefers it or the shopper switches. The server decides (`?lang=` → cookie →
//! `Accept-Language`) and writes it into `<html lang>`; hydration reads it back from there.
//! This module alone reads `?lang=` and reads and writes the language cookie.
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

pub const LANG_COOKIE: &str = "scanpay_lang";

impl Lang {
    /// The `lang` attribute / query / cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let code = code.trim().to_ascii_lowercase();
        if code.starts_with("zh") {
            Some(Lang::Zh)
        } else if code.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The preferred supported language of an `Accept-Language` header (by q-value; ties keep
    /// the header's order), Chinese when none is supported.
    #[cfg(feature = "ssr")]
    pub fn from_accept_language(header: &str) -> Lang {
        accept_language::parse(header)
            .iter()
            .find_map(|tag| Lang::parse(tag))
            .unwrap_or(Lang::Zh)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// The language of this request (server) or of the hydrated document (browser).
pub fn current_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| lang_of_request(&parts))
            .unwrap_or(Lang::Zh)
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|code| Lang::parse(&code))
            .unwrap_or(Lang::Zh)
    }
}

#[cfg(feature = "ssr")]
fn lang_of_request(parts: &http::request::Parts) -> Lang {
    let from_header = || {
        parts
            .headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
    };
    chosen_in_query(parts)
        .or_else(|| lang_of_cookies(&parts.headers))
        .or_else(from_header)
        .unwrap_or(Lang::Zh)
}

/// The language a `?lang=` in the request chose, if it names a supported one.
#[cfg(feature = "ssr")]
fn chosen_in_query(parts: &http::request::Parts) -> Option<Lang> {
    parts.uri.query().and_then(lang_of_query)
}

/// `lang=<code>` among a query's `&`-separated pairs (the key exactly, not `slang=`).
#[cfg(feature = "ssr")]
fn lang_of_query(query: &str) -> Option<Lang> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == "lang").then_some(value))
        .and_then(Lang::parse)
}

/// The language cookie among the request's cookies.
#[cfg(feature = "ssr")]
fn lang_of_cookies(headers: &http::HeaderMap) -> Option<Lang> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find_map(|(name, value)| (name == LANG_COOKIE).then_some(value))
        .and_then(Lang::parse)
}

/// The `Set-Cookie` value that remembers `lang` for a year. `HttpOnly`: no script reads it (a
/// page in the browser reads `<html lang>`); `Secure` when the site is served over https.
#[cfg(feature = "ssr")]
fn lang_cookie(lang: Lang, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}",
        lang.code()
    )
}

/// A `?lang=` choice is kept in a cookie for the pages that follow (server only; a page in the
/// browser never changes language without a page load).
pub fn remember_lang_choice() {
    #[cfg(feature = "ssr")]
    {
        let chosen =
            use_context::<http::request::Parts>().and_then(|parts| chosen_in_query(&parts));
        let https = use_context::<crate::state::AppState>().is_some_and(|state| state.is_https());
        if let (Some(lang), Some(response)) =
            (chosen, use_context::<leptos_axum::ResponseOptions>())
        {
            if let Ok(value) = http::HeaderValue::from_str(&lang_cookie(lang, https)) {
                response.insert_header(http::header::SET_COOKIE, value);
            }
        }
    }
}

/// The texts of the language in context (the server's pages), else of the document (islands in
/// the browser).
pub fn use_texts() -> &'static Texts {
    use_context::<Lang>().unwrap_or_else(current_lang).texts()
}

mod error_texts;
mod texts;
pub use texts::{Texts, EN, ZH};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use payments::status::PaymentFailure;

    #[cfg(feature = "ssr")]
    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR, en;q=0.5, zh;q=0.7"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("de-DE"), Lang::Zh);
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
        // Ties keep the header's order; malformed entries are skipped, not fatal.
        assert_eq!(Lang::from_accept_language("en;q=0.5, zh;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("zh;q=abc, en;q=0.1"), Lang::En);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_query_chooses_only_with_the_lang_key_and_a_supported_code() {
        assert_eq!(lang_of_query("lang=en"), Some(Lang::En));
        assert_eq!(lang_of_query("transport=poll&lang=zh-CN"), Some(Lang::Zh));
        assert_eq!(lang_of_query("slang=en"), None);
        assert_eq!(lang_of_query("lang=fr"), None);
        assert_eq!(lang_of_query("lang"), None);
        assert_eq!(lang_of_query(""), None);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_cookie_written_is_the_cookie_read() {
        for (lang, https) in [(Lang::Zh, false), (Lang::En, true)] {
            let mut headers = http::HeaderMap::new();
            let set_cookie = lang_cookie(lang, https);
            assert!(
                set_cookie.contains("; HttpOnly; SameSite=Lax"),
                "{set_cookie}"
            );
            assert_eq!(set_cookie.ends_with("; Secure"), https, "{set_cookie}");
            let pair = set_cookie.split(';').next().unwrap();
            headers.insert(
                http::header::COOKIE,
                format!("other=1; {pair}").parse().unwrap(),
            );
            assert_eq!(lang_of_cookies(&headers), Some(lang));
        }
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::COOKIE, "x_scanpay_lang=en".parse().unwrap());
        assert_eq!(lang_of_cookies(&headers), None);
    }

    #[test]
    fn an_unknown_order_and_an_unknown_payment_read_differently() {
        for t in [&ZH, &EN] {
            assert_ne!(
                t.error(ErrorCode::OrderNotFound),
                t.error(ErrorCode::PaymentNotFound)
            );
        }
    }

    /// CJK ideographs and full-width forms: what an English page must never show.
    fn has_cjk(s: &str) -> bool {
        s.chars()
            .any(|c| matches!(c, '\u{3400}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}'))
    }

    #[test]
    fn english_error_texts_have_no_chinese() {
        for code in ErrorCode::ALL {
            assert!(!has_cjk(EN.error(*code)), "{code:?}: {}", EN.error(*code));
            assert!(has_cjk(ZH.error(*code)), "{code:?}: {}", ZH.error(*code));
        }
    }

    #[test]
    fn every_payment_failure_is_worded_in_both_languages() {
        for failure in PaymentFailure::ALL {
            let (en, zh) = ((EN.failure)(*failure), (ZH.failure)(*failure));
            assert!(!en.is_empty() && !has_cjk(en), "{failure:?}: {en}");
            assert!(has_cjk(zh), "{failure:?}: {zh}");
        }
        let (en, zh) = (&EN.failure, &ZH.failure);
        assert_ne!(
            en(PaymentFailure::DeclinedByPayer),
            en(PaymentFailure::Other)
        );
        assert_ne!(
            zh(PaymentFailure::InsufficientBalance),
            zh(PaymentFailure::Other)
        );
        assert!(!has_cjk(EN.untitled_order) && has_cjk(ZH.untitled_order));
    }

    #[test]
    fn the_description_limit_in_the_texts_is_the_enforced_one() {
        let limit = payments::limits::MAX_DESCRIPTION_CHARS.to_string();
        for t in [&ZH, &EN] {
            assert!(t.error(ErrorCode::DescriptionTooLong).contains(&limit));
        }
    }
}
