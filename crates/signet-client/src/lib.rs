//! The typed client of Signet's Open API v1 (`/api/v1/…`): the SDK a program embeds to create
//! contracts, follow them and fetch signed documents with an organisation's API key, and what
//! a signing page does with the token from a signer's link.
//!
//! ```no_run
//! use signet_client::{Client, ContractMetadata, NewField, NewRecipient};
//!
//! let client = Client::new("https://sign.example.com", Some("sk_…".into()));
//! let mut meta = ContractMetadata::new("Lease");
//! meta.recipients.push(NewRecipient::signer("Zhang San", "zhang@example.com", 1));
//! meta.fields.push(NewField::signature("zhang@example.com", 1, [50.0, 50.0, 250.0, 110.0]));
//! meta.send = true;
//! let pdf = std::fs::read("lease.pdf")?;
//! let contract = client.create_contract(&[("lease.pdf", &pdf)], &meta)?;
//! println!("{} is {}", contract.number, contract.status);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Blocking, over `ureq`; one [`Client`] is cheap to clone and shares its connection pool.
//! Every refusal of the API is [`ClientError::Api`] with the stable code of the API's error
//! envelope. What this crate does not do: retry (an idempotent create takes the caller's
//! `Idempotency-Key`, so a caller's retry is safe), poll, or keep state between calls.
//!
//! The signer's calls ([`Client::signing`] and the rest taking a `token`) never send the API
//! key: the token is the signer's only credential.

mod error;
mod multipart;
mod types;

use std::time::Duration;

use serde::de::DeserializeOwned;

pub use error::{ClientError, Result};
pub use types::*;

/// The default limit of one call, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest JSON answer read.
const MAX_JSON: u64 = 64 * 1024 * 1024;
/// The largest document read.
const MAX_DOCUMENT: u64 = 2 * 1024 * 1024 * 1024;
/// Uploads larger than this ask `Expect: 100-continue` (smaller ones fit in socket buffers).
const EXPECT_CONTINUE_OVER: usize = 64 * 1024;

