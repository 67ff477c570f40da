//! The sender's and administrator's pages: sign-in (`/login`), the dashboard of contracts
//! (`/app`), a contract's detail and timeline (`/app/contracts/{id}`), creating a contract
//! (`/app/contracts/new`: documents, recipients, fields placed on the pages), administration
//! (`/app/admin`: members, API keys, the SMS outbox) and the member's account
//! (`/app/account`: password, second factor).
//!
//! The server renders each page's frame in the request's language and decides who may see
//! it: a page behind the login answers `303 /login` without a live member session, and
//! `/app/admin` says "not allowed" (403) to members who are not administrators. The page's
//! script (`login.js`, `member.js` + one per page) fills the frame from the same `/api/v1`
//! routes an integrator uses, with the session cookie and the session's CSRF token.
//!
//! This module holds no state and changes nothing: every change goes through the API. It does
//! not serve the signer's pages (`/sign`), which are reached through the signer's link.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use signet_domain::org::{Actor, Permission, Role};

use super::i18n::{self, Choice, Lang, t};
use super::page::{Page, escape};
use crate::platform::api::AppState;
use crate::platform::session;

/// The statuses of the dashboard's filter, in the order of its tabs (`""` is every status).
pub const STATUS_TABS: [&str; 8] = ["", "draft", "sent", "in_progress", "completed", "declined", "voided", "expired"];

/// The member behind the request's session cookie, if it is live (checked in the store).
async fn signed_in(app: &AppState, headers: &HeaderMap) -> Option<Actor> {
    // A GET carries no CSRF token and needs none; an unknown or ended session is no session.
    session::session_actor(app, &Method::GET, headers).await.ok().flatten()
}

/// `303 See Other` to `to`, keeping a language chosen by `?lang=` in its cookie.
fn see_other(to: &'static str, choice: Choice) -> Response {
    let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, to), (header::CACHE_CONTROL, "no-store")]).into_response();
    if choice.remember {
        res.headers_mut().insert(header::SET_COOKIE, choice.cookie());
    }
    res
}

/// Which signed-in page is shown, for the navigation's `aria-current`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Contracts,
    NewContract,
    Admin,
    Account,
}

fn is_admin(actor: &Actor) -> bool {
    actor.role.allows(Permission::ManageMembers)
}

/// The signed-in pages' navigation: Contracts, New contract, Admin (administrators and owners),
/// Account, and Sign out (a form `member.js` posts with the CSRF token).
fn nav(lang: Lang, actor: &Actor, current: Section) -> String {
    let mut links = vec![(Section::Contracts, "/app", "nav.contracts"), (Section::NewContract, "/app/contracts/new", "nav.new_contract")];
    if is_admin(actor) {
        links.push((Section::Admin, "/app/admin", "nav.admin"));
    }
    links.push((Section::Account, "/app/account", "nav.account"));
    let mut html = format!("<nav class=\"app-nav\" aria-label=\"{}\">", escape(t(lang, "nav.label")));
    for (section, href, key) in links {
        let mark = if section == current { " aria-current=\"page\"" } else { "" };
        html.push_str(&format!("<a href=\"{href}\"{mark}>{}</a>", escape(t(lang, key))));
    }
    html.push_str(&format!(
        "<form id=\"sign-out\" class=\"sign-out\" action=\"/api/v1/session/logout\" method=\"post\"><button type=\"submit\" class=\"link\">{}</button></form></nav>",
        escape(t(lang, "nav.sign_out"))
    ));
    html
}

/// The status line and the alert every signed-in page has (`member.js` fills them).
fn feedback() -> &'static str {
    "<p id=\"status\" class=\"status\" role=\"status\" aria-live=\"polite\"></p>\n<div id=\"error\" class=\"alert\" role=\"alert\" hidden></div>\n"
}

/// `GET /`: the dashboard for a signed-in member, else the sign-in page.
pub async fn root(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let choice = i18n::choose(uri.query(), &headers);
    match signed_in(&app, &headers).await {
        Some(_) => see_other("/app", choice),
        None => see_other("/login", choice),
    }
}

