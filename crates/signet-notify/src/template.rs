//! Rendering the [`crate::catalog`] into mails and SMS texts.
//!
//! Each mail comes out as an [`Email`]: a one-line subject, a plain-text body and a simple
//! HTML body. Every value is cleaned (control characters, line breaks included, become
//! spaces, so nothing can add a mail header) and, in HTML, escaped — the catalog's own words
//! too. Links become buttons only when they are `http(s)` URLs; anything else is shown as
//! text. A link always also appears verbatim on a line of its own in the plain text.
//!
//! The language is the caller's choice per recipient; the words are the catalog's.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;

use crate::catalog::{self, Block, MailText};
use crate::smtp::Message;
use crate::{Lang, Mailbox, NotifyError, Result};

/// A rendered mail, before it has a recipient.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject: one line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (every interpolated value escaped).
    pub html: String,
}

impl Email {
    /// The [`Message`] sending this mail to `to`, without attachments.
    pub fn to(self, to: Mailbox) -> Message {
        Message { to, subject: self.subject, text: self.text, html: Some(self.html), attachments: Vec::new() }
    }
}

impl fmt::Debug for Email {
    // A body may hold a code or a signing link: show sizes only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("subject", &self.subject)
            .field("text_len", &self.text.len())
            .field("html_len", &self.html.len())
            .finish()
    }
}

/// A one-time code: exactly six ASCII digits. `Debug` hides it; read it with
/// [`OneTimeCode::as_str`] only to put it into the one message that carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

impl OneTimeCode {
    /// Checks `s` is six ASCII digits.
    pub fn parse(s: &str) -> Result<Self> {
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(OneTimeCode(s.to_owned()))
        } else {
            Err(NotifyError::InvalidCode)
        }
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(******)")
    }
}

/// The facts of a signing request or a reminder to sign.
#[derive(Clone, Debug)]
pub struct SigningRequest<'a> {
    /// The organisation sending the contract.
    pub org: &'a str,
    /// The person who sent it.
    pub sender: &'a str,
    /// The contract's title.
    pub title: &'a str,
    /// The recipient's name.
    pub recipient: &'a str,
    /// The recipient's own signing link (see [`signing_link`]).
    pub link: &'a str,
    /// The deadline, shown in its own UTC offset; none leaves the sentence out.
    pub deadline: Option<OffsetDateTime>,
}

/// The facts of a completion notice.
#[derive(Clone, Debug)]
pub struct Completed<'a> {
    /// The contract's title.
    pub title: &'a str,
    /// The recipient's name.
    pub recipient: &'a str,
    /// Where to download the signed PDF.
    pub signed_pdf: &'a str,
    /// Where to download the evidence report.
    pub evidence_report: &'a str,
}

/// The facts of a decline notice.
#[derive(Clone, Debug)]
pub struct Declined<'a> {
    /// The contract's title.
    pub title: &'a str,
    /// The recipient's name.
    pub recipient: &'a str,
    /// Who declined.
    pub who: &'a str,
    /// Their reason, if they gave one.
    pub reason: Option<&'a str>,
}

/// The facts of a void notice.
#[derive(Clone, Debug)]
pub struct Voided<'a> {
    /// The contract's title.
    pub title: &'a str,
    /// The recipient's name.
    pub recipient: &'a str,
    /// The organisation that voided it.
    pub org: &'a str,
    /// The reason, if one was given.
    pub reason: Option<&'a str>,
}

/// A recipient's signing link: `{public_url}/s/{token}`, the token percent-encoded should it
/// hold anything but letters, digits and `-_.~`.
pub fn signing_link(public_url: &str, token: &str) -> String {
    const TOKEN: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    format!("{}/s/{}", public_url.trim_end_matches('/'), utf8_percent_encode(token, TOKEN))
}

/// The mail asking a recipient to sign.
pub fn signing_request(lang: Lang, m: &SigningRequest<'_>) -> Email {
    render(lang, &catalog::mail(lang).signing_request, &request_vars(lang, m))
}

/// The mail reminding a recipient to sign; the same facts as a request.
pub fn reminder(lang: Lang, m: &SigningRequest<'_>) -> Email {
    render(lang, &catalog::mail(lang).reminder, &request_vars(lang, m))
}

