//! `GET /sign`: the signer's page, where the mailed link (`/s/{token}`) lands once it became a
//! signer session. The server renders the shell — every heading, label and button in the
//! request's language — and `sign.js` fills it from the signer API (`/api/v1/signer…`): the
//! contract, the document's pages as pictures with the signer's fields over them, the fields'
//! inputs, the one-time code, the signature drawn on a canvas or typed, signing, declining,
//! and the downloads once everyone has signed.
//!
//! Phone first: the page works from 375 px wide without sideways scrolling, with large touch
//! targets. This module takes no token and holds no secret: the session cookie carries the
//! signer, and the page sends the view's CSRF token back on its POSTs. It does not sign or
//! decide anything itself (the ceremony behind the API does).

use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::i18n::{self, Lang, t};
use super::page::{Page, escape};

/// `GET /sign`.
pub async fn page(uri: Uri, headers: HeaderMap) -> Response {
    let choice = i18n::choose(uri.query(), &headers);
    Page { choice, title: "signer.page_title", main: main_html(choice.lang), scripts: &["sign.js"] }.into_response()
}

/// The content of `<main>`: every part of the page, hidden until the script knows which apply.
fn main_html(l: Lang) -> String {
    format!(
        r#"<p id="status" class="status signing-status" role="status" aria-live="polite">{loading}</p>
<noscript><p class="notice">{noscript}</p></noscript>
<div id="error" class="alert" role="alert" tabindex="-1" hidden></div>
<section id="ended" class="notice ended" hidden>
<h1 id="ended-title"></h1>
<p id="ended-text"></p>
</section>
<article id="contract" class="signing" hidden>
<header class="contract-head">
<p id="org" class="org"></p>
<h1 id="title"></h1>
<p id="number" class="muted"></p>
<ol id="signers" class="signers" aria-label="{signers}"></ol>
</header>
<section id="done" class="card done" hidden>
<h2 id="done-title"></h2>
<p id="done-text"></p>
<ul id="downloads" class="downloads" hidden></ul>
</section>
<section id="document" aria-labelledby="document-heading">
<h2 id="document-heading">{read}</h2>
<p id="fields-hint" class="muted" hidden>{fields_hint}</p>
<div id="pages" class="pages"></div>
</section>
<form id="sign-form" class="card sign-form" novalidate hidden>
<fieldset id="fields-step" class="step" hidden>
<legend>{your_fields}</legend>
<div id="field-inputs" class="field-inputs"></div>
</fieldset>
<fieldset id="signature-step" class="step">
<legend>{signature}</legend>
<div class="choice">
<input type="radio" name="mode" id="mode-draw" value="draw" checked>
<label for="mode-draw">{draw}</label>
<input type="radio" name="mode" id="mode-type" value="type">
<label for="mode-type">{type_}</label>
</div>
<div id="draw-panel" class="draw-panel">
<p id="pad-hint" class="muted">{draw_hint}</p>
<canvas id="pad" class="pad" role="img" aria-label="{pad_label}" aria-describedby="pad-hint"></canvas>
<button type="button" id="clear" class="secondary">{clear}</button>
</div>
<div id="type-panel" class="type-panel" hidden>
<label for="typed-name">{typed_label}</label>
<input id="typed-name" name="typed_name" type="text" maxlength="50" autocomplete="name">
<p class="muted">{preview_label}</p>
<p id="typed-preview" class="typed-preview" aria-live="polite"></p>
</div>
</fieldset>
<fieldset id="code-step" class="step">
<legend>{confirm}</legend>
<div id="channels" class="choice" hidden></div>
<p id="channel-one" class="muted" hidden></p>
<button type="button" id="send-code" class="secondary">{send_code}</button>
<p id="code-sent" class="muted" aria-live="polite"></p>
<label for="code">{code}</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="6" enterkeyhint="done">
</fieldset>
<button type="submit" id="sign-button" class="primary">{sign}</button>
</form>
<section id="decline-step" class="decline" hidden>
<button type="button" id="decline-open" class="link-button">{decline_open}</button>
<div id="decline-panel" class="card" hidden>
<label for="reason">{reason}</label>
<textarea id="reason" name="reason" rows="3" maxlength="1000"></textarea>
<div class="actions">
<button type="button" id="decline-button" class="danger">{decline}</button>
<button type="button" id="decline-cancel" class="secondary">{cancel}</button>
</div>
<div id="decline-confirm" class="confirm" role="group" aria-labelledby="decline-question" hidden>
<p id="decline-question">{decline_question}</p>
<div class="actions">
<button type="button" id="decline-yes" class="danger">{decline_yes}</button>
<button type="button" id="decline-no" class="secondary">{decline_no}</button>
</div>
</div>
</div>
</section>
</article>
"#,
        loading = escape(t(l, "signer.loading")),
        noscript = escape(t(l, "signer.noscript")),
        signers = escape(t(l, "signer.signers")),
        read = escape(t(l, "signer.read")),
        fields_hint = escape(t(l, "signer.fields_hint")),
        your_fields = escape(t(l, "signer.your_fields")),
        signature = escape(t(l, "signer.signature")),
        draw = escape(t(l, "signer.draw")),
        type_ = escape(t(l, "signer.type")),
        draw_hint = escape(t(l, "signer.draw_hint")),
        pad_label = escape(t(l, "signer.pad_label")),
        clear = escape(t(l, "signer.clear")),
        typed_label = escape(t(l, "signer.typed_label")),
        preview_label = escape(t(l, "signer.preview")),
        code = escape(t(l, "signer.code")),
        confirm = escape(t(l, "signer.confirm")),
        send_code = escape(t(l, "signer.send_code")),
        sign = escape(t(l, "signer.sign")),
        decline_open = escape(t(l, "signer.decline_open")),
        reason = escape(t(l, "signer.reason")),
        decline = escape(t(l, "signer.decline")),
        cancel = escape(t(l, "signer.cancel")),
        decline_question = escape(t(l, "signer.decline_question")),
        decline_yes = escape(t(l, "signer.decline_yes")),
        decline_no = escape(t(l, "signer.decline_no")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::web::i18n::Choice;

    fn render(lang: Lang) -> String {
        Page { choice: Choice { lang, remember: false }, title: "signer.page_title", main: main_html(lang), scripts: &["sign.js"] }.render()
    }

    #[test]
    fn every_input_has_a_label_and_the_products_words() {
        for (lang, words) in [
            (Lang::En, ["Signature", "Send code", "Verification code", "Draw", "Type", "Sign", "Decline"]),
            (Lang::Zh, ["签名", "获取验证码", "验证码", "手写", "键入", "签署", "拒签"]),
        ] {
            let html = render(lang);
            for w in words {
                assert!(html.contains(&format!(">{w}<")), "{lang:?}: {w}");
            }
            for id in ["mode-draw", "mode-type", "typed-name", "code", "reason"] {
                assert!(html.contains(&format!("<label for=\"{id}\">")), "{id} has no label");
                assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
            }
            assert!(html.contains("autocomplete=\"one-time-code\"") && html.contains("inputmode=\"numeric\""));
            assert_eq!(html.matches("<main").count(), 1);
            assert!(!html.contains("style=") && !html.contains("<style"));
            assert!(html.contains("<canvas id=\"pad\""));
        }
    }
}