/// A client of one Signet server.
#[derive(Clone)]
pub struct Client {
    base: String,
    api_key: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The token of a signing link `https://…/s/{token}` (the last path segment after `/s/`,
/// without a query or fragment), or `None` if `link` is not one.
pub fn token_from_link(link: &str) -> Option<&str> {
    let (_, rest) = link.rsplit_once("/s/")?;
    let token = rest.split(['?', '#']).next().unwrap_or_default();
    (!token.is_empty() && !token.contains('/')).then_some(token)
}

/// A request being built: method, path, description (secrets replaced by placeholders).
struct Call {
    method: &'static str,
    path: String,
    what: String,
    query: Vec<(&'static str, String)>,
    auth: bool,
    headers: Vec<(&'static str, String)>,
}

/// An answer with a 2xx status.
struct Answer {
    replayed: bool,
    body: Vec<u8>,
}

impl Client {
    /// A client of the server at `base_url` (`https://sign.example.com`), authenticating with
    /// `api_key` where the API asks for one.
    pub fn new(base_url: impl Into<String>, api_key: Option<String>) -> Client {
        Client { base: base_url.into().trim_end_matches('/').to_owned(), api_key, agent: agent(DEFAULT_TIMEOUT) }
    }

    /// The same client with another limit per call.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.agent = agent(timeout);
        self
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    // --- service -----------------------------------------------------------------------------

    /// `GET /healthz`: whether the server and its database answer.
    pub fn health(&self) -> Result<()> {
        self.run(Call::get("/healthz").public(), None, MAX_JSON).map(|_| ())
    }

    /// `GET /api/v1/ca/root.pem`: the instance's root certificate (PEM), the trust anchor of
    /// every signature it makes.
    pub fn root_pem(&self) -> Result<String> {
        let call = Call::get("/api/v1/ca/root.pem").public();
        let answer = self.run(call, None, MAX_JSON)?;
        String::from_utf8(answer.body)
            .map_err(|_| ClientError::Decode { request: "GET /api/v1/ca/root.pem".into(), reason: "not UTF-8 text".into() })
    }

    /// `POST /api/v1/verify`: the verification report (`signet.verify/v1`) of a PDF against
    /// the instance's root.
    pub fn verify(&self, pdf: &[u8]) -> Result<serde_json::Value> {
        let call = Call::post("/api/v1/verify");
        self.json(call, Some(("application/pdf", pdf)))
    }

    // --- contracts -------------------------------------------------------------------------------

    /// `POST /api/v1/contracts`: a contract from PDFs (`(file name, bytes)`, document 1 first)
    /// and its metadata.
    pub fn create_contract(&self, documents: &[(&str, &[u8])], metadata: &ContractMetadata) -> Result<Contract> {
        Ok(self.create(documents, metadata, None)?.contract)
    }

    /// [`Client::create_contract`] with an `Idempotency-Key`: a retry with the same key and the
    /// same request gets the first answer again (`replayed`), never a second contract; the
    /// same key with another request is refused (422). The same documents and metadata are
    /// always sent as the same bytes (the multipart boundary is derived from them), which is
    /// what the server compares.
    pub fn create_contract_idempotent(
        &self,
        documents: &[(&str, &[u8])],
        metadata: &ContractMetadata,
        idempotency_key: &str,
    ) -> Result<Created> {
        self.create(documents, metadata, Some(idempotency_key))
    }

    fn create(&self, documents: &[(&str, &[u8])], metadata: &ContractMetadata, key: Option<&str>) -> Result<Created> {
        let what = "POST /api/v1/contracts";
        let meta = serde_json::to_vec(metadata).map_err(|e| ClientError::Decode { request: what.into(), reason: e.to_string() })?;
        let mut parts: Vec<multipart::Part<'_>> = documents
            .iter()
            .map(|(name, bytes)| multipart::Part { name: "document", file_name: Some(name), content_type: "application/pdf", body: bytes })
            .collect();
        parts.push(multipart::Part { name: "metadata", file_name: None, content_type: "application/json", body: &meta });
        let form = multipart::encode(&parts);
        let mut call = Call::post("/api/v1/contracts");
        if form.body.len() > EXPECT_CONTINUE_OVER {
            // The server may refuse on the headers alone (a bad key, a missing route); with
            // 100-continue that answer comes before the body is sent, instead of being lost
            // when the server closes a connection it did not read to the end.
            call.headers.push(("Expect", "100-continue".into()));
        }
        if let Some(key) = key {
            call.headers.push(("Idempotency-Key", key.to_owned()));
        }
        let answer = self.run(call, Some((&form.content_type, &form.body)), MAX_JSON)?;
        Ok(Created { contract: decode(what, &answer.body)?, replayed: answer.replayed })
    }

    /// `GET /api/v1/contracts`: one page of the organisation's contracts, newest first,
    /// optionally of one status and matching `text` (title, number, a recipient's name or
    /// address); `cursor` is the previous page's `next_cursor`.
    pub fn list_contracts(&self, status: Option<Status>, text: Option<&str>, cursor: Option<&str>, limit: Option<u32>) -> Result<Page> {
        let mut call = Call::get("/api/v1/contracts");
        if let Some(s) = status {
            call.query.push(("status", s.as_str().to_owned()));
        }
        if let Some(t) = text {
            call.query.push(("text", t.to_owned()));
        }
        if let Some(c) = cursor {
            call.query.push(("cursor", c.to_owned()));
        }
        if let Some(n) = limit {
            call.query.push(("limit", n.to_string()));
        }
        self.json(call, None)
    }

    /// `GET /api/v1/contracts/{id}`.
    pub fn contract(&self, id: &str) -> Result<Contract> {
        self.json(Call::contract("GET", id, ""), None)
    }

    /// `POST /api/v1/contracts/{id}/send`: sends a draft; the first signers get their links.
    pub fn send(&self, id: &str) -> Result<Contract> {
        self.json(Call::contract("POST", id, "/send"), Some(("application/json", b"{}")))
    }

    /// `POST /api/v1/contracts/{id}/void`: withdraws an open contract; links stop working.
    pub fn void(&self, id: &str, reason: &str) -> Result<Contract> {
        let body = serde_json::json!({ "reason": reason }).to_string();
        self.json(Call::contract("POST", id, "/void"), Some(("application/json", body.as_bytes())))
    }

    /// `POST /api/v1/contracts/{id}/remind`: fresh links to the signers whose turn it is;
    /// returns their recipient ids.
    pub fn remind(&self, id: &str) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Reminded {
            reminded: Vec<String>,
        }
        let r: Reminded = self.json(Call::contract("POST", id, "/remind"), Some(("application/json", b"{}")))?;
        Ok(r.reminded)
    }

    /// `GET /api/v1/contracts/{id}/events`: the contract's evidence events, oldest first.
    pub fn events(&self, id: &str) -> Result<Vec<Event>> {
        #[derive(serde::Deserialize)]
        struct Events {
            items: Vec<Event>,
        }
        let e: Events = self.json(Call::contract("GET", id, "/events"), None)?;
        Ok(e.items)
    }

    /// `GET /api/v1/contracts/{id}/document?document={n}`: the newest version of document `n`
    /// (from 1): the upload, then signed so far, then completed (with a document time-stamp).
    pub fn document(&self, id: &str, n: usize) -> Result<Vec<u8>> {
        let mut call = Call::contract("GET", id, "/document");
        call.query.push(("document", n.to_string()));
        Ok(self.run(call, None, MAX_DOCUMENT)?.body)
    }

    /// `GET /api/v1/contracts/{id}/evidence`: the evidence report (签约存证页) as a PDF: the
    /// contract's documents, signers and every evidence event with its leaf in the log.
    pub fn evidence(&self, id: &str) -> Result<Vec<u8>> {
        Ok(self.run(Call::contract("GET", id, "/evidence"), None, MAX_DOCUMENT)?.body)
    }

    /// `GET /api/v1/contracts/{id}/evidence-bundle`: everything needed to check the contract
    /// offline, as one zip (signed PDFs, the report, `root.pem`, `log.vkey`, each event's log
    /// entry and inclusion proof).
    pub fn evidence_bundle(&self, id: &str) -> Result<Vec<u8>> {
        Ok(self.run(Call::contract("GET", id, "/evidence-bundle"), None, MAX_DOCUMENT)?.body)
    }

    /// `GET /api/v1/outbox`: the newest messages the platform sent or keeps (administrators).
    pub fn outbox(&self, channel: Option<Channel>, limit: Option<u32>) -> Result<Vec<OutboxMessage>> {
        #[derive(serde::Deserialize)]
        struct Outbox {
            items: Vec<OutboxMessage>,
        }
        let mut call = Call::get("/api/v1/outbox");
        if let Some(c) = channel {
            call.query.push(("channel", c.as_str().to_owned()));
        }
        if let Some(n) = limit {
            call.query.push(("limit", n.to_string()));
        }
        let o: Outbox = self.json(call, None)?;
        Ok(o.items)
    }

    // --- the signer's side -----------------------------------------------------------------------

    /// `GET /api/v1/signing/{token}`: what the signer sees (records that they opened it).
    pub fn signing(&self, token: &str) -> Result<SigningView> {
        self.json(Call::signing("GET", token, ""), None)
    }

    /// `GET /api/v1/signing/{token}/document?document={n}`: document `n` as signed so far.
    pub fn signing_document(&self, token: &str, n: usize) -> Result<Vec<u8>> {
        let mut call = Call::signing("GET", token, "/document");
        call.query.push(("document", n.to_string()));
        Ok(self.run(call, None, MAX_DOCUMENT)?.body)
    }

    /// `GET /api/v1/signing/{token}/evidence`: the evidence report, once everyone has signed
    /// (a recipient's link from the completion mail).
    pub fn signing_evidence(&self, token: &str) -> Result<Vec<u8>> {
        Ok(self.run(Call::signing("GET", token, "/evidence"), None, MAX_DOCUMENT)?.body)
    }

    /// `POST /api/v1/signing/{token}/code`: sends the signer a one-time code.
    pub fn request_code(&self, token: &str, channel: Channel) -> Result<CodeSent> {
        let body = serde_json::json!({ "channel": channel.as_str() }).to_string();
        self.json(Call::signing("POST", token, "/code"), Some(("application/json", body.as_bytes())))
    }

    /// `POST /api/v1/signing/{token}/sign`: signs with the code and a mark.
    pub fn sign(&self, token: &str, request: &SignRequest) -> Result<SignOutcome> {
        let what = "POST /api/v1/signing/{token}/sign";
        let body = serde_json::to_vec(request).map_err(|e| ClientError::Decode { request: what.into(), reason: e.to_string() })?;
        self.json(Call::signing("POST", token, "/sign"), Some(("application/json", &body)))
    }

    /// `POST /api/v1/signing/{token}/decline`: declines, which ends the contract; returns its
    /// status.
    pub fn decline(&self, token: &str, reason: &str) -> Result<Status> {
        #[derive(serde::Deserialize)]
        struct Declined {
            status: Status,
        }
        let body = serde_json::json!({ "reason": reason }).to_string();
        let d: Declined = self.json(Call::signing("POST", token, "/decline"), Some(("application/json", body.as_bytes())))?;
        Ok(d.status)
    }

    // --- transport ---------------------------------------------------------------------------------

    fn json<T: DeserializeOwned>(&self, call: Call, body: Option<(&str, &[u8])>) -> Result<T> {
        let what = call.what.clone();
        let answer = self.run(call, body, MAX_JSON)?;
        decode(&what, &answer.body)
    }

    /// Sends one request; a non-2xx answer becomes [`ClientError::Api`].
    fn run(&self, call: Call, body: Option<(&str, &[u8])>, limit: u64) -> Result<Answer> {
        let mut url = format!("{}{}", self.base, call.path);
        for (i, (k, v)) in call.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            url.push('=');
            url.push_str(&encode_component(v));
        }
        let transport = |source: ureq::Error| ClientError::Transport { request: call.what.clone(), source };
        let auth = match (&self.api_key, call.auth) {
            (Some(key), true) => Some(format!("Bearer {key}")),
            _ => None,
        };
        let mut response = match call.method {
            "GET" => {
                let mut req = self.agent.get(&url).header("Accept", "application/json, application/pdf, */*");
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                for (k, v) in &call.headers {
                    req = req.header(*k, v);
                }
                req.call().map_err(transport)?
            }
            _ => {
                let mut req = self.agent.post(&url).header("Accept", "application/json");
                if let Some(a) = &auth {
                    req = req.header("Authorization", a);
                }
                for (k, v) in &call.headers {
                    req = req.header(*k, v);
                }
                match body {
                    Some((content_type, bytes)) => req.header("Content-Type", content_type).send(bytes).map_err(transport)?,
                    None => req.send_empty().map_err(transport)?,
                }
            }
        };
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let limit = if (200..300).contains(&status) { limit } else { MAX_JSON };
        let bytes = response.body_mut().with_config().limit(limit).read_to_vec().map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(error::api_error(status, &bytes));
        }
        Ok(Answer { replayed, body: bytes })
    }
}

impl Call {
    /// `GET path` (a fixed route: its description is the path).
    fn get(path: &str) -> Call {
        Call { method: "GET", path: path.to_owned(), what: format!("GET {path}"), query: Vec::new(), auth: true, headers: Vec::new() }
    }

