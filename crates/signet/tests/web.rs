//! The web pages: their HTTP answers (security headers, language choice, assets), and the
//! verification page in a real browser — `tests/web/verify.spec.mjs`, playwright-core driving
//! Debian's `chromium` headless — on a contract signed by two people through the API, a copy
//! of it modified after signing, a PDF without signature, and a file that is not a PDF. The
//! sender's and administrator's pages: who gets which page (redirects to `/login`, 404 for
//! another organisation's contract, 403 on the admin page for non-administrators), and the
//! whole flow in the browser (`tests/web/sender.spec.mjs`). Creating a contract on the page
//! (`tests/web/create.spec.mjs`: upload, recipients, fields dragged onto the pages, send), then
//! signing it and verifying the result.
//!
//! The browser part needs `tests/web/node_modules` (`npm ci --prefix tests/web`, done by
//! `.ci/run`) and `/usr/bin/chromium`: missing in CI fails, missing elsewhere skips with a
//! message. Screenshots go to `target/web-screenshots/`.

#[path = "platform/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use signet_client::{Channel, ContractMetadata, NewField, NewRecipient, SignRequest, Status, token_from_link};
use support::{Outbox, Server};

/// How long the browser script may take (it starts Chromium four times).
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

/// The content security policy every page and asset carries.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).http_status_as_error(false).build().into()
}

/// GET `url` with `headers`: (status, response headers, body).
fn get(url: &str, headers: &[(&str, &str)]) -> (u16, ureq::http::HeaderMap, String) {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut res = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status().as_u16();
    let h = res.headers().clone();
    let body = res.body_mut().read_to_string().unwrap_or_default();
    (status, h, body)
}

fn header<'a>(h: &'a ureq::http::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[track_caller]
fn assert_security_headers(h: &ureq::http::HeaderMap, what: &str) {
    assert_eq!(header(h, "content-security-policy"), CSP, "{what}");
    assert_eq!(header(h, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(h, "referrer-policy"), "no-referrer", "{what}");
}

/// The asset URLs (`/assets/…?v=…`) a page links.
fn asset_urls(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|s| s.starts_with("/assets/"))
        .map(str::to_owned)
        .collect()
}

/// `node tests/web/NAME.spec.mjs` against `server`, with the browser and the screenshot
/// directory; the caller adds the script's own variables.
fn node_script(name: &str, server: &Server, chromium: &Path, shots: &Path) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(workspace().join(format!("tests/web/{name}.spec.mjs")))
        .env("BASE_URL", &server.url)
        .env("CHROMIUM", chromium)
        .env("SCREENSHOT_DIR", shots);
    cmd
}