/// `GET /login`: email, password, and the authenticator code once the API asks for it.
pub async fn login_page(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let choice = i18n::choose(uri.query(), &headers);
    if signed_in(&app, &headers).await.is_some() {
        return see_other("/app", choice);
    }
    let l = choice.lang;
    let main = format!(
        r#"<h1>{heading}</h1>
<form id="login-form" class="card" action="/api/v1/session" method="post">
<label for="email">{email}</label>
<input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">{password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div id="totp-field" class="field" hidden>
<label for="totp-code">{code}</label>
<input id="totp-code" name="totp_code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6}}" maxlength="6">
<p class="hint">{code_hint}</p>
</div>
<button type="submit" id="login-submit">{submit}</button>
</form>
<noscript><p class="notice">{noscript}</p></noscript>
<p id="status" class="status" role="status" aria-live="polite"></p>
<div id="error" class="alert" role="alert" hidden></div>
<p class="hint">{demo}</p>
<p><a href="/verify">{verify}</a></p>
"#,
        heading = escape(t(l, "login.heading")),
        email = escape(t(l, "login.email")),
        password = escape(t(l, "login.password")),
        code = escape(t(l, "login.totp_code")),
        code_hint = escape(t(l, "login.totp_hint")),
        submit = escape(t(l, "login.submit")),
        noscript = escape(t(l, "member.noscript")),
        demo = escape(t(l, "login.demo_hint")),
        verify = escape(t(l, "login.verify_link")),
    );
    Page { choice, title: "login.page_title", main, scripts: &["login.js"] }.into_response()
}

/// The member for a page behind the login, or the redirect to `/login`.
async fn member_or_login(app: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<(Choice, Actor), Response> {
    let choice = i18n::choose(uri.query(), headers);
    match signed_in(app, headers).await {
        Some(actor) => Ok((choice, actor)),
        None => Err(see_other("/login", choice)),
    }
}

/// The `status` of a dashboard query string, when it is one of [`STATUS_TABS`].
fn status_of(query: Option<&str>) -> &'static str {
    let asked = query.unwrap_or("").split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == "status").map(|(_, v)| v);
    STATUS_TABS.iter().copied().find(|s| Some(*s) == asked).unwrap_or("")
}