    /// `POST path` (a fixed route).
    fn post(path: &str) -> Call {
        Call { method: "POST", path: path.to_owned(), what: format!("POST {path}"), query: Vec::new(), auth: true, headers: Vec::new() }
    }

    /// A call that never carries the API key.
    fn public(mut self) -> Call {
        self.auth = false;
        self
    }

    /// `METHOD /api/v1/contracts/{id}{tail}`.
    fn contract(method: &'static str, id: &str, tail: &str) -> Call {
        let path = format!("/api/v1/contracts/{}{tail}", encode_component(id));
        let what = format!("{method} /api/v1/contracts/{id}{tail}");
        Call { method, path, what, query: Vec::new(), auth: true, headers: Vec::new() }
    }

    /// `METHOD /api/v1/signing/{token}{tail}`, without the API key; the description keeps the
    /// placeholder, not the token.
    fn signing(method: &'static str, token: &str, tail: &str) -> Call {
        let path = format!("/api/v1/signing/{}{tail}", encode_component(token));
        let what = format!("{method} /api/v1/signing/{{token}}{tail}");
        Call { method, path, what, query: Vec::new(), auth: false, headers: Vec::new() }
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
        .http_status_as_error(false)
        .build()
        .into()
}

fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| ClientError::Decode { request: what.to_owned(), reason: e.to_string() })
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a path segment or a
/// query value).
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
