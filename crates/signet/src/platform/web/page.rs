//! The page shell every web page is rendered in: `<!doctype html>`, `<html lang>`, the title,
//! the one stylesheet, a header with the product name and the language switch, `<main>`, the
//! current language's messages as JSON for the scripts, and the scripts at the end. No inline
//! script or style, so the content security policy can forbid them.
//!
//! This module only assembles HTML; which page says what is the page handlers' business, and
//! the headers every answer carries are added by the router's layer (`mod.rs`).

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::assets;
use super::i18n::{self, Choice, Lang, t};

/// A page to render.
pub struct Page<'a> {
    /// The request's language.
    pub choice: Choice,
    /// The catalog key of the `<title>`.
    pub title: &'a str,
    /// The content of `<main>`, already HTML (build it with [`escape`]).
    pub main: String,
    /// The scripts this page needs after `app.js`, by asset name.
    pub scripts: &'a [&'a str],
}

impl Page<'_> {
    /// The whole document.
    pub fn render(&self) -> String {
        self.render_with_nav(None)
    }

    /// The whole document, with `nav` (HTML, built with [`escape`]) in the header after the
    /// product name: the navigation of the signed-in pages, whose product name leads to `/app`.
    pub fn render_with_nav(&self, nav: Option<&str>) -> String {
        let lang = self.choice.lang;
        let mut html = String::with_capacity(4096 + self.main.len());
        html.push_str("<!doctype html>\n");
        html.push_str(&format!("<html lang=\"{}\">\n<head>\n", lang.tag()));
        html.push_str("<meta charset=\"utf-8\">\n");
        html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
        html.push_str(&format!("<title>{}</title>\n", escape(t(lang, self.title))));
        html.push_str(&format!("<link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\">\n", escape(&assets::url("favicon.svg"))));
        html.push_str(&format!("<link rel=\"stylesheet\" href=\"{}\">\n", escape(&assets::url("app.css"))));
        html.push_str("</head>\n<body>\n");
        html.push_str(&header_html(lang, nav));
        html.push_str("<main id=\"main\">\n");
        html.push_str(&self.main);
        html.push_str("</main>\n");
        html.push_str(&format!("<script type=\"application/json\" id=\"i18n\">{}</script>\n", i18n::catalog_json(lang)));
        for name in std::iter::once(&"app.js").chain(self.scripts) {
            html.push_str(&format!("<script src=\"{}\"></script>\n", escape(&assets::url(name))));
        }
        html.push_str("</body>\n</html>\n");
        html
    }

    /// The answer: the document, `Cache-Control: no-store`, the language headers and, when
    /// the language was chosen by `?lang=`, the cookie that keeps it.
    pub fn into_response(self) -> Response {
        let html = self.render();
        self.respond(html)
    }

    /// [`Page::into_response`] for a signed-in page, with its navigation (see
    /// [`Page::render_with_nav`]).
    pub fn into_response_with_nav(self, nav: &str) -> Response {
        let html = self.render_with_nav(Some(nav));
        self.respond(html)
    }

    fn respond(self, html: String) -> Response {
        let mut res = Html(html).into_response();
        let h = res.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(self.choice.lang.tag()));
        h.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
        if self.choice.remember {
            h.insert(header::SET_COOKIE, self.choice.cookie());
        }
        res
    }
}

/// The header: the product name, the signed-in pages' `nav` if any, and the language switch
/// (each language named in itself; the current one marked with `aria-current`). The links keep
/// the page and change only `?lang=`.
fn header_html(lang: Lang, nav: Option<&str>) -> String {
    let mut links = String::new();
    for l in Lang::ALL {
        let current = if l == lang { " aria-current=\"true\"" } else { "" };
        links.push_str(&format!(
            "<a href=\"?lang={code}\" lang=\"{tag}\" hreflang=\"{tag}\"{current}>{name}</a>",
            code = l.code(),
            tag = l.tag(),
            name = escape(t(l, if l == Lang::En { "lang.en" } else { "lang.zh" })),
        ));
    }
    format!(
        "<header class=\"top\">\n<a class=\"brand\" href=\"{home}\">{name}</a>\n{app_nav}<nav class=\"langs\" aria-label=\"{nav}\">{links}</nav>\n</header>\n",
        home = if nav.is_some() { "/app" } else { "/verify" },
        app_nav = nav.map(|n| format!("{n}\n")).unwrap_or_default(),
        name = escape(t(lang, "app.name")),
        nav = escape(t(lang, "lang.nav")),
    )
}

/// `s` escaped for HTML text and double- or single-quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(lang: Lang) -> String {
        Page { choice: Choice { lang, remember: false }, title: "verify.page_title", main: "<p>x</p>\n".into(), scripts: &["verify.js"] }.render()
    }

    #[test]
    fn the_shell_has_what_every_page_needs() {
        let en = page(Lang::En);
        assert!(en.starts_with("<!doctype html>\n<html lang=\"en\">"), "{en}");
        assert!(en.contains("<meta charset=\"utf-8\">") && en.contains("name=\"viewport\""));
        assert!(en.contains("<title>Verify a signed PDF — Signet</title>"));
        assert_eq!(en.matches("<main").count(), 1);
        assert_eq!(en.matches("rel=\"stylesheet\"").count(), 1);
        assert!(en.contains(">English</a>") && en.contains(">中文</a>") && en.contains("href=\"?lang=zh\""));
        assert!(en.find("id=\"i18n\"") < en.find("/assets/app.js") && en.find("/assets/app.js") < en.find("/assets/verify.js"));
        // No inline script or style: every <script> is JSON data or has a src.
        for tag in en.split("<script").skip(1) {
            assert!(tag.starts_with(" type=\"application/json\"") || tag.starts_with(" src=\""), "{tag}");
        }
        assert!(!en.contains("style=") && !en.contains("<style") && !en.contains("onclick") && !en.contains("onload"));
        let zh = page(Lang::Zh);
        assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("<title>验证已签署的 PDF — Signet</title>"));
    }

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("张三"), "张三");
    }
}