/// Runs a browser script (at most [`BROWSER_TIMEOUT`]), prints what it said, and fails with
/// that and the server's log unless it passed. Answers its standard output.
#[track_caller]
fn run_script(cmd: Command, name: &str, server: &Server) -> String {
    let out = support::run(cmd, BROWSER_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(out.status.success(), "tests/web/{name}.spec.mjs failed ({}):\n{text}\nserver:\n{}", out.status, server.stderr());
    stdout
}

/// A contract of one document signed by 张三 then Li Si through the API, completed (B-LTA).
fn completed_contract(server: &Server) -> Vec<u8> {
    let client = server.client();
    let public = server.client_with(None);
    let mailbox = Outbox(server.client());
    let url = server.url.as_str();
    let (a, b) = ("zhang.san@example.com", "li.si@example.com");
    let mut meta = ContractMetadata::new("房屋租赁合同 Lease");
    meta.recipients.push(NewRecipient::signer("张三", a, 1));
    meta.recipients.push(NewRecipient::signer("Li Si", b, 2));
    meta.fields.push(NewField::signature(a, 1, [60.0, 60.0, 260.0, 120.0]));
    meta.fields.push(NewField::signature(b, 2, [320.0, 60.0, 520.0, 120.0]));
    meta.send = true;
    let before = support::mark(&mailbox);
    let c = client.create_contract(&[("lease.pdf", &support::sample_pdf(2))], &meta).expect("create the contract");
    let mut since = before;
    for (email, drawn) in [(a, false), (b, true)] {
        let link = support::wait_link(&mailbox, &since, email, url);
        let token = token_from_link(&link).expect("a token in the link");
        let before_code = support::mark(&mailbox);
        public.request_code(token, Channel::Email).expect("request a code");
        let code = support::wait_code(&mailbox, &before_code, email, url);
        since = support::mark(&mailbox);
        let request = if drawn { SignRequest::drawn(code, support::signature_png()) } else { SignRequest::typed(code, "张三") };
        public.sign(token, &request).expect("sign");
    }
    let c = client.contract(&c.id).expect("the contract");
    assert_eq!(c.status, Status::Completed);
    let pdf = client.document(&c.id, 1).expect("the signed document");
    let report = client.verify(&pdf).expect("POST /api/v1/verify");
    assert_eq!(report["verdict"], "VALID", "{report:#}");
    pdf
}

/// `signed` with one more incremental update that gives page 1 new content (a new content
/// stream, and the page dictionary rewritten to show it): a change after signing that no
/// signature permits, while every signature still covers its own revision intact.
fn modified_after_signing(signed: &[u8]) -> Vec<u8> {
    use signet_pdf::{Document, Object, ObjRef};
    let bytes = signed.to_vec();
    let doc = Document::open(&bytes).expect("the signed PDF opens");
    assert!(doc.uses_xref_table(), "the platform's PDFs keep the sample's classic xref table");
    let (page_ref, mut page) = doc.page(1).expect("page 1");
    let content = ObjRef::new(doc.size(), 0);
    page.set("Contents", Object::Ref(content));
    let mut out = bytes.clone();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let drawn = b"BT /F1 28 Tf 72 420 Td (PAID IN FULL: 1,000,000) Tj ET\n";
    let mut offsets = vec![(page_ref, out.len())];
    out.extend_from_slice(format!("{} {} obj\n", page_ref.num, page_ref.r#gen).as_bytes());
    signet_pdf::write_object(&mut out, &Object::Dict(page));
    out.extend_from_slice(b"\nendobj\n");
    offsets.push((content, out.len()));
    out.extend_from_slice(format!("{} 0 obj\n<< /Length {} >>\nstream\n", content.num, drawn.len()).as_bytes());
    out.extend_from_slice(drawn);
    out.extend_from_slice(b"\nendstream\nendobj\n");
    offsets.sort_by_key(|(r, _)| r.num);
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    for (r, off) in &offsets {
        out.extend_from_slice(format!("{} 1\n{off:010} {:05} n\r\n", r.num, r.r#gen).as_bytes());
    }
    let mut trailer = signet_pdf::Dict::new();
    for key in [&b"Root"[..], b"Info", b"ID"] {
        if let Some(v) = doc.trailer().get(key) {
            trailer.set(key, v.clone());
        }
    }
    trailer.set("Size", Object::Integer(i64::from(content.num) + 1));
    trailer.set("Prev", Object::Integer(i64::try_from(doc.startxref()).expect("an offset")));
    out.extend_from_slice(b"trailer\n");
    signet_pdf::write_object(&mut out, &Object::Dict(trailer));
    out.extend_from_slice(format!("\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

/// The pages' HTTP answers, without a browser.
#[test]
fn pages_and_assets_carry_security_headers_and_the_chosen_language() {
    let server = Server::start(&[]);
    let url = format!("{}/verify", server.url);

    // English by default; the page, its headers, and every asset it links.
    let (status, h, html) = get(&url, &[]);
    assert_eq!(status, 200);
    assert_security_headers(&h, "the page");
    assert_eq!(header(&h, "cache-control"), "no-store");
    assert!(header(&h, "content-type").starts_with("text/html"));
    assert!(h.get("set-cookie").is_none(), "no cookie unless ?lang= chose the language");
    assert!(html.starts_with("<!doctype html>\n<html lang=\"en\">"), "{html}");
    assert!(html.contains("<label for=\"file\">PDF file</label>") && html.contains(">Verify</button>"));
    let assets = asset_urls(&html);
    assert_eq!(assets.len(), 4, "{assets:?}");
    for a in &assets {
        let (status, h, body) = get(&format!("{}{a}", server.url), &[]);
        assert_eq!(status, 200, "{a}");
        assert_security_headers(&h, a);
        assert_eq!(header(&h, "cache-control"), "public, max-age=3600", "{a}");
        let want = if a.contains(".css") { "text/css" } else if a.contains(".svg") { "image/svg+xml" } else { "text/javascript" };
        assert!(header(&h, "content-type").starts_with(want), "{a}: {}", header(&h, "content-type"));
        assert!(!body.is_empty());
    }
    let (status, h, _) = get(&format!("{}/assets/nothing.js", server.url), &[]);
    assert_eq!(status, 404);
    assert_security_headers(&h, "a missing asset");

    // ?lang=zh wins over the browser and sets the cookie; the cookie alone keeps Chinese;
    // Accept-Language decides without either.
    let (_, h, html) = get(&format!("{url}?lang=zh"), &[("accept-language", "en-US")]);
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains(">验证</button>"), "{html}");
    let cookie = header(&h, "set-cookie");
    for part in ["signet_lang=zh", "Path=/", "Max-Age=31536000", "SameSite=Lax"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let (_, _, html) = get(&url, &[("cookie", "signet_lang=zh"), ("accept-language", "en")]);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    let (_, _, html) = get(&url, &[("accept-language", "zh-TW,zh;q=0.9,en;q=0.8")]);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    let (_, _, html) = get(&url, &[("accept-language", "en-GB,zh;q=0.5")]);
    assert!(html.contains("<html lang=\"en\">"));

    // The API keeps its own answers: the page router's headers are not on them.
    let (status, h, _) = get(&format!("{}/healthz", server.url), &[]);
    assert_eq!(status, 200);
    assert!(h.get("content-security-policy").is_none());
}

/// Whether the browser tools are here: `Some(chromium)`, or `None` outside CI with a message
/// (missing in CI fails). `SIGNET_CHROMIUM` names another browser than `/usr/bin/chromium`.
fn browser_tools() -> Option<PathBuf> {
    let modules = workspace().join("tests/web/node_modules");
    let chromium = std::env::var_os("SIGNET_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let missing = if !modules.join("playwright-core").is_dir() {
        Some(format!("{} is missing: run `npm ci --prefix tests/web` (or `bash .ci/run`)", modules.display()))
    } else if !chromium.exists() {
        Some(format!("{} is missing: `apt-get install chromium` (or `bash .ci/run`)", chromium.display()))
    } else if Command::new("node").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        Some("node is not on PATH".to_owned())
    } else {
        None
    };
    match missing {
        None => Some(chromium),
        Some(msg) => {
            assert!(std::env::var_os("CI").is_none(), "{msg}");
            eprintln!("SKIPPED browser tests: {msg}");
            None
        }
    }
}

/// The verification page in Chromium: English, Chinese, the browser's preference, a phone.
#[test]
fn the_verification_page_in_a_browser() {
    let Some(chromium) = browser_tools() else { return };
    let server = Server::start(&[]);
    let signed = completed_contract(&server);
    let modified = modified_after_signing(&signed);
    let report: Value = server.client().verify(&modified).expect("verify the modified copy");
    assert_ne!(report["verdict"], "VALID", "{report:#}");
    assert_eq!(report["document"]["modification"]["verdict"], "NOT_PERMITTED", "{report:#}");

    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        ("signed.pdf", signed),
        ("modified.pdf", modified),
        ("unsigned.pdf", support::sample_pdf(1)),
        ("notes.txt", b"These are meeting notes, not a PDF.\n".to_vec()),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).expect("write a test file");
    }
    let shots = workspace().join("target/web-screenshots");
    std::fs::create_dir_all(&shots).expect("the screenshot directory");

    let mut cmd = node_script("verify", &server, &chromium, &shots);
    cmd
        .env("SIGNED_PDF", dir.path().join("signed.pdf"))
        .env("MODIFIED_PDF", dir.path().join("modified.pdf"))
        .env("UNSIGNED_PDF", dir.path().join("unsigned.pdf"))
        .env("NOT_PDF", dir.path().join("notes.txt"))
        .env("SIGNERS", "张三,Li Si");
    run_script(cmd, "verify", &server);
    for shot in ["verify-valid-en.png", "verify-valid-zh.png", "verify-modified-en.png", "verify-mobile-zh.png"] {
        assert!(shots.join(shot).is_file(), "no screenshot {shot}");
    }
}

/// An agent that does not follow redirects (to see the pages' 303s).
fn agent_no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(30))).http_status_as_error(false).max_redirects(0).build().into()
}

/// GET `url` with `headers`, redirects not followed: (status, `Location`, body).
fn get_no_redirect(url: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut req = agent_no_redirects().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut res = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status().as_u16();
    let location = header(res.headers(), "location").to_owned();
    let body = res.body_mut().read_to_string().unwrap_or_default();
    (status, location, body)
}

/// Signs in through `POST /api/v1/session`: the `Cookie` header value of the session.
fn session_cookie(server: &Server, email: &str, password: &str) -> String {
    let body = serde_json::json!({"email": email, "password": password}).to_string();
    let res = agent()
        .post(&format!("{}/api/v1/session", server.url))
        .header("content-type", "application/json")
        .send(body.as_bytes())
        .expect("POST /api/v1/session");
    assert_eq!(res.status().as_u16(), 201, "sign-in");
    let set = header(res.headers(), "set-cookie");
    set.split(';').next().filter(|c| c.starts_with("signet_session=")).unwrap_or_else(|| panic!("no session cookie: {set}")).to_owned()
}

/// A contract of one document for `signer`, sent or left a draft.
fn contract_for(client: &signet_client::Client, title: &str, signer: (&str, &str), send: bool) -> signet_client::Contract {
    let mut meta = ContractMetadata::new(title);
    meta.recipients.push(NewRecipient::signer(signer.0, signer.1, 1));
    meta.fields.push(NewField::signature(signer.1, 1, [60.0, 60.0, 260.0, 120.0]));
    meta.send = send;
    client.create_contract(&[("contract.pdf", &support::sample_pdf(1))], &meta).unwrap_or_else(|e| panic!("create {title}: {e}"))
}

/// The sender's pages without a browser: who gets which page or redirect, and their headers.
#[test]
fn the_sender_pages_need_a_member_session() {
    let server = Server::start(&[]);
    let base = server.url.as_str();

    // Without a session (or with a dead one) every page behind the login goes to /login.
    for path in ["/", "/app", "/app/contracts/new", "/app/contracts/ct_x", "/app/admin", "/app/account"] {
        for cookie in [None, Some("signet_session=not-a-session")] {
            let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
            let (status, location, _) = get_no_redirect(&format!("{base}{path}"), &headers);
            assert_eq!((status, location.as_str()), (303, "/login"), "{path} with {cookie:?}");
        }
    }
    let (status, h, html) = get(&format!("{base}/login"), &[]);
    assert_eq!(status, 200);
    assert_security_headers(&h, "/login");
    assert_eq!(header(&h, "cache-control"), "no-store");
    for part in ["<label for=\"email\">Email</label>", "<label for=\"password\">Password</label>", "<label for=\"totp-code\">Authenticator code</label>", ">Sign in</button>", "href=\"/verify\"", ">中文</a>"] {
        assert!(html.contains(part), "{part} in {html}");
    }
    let (_, h, html) = get(&format!("{base}/login?lang=zh"), &[]);
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains(">登录</button>") && html.contains("身份验证器验证码"), "{html}");
    assert!(header(&h, "set-cookie").starts_with("signet_lang=zh"));
    // The language chosen on a redirected page is kept for the next one.
    let res = agent_no_redirects().get(&format!("{base}/app?lang=zh")).call().expect("GET /app?lang=zh");
    assert_eq!(res.status().as_u16(), 303);
    assert!(header(res.headers(), "set-cookie").starts_with("signet_lang=zh"));

    // The demo administrator: every page, and / and /login lead to the dashboard.
    let admin = session_cookie(&server, &server.creds.admin_email, &server.creds.admin_password);
    let with = [("cookie", admin.as_str())];
    for path in ["/", "/login"] {
        let (status, location, _) = get_no_redirect(&format!("{base}{path}"), &with);
        assert_eq!((status, location.as_str()), (303, "/app"), "{path}");
    }
    let ours = contract_for(&server.client(), "Lease 租赁合同", ("张三", "zhang.san@example.com"), true);
    for (path, wants) in [
        ("/app".to_owned(), "<label for=\"search\">"),
        ("/app/contracts/new".to_owned(), "<label for=\"files\">PDF documents</label>"),
        (format!("/app/contracts/{}", ours.id), &format!("data-contract-id=\"{}\"", ours.id)),
        ("/app/admin".to_owned(), "<label for=\"key-name\">"),
        ("/app/account".to_owned(), "<label for=\"new-password\">"),
    ] {
        let (status, h, html) = get(&format!("{base}{path}"), &with);
        assert_eq!(status, 200, "{path}");
        assert_security_headers(&h, &path);
        assert!(html.contains(wants), "{path}: {wants}");
        assert!(html.contains(">Sign out</button>") && html.contains("href=\"/app/admin\""), "{path}: the navigation");
        assert_eq!(html.matches("<main").count(), 1, "{path}");
    }
    // Another organisation's contract, and one that does not exist: not found.
    let other = server.create_org("Other Ltd", "boss@other.example.com");
    let theirs = contract_for(&server.client_with(Some(other.api_key.clone())), "Theirs", ("Wang Wu", "wang.wu@example.com"), false);
    for id in [theirs.id.as_str(), "ct_nothing"] {
        let (status, _, html) = get(&format!("{base}/app/contracts/{id}"), &with);
        assert_eq!(status, 404, "{id}");
        assert!(html.contains("id=\"not-found\"") && html.contains("role=\"alert\""), "{html}");
    }
    let (status, _, html) = get(&format!("{base}/app/contracts/%3Cb%3E"), &with);
    assert_eq!(status, 404);
    assert!(!html.contains("<b>"));

    // A sender: no Admin in the navigation, and the admin page says no.
    let body = serde_json::json!({"email": "sender@example.com", "name": "A Sender", "role": "sender"});
    let added = agent()
        .post(&format!("{base}/api/v1/members"))
        .header("authorization", &format!("Bearer {}", server.creds.api_key))
        .header("content-type", "application/json")
        .send(body.to_string().as_bytes())
        .expect("add a member")
        .body_mut()
        .read_to_string()
        .expect("the answer");
    let added: Value = serde_json::from_str(&added).expect("the new member as JSON");
    let password = added["initial_password"].as_str().expect("a first password");
    let sender = session_cookie(&server, "sender@example.com", password);
    let (status, _, html) = get(&format!("{base}/app"), &[("cookie", sender.as_str())]);
    assert_eq!(status, 200);
    assert!(!html.contains("/app/admin"), "no Admin link for a sender");
    let (status, _, html) = get(&format!("{base}/app/admin"), &[("cookie", sender.as_str())]);
    assert_eq!(status, 403);
    assert!(html.contains("id=\"not-allowed\""), "{html}");
    let (status, _, _) = get(&format!("{base}/app/contracts/{}", ours.id), &[("cookie", sender.as_str())]);
    assert_eq!(status, 404, "a sender sees only their own contracts");
}

/// The sender's and administrator's pages in Chromium: sign-in (wrong password, second
/// factor), the dashboard (filters, search, pages), a contract (remind, void, downloads),
/// administration (API key, member), the account (password, TOTP), both languages, a phone.
#[test]
fn the_sender_pages_in_a_browser() {
    let Some(chromium) = browser_tools() else { return };
    let server = Server::start(&[]);
    let client = server.client();
    // One contract sent, one draft, and ten drafts more: twelve, over the dashboard's page of ten.
    let sent = contract_for(&client, "Lease 租赁合同", ("张三", "zhang.san@example.com"), true);
    let draft = contract_for(&client, "Supply agreement 供货协议", ("Li Si", "li.si@example.com"), false);
    for n in 1..=10 {
        contract_for(&client, &format!("Annex {n:02}"), ("Zhao Liu", "zhao.liu@example.com"), false);
    }
    // And the newest, whose stored record is damaged: named above the first page, not listed.
    let damaged = contract_for(&client, "Damaged", ("Wu Qi", "wu.qi@example.com"), false);
    support::damage_contract_record(&server.data.join("signet.db"), &damaged.id);
    let shots = workspace().join("target/web-screenshots");
    std::fs::create_dir_all(&shots).expect("the screenshot directory");

    let mut cmd = node_script("sender", &server, &chromium, &shots);
    cmd
        .env("ADMIN_EMAIL", &server.creds.admin_email)
        .env("ADMIN_PASSWORD", &server.creds.admin_password)
        .env("SENT_ID", &sent.id)
        .env("SENT_TITLE", &sent.title)
        .env("SENT_NUMBER", &sent.number)
        .env("DRAFT_ID", &draft.id)
        .env("DRAFT_TITLE", &draft.title)
        .env("DAMAGED_ID", &damaged.id);
    run_script(cmd, "sender", &server);

    // What the pages did, seen through the API.
    let voided = client.contract(&sent.id).expect("the sent contract");
    assert_eq!(voided.status, Status::Voided);
    let events = client.events(&sent.id).expect("its events");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"reminded") && kinds.contains(&"voided"), "{kinds:?}");
    let reason = events.iter().find(|e| e.kind == "voided").and_then(|e| e.data.get("reason")).and_then(Value::as_str);
    assert_eq!(reason, Some("Wrong counterparty 签约方有误"));
    assert_eq!(client.contract(&draft.id).expect("the draft").status, Status::Draft);
    for shot in ["login-en.png", "login-zh.png", "dashboard-en.png", "dashboard-zh.png", "detail-en.png", "detail-zh.png", "admin-en.png", "admin-zh.png"] {
        assert!(shots.join(shot).is_file(), "no screenshot {shot}");
    }
}