/// `GET /app`: the dashboard — status tabs, search, the list, pagination.
pub async fn dashboard(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (choice, actor) = match member_or_login(&app, &uri, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let l = choice.lang;
    let current = status_of(uri.query());
    let mut tabs = String::new();
    for s in STATUS_TABS {
        let (href, key) = if s.is_empty() { ("/app".to_owned(), "contract_status.all".to_owned()) } else { (format!("/app?status={s}"), format!("contract_status.{s}")) };
        let mark = if s == current { " aria-current=\"page\"" } else { "" };
        tabs.push_str(&format!("<li><a href=\"{href}\" data-status=\"{s}\"{mark}>{}</a></li>", escape(t(l, &key))));
    }
    let main = format!(
        r#"<h1>{heading}</h1>
<nav class="tabs" aria-label="{tabs_label}"><ul>{tabs}</ul></nav>
<form id="search-form" class="search" action="/app" method="get" role="search">
<input type="hidden" name="status" value="{current}">
<label for="search">{search}</label>
<div class="row"><input id="search" name="text" type="search" maxlength="200"><button type="submit">{search_submit}</button></div>
</form>
{feedback}<p id="unreadable" class="alert" role="status" hidden></p>
<div id="contracts" class="list" data-page-size="10"></div>
<p id="empty" class="notice" hidden></p>
<nav class="pager" aria-label="{pages}">
<button type="button" id="prev" class="secondary" disabled>{prev}</button>
<span id="page-number"></span>
<button type="button" id="next" class="secondary" disabled>{next}</button>
</nav>
"#,
        heading = escape(t(l, "dashboard.heading")),
        tabs_label = escape(t(l, "dashboard.tabs")),
        search = escape(t(l, "dashboard.search")),
        search_submit = escape(t(l, "dashboard.search_submit")),
        feedback = feedback(),
        pages = escape(t(l, "dashboard.pages")),
        prev = escape(t(l, "dashboard.previous")),
        next = escape(t(l, "dashboard.next")),
    );
    let nav = nav(l, &actor, Section::Contracts);
    Page { choice, title: "dashboard.page_title", main, scripts: &["member.js", "dashboard.js"] }.into_response_with_nav(&nav)
}

/// `GET /app/contracts/new`: create a contract in two steps (`new.js`). Step 1: the PDFs, the
/// title (the first file's name by default), an optional deadline and the recipients; "Next"
/// creates a draft. Step 2: the pages as pictures, a palette of fields to drag (or tap, then
/// tap the page) for the chosen recipient, and "Send", which saves the fields and sends.
pub async fn new_contract(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (choice, actor) = match member_or_login(&app, &uri, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let l = choice.lang;
    let palette: String = [("signature", "create.field.signature"), ("seal", "create.field.seal"), ("date", "create.field.date"), ("text", "create.field.text"), ("checkbox", "create.field.checkbox")]
        .iter()
        .map(|(kind, key)| {
            format!(
                "<li><button type=\"button\" class=\"palette-item field-{kind}\" draggable=\"true\" data-kind=\"{kind}\" aria-pressed=\"false\">{}</button></li>",
                escape(t(l, key))
            )
        })
        .collect();
    let main = format!(
        r#"<h1>{heading}</h1>
<ol class="steps" aria-label="{steps}"><li id="step-1-mark" aria-current="step">{step1}</li><li id="step-2-mark">{step2}</li></ol>
{feedback}<form id="create-form" class="card create-step" novalidate>
<h2>{step1}</h2>
<label for="files">{files}</label>
<input id="files" name="document" type="file" accept="application/pdf,.pdf" multiple required>
<p class="hint" id="files-hint">{files_hint}</p>
<ul id="kept-files" class="kept-files" hidden></ul>
<label for="title">{title}</label>
<input id="title" name="title" type="text" maxlength="200" required>
<label for="deadline">{deadline}</label>
<input id="deadline" name="deadline" type="datetime-local">
<p class="hint">{deadline_hint}</p>
<fieldset id="recipients-box" class="recipients-box">
<legend>{recipients}</legend>
<ol id="recipient-list" class="recipient-list"></ol>
<button type="button" id="add-recipient" class="secondary">{add_recipient}</button>
</fieldset>
<button type="submit" id="next">{next}</button>
</form>
<section id="place-step" class="create-step" aria-labelledby="place-heading" hidden>
<h2 id="place-heading">{step2}</h2>
<p class="hint">{place_hint}</p>
<div class="placer">
<div class="place-tools card">
<label for="field-recipient">{recipient}</label>
<select id="field-recipient"></select>
<ul id="palette" class="palette" aria-label="{palette_label}">{palette}</ul>
<p class="hint">{palette_hint}</p>
<ul id="legend" class="legend"></ul>
<button type="button" id="send">{send}</button>
<button type="button" id="back" class="secondary">{back}</button>
</div>
<div id="place-pages" class="pages place-pages"></div>
</div>
</section>
"#,
        heading = escape(t(l, "create.heading")),
        steps = escape(t(l, "create.steps")),
        step1 = escape(t(l, "create.step1")),
        step2 = escape(t(l, "create.step2")),
        feedback = feedback(),
        files = escape(t(l, "create.files")),
        files_hint = escape(t(l, "create.files_hint")),
        title = escape(t(l, "create.title")),
        deadline = escape(t(l, "create.deadline")),
        deadline_hint = escape(t(l, "create.deadline_hint")),
        recipients = escape(t(l, "create.recipients")),
        add_recipient = escape(t(l, "create.add_recipient")),
        next = escape(t(l, "create.next")),
        place_hint = escape(t(l, "create.place_hint")),
        recipient = escape(t(l, "create.recipient")),
        palette_label = escape(t(l, "create.palette")),
        palette_hint = escape(t(l, "create.palette_hint")),
        send = escape(t(l, "create.send")),
        back = escape(t(l, "create.back")),
    );
    let nav = nav(l, &actor, Section::NewContract);
    Page { choice, title: "create.page_title", main, scripts: &["member.js", "new.js"] }.into_response_with_nav(&nav)
}

/// `GET /app/contracts/{id}`: a contract of the member's organisation they may see; any other
/// id (another organisation's too) is "not found" with a 404.
pub async fn contract_page(State(app): State<AppState>, Path(id): Path<String>, uri: Uri, headers: HeaderMap) -> Response {
    let (choice, actor) = match member_or_login(&app, &uri, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let l = choice.lang;
    let nav = nav(l, &actor, Section::Contracts);
    let visible = match app.store.contract(&actor.org, &id).await {
        Ok(found) => found.is_some_and(|(c, _)| c.check_visible(&actor).is_ok()),
        Err(e) => {
            eprintln!("web: contract page: the store failed: {e}");
            let status = if e.is_unavailable() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
            let said = match e {
                signet_store::StoreError::Corrupt { .. } => t(l, "member.error.record_unreadable").to_owned(),
                _ => t(l, "member.error.server").replace("{status}", status.as_str()),
            };
            let main = format!("<h1>{}</h1>\n<p class=\"alert\" role=\"alert\">{}</p>\n", escape(t(l, "detail.heading")), escape(&said));
            let mut res = Page { choice, title: "detail.page_title", main, scripts: &["member.js"] }.into_response_with_nav(&nav);
            *res.status_mut() = status;
            return res;
        }
    };
    if !visible {
        let main = format!(
            "<h1>{}</h1>\n<p id=\"not-found\" class=\"alert\" role=\"alert\">{}</p>\n<p><a href=\"/app\">{}</a></p>\n",
            escape(t(l, "detail.not_found_heading")),
            escape(t(l, "detail.not_found")),
            escape(t(l, "detail.back")),
        );
        let mut res = Page { choice, title: "detail.page_title", main, scripts: &["member.js"] }.into_response_with_nav(&nav);
        *res.status_mut() = StatusCode::NOT_FOUND;
        return res;
    }
    let main = format!(
        r#"<p><a href="/app">{back}</a></p>
<article id="contract" data-contract-id="{id}">
<h1 id="contract-title">{heading}</h1>
<p id="contract-meta" class="meta"></p>
{feedback}<section aria-labelledby="actions-heading" class="card">
<h2 id="actions-heading">{actions}</h2>
<div class="actions">
<a id="edit-draft" class="button" href="/app/contracts/new?draft={id}" hidden>{edit_draft}</a>
<button type="button" id="remind" hidden>{remind}</button>
</div>
<form id="void-form" class="void" hidden>
<label for="void-reason">{void_reason}</label>
<input id="void-reason" name="reason" type="text" maxlength="500" required>
<button type="submit" class="danger">{void}</button>
</form>
<ul id="downloads" class="downloads"></ul>
</section>
<section aria-labelledby="documents-heading">
<h2 id="documents-heading">{documents}</h2>
<ul id="documents" class="plain"></ul>
</section>
<section aria-labelledby="recipients-heading">
<h2 id="recipients-heading">{recipients}</h2>
<ul id="recipients" class="people"></ul>
</section>
<section aria-labelledby="timeline-heading">
<h2 id="timeline-heading">{timeline}</h2>
<ol id="timeline" class="timeline"></ol>
</section>
</article>
"#,
        back = escape(t(l, "detail.back")),
        id = escape(&id),
        heading = escape(t(l, "detail.heading")),
        feedback = feedback(),
        actions = escape(t(l, "detail.actions")),
        remind = escape(t(l, "detail.remind")),
        edit_draft = escape(t(l, "detail.edit_draft")),
        void_reason = escape(t(l, "detail.void_reason")),
        void = escape(t(l, "detail.void")),
        documents = escape(t(l, "detail.documents")),
        recipients = escape(t(l, "detail.recipients")),
        timeline = escape(t(l, "detail.timeline")),
    );
    Page { choice, title: "detail.page_title", main, scripts: &["member.js", "contract.js"] }.into_response_with_nav(&nav)
}

/// The `<option>`s of a role selector, `selected` chosen.
fn role_options(lang: Lang, selected: Role) -> String {
    [Role::Owner, Role::Admin, Role::Sender, Role::Member]
        .iter()
        .map(|r| {
            let mark = if *r == selected { " selected" } else { "" };
            format!("<option value=\"{v}\"{mark}>{}</option>", escape(t(lang, &format!("role.{}", r.as_str()))), v = r.as_str())
        })
        .collect()
}

/// `GET /app/admin`: members, API keys, the SMS outbox and the background jobs, for
/// administrators and owners.
pub async fn admin_page(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (choice, actor) = match member_or_login(&app, &uri, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let l = choice.lang;
    let nav = nav(l, &actor, Section::Admin);
    if !is_admin(&actor) {
        let main = format!(
            "<h1>{}</h1>\n<p id=\"not-allowed\" class=\"alert\" role=\"alert\">{}</p>\n",
            escape(t(l, "admin.heading")),
            escape(t(l, "admin.not_allowed"))
        );
        let mut res = Page { choice, title: "admin.page_title", main, scripts: &["member.js"] }.into_response_with_nav(&nav);
        *res.status_mut() = StatusCode::FORBIDDEN;
        return res;
    }
    let main = format!(
        r#"<h1>{heading}</h1>
{feedback}<section aria-labelledby="members-heading" class="card">
<h2 id="members-heading">{members}</h2>
<div id="members" class="list"></div>
<h3>{add_member}</h3>
<form id="member-form" class="grid-form">
<label for="member-email">{email}</label>
<input id="member-email" name="email" type="email" required autocomplete="off">
<label for="member-name">{name}</label>
<input id="member-name" name="name" type="text" maxlength="100" autocomplete="off">
<label for="member-role">{role}</label>
<select id="member-role" name="role">{member_roles}</select>
<button type="submit">{add_member_submit}</button>
</form>
<div id="member-secret" class="secret" hidden></div>
</section>
<section aria-labelledby="keys-heading" class="card">
<h2 id="keys-heading">{keys}</h2>
<div id="keys" class="list"></div>
<h3>{create_key}</h3>
<form id="key-form" class="grid-form">
<label for="key-name">{key_name}</label>
<input id="key-name" name="name" type="text" maxlength="100" required autocomplete="off">
<label for="key-role">{role}</label>
<select id="key-role" name="role">{key_roles}</select>
<button type="submit">{create_key_submit}</button>
</form>
<div id="key-secret" class="secret" hidden></div>
</section>
<section aria-labelledby="outbox-heading" class="card">
<h2 id="outbox-heading">{outbox}</h2>
<p class="hint">{outbox_intro}</p>
<form id="outbox-form" class="row">
<label for="outbox-channel">{channel}</label>
<select id="outbox-channel" name="channel"><option value="">{all}</option><option value="sms">{sms}</option><option value="email">{email_channel}</option></select>
<button type="submit" class="secondary">{refresh}</button>
</form>
<ol id="outbox" class="outbox"></ol>
</section>
<section aria-labelledby="jobs-heading" class="card">
<h2 id="jobs-heading">{jobs}</h2>
<p class="hint">{jobs_intro}</p>
<form id="jobs-form" class="row">
<label for="jobs-state">{job_state}</label>
<select id="jobs-state" name="state"><option value="">{all}</option>{job_states}</select>
<button type="submit" class="secondary">{refresh}</button>
</form>
<p id="jobs-counts" class="meta"></p>
<div id="jobs" class="list"></div>
</section>
"#,
        heading = escape(t(l, "admin.heading")),
        feedback = feedback(),
        members = escape(t(l, "admin.members")),
        add_member = escape(t(l, "admin.add_member")),
        email = escape(t(l, "admin.email")),
        name = escape(t(l, "admin.name")),
        role = escape(t(l, "admin.role")),
        member_roles = role_options(l, Role::Sender),
        add_member_submit = escape(t(l, "admin.add_member_submit")),
        keys = escape(t(l, "admin.api_keys")),
        create_key = escape(t(l, "admin.create_key")),
        key_name = escape(t(l, "admin.key_name")),
        key_roles = role_options(l, Role::Sender),
        create_key_submit = escape(t(l, "admin.create_key_submit")),
        outbox = escape(t(l, "admin.outbox")),
        outbox_intro = escape(t(l, "admin.outbox_intro")),
        channel = escape(t(l, "admin.channel")),
        all = escape(t(l, "admin.channel_all")),
        sms = escape(t(l, "admin.channel_sms")),
        email_channel = escape(t(l, "admin.channel_email")),
        refresh = escape(t(l, "admin.refresh")),
        jobs = escape(t(l, "admin.jobs")),
        jobs_intro = escape(t(l, "admin.jobs_intro")),
        job_state = escape(t(l, "admin.job_state")),
        job_states = ["queued", "running", "done", "failed"]
            .iter()
            .map(|s| format!("<option value=\"{s}\">{}</option>", escape(t(l, &format!("admin.job_state_{s}")))))
            .collect::<String>(),
    );
    Page { choice, title: "admin.page_title", main, scripts: &["member.js", "admin.js"] }.into_response_with_nav(&nav)
}

/// `GET /app/account`: who is signed in, the password, and the second factor.
pub async fn account_page(State(app): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (choice, actor) = match member_or_login(&app, &uri, &headers).await {
        Ok(m) => m,
        Err(r) => return r,
    };
    let l = choice.lang;
    let main = format!(
        r#"<h1>{heading}</h1>
<dl id="who" class="card"></dl>
{feedback}<section aria-labelledby="password-heading" class="card">
<h2 id="password-heading">{password}</h2>
<form id="password-form" class="grid-form">
<label for="current-password">{current}</label>
<input id="current-password" name="current_password" type="password" autocomplete="current-password" required>
<label for="new-password">{new}</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" minlength="10" required>
<button type="submit">{change}</button>
</form>
</section>
<section aria-labelledby="totp-heading" class="card">
<h2 id="totp-heading">{totp}</h2>
<p id="totp-state"></p>
<button type="button" id="totp-setup" hidden>{turn_on}</button>
<div id="totp-pending" hidden>
<p>{setup_intro}</p>
<dl class="secret-list">
<dt>{secret}</dt><dd><code id="totp-secret"></code></dd>
<dt>{uri}</dt><dd><code id="totp-uri"></code></dd>
</dl>
<form id="totp-confirm-form" class="grid-form">
<label for="totp-confirm-code">{code}</label>
<input id="totp-confirm-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6}}" maxlength="6" required>
<button type="submit">{confirm}</button>
</form>
</div>
<form id="totp-disable-form" class="grid-form" hidden>
<label for="totp-disable-code">{code}</label>
<input id="totp-disable-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6}}" maxlength="6" required>
<button type="submit" class="danger">{turn_off}</button>
</form>
</section>
"#,
        heading = escape(t(l, "account.heading")),
        feedback = feedback(),
        password = escape(t(l, "account.password")),
        current = escape(t(l, "account.current_password")),
        new = escape(t(l, "account.new_password")),
        change = escape(t(l, "account.change_password")),
        totp = escape(t(l, "account.totp")),
        turn_on = escape(t(l, "account.totp_turn_on")),
        setup_intro = escape(t(l, "account.totp_setup_intro")),
        secret = escape(t(l, "account.totp_secret")),
        uri = escape(t(l, "account.totp_uri")),
        code = escape(t(l, "login.totp_code")),
        confirm = escape(t(l, "account.totp_confirm")),
        turn_off = escape(t(l, "account.totp_turn_off")),
    );
    let nav = nav(l, &actor, Section::Account);
    Page { choice, title: "account.page_title", main, scripts: &["member.js", "account.js"] }.into_response_with_nav(&nav)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor { org: "org_1".into(), principal: "usr_1".into(), role }
    }

    #[test]
    fn the_navigation_shows_admin_to_administrators_only() {
        let admin = nav(Lang::En, &actor(Role::Admin), Section::Admin);
        assert!(admin.contains("href=\"/app/admin\" aria-current=\"page\">Admin</a>"), "{admin}");
        assert!(admin.contains(">New contract</a>") && admin.contains(">Sign out</button>"));
        let owner = nav(Lang::Zh, &actor(Role::Owner), Section::Contracts);
        assert!(owner.contains(">管理</a>") && owner.contains("href=\"/app\" aria-current=\"page\">合同</a>"), "{owner}");
        for role in [Role::Sender, Role::Member] {
            assert!(!nav(Lang::En, &actor(role), Section::Account).contains("/app/admin"));
        }
    }

    #[test]
    fn only_known_statuses_select_a_tab() {
        assert_eq!(status_of(Some("status=sent")), "sent");
        assert_eq!(status_of(Some("lang=zh&status=in_progress&text=x")), "in_progress");
        assert_eq!(status_of(Some("status=%3Cscript%3E")), "");
        assert_eq!(status_of(None), "");
    }

    #[test]
    fn every_role_has_an_option() {
        let html = role_options(Lang::En, Role::Sender);
        assert_eq!(html.matches("<option").count(), 4);
        assert!(html.contains("<option value=\"sender\" selected>"));
    }
}