/// The mail carrying a one-time code, and nothing else; the subject does not hold the code.
pub fn one_time_code(lang: Lang, code: &OneTimeCode, minutes_valid: u32) -> Email {
    let vars = [("code", Some(code.as_str().to_owned())), ("minutes", Some(minutes_valid.to_string()))];
    render(lang, &catalog::mail(lang).one_time_code, &vars)
}

/// The mail telling a party that everyone signed, with the download links.
pub fn completed(lang: Lang, m: &Completed<'_>) -> Email {
    let vars = [
        ("title", Some(m.title.to_owned())),
        ("recipient", Some(m.recipient.to_owned())),
        ("signed_pdf", Some(m.signed_pdf.to_owned())),
        ("evidence_report", Some(m.evidence_report.to_owned())),
    ];
    render(lang, &catalog::mail(lang).completed, &vars)
}

/// The mail telling a party that someone declined.
pub fn declined(lang: Lang, m: &Declined<'_>) -> Email {
    let vars = [
        ("title", Some(m.title.to_owned())),
        ("recipient", Some(m.recipient.to_owned())),
        ("who", Some(m.who.to_owned())),
        ("reason", m.reason.map(str::to_owned)),
    ];
    render(lang, &catalog::mail(lang).declined, &vars)
}

/// The mail telling a party that the contract was voided.
pub fn voided(lang: Lang, m: &Voided<'_>) -> Email {
    let vars = [
        ("title", Some(m.title.to_owned())),
        ("recipient", Some(m.recipient.to_owned())),
        ("org", Some(m.org.to_owned())),
        ("reason", m.reason.map(str::to_owned)),
    ];
    render(lang, &catalog::mail(lang).voided, &vars)
}

/// The text message carrying a one-time code.
pub fn code_sms(lang: Lang, code: &OneTimeCode, minutes_valid: u32) -> String {
    let vars = [("code", Some(code.as_str().to_owned())), ("minutes", Some(minutes_valid.to_string()))];
    fill(catalog::sms(lang).one_time_code, &vars, plain).unwrap_or_default()
}

fn request_vars(lang: Lang, m: &SigningRequest<'_>) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("org", Some(m.org.to_owned())),
        ("sender", Some(m.sender.to_owned())),
        ("title", Some(m.title.to_owned())),
        ("recipient", Some(m.recipient.to_owned())),
        ("link", Some(m.link.to_owned())),
        ("deadline", m.deadline.map(|d| format_deadline(lang, d))),
    ]
}

/// A deadline in the recipient's language, in the offset it carries.
fn format_deadline(lang: Lang, d: OffsetDateTime) -> String {
    let (oh, om, _) = d.offset().as_hms();
    let sign = if oh < 0 || om < 0 { '-' } else { '+' };
    let offset = format!("UTC{sign}{:02}:{:02}", oh.unsigned_abs(), om.unsigned_abs());
    let month = u8::from(d.month());
    match catalog::mail(lang).months {
        Some(names) => {
            let name = names.get(usize::from(month).saturating_sub(1)).copied().unwrap_or("");
            format!("{} {name} {}, {:02}:{:02} ({offset})", d.day(), d.year(), d.hour(), d.minute())
        }
        None => format!("{}年{month}月{}日 {:02}:{:02}（{offset}）", d.year(), d.day(), d.hour(), d.minute()),
    }
}