/// The signer's page in Chromium on a phone (375×812, touch): two signers in order through
/// their mailed links — the first fills a text field and a check box and draws, the second
/// types a Chinese name in Chinese — then the signed PDF, which `signet verify` and pyHanko
/// accept; a decline with a reason on another contract; a dead link's message.
#[test]
fn the_signers_page_in_a_browser() {
    let Some(chromium) = browser_tools() else { return };
    let server = Server::start(&[]);
    let client = server.client();
    let (a, b, d) = ("wang.wu@example.com", "li.si@example.com", "zhao.liu@example.com");

    // The page's HTTP answer: its shell, security headers, no token needed to load it.
    let (status, h, html) = get(&format!("{}/sign", server.url), &[]);
    assert_eq!(status, 200);
    assert_security_headers(&h, "/sign");
    assert_eq!(header(&h, "cache-control"), "no-store");
    assert!(html.contains("autocomplete=\"one-time-code\"") && html.contains("/assets/sign.js?v="), "{html}");

    let mut meta = ContractMetadata::new("房屋租赁合同 Lease");
    meta.recipients.push(NewRecipient::signer("Wang Wu", a, 1));
    meta.recipients.push(NewRecipient::signer("李四", b, 2));
    meta.fields.push(NewField::signature(a, 1, [60.0, 60.0, 260.0, 120.0]));
    meta.fields.push(NewField::new(signet_client::FieldKind::Text, a, 1, [60.0, 140.0, 260.0, 160.0]));
    meta.fields.push(NewField::new(signet_client::FieldKind::Checkbox, a, 1, [280.0, 142.0, 294.0, 156.0]));
    meta.fields.push(NewField::signature(b, 2, [320.0, 60.0, 520.0, 120.0]));
    meta.send = true;
    let c = client.create_contract(&[("lease.pdf", &support::sample_pdf(2))], &meta).expect("create the contract");
    let mut other = ContractMetadata::new("Service agreement 服务协议");
    other.recipients.push(NewRecipient::signer("Zhao Liu", d, 1));
    other.fields.push(NewField::signature(d, 1, [60.0, 60.0, 260.0, 120.0]));
    other.send = true;
    let declined = client.create_contract(&[("service.pdf", &support::sample_pdf(1))], &other).expect("create the second contract");

    let shots = workspace().join("target/web-screenshots");
    std::fs::create_dir_all(&shots).expect("the screenshot directory");
    let mut cmd = node_script("sign", &server, &chromium, &shots);
    cmd
        .env("API_KEY", &server.creds.api_key)
        .env("SIGNER_1", a)
        .env("SIGNER_2", b)
        .env("DECLINER", d);
    run_script(cmd, "sign", &server);
    for shot in ["sign-code-en.png", "sign-draw-en.png", "sign-typed-zh.png", "sign-done-zh.png", "sign-declined-en.png", "sign-dead-link-en.png"] {
        assert!(shots.join(shot).is_file(), "no screenshot {shot}");
    }

    // What the browsers did, seen through the API.
    let c = client.contract(&c.id).expect("the contract");
    assert_eq!(c.status, Status::Completed);
    assert_eq!(client.contract(&declined.id).expect("the second contract").status, Status::Declined);
    let events = client.events(&declined.id).expect("its events");
    let reason = events.iter().find(|e| e.kind == "declined").and_then(|e| e.data.get("reason")).and_then(Value::as_str).unwrap_or_default().to_owned();
    assert!(reason.contains("wrong rent"), "the reason typed on the page: {reason:?}");
    let key = format!("Bearer {}", server.creds.api_key);
    let (status, _, body) = get(&format!("{}/api/v1/contracts/{}", server.url, c.id), &[("authorization", &key)]);
    assert_eq!(status, 200, "{body}");
    let contract: Value = serde_json::from_str(&body).expect("the contract as JSON");
    let values: Vec<(&str, &str)> = contract["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| (f["type"].as_str().unwrap_or(""), f["value"].as_str().unwrap_or("")))
        .collect();
    assert!(values.contains(&("text", "Flat 3B, 12 Garden Road")) && values.contains(&("checkbox", "true")), "{values:?}");

    // The signed PDF: valid for signet verify and for pyHanko.
    let pdf = client.document(&c.id, 1).expect("the signed document");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("signed.pdf");
    std::fs::write(&file, &pdf).expect("write the signed PDF");
    let root = server.root_pem();
    let out = server.signet(["verify".as_ref(), "--json".as_ref(), "--trust".as_ref(), root.as_os_str(), file.as_os_str()] as [&std::ffi::OsStr; 5]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("signet.verify/v1 JSON");
    assert_eq!((out.status.code(), &report["verdict"]), (Some(0), &Value::from("VALID")), "{report:#}");
    let sigs = report["signatures"].as_array().expect("signatures");
    let subjects: Vec<&str> = sigs.iter().filter_map(|s| s["signer"]["subject"].as_str()).collect();
    assert!(subjects.first().is_some_and(|s| s.contains("Wang Wu")) && subjects.get(1).is_some_and(|s| s.contains("李四")), "{subjects:?}");
    let fields: Vec<String> = sigs.iter().filter(|s| s["kind"] == "signature").filter_map(|s| s["field"].as_str()).map(str::to_owned).collect();
    assert_eq!(fields.len(), 2, "{report:#}");
    if let Some(pyhanko) = support::pyhanko() {
        support::pyhanko_validate(&pyhanko, &root, &file, &fields);
    }
}

/// Creating a contract in Chromium (`tests/web/create.spec.mjs`): a PDF uploaded, two signers,
/// fields dragged onto the pages (moved, resized, a stray one deleted) and sent, and both
/// signers sign on the signer's page; then, through the API, the fields are where the page put
/// them, the contract is completed, the signed PDF is valid for
/// `signet verify` and pyHanko, and the verification page says valid for it and modified for a
/// tampered copy.
#[test]
fn creating_a_contract_in_a_browser() {
    let Some(chromium) = browser_tools() else { return };
    let server = Server::start(&[]);
    let client = server.client();
    let url = server.url.as_str();
    let (a, b) = ("alice.wang@example.com", "bob.li@example.com");
    let dir = tempfile::tempdir().expect("temp dir");
    let upload = dir.path().join("lease-2026.pdf");
    std::fs::write(&upload, support::sample_pdf(2)).expect("write the PDF to upload");
    let shots = workspace().join("target/web-screenshots");
    std::fs::create_dir_all(&shots).expect("the screenshot directory");

    let mut cmd = node_script("create", &server, &chromium, &shots);
    cmd
        .env("ADMIN_EMAIL", &server.creds.admin_email)
        .env("ADMIN_PASSWORD", &server.creds.admin_password)
        .env("PDF", &upload)
        .env("SIGNER_A", a)
        .env("SIGNER_B", b)
        .env("API_KEY", &server.creds.api_key)
        .env("SIGNED_PDF_OUT", dir.path().join("downloaded.pdf"));
    let out = run_script(cmd, "create", &server);
    for shot in ["create-step1-en.png", "create-step2-en.png", "create-step1-zh.png", "create-step2-zh.png", "create-place-en.png", "contract-pages-en.png"] {
        assert!(shots.join(shot).is_file(), "no screenshot {shot}");
    }
    let stdout = out;
    let line = |prefix: &str| stdout.lines().find_map(|l| l.strip_prefix(prefix)).map(str::to_owned).unwrap_or_else(|| panic!("no `{prefix}` line"));
    let id = line("contract: ");
    let shown: Value = serde_json::from_str(&line("placed: ")).expect("the placed fields as JSON");

    // The contract as the pages left it: titled after the file, the fields where they were shown.
    let c = client.contract(&id).expect("the contract");
    assert_eq!(c.title, "lease-2026 (rev. 2)", "titled after the file, then edited after Back");
    let key = format!("Bearer {}", server.creds.api_key);
    let (status, _, body) = get(&format!("{url}/api/v1/contracts/{id}"), &[("authorization", &key)]);
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).expect("the contract as JSON");
    let sizes = &json["documents"][0]["page_sizes"];
    let fields = json["fields"].as_array().expect("fields");
    let summary: Vec<(&str, &str, u64)> = fields.iter().map(|f| (f["recipient"].as_str().unwrap_or(""), f["type"].as_str().unwrap_or(""), f["page"].as_u64().unwrap_or(0))).collect();
    assert_eq!(summary, [(a, "signature", 1), (b, "signature", 2), (a, "date", 1)], "{json:#}");
    let shown = shown.as_array().expect("placed fields");
    assert_eq!(shown.len(), fields.len());
    for f in fields {
        let s = shown
            .iter()
            .find(|s| s["page"] == f["page"] && s["kind"] == f["type"] && s["recipient"] == f["recipient"])
            .unwrap_or_else(|| panic!("{f} is not among the fields the page showed: {shown:?}"));
        let page = f["page"].as_u64().unwrap_or(0) as usize;
        let (w, h) = (sizes[page - 1][0].as_f64().unwrap_or(0.0), sizes[page - 1][1].as_f64().unwrap_or(0.0));
        let rect: Vec<f64> = f["rect"].as_array().expect("rect").iter().filter_map(Value::as_f64).collect();
        assert!(rect.len() == 4 && rect[0] >= 0.0 && rect[1] >= 0.0 && rect[2] <= w && rect[3] <= h && rect[0] < rect[2] && rect[1] < rect[3], "{f} on a {w}×{h} page");
        for (i, v) in rect.iter().enumerate() {
            let seen = s["rect"][i].as_f64().unwrap_or(f64::NAN);
            assert!((v - seen).abs() < 1.0, "{f} is not where the page showed it: {s}");
        }
    }
    let kinds: Vec<String> = client.events(&id).expect("events").iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds[..4], ["created", "draft_edited", "fields_set", "sent"].map(str::to_owned), "{kinds:?}");

    // Both signed on the signer's page, through their mailed links.
    assert_eq!(client.contract(&id).expect("the contract").status, Status::Completed);
    let signed: Vec<String> = client.events(&id).expect("events").iter().filter(|e| e.kind == "signed").filter_map(|e| e.recipient.clone()).collect();
    assert_eq!(signed.len(), 2, "{signed:?}");

    // The signed PDF the sender downloaded from the contract's page (the API's bytes): valid
    // for signet verify and pyHanko.
    let file = dir.path().join("downloaded.pdf");
    let pdf = std::fs::read(&file).expect("the sender's download");
    assert!(pdf == client.document(&id, 1).expect("the signed document"), "the page's download is the API's signed document");
    let root = server.root_pem();
    let out = server.signet(["verify".as_ref(), "--json".as_ref(), "--trust".as_ref(), root.as_os_str(), file.as_os_str()] as [&std::ffi::OsStr; 5]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("signet.verify/v1 JSON");
    assert_eq!((out.status.code(), &report["verdict"]), (Some(0), &Value::from("VALID")), "{report:#}");
    let names: Vec<String> = report["signatures"].as_array().expect("signatures").iter().filter(|s| s["kind"] == "signature").filter_map(|s| s["field"].as_str()).map(str::to_owned).collect();
    assert_eq!(names.len(), 2, "{report:#}");
    if let Some(pyhanko) = support::pyhanko() {
        support::pyhanko_validate(&pyhanko, &root, &file, &names);
    }

    // The verification page: valid for it, modified after signing for a tampered copy.
    let modified = modified_after_signing(&pdf);
    let files = [("modified.pdf", modified), ("unsigned.pdf", support::sample_pdf(1)), ("notes.txt", b"Not a PDF.\n".to_vec())];
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).expect("write a test file");
    }
    let verify_shots = dir.path().join("verify-shots");
    let mut cmd = node_script("verify", &server, &chromium, &verify_shots);
    cmd
        .env("SIGNED_PDF", &file)
        .env("MODIFIED_PDF", dir.path().join("modified.pdf"))
        .env("UNSIGNED_PDF", dir.path().join("unsigned.pdf"))
        .env("NOT_PDF", dir.path().join("notes.txt"))
        .env("SIGNERS", "Alice Wang,Bob Li 李波");
    run_script(cmd, "verify", &server);
}