type Vars = [(&'static str, Option<String>)];

/// One line, no control characters: what a value may look like inside a mail.
fn clean(v: &str) -> String {
    v.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

fn plain(s: &str) -> String {
    s.to_owned()
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn escape_html(s: &str) -> String {
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

/// Fills `{name}` placeholders from `vars`, passing literal text and values alike through
/// `esc`. `None` when a placeholder has no value (the block is then left out).
fn fill(template: &str, vars: &Vars, esc: fn(&str) -> String) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (literal, tail) = rest.split_at(open);
        out.push_str(&esc(literal));
        let close = tail.find('}')?;
        let name = tail.get(1..close)?;
        let value = vars.iter().find(|(n, _)| *n == name)?.1.as_deref()?;
        out.push_str(&esc(&clean(value)));
        rest = tail.get(close + 1..)?;
    }
    out.push_str(&esc(rest));
    Some(out)
}

fn var(vars: &Vars, name: &str) -> Option<String> {
    vars.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.as_deref()).map(clean)
}

fn is_web_link(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

const STYLE_BODY: &str = "margin:0;padding:0;background:#f4f4f5";
const STYLE_CARD: &str = "max-width:560px;margin:0 auto;padding:24px 28px;background:#ffffff;\
     font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;\
     font-size:15px;line-height:1.6;color:#1f2328";
const STYLE_BUTTON: &str = "display:inline-block;padding:10px 20px;background:#1f4f99;color:#ffffff;\
     text-decoration:none;border-radius:4px;font-weight:600";
const STYLE_URL: &str = "font-size:12px;color:#57606a;word-break:break-all";
const STYLE_CODE: &str = "font-family:Menlo,Consolas,monospace;font-size:28px;font-weight:700;letter-spacing:6px";
const STYLE_NOTE: &str = "font-size:12px;color:#57606a";

fn render(lang: Lang, mail: &MailText, vars: &Vars) -> Email {
    // The catalog test guarantees every subject placeholder is supplied.
    let subject = fill(mail.subject, vars, plain).unwrap_or_else(|| clean(mail.subject));
    let mut text: Vec<String> = Vec::new();
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title></head>\n\
         <body style=\"{STYLE_BODY}\">\n<div style=\"{STYLE_CARD}\">\n",
        lang.tag(),
        escape_html(&subject)
    );
    for block in mail.blocks {
        match *block {
            Block::Para(t) => {
                if let (Some(t_text), Some(t_html)) = (fill(t, vars, plain), fill(t, vars, escape_html)) {
                    text.push(t_text);
                    html.push_str(&format!("<p>{t_html}</p>\n"));
                }
            }
            Block::Note(t) => {
                if let (Some(t_text), Some(t_html)) = (fill(t, vars, plain), fill(t, vars, escape_html)) {
                    text.push(t_text);
                    html.push_str(&format!("<p style=\"{STYLE_NOTE}\">{t_html}</p>\n"));
                }
            }
            Block::Link { label, url } => {
                let Some(url) = var(vars, url) else { continue };
                text.push(format!("{label}:\n{url}"));
                let (label, shown) = (escape_html(label), escape_html(&url));
                if is_web_link(&url) {
                    html.push_str(&format!(
                        "<p><a href=\"{shown}\" style=\"{STYLE_BUTTON}\">{label}</a></p>\n\
                         <p style=\"{STYLE_URL}\">{shown}</p>\n"
                    ));
                } else {
                    html.push_str(&format!("<p>{label}:</p>\n<p style=\"{STYLE_URL}\">{shown}</p>\n"));
                }
            }
            Block::Code(name) => {
                let Some(code) = var(vars, name) else { continue };
                html.push_str(&format!("<p style=\"{STYLE_CODE}\">{}</p>\n", escape_html(&code)));
                text.push(format!("    {code}"));
            }
        }
    }
    html.push_str("</div>\n</body>\n</html>\n");
    let mut text = text.join("\n\n");
    text.push('\n');
    Email { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const LANGS: [Lang; 2] = [Lang::Zh, Lang::En];

    fn request(title: &str) -> SigningRequest<'_> {
        SigningRequest {
            org: "Acme & Co",
            sender: "Zhang San",
            title,
            recipient: "Li Si",
            link: "https://sign.example/s/tok_ABC-123",
            deadline: Some(datetime!(2026-12-01 18:00 +08:00)),
        }
    }

    fn all_mails(lang: Lang) -> Vec<Email> {
        let code = OneTimeCode::parse("123456").unwrap();
        vec![
            signing_request(lang, &request("Lease")),
            reminder(lang, &request("Lease")),
            one_time_code(lang, &code, 5),
            completed(
                lang,
                &Completed {
                    title: "Lease",
                    recipient: "A",
                    signed_pdf: "https://x.example/pdf",
                    evidence_report: "https://x.example/ev",
                },
            ),
            declined(lang, &Declined { title: "Lease", recipient: "A", who: "B", reason: Some("price") }),
            voided(lang, &Voided { title: "Lease", recipient: "A", org: "Acme", reason: Some("typo") }),
        ]
    }

    #[test]
    fn every_catalog_entry_renders_without_leftover_placeholders() {
        for lang in LANGS {
            for mail in all_mails(lang) {
                for part in [&mail.subject, &mail.text, &mail.html] {
                    assert!(!part.contains('{') && !part.contains('}'), "{lang:?}: leftover placeholder in {part}");
                }
                assert!(!mail.subject.is_empty() && !mail.subject.contains('\n'));
            }
            let sms = code_sms(lang, &OneTimeCode::parse("654321").unwrap(), 5);
            assert!(sms.contains("654321") && sms.contains('5') && !sms.contains('{'), "{sms}");
        }
    }

    #[test]
    fn html_escapes_values_and_text_keeps_them() {
        let title = "<script>alert('x')</script> & \"q\"";
        for lang in LANGS {
            let m = signing_request(lang, &request(title));
            assert!(!m.html.contains("<script>"), "{}", m.html);
            assert!(m.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
            assert!(m.html.contains("Acme &amp; Co"));
            assert!(m.text.contains(title));
            assert!(m.subject.contains(title));
        }
    }

    #[test]
    fn values_cannot_break_lines() {
        let m = signing_request(Lang::En, &request("Lease\r\nBcc: victim@example.com"));
        assert!(!m.subject.contains('\n') && !m.subject.contains('\r'));
        assert!(m.subject.contains("Lease  Bcc"));
        assert!(!m.text.contains("Lease\r\n"));
    }

    #[test]
    fn links_are_verbatim_on_their_own_line_and_only_web_links_are_buttons() {
        let m = signing_request(Lang::En, &request("T"));
        assert!(m.text.lines().any(|l| l == "https://sign.example/s/tok_ABC-123"), "{}", m.text);
        assert!(m.html.contains("<a href=\"https://sign.example/s/tok_ABC-123\""));
        let mut r = request("T");
        r.link = "javascript:alert(1)";
        let m = signing_request(Lang::En, &r);
        assert!(!m.html.contains("href="), "{}", m.html);
        assert!(m.text.contains("javascript:alert(1)"));
    }

    #[test]
    fn optional_sentences_are_left_out() {
        let mut r = request("T");
        let with = signing_request(Lang::En, &r);
        assert!(with.text.contains("Please sign by 1 December 2026, 18:00 (UTC+08:00)."), "{}", with.text);
        let zh = signing_request(Lang::Zh, &r);
        assert!(zh.text.contains("请在 2026年12月1日 18:00（UTC+08:00） 前完成签署。"), "{}", zh.text);
        r.deadline = None;
        let without = signing_request(Lang::En, &r);
        assert!(!without.text.contains("Please sign by"));
        let d = declined(Lang::Zh, &Declined { title: "T", recipient: "A", who: "B", reason: None });
        assert!(!d.text.contains("原因"));
        let d = declined(Lang::Zh, &Declined { title: "T", recipient: "A", who: "B", reason: Some("价格") });
        assert!(d.text.contains("原因：价格"));
        let neg = format_deadline(Lang::En, datetime!(2026-01-31 09:05 -03:30));
        assert_eq!(neg, "31 January 2026, 09:05 (UTC-03:30)");
    }

    #[test]
    fn code_mail_subject_has_no_digits_and_body_has_the_code() {
        for lang in LANGS {
            let m = one_time_code(lang, &OneTimeCode::parse("042917").unwrap(), 10);
            assert!(!m.subject.chars().any(|c| c.is_ascii_digit()), "{}", m.subject);
            assert!(m.text.contains("042917") && m.html.contains("042917"));
        }
        assert_eq!(
            code_sms(Lang::Zh, &OneTimeCode::parse("123456").unwrap(), 5),
            "【Signet】验证码 123456，5 分钟内有效。请勿告诉他人。"
        );
    }

    #[test]
    fn codes_are_six_ascii_digits_and_hidden_in_debug() {
        for bad in ["12345", "1234567", "12345a", "１２３４５６", "", " 12345"] {
            assert!(OneTimeCode::parse(bad).is_err(), "{bad}");
        }
        let c = OneTimeCode::parse("987654").unwrap();
        assert!(!format!("{c:?}").contains("987654"));
        let m = one_time_code(Lang::En, &c, 5);
        assert!(!format!("{m:?}").contains("987654"));
    }

    #[test]
    fn signing_links() {
        assert_eq!(signing_link("https://s.example/", "abc_DEF-1"), "https://s.example/s/abc_DEF-1");
        assert_eq!(signing_link("https://s.example/base", "a/b c"), "https://s.example/base/s/a%2Fb%20c");
    }
}
