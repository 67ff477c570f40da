//! One test suite for the store, run against SQLite and against PostgreSQL (the server on
//! 127.0.0.1:5432 that CI provides; `SIGNET_TEST_DATABASE_URL` overrides it), each in a fresh
//! database or schema.

use std::collections::BTreeMap;

use signet_domain::contract::{Contract, Document, FieldKind, NewContract, NewField, NewRecipient, RecipientRole, Status};
use signet_domain::org::{Actor, Role};
use signet_vault::{FileMasterKey, Keyring, WrappedOrgKey};
use signet_store::{ApiKey, Backoff, ContractFilter, JobState, NewJob, OtpCode, OutboxMessage, Session, SigningLink, Store, StoreError, User};

const T0: u64 = 1_764_300_000_000;

/// The tests' keyring (one master key for the whole run).
fn keys() -> std::sync::Arc<Keyring> {
    static KEYS: std::sync::OnceLock<std::sync::Arc<Keyring>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| std::sync::Arc::new(Keyring::new(Box::new(FileMasterKey::generate().unwrap())).unwrap())).clone()
}

/// A new organisation key, wrapped, as stored.
fn wrapped_key() -> Vec<u8> {
    keys().new_org_key().unwrap().1.to_bytes()
}

/// The store at `url` with the tests' keys.
async fn open(url: &str) -> Store {
    Store::open(url).await.unwrap().with_keys(keys())
}

fn user(id: &str, email: &str) -> User {
    User { id: id.into(), email: email.into(), name: format!("User {id}"), password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into() }
}

fn new_contract(id: &str, number: &str, title: &str, signer: &str) -> NewContract {
    NewContract {
        id: id.into(),
        title: title.into(),
        number: number.into(),
        documents: vec![Document { id: format!("doc_{id}"), name: "a.pdf".into(), sha256: "00".repeat(32), pages: vec![(595.0, 842.0)], signed_blob: None }],
        recipients: vec![NewRecipient { id: format!("rcp_{id}"), name: "李四".into(), email: Some(signer.into()), phone: None, role: RecipientRole::Signer, order: 1, lang: None }],
        fields: vec![NewField { id: format!("fld_{id}"), recipient: signer.into(), document: 0, kind: FieldKind::Signature, page: 1, rect: [10.0, 10.0, 110.0, 60.0] }],
        deadline: None,
    }
}

/// Sign-in failures count per key in a window; each TOTP step is accepted once per member.
async fn throttles_and_totp_steps(store: &Store) {
    let w = 1000;
    let key = format!("account:{}", std::process::id());
    assert_eq!(store.throttle_count(&key, 10, w).await.unwrap(), 0);
    for n in 1..=3 {
        assert_eq!(store.throttle_fail(&key, 10, w).await.unwrap(), n);
    }
    assert_eq!(store.throttle_count(&key, 500, w).await.unwrap(), 3);
    assert_eq!(store.throttle_count(&key, 10 + w, w).await.unwrap(), 0, "the window passed");
    assert_eq!(store.throttle_fail(&key, 10 + w, w).await.unwrap(), 1, "a new window starts at one failure");
    store.throttle_clear(&key).await.unwrap();
    assert_eq!(store.throttle_count(&key, 10 + w, w).await.unwrap(), 0);
    // The clean-up forgets the counts whose window has closed, and only those.
    let (closed, open) = (format!("{key}:closed"), format!("{key}:open"));
    store.throttle_fail(&closed, 10, w).await.unwrap();
    store.throttle_fail(&open, 600, w).await.unwrap();
    assert_eq!(store.forget_closed_throttles(10 + w - 1, w).await.unwrap(), 0, "both windows still open");
    assert_eq!(store.forget_closed_throttles(10 + w, w).await.unwrap(), 1);
    assert_eq!(store.throttle_count(&open, 10 + w, w).await.unwrap(), 1, "the open window's count stays");
    assert_eq!(store.forget_closed_throttles(600 + w, w).await.unwrap(), 1);
    assert_eq!(store.forget_closed_throttles(600 + w, w).await.unwrap(), 0);
    let user = format!("usr_{}", std::process::id());
    assert!(store.use_totp_step(&user, 5).await.unwrap());
    assert!(!store.use_totp_step(&user, 5).await.unwrap(), "the same step twice");
    assert!(!store.use_totp_step(&user, 4).await.unwrap(), "an older step");
    assert!(store.use_totp_step(&user, 6).await.unwrap());
    assert!(store.use_totp_step(&format!("{user}_other"), 5).await.unwrap(), "per member");
}

async fn suite(store: Store) {
    throttles_and_totp_steps(&store).await;
    // Organisations and members.
    let wrapped_a = wrapped_key();
    let alice = store.create_org("org_a", "Alpha 甲", &wrapped_a, &user("usr_alice", "alice@example.com"), T0).await.unwrap();
    assert_eq!(alice, "usr_alice");
    // The same person owning a second organisation keeps one account.
    let again = store.create_org("org_b", "Beta", &wrapped_key(), &user("usr_other", "alice@example.com"), T0).await.unwrap();
    assert_eq!(again, "usr_alice");
    assert_eq!(store.org("org_a").await.unwrap().unwrap(), ("Alpha 甲".to_string(), wrapped_a.clone()));
    assert!(store.org("org_zzz").await.unwrap().is_none());
    let rewrapped = keys().rewrap(&WrappedOrgKey::from_bytes(&wrapped_a).unwrap()).unwrap().to_bytes();
    store.set_org_key("org_a", &rewrapped).await.unwrap();
    assert_eq!(store.org("org_a").await.unwrap().unwrap().1, rewrapped);
    assert_eq!(store.role("org_a", "usr_alice").await.unwrap(), Some(Role::Owner));
    let bob = store.set_member("org_a", &user("usr_bob", "bob@example.com"), Role::Sender, T0).await.unwrap();
    assert_eq!(store.role("org_a", &bob).await.unwrap(), Some(Role::Sender));
    assert_eq!(store.role("org_b", &bob).await.unwrap(), None, "membership is per organisation");
    store.set_member("org_a", &user("ignored", "bob@example.com"), Role::Admin, T0).await.unwrap();
    assert_eq!(store.role("org_a", &bob).await.unwrap(), Some(Role::Admin));
    let members = store.members("org_a").await.unwrap();
    assert_eq!(members.iter().map(|(u, r)| (u.email.as_str(), *r)).collect::<Vec<_>>(), [("alice@example.com", Role::Owner), ("bob@example.com", Role::Admin)]);
    assert_eq!(store.user_by_email(" Alice@Example.com ").await.unwrap().unwrap().id, "usr_alice");
    let carol = store.set_member("org_a", &user("usr_carol", "carol@example.com"), Role::Member, T0).await.unwrap();
    assert!(!store.remove_member("org_b", &carol).await.unwrap(), "another organisation cannot remove her");
    assert!(store.remove_member("org_a", &carol).await.unwrap());
    assert!(!store.remove_member("org_a", &carol).await.unwrap(), "removed once");
    assert_eq!(store.role("org_a", &carol).await.unwrap(), None);
    assert!(store.user_by_email("carol@example.com").await.unwrap().is_some(), "the user stays");
    assert_eq!(store.memberships("usr_alice").await.unwrap(), [("org_a".to_string(), Role::Owner), ("org_b".to_string(), Role::Owner)], "oldest first");
    assert_eq!(store.user("usr_alice").await.unwrap().unwrap().email, "alice@example.com");
    assert!(store.user("usr_nobody").await.unwrap().is_none());

    // Sessions: found by hash until they expire; ended one by one or per member.
    let s = Session { kind: "user".into(), user_id: Some("usr_alice".into()), org_id: Some("org_a".into()), link_hash: None, csrf: "c1".into(), created_at: T0, expires_at: T0 + 1000 };
    store.put_session("sess-1", &s).await.unwrap();
    store.put_session("sess-2", &Session { csrf: "c2".into(), ..s.clone() }).await.unwrap();
    let signer = Session { kind: "signer".into(), user_id: None, org_id: Some("org_a".into()), link_hash: Some("link-h".into()), csrf: "c3".into(), created_at: T0, expires_at: T0 + 10 };
    store.put_session("sess-3", &signer).await.unwrap();
    assert_eq!(store.session("sess-1", T0 + 1).await.unwrap(), Some(s.clone()));
    assert_eq!(store.session("sess-3", T0 + 1).await.unwrap(), Some(signer));
    assert_eq!(store.session("sess-3", T0 + 10).await.unwrap(), None, "expired");
    assert_eq!(store.session("nope", T0).await.unwrap(), None);
    assert!(store.put_session("sess-1", &s).await.is_err(), "a hash is stored once");
    store.delete_session("sess-1").await.unwrap();
    assert_eq!(store.session("sess-1", T0 + 1).await.unwrap(), None);
    assert_eq!(store.delete_expired_sessions(T0 + 10).await.unwrap(), 1, "the signer's");
    assert_eq!(store.delete_user_sessions("usr_alice").await.unwrap(), 1);
    assert_eq!(store.session("sess-2", T0 + 1).await.unwrap(), None);

    // TOTP secrets are stored as given (sealed by the caller), and cleared.
    assert_eq!(store.totp("usr_alice").await.unwrap(), (None, None));
    store.set_totp("usr_alice", None, Some(b"pending\x00\xff")).await.unwrap();
    assert_eq!(store.totp("usr_alice").await.unwrap(), (None, Some(b"pending\x00\xff".to_vec())));
    store.set_totp("usr_alice", Some(b"active"), None).await.unwrap();
    assert_eq!(store.totp("usr_alice").await.unwrap(), (Some(b"active".to_vec()), None));
    store.set_password("usr_alice", "new-hash").await.unwrap();
    assert_eq!(store.user("usr_alice").await.unwrap().unwrap().password_hash, "new-hash");

    // API keys: found by hash only while live, revoked only within their organisation.
    let key = ApiKey { id: "key_1".into(), org: "org_a".into(), name: "ci".into(), role: Role::Sender, created_at: T0, revoked_at: None };
    store.create_api_key(&key, "hash-1").await.unwrap();
    assert_eq!(store.api_key_by_hash("hash-1").await.unwrap().unwrap(), key);
    assert!(store.api_key_by_hash("hash-2").await.unwrap().is_none());
    assert!(!store.revoke_api_key("org_b", "key_1", T0 + 1).await.unwrap(), "another organisation cannot revoke it");
    assert!(store.revoke_api_key("org_a", "key_1", T0 + 1).await.unwrap());
    assert!(store.api_key_by_hash("hash-1").await.unwrap().is_none());
    assert_eq!(store.api_keys("org_a").await.unwrap()[0].revoked_at, Some(T0 + 1));

    // Contracts: numbers, insert, read, optimistic update, events.
    assert_eq!(store.next_contract_number("org_a", "HT-").await.unwrap(), "HT-000001");
    assert_eq!(store.next_contract_number("org_a", "HT-").await.unwrap(), "HT-000002");
    assert_eq!(store.next_contract_number("org_b", "HT-").await.unwrap(), "HT-000001");
    let sender = Actor { org: "org_a".into(), principal: "usr_alice".into(), role: Role::Owner };
    let (mut c, created) = Contract::create(&sender, new_contract("ct_1", "HT-000001", "Lease 租赁合同", "li@example.com"), T0).unwrap();
    assert_eq!(store.insert_contract(&c, &[created.clone()]).await.unwrap(), [1]);
    let dup = Contract::create(&sender, new_contract("ct_dup", "HT-000001", "x", "li@example.com"), T0).unwrap().0;
    assert!(matches!(store.insert_contract(&dup, &[]).await, Err(StoreError::Taken(_))), "numbers are unique per organisation");
    let (read, version) = store.contract("org_a", "ct_1").await.unwrap().unwrap();
    assert_eq!(read, c);
    assert_eq!(version, 1);
    assert!(store.contract("org_b", "ct_1").await.unwrap().is_none(), "another organisation's contract is not found");
    let sent = c.send(&sender, T0 + 10).unwrap();
    assert_eq!(store.update_contract(&c, 1, &sent, T0 + 10).await.unwrap(), [2, 3]);
    // A stale writer loses: nothing is written.
    let stale = c.clone();
    assert!(matches!(store.update_contract(&stale, 1, &sent, T0 + 11).await, Err(StoreError::Conflict(_))));
    let (read, version) = store.contract("org_a", "ct_1").await.unwrap().unwrap();
    assert_eq!((read.status, version), (Status::Sent, 2));
    let events = store.events("org_a", "ct_1").await.unwrap();
    assert_eq!(events.iter().map(|e| (e.seq, e.event.kind.as_str())).collect::<Vec<_>>(), [(1, "created"), (2, "sent"), (3, "notified")]);
    assert_eq!(events[0].event, created);
    assert_eq!(events[2].event.recipient.as_deref(), Some("rcp_ct_1"));
    assert!(store.events("org_b", "ct_1").await.unwrap().is_empty());
    let missing = store.events_missing_from_log(T0 + 100, 10).await.unwrap();
    assert_eq!(missing.iter().map(|(o, c, e)| (o.as_str(), c.as_str(), e.seq)).collect::<Vec<_>>(), [("org_a", "ct_1", 1), ("org_a", "ct_1", 2), ("org_a", "ct_1", 3)]);
    assert!(store.events_missing_from_log(T0, 10).await.unwrap().is_empty(), "only events older than the bound");
    store.set_log_index("ct_1", 2, 42).await.unwrap();
    assert_eq!(store.events("org_a", "ct_1").await.unwrap()[1].log_index, Some(42));
    assert_eq!(store.events_missing_from_log(T0 + 100, 10).await.unwrap().len(), 2);

    // Lists: newest first, cursor pagination without gaps or repeats, filters.
    for i in 2..=25u64 {
        let (c, e) = Contract::create(&sender, new_contract(&format!("ct_{i}"), &format!("HT-{i:06}"), &format!("Contract {i}"), "wang@example.com"), T0 + i * 1000).unwrap();
        store.insert_contract(&c, &[e]).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_contracts("org_a", &ContractFilter::default(), cursor.as_deref(), 10).await.unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|c| c.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let want: Vec<String> = (1..=25).rev().map(|i| format!("ct_{i}")).collect();
    assert_eq!(seen, want);
    let sent_only = ContractFilter { status: Some(Status::Sent), ..Default::default() };
    let page = store.list_contracts("org_a", &sent_only, None, 50).await.unwrap();
    assert_eq!(page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["ct_1"]);
    assert!(page.next_cursor.is_none());
    let by_text = ContractFilter { text: Some("租赁".into()), ..Default::default() };
    assert_eq!(store.list_contracts("org_a", &by_text, None, 50).await.unwrap().items.len(), 1);
    let by_signer = ContractFilter { text: Some("WANG@example".into()), ..Default::default() };
    assert_eq!(store.list_contracts("org_a", &by_signer, None, 50).await.unwrap().items.len(), 24);
    let wildcard = ContractFilter { text: Some("%".into()), ..Default::default() };
    assert!(store.list_contracts("org_a", &wildcard, None, 50).await.unwrap().items.is_empty(), "a % is not a wildcard: no title has one");
    let short = ContractFilter { text: Some("2".into()), ..Default::default() };
    let twos: Vec<String> = store.list_contracts("org_a", &short, None, 50).await.unwrap().items.into_iter().map(|c| c.id).collect();
    let want: Vec<String> = (1..=25).rev().filter(|i| i.to_string().contains('2')).map(|i| format!("ct_{i}")).collect();
    assert_eq!(twos, want, "one character finds the contracts holding it (numbers and titles)");
    let title = ContractFilter { text: Some("contract 2".into()), ..Default::default() };
    let found: Vec<String> = store.list_contracts("org_a", &title, None, 50).await.unwrap().items.into_iter().map(|c| c.id).collect();
    let want: Vec<String> = (2..=25).rev().filter(|i| i.to_string().starts_with('2')).map(|i| format!("ct_{i}")).collect();
    assert_eq!(found, want, "pieces found in another order (\"ract\" ... \"2\") do not match");
    // Filtered pages: no gaps, no repeats.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_contracts("org_a", &title, cursor.as_deref(), 2).await.unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(page.items.into_iter().map(|c| c.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, want);
    let nothing = ContractFilter { text: Some("no such words".into()), ..Default::default() };
    assert!(store.list_contracts("org_a", &nothing, None, 50).await.unwrap().items.is_empty());
    let by_sender = ContractFilter { sender: Some("usr_bob".into()), ..Default::default() };
    assert!(store.list_contracts("org_a", &by_sender, None, 50).await.unwrap().items.is_empty());
    assert!(store.list_contracts("org_b", &ContractFilter::default(), None, 50).await.unwrap().items.is_empty());

    // Signing links by token hash.
    let link = SigningLink { org: "org_a".into(), contract: "ct_1".into(), recipient: "rcp_ct_1".into(), expires_at: T0 + 86_400_000 };
    store.put_link("th-1", &link, T0).await.unwrap();
    assert_eq!(store.link("th-1").await.unwrap().unwrap(), link);
    assert!(store.link("th-2").await.unwrap().is_none());
    let _ = BTreeMap::<String, String>::new();

    // One-time codes: replace, count failures, use once.
    let otp = OtpCode { code_hash: "h1".into(), channel: "email".into(), expires_at: T0 + 300_000, attempts: 0, window_start: T0, sends_in_window: 1 };
    store.put_otp("ct_1", "rcp_ct_1", &otp).await.unwrap();
    assert_eq!(store.otp("ct_1", "rcp_ct_1").await.unwrap().unwrap(), otp);
    assert_eq!(store.otp_failed("ct_1", "rcp_ct_1").await.unwrap(), 1);
    assert_eq!(store.otp_failed("ct_1", "rcp_ct_1").await.unwrap(), 2);
    let newer = OtpCode { code_hash: "h2".into(), attempts: 0, sends_in_window: 2, ..otp.clone() };
    store.put_otp("ct_1", "rcp_ct_1", &newer).await.unwrap();
    assert!(!store.consume_otp("ct_1", "rcp_ct_1", "h1").await.unwrap(), "a replaced code is dead");
    assert!(store.consume_otp("ct_1", "rcp_ct_1", "h2").await.unwrap());
    assert!(!store.consume_otp("ct_1", "rcp_ct_1", "h2").await.unwrap(), "a code works once");
    assert!(store.otp("ct_1", "nobody").await.unwrap().is_none());

    // Outbox: newest first, per organisation and channel.
    for (i, ch) in ["sms", "email", "sms"].iter().enumerate() {
        let m = OutboxMessage { id: format!("msg_{i}"), channel: ch.to_string(), address: "+8613800000000".into(), subject: String::new(), body: format!("body {i}"), created_at: T0 + i as u64 };
        store.put_outbox("org_a", &m).await.unwrap();
    }
    let sms = store.outbox("org_a", Some("sms"), 10).await.unwrap();
    assert_eq!(sms.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["msg_2", "msg_0"]);
    assert_eq!(store.outbox("org_a", None, 1).await.unwrap().len(), 1);
    assert!(store.outbox("org_b", None, 10).await.unwrap().is_empty());

    // Idempotency: the first claim wins; a retry sees the stored answer; another organisation
    // has its own keys; a forgotten claim can be taken again.
    assert!(store.claim_idempotency("org_a", "k1", "req-1", T0).await.unwrap().is_none());
    assert_eq!(store.claim_idempotency("org_a", "k1", "req-1", T0).await.unwrap(), Some(("req-1".into(), 0, String::new())));
    store.finish_idempotent("org_a", "k1", 201, "{\"id\":1}").await.unwrap();
    assert_eq!(store.claim_idempotency("org_a", "k1", "req-x", T0).await.unwrap(), Some(("req-1".into(), 201, "{\"id\":1}".into())));
    assert!(store.claim_idempotency("org_b", "k1", "req-1", T0).await.unwrap().is_none());
    store.finish_idempotent("org_b", "k1", 0, "").await.unwrap();
    assert!(store.claim_idempotency("org_b", "k1", "req-2", T0).await.unwrap().is_none());
    // A claim left "in progress" by a server that died: the same request takes it over once it
    // is stale (not before), another request never does.
    let stale = signet_store::IDEMPOTENCY_STALE_MS;
    assert!(store.claim_idempotency("org_a", "k2", "req-9", T0).await.unwrap().is_none());
    assert_eq!(store.claim_idempotency("org_a", "k2", "req-9", T0 + stale - 1).await.unwrap(), Some(("req-9".into(), 0, String::new())));
    assert_eq!(store.claim_idempotency("org_a", "k2", "req-8", T0 + stale + 1).await.unwrap(), Some(("req-9".into(), 0, String::new())));
    assert!(store.claim_idempotency("org_a", "k2", "req-9", T0 + stale + 1).await.unwrap().is_none(), "taken over");
    assert_eq!(store.claim_idempotency("org_a", "k2", "req-9", T0 + stale + 2).await.unwrap(), Some(("req-9".into(), 0, String::new())), "and held again");
    // An answer is kept for a day: a retry then still gets it; after that the key is free for
    // any request, and the clean-up forgets it.
    let keep = signet_store::IDEMPOTENCY_KEEP_MS;
    assert_eq!(store.claim_idempotency("org_a", "k1", "req-x", T0 + keep - 1).await.unwrap(), Some(("req-1".into(), 201, "{\"id\":1}".into())));
    assert_eq!(store.forget_idempotency_keys(T0 + keep).await.unwrap(), 0, "none older than a day yet");
    assert!(store.claim_idempotency("org_a", "k1", "req-x", T0 + keep + 1).await.unwrap().is_none(), "free again after a day");
    assert_eq!(store.claim_idempotency("org_a", "k1", "req-x", T0 + keep + 2).await.unwrap(), Some(("req-x".into(), 0, String::new())), "and claimed by the new request");
    let forgotten = store.forget_idempotency_keys(T0 + stale + 3 + keep).await.unwrap();
    assert_eq!(forgotten, 2, "org_b's k1 and org_a's k2, not the key claimed again");
    assert_eq!(store.claim_idempotency("org_a", "k1", "req-y", T0 + keep + 3).await.unwrap(), Some(("req-x".into(), 0, String::new())));
    store.finish_idempotent("org_a", "k1", 0, "").await.unwrap();

    // Expiry sweep: open contracts past their deadline.
    let (mut due, e) = Contract::create(&sender, NewContract { deadline: Some(T0 + 50_000), ..new_contract("ct_due", "HT-900001", "Due", "li@example.com") }, T0).unwrap();
    store.insert_contract(&due, &[e]).await.unwrap();
    assert!(store.due_for_expiry(T0 + 60_000, 10).await.unwrap().is_empty(), "drafts do not expire");
    let sent_events = due.send(&sender, T0 + 1).unwrap();
    store.update_contract(&due, 1, &sent_events, T0 + 1).await.unwrap();
    assert!(store.due_for_expiry(T0 + 40_000, 10).await.unwrap().is_empty());
    assert_eq!(store.due_for_expiry(T0 + 60_000, 10).await.unwrap(), [("org_a".to_string(), "ct_due".to_string())]);
    let idle = store.idle_open_contracts(T0 + 60_000, 10).await.unwrap();
    assert_eq!(idle, [("org_a".to_string(), "ct_due".to_string()), ("org_a".to_string(), "ct_1".to_string())], "sent contracts untouched since then, least recently changed first");
    assert!(store.idle_open_contracts(T0, 10).await.unwrap().is_empty());
}

fn job(id: &str, org: Option<&str>, dedupe: Option<&str>, run_at: u64) -> NewJob {
    NewJob { id: id.into(), kind: "notify".into(), org_id: org.map(str::to_owned), payload: format!("{{\"n\":\"{id}\"}}"), dedupe_key: dedupe.map(str::to_owned), run_at }
}

const BACKOFF: Backoff = Backoff { base_ms: 1000, cap_ms: 5000, max_attempts: 4 };

/// The job queue: enqueue (deduplicated, and with a contract change in one transaction), claim
/// with a lease, leases that run out, renewal, completion, retries with backoff, giving up,
/// release, the administrators' list. Runs after [`suite`] (its organisations exist).
async fn jobs_suite(store: Store) {
    assert_eq!(BACKOFF.delay(1), 1000);
    assert_eq!(BACKOFF.delay(2), 2000);
    assert_eq!(BACKOFF.delay(3), 4000);
    assert_eq!(BACKOFF.delay(4), 5000, "capped");
    assert_eq!(BACKOFF.delay(u64::MAX), 5000, "no overflow");

    // Enqueue; a dedupe key enqueues once, no key always.
    let t = T0 + 10_000_000;
    assert!(store.enqueue_job(&job("job_a", Some("org_a"), None, t), t).await.unwrap());
    assert!(store.enqueue_job(&job("job_s1", None, Some("sweep:expiry:1"), t), t).await.unwrap());
    assert!(!store.enqueue_job(&job("job_s2", None, Some("sweep:expiry:1"), t), t).await.unwrap(), "one sweep per period");
    assert!(store.job("job_s2").await.unwrap().is_none());
    assert!(store.enqueue_job(&job("job_later", Some("org_b"), None, t + 60_000), t).await.unwrap());
    let a = store.job("job_a").await.unwrap().unwrap();
    assert_eq!((a.state, a.attempts, a.run_at, a.created_at, a.org_id.as_deref()), (JobState::Queued, 0, t, t, Some("org_a")));

    // Claim: due jobs only, oldest first, each attempt counted, a lease set.
    assert!(store.claim_jobs("w1", 10, 20_000, t - 1).await.unwrap().is_empty(), "nothing due yet");
    let claimed = store.claim_jobs("w1", 10, 20_000, t).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["job_a", "job_s1"]);
    assert!(claimed.iter().all(|j| j.state == JobState::Running && j.attempts == 1 && j.locked_by.as_deref() == Some("w1") && j.locked_until == Some(t + 20_000)));
    assert!(store.claim_jobs("w2", 10, 20_000, t + 1000).await.unwrap().is_empty(), "held jobs are not claimed again");

    // Renewal keeps the lease; a lease that runs out (a dead worker) makes the job claimable.
    assert_eq!(store.renew_job_leases("w1", t + 30_000).await.unwrap(), 2);
    assert!(store.claim_jobs("w2", 10, 20_000, t + 25_000).await.unwrap().is_empty(), "renewed");
    let taken = store.claim_jobs("w2", 1, 20_000, t + 30_000).await.unwrap();
    assert_eq!(taken.iter().map(|j| (j.id.as_str(), j.attempts)).collect::<Vec<_>>(), [("job_a", 2)]);
    assert!(!store.complete_job("job_a", "w1", t + 30_001).await.unwrap(), "w1 lost it: its completion changes nothing");
    assert!(store.fail_job("job_a", "w1", "late", t + 30_001, &BACKOFF).await.unwrap().is_none());
    assert!(!store.set_job_payload("job_a", "w1", "{}").await.unwrap());
    assert!(store.set_job_payload("job_a", "w2", "{\"done\":1}").await.unwrap());
    assert!(store.complete_job("job_a", "w2", t + 30_002).await.unwrap());
    let a = store.job("job_a").await.unwrap().unwrap();
    assert_eq!((a.state, a.finished_at, a.locked_by, a.payload.as_str()), (JobState::Done, Some(t + 30_002), None, "{\"done\":1}"));
    assert!(!store.complete_job("job_a", "w2", t + 30_003).await.unwrap(), "done once");

    // Failures: queued again after the backoff, with the error; failed after the last attempt.
    let mut now = t + 30_000;
    for attempt in 1..=4u64 {
        let claimed = store.claim_jobs("w1", 10, 20_000, now).await.unwrap();
        let s1: Vec<_> = claimed.iter().filter(|j| j.id == "job_s1").collect();
        assert_eq!(s1.len(), 1, "attempt {attempt}");
        assert_eq!(s1[0].attempts, attempt + 1, "the first claim of w1 counted too");
        let state = store.fail_job("job_s1", "w1", &format!("connection refused {attempt}"), now, &BACKOFF).await.unwrap();
        let j = store.job("job_s1").await.unwrap().unwrap();
        if attempt + 1 < BACKOFF.max_attempts {
            assert_eq!(state, Some(JobState::Queued));
            assert_eq!(j.run_at, now + BACKOFF.delay(attempt + 1));
            assert!(store.claim_jobs("w1", 10, 20_000, j.run_at - 1).await.unwrap().iter().all(|x| x.id != "job_s1"), "not before its backoff");
            now = j.run_at;
        } else {
            assert_eq!(state, Some(JobState::Failed));
            assert_eq!((j.finished_at, j.last_error.as_deref()), (Some(now), Some("connection refused 3")));
            break;
        }
        assert_eq!(j.last_error.as_deref(), Some(format!("connection refused {attempt}").as_str()));
    }
    assert!(store.claim_jobs("w1", 10, 20_000, now + 10_000_000).await.unwrap().iter().all(|j| j.id != "job_s1"), "a failed job stays failed");
    let long = "x".repeat(5000);
    assert!(store.enqueue_job(&job("job_long", None, None, now), now).await.unwrap());
    store.claim_jobs("w1", 10, 20_000, now).await.unwrap();
    store.fail_job("job_long", "w1", &long, now, &BACKOFF).await.unwrap();
    assert_eq!(store.job("job_long").await.unwrap().unwrap().last_error.unwrap().len(), 1000, "errors are bounded");

    // Release (graceful shutdown): queued again at once, the interrupted attempt not counted.
    let held = store.claim_jobs("w3", 10, 20_000, now + 100_000).await.unwrap();
    assert!(!held.is_empty());
    assert_eq!(store.release_jobs("w3").await.unwrap(), held.len() as u64);
    for h in &held {
        let j = store.job(&h.id).await.unwrap().unwrap();
        assert_eq!((j.state, j.attempts, j.locked_by), (JobState::Queued, h.attempts - 1, None));
    }

    // Transactional outbox: a contract change commits with its jobs, a refused one enqueues
    // nothing.
    let sender = Actor { org: "org_a".into(), principal: "usr_alice".into(), role: Role::Owner };
    let (mut c, created) = Contract::create(&sender, new_contract("ct_jobs", "HT-800001", "Jobs", "li@example.com"), now).unwrap();
    store.insert_contract_with_jobs(&c, &[created], &[job("job_c1", Some("org_a"), None, now)], now).await.unwrap();
    assert!(store.job("job_c1").await.unwrap().is_some());
    let taken = Contract::create(&sender, new_contract("ct_jobs2", "HT-800001", "Jobs", "li@example.com"), now).unwrap().0;
    assert!(matches!(store.insert_contract_with_jobs(&taken, &[], &[job("job_c2", Some("org_a"), None, now)], now).await, Err(StoreError::Taken(_))));
    assert!(store.job("job_c2").await.unwrap().is_none(), "no contract, no job");
    let sent = c.send(&sender, now + 1).unwrap();
    assert!(matches!(store.update_contract_with_jobs(&c, 7, &sent, now + 1, &[job("job_c3", Some("org_a"), None, now)]).await, Err(StoreError::Conflict(_))));
    assert!(store.job("job_c3").await.unwrap().is_none(), "a conflict enqueues nothing");
    store.update_contract_with_jobs(&c, 1, &sent, now + 1, &[job("job_c3", Some("org_a"), None, now)]).await.unwrap();
    assert_eq!(store.job("job_c3").await.unwrap().unwrap().state, JobState::Queued);

    // The administrators' list: their organisation's and deployment-wide jobs, newest first,
    // paginated, with counts per state; another organisation's are not there.
    for i in 0..12u64 {
        store.enqueue_job(&job(&format!("job_p{i:02}"), Some("org_a"), None, now), now + 1_000_000 + i).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_jobs("org_a", None, cursor.as_deref(), 5).await.unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|j| j.id.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(&seen[..3], ["job_p11", "job_p10", "job_p09"], "newest first");
    assert!(seen.contains(&"job_s1".to_owned()) && seen.contains(&"job_a".to_owned()), "deployment-wide and own jobs");
    assert!(!seen.contains(&"job_later".to_owned()), "another organisation's job is not listed");
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no repeats across pages");
    let page = store.list_jobs("org_a", Some(JobState::Failed), None, 50).await.unwrap();
    assert_eq!(page.items.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["job_s1"]);
    assert_eq!(page.counts["failed"], 1);
    assert_eq!(page.counts["done"], 1);
    assert_eq!(page.counts.values().sum::<u64>(), seen.len() as u64);
    assert_eq!(page.counts.len(), 4, "every state, zeros too");
    let other = store.list_jobs("org_b", None, None, 50).await.unwrap();
    assert!(other.items.iter().all(|j| j.org_id.as_deref() != Some("org_a")));
    assert!(other.items.iter().any(|j| j.id == "job_later"));

    // Pruning forgets done jobs only.
    assert_eq!(store.prune_jobs(now + 10_000_000).await.unwrap(), 1);
    assert!(store.job("job_a").await.unwrap().is_none());
    assert!(store.job("job_s1").await.unwrap().is_some(), "failed jobs stay");

    // Forgetting the older runs of one kind, in the states named: the one named stays, and so
    // do newer runs, runs in other states and every other kind.
    let w = |id: &str, at: u64| NewJob { kind: "witness".into(), ..job(id, None, None, at) };
    for (n, id) in ["job_w1", "job_w2", "job_w3", "job_w4", "job_w5"].into_iter().enumerate() {
        assert!(store.enqueue_job(&w(id, t + n as u64), t + n as u64).await.unwrap());
    }
    let fail_now = Backoff { base_ms: 1, cap_ms: 1, max_attempts: 1 };
    for j in store.claim_jobs("ww", 100, 60_000, t + 100_000_000).await.unwrap().into_iter().filter(|j| j.kind == "witness") {
        match j.id.as_str() {
            "job_w2" => assert_eq!(store.fail_job(&j.id, "ww", "down", t + 100_000_001, &fail_now).await.unwrap(), Some(JobState::Failed)),
            "job_w4" => {} // still running
            _ => assert!(store.complete_job(&j.id, "ww", t + 100_000_001).await.unwrap()),
        }
    }
    assert_eq!(store.forget_older_jobs_of_kind("witness", &[JobState::Done], "job_w3").await.unwrap(), 1);
    assert!(store.job("job_w1").await.unwrap().is_none(), "an older done run is forgotten");
    assert_eq!(store.job("job_w2").await.unwrap().unwrap().state, JobState::Failed, "a state not named stays");
    assert_eq!(store.job("job_w3").await.unwrap().unwrap().state, JobState::Done, "the one named stays");
    assert_eq!(store.job("job_w5").await.unwrap().unwrap().state, JobState::Done, "a newer run stays");
    assert_eq!(store.forget_older_jobs_of_kind("witness", &[JobState::Done, JobState::Failed], "job_w5").await.unwrap(), 2);
    assert!(store.job("job_w2").await.unwrap().is_none() && store.job("job_w3").await.unwrap().is_none());
    assert_eq!(store.job("job_w4").await.unwrap().unwrap().state, JobState::Running, "a running one stays");
    assert_eq!(store.forget_older_jobs_of_kind("witness", &[JobState::Done], "job_none").await.unwrap(), 0, "nothing when the one named is gone");
    assert_eq!(store.forget_older_jobs_of_kind("witness", &[], "job_w5").await.unwrap(), 0);
    assert!(store.job("job_s1").await.unwrap().is_some(), "other kinds stay");
}

/// On SQLite, recording job outcomes while other connections write never fails with
/// "database is locked": transactions start with a write, so they wait for the lock rather
/// than fail when another connection wrote after they read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_job_outcomes_are_recorded_under_concurrent_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("signet.db").display());
    let store = open(&url).await;
    let now = T0;
    for i in 0..40 {
        store.enqueue_job(&job(&format!("job_l{i:02}"), None, None, now), now).await.unwrap();
    }
    let claimed = store.claim_jobs("w", 100, 600_000, now).await.unwrap();
    assert_eq!(claimed.len(), 40);
    let mut tasks = Vec::new();
    for (i, j) in claimed.into_iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Other writers meanwhile: new jobs and members.
            store.enqueue_job(&job(&format!("job_x{i:02}"), None, None, now), now).await.unwrap();
            store.fail_job(&j.id, "w", "refused", now + 1, &BACKOFF).await
        }));
    }
    for t in tasks {
        let recorded = t.await.unwrap();
        assert!(matches!(recorded, Ok(Some(JobState::Queued))), "{recorded:?}");
    }
}

/// Bytes of the SQLite database and its write-ahead log, as a disk would show them.
fn raw_database(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["signet.db", "signet.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// What the database holds about a contract — its body and search text, event details,
/// outbox messages, job payloads, stored answers — is sealed with the organisation's key:
/// none of it is on disk in the clear; it opens only in its own row and organisation; rows an
/// earlier release wrote in the clear stay readable and are sealed by
/// `seal_plaintext_rows`; a new master key re-wraps the organisation key and every row still
/// opens, with the old master key retired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_data_is_sealed_at_rest_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("signet.db").display());
    sealed_at_rest(&url, Some(dir.path())).await;
}

/// The same on PostgreSQL, its tables read back over SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_data_is_sealed_at_rest_on_postgres() {
    use sqlx::Executor as _;
    let (admin, schema, url) = postgres_schema("signet_rest").await;
    sealed_at_rest(&url, None).await;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).await.unwrap();
}

/// A fresh schema on the test PostgreSQL: its admin pool, name and URL.
async fn postgres_schema(prefix: &str) -> (sqlx::AnyPool, String, String) {
    use sqlx::Executor as _;
    let base = std::env::var("SIGNET_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let schema = format!("{prefix}_{}_{nanos}", std::process::id());
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.expect("PostgreSQL on 127.0.0.1:5432");
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    (admin, schema, url)
}

/// Every text the tables that hold contract data hold, as the database returns it.
async fn stored_text(pool: &sqlx::AnyPool) -> String {
    let mut all = String::new();
    for sql in [
        "SELECT body || ' ' || search || ' ' || title FROM contracts",
        "SELECT data FROM contract_events",
        "SELECT address || ' ' || subject || ' ' || body FROM outbox",
        "SELECT payload || ' ' || COALESCE(last_error, '') FROM jobs",
        "SELECT body FROM idempotency_keys",
    ] {
        for row in sqlx::query(sql).fetch_all(pool).await.unwrap() {
            all.push_str(&sqlx::Row::get::<String, _>(&row, 0));
            all.push('\n');
        }
    }
    all
}

async fn sealed_at_rest(url: &str, disk_dir: Option<&std::path::Path>) {
    let url = url.to_owned();
    let old_master = FileMasterKey::generate().unwrap();
    let old_text = old_master.to_file_text();
    let keyring = std::sync::Arc::new(Keyring::new(Box::new(old_master)).unwrap());
    let store = Store::open(&url).await.unwrap().with_keys(keyring.clone());
    store.create_org("org_x", "X", &keyring.new_org_key().unwrap().1.to_bytes(), &user("usr_x", "x@example.com"), T0).await.unwrap();
    store.create_org("org_y", "Y", &keyring.new_org_key().unwrap().1.to_bytes(), &user("usr_y", "y@example.com"), T0).await.unwrap();
    let sender = Actor { org: "org_x".into(), principal: "usr_x".into(), role: Role::Owner };
    let mut new = new_contract("ct_secret", "HT-000777", "Secret lease 机密租赁", "zhang.wei@example.com");
    new.recipients[0].name = "Zhang Wei 张伟".into();
    let (mut c, created) = Contract::create(&sender, new, T0).unwrap();
    store.insert_contract(&c, &[created]).await.unwrap();
    let sent = c.send(&sender, T0 + 1).unwrap();
    let mut voided = c.clone();
    let void = voided.void(&sender, "Confidential reason 保密理由", T0 + 2).unwrap();
    let mut void_with_ip = void.clone();
    void_with_ip.data.insert("ip".into(), "203.0.113.77".into());
    let job = NewJob { id: "job_secret".into(), kind: "notify".into(), org_id: Some("org_x".into()), payload: "{\"reason\":\"Confidential reason 保密理由\"}".into(), dedupe_key: None, run_at: T0 };
    store.update_contract_with_jobs(&c, 1, &sent, T0 + 1, std::slice::from_ref(&job)).await.unwrap();
    store.update_contract(&voided, 2, std::slice::from_ref(&void_with_ip), T0 + 2).await.unwrap();
    let message = OutboxMessage { id: "msg_secret".into(), channel: "sms".into(), address: "+8613912345678".into(), subject: "Secret lease 机密租赁".into(), body: "Sign at https://example.invalid/s/tok".into(), created_at: T0 };
    store.put_outbox("org_x", &message).await.unwrap();
    assert!(store.claim_idempotency("org_x", "k", "h", T0).await.unwrap().is_none());
    store.finish_idempotent("org_x", "k", 201, "{\"title\":\"Secret lease 机密租赁\"}").await.unwrap();
    assert!(store.claim_idempotency("public", "k", "h", T0).await.unwrap().is_none());
    store.finish_idempotent("public", "k", 200, "{\"signer\":\"Zhang Wei 张伟\"}").await.unwrap();

    // A failed attempt's error may quote the data (an address a mail server refused).
    let claimed = store.claim_jobs("w1", 10, 60_000, T0 + 5).await.unwrap();
    assert!(claimed.iter().any(|j| j.id == "job_secret" && j.payload == job.payload));
    store.fail_job("job_secret", "w1", "550 <zhang.wei@example.com> refused", T0 + 6, &BACKOFF).await.unwrap();

    // Nothing of it is stored in the clear: not in what the database returns, and (SQLite)
    // not in its files.
    let secrets = ["Secret lease", "机密租赁", "Zhang Wei", "张伟", "zhang.wei@example.com", "Confidential reason", "保密理由", "203.0.113.77", "+8613912345678", "example.invalid/s/tok"];
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(&url).await.unwrap();
    let text = stored_text(&raw).await;
    assert!(text.contains("s1:") && text.contains("m1:"), "sealed values are there");
    let disk = disk_dir.map(raw_database).unwrap_or_default();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} is in the database in the clear");
        assert!(!holds(&disk, secret), "{secret:?} is in the database file in the clear");
    }
    // And all of it reads back.
    let (read, _) = store.contract("org_x", "ct_secret").await.unwrap().unwrap();
    assert_eq!(read, voided);
    let events = store.events("org_x", "ct_secret").await.unwrap();
    assert_eq!(events.last().unwrap().event.data.get("ip").map(String::as_str), Some("203.0.113.77"));
    assert_eq!(store.outbox("org_x", None, 10).await.unwrap(), [message.clone()]);
    let read_job = store.job("job_secret").await.unwrap().unwrap();
    assert_eq!((read_job.payload.as_str(), read_job.last_error.as_deref()), (job.payload.as_str(), Some("550 <zhang.wei@example.com> refused")));
    assert_eq!(store.claim_idempotency("org_x", "k", "h", T0).await.unwrap().unwrap().2, "{\"title\":\"Secret lease 机密租赁\"}");
    assert_eq!(store.claim_idempotency("public", "k", "h", T0).await.unwrap().unwrap().2, "{\"signer\":\"Zhang Wei 张伟\"}");
    // Found by any piece of its text, in its organisation only.
    for term in ["张伟", "机密", "zhang.wei@", "LEASE", "777"] {
        let filter = ContractFilter { text: Some(term.into()), ..Default::default() };
        assert_eq!(store.list_contracts("org_x", &filter, None, 10).await.unwrap().items.len(), 1, "{term}");
        assert!(store.list_contracts("org_y", &filter, None, 10).await.unwrap().items.is_empty(), "{term}");
    }

    // A sealed value opens only in its own row: copied into another contract, it is refused.
    let (other, e) = Contract::create(&sender, new_contract("ct_other", "HT-000778", "Other", "o@example.com"), T0).unwrap();
    store.insert_contract(&other, &[e]).await.unwrap();
    sqlx::query("UPDATE contracts SET body = (SELECT body FROM contracts WHERE id = 'ct_secret') WHERE id = 'ct_other'").execute(&raw).await.unwrap();
    assert!(matches!(store.contract("org_x", "ct_other").await, Err(StoreError::Corrupt { .. })));
    // In a list, such a contract is named, not listed, and does not fail the page.
    for limit in [10, 1] {
        let page = store.list_contracts("org_x", &ContractFilter::default(), None, limit).await.unwrap();
        assert_eq!(page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["ct_secret"], "limit {limit}");
        assert_eq!(page.unreadable, ["ct_other"], "limit {limit}");
        assert!(page.next_cursor.is_none(), "limit {limit}");
    }
    // A store without the keys reads and writes no contract data.
    let keyless = Store::open(&url).await.unwrap();
    assert!(matches!(keyless.contract("org_x", "ct_secret").await, Err(StoreError::NoKeys)));
    assert!(matches!(keyless.put_outbox("org_x", &message).await, Err(StoreError::NoKeys)));

    // Rows an earlier release wrote in the clear: read as they are, sealed by the sweep.
    let (legacy, e) = Contract::create(&sender, new_contract("ct_legacy", "HT-000779", "Old plain deed 旧契约", "old@example.com"), T0).unwrap();
    store.insert_contract(&legacy, &[e]).await.unwrap();
    sqlx::query("UPDATE contracts SET body = $1, search = 'old plain deed 旧契约', title = 'Old plain deed 旧契约' WHERE id = 'ct_legacy'")
        .bind(serde_json::to_string(&legacy).unwrap())
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("UPDATE contract_events SET data = '{\"reason\":\"old reason\"}' WHERE contract_id = 'ct_legacy'").execute(&raw).await.unwrap();
    sqlx::query("INSERT INTO outbox (id, org_id, channel, address, subject, body, created_at) VALUES ('msg_old', 'org_x', 'email', 'old@example.com', 'Old', 'old body', 1)")
        .execute(&raw)
        .await
        .unwrap();
    assert_eq!(store.contract("org_x", "ct_legacy").await.unwrap().unwrap().0, legacy, "an unsealed body still reads");
    assert_eq!(store.events("org_x", "ct_legacy").await.unwrap()[0].event.data.get("reason").map(String::as_str), Some("old reason"));
    assert!(store.outbox("org_x", None, 10).await.unwrap().iter().any(|m| m.body == "old body"));
    assert!(store.seal_plaintext_rows_once().await.unwrap() >= 3);
    assert_eq!(store.seal_plaintext_rows().await.unwrap(), 0, "nothing is left to seal");
    // The pass is recorded: a later start does not scan again (a row written in the clear
    // after it, by an older server still running, is sealed by an explicit pass).
    sqlx::query("INSERT INTO outbox (id, org_id, channel, address, subject, body, created_at) VALUES ('msg_late', 'org_x', 'email', 'late@example.com', 'Late', 'late body', 2)")
        .execute(&raw)
        .await
        .unwrap();
    assert_eq!(store.seal_plaintext_rows_once().await.unwrap(), 0, "the pass was recorded");
    assert_eq!(store.seal_plaintext_rows().await.unwrap(), 1);
    for (sql, what) in [
        ("SELECT body || search || title FROM contracts WHERE id = 'ct_legacy'", "the contract"),
        ("SELECT data FROM contract_events WHERE contract_id = 'ct_legacy'", "its event"),
        ("SELECT address || subject || body FROM outbox WHERE id = 'msg_old'", "the message"),
    ] {
        let value: String = sqlx::Row::get(&sqlx::query(sql).fetch_one(&raw).await.unwrap(), 0);
        for plain in ["old plain", "旧契约", "old reason", "old@example.com", "old body"] {
            assert!(!value.contains(plain), "{what} still holds {plain:?}");
        }
    }
    assert_eq!(store.contract("org_x", "ct_legacy").await.unwrap().unwrap().0, legacy);
    let filter = ContractFilter { text: Some("旧契约".into()), ..Default::default() };
    assert_eq!(store.list_contracts("org_x", &filter, None, 10).await.unwrap().items.len(), 1, "found by the blind index once sealed");

    // A new master key: the organisation keys are re-wrapped, no row is rewritten, and every
    // row opens with the old master key gone.
    let contracts_before: Vec<String> = sqlx::query("SELECT body FROM contracts ORDER BY id").fetch_all(&raw).await.unwrap().iter().map(|r| sqlx::Row::get(r, 0)).collect();
    let rotated = Keyring::new(Box::new(FileMasterKey::generate().unwrap())).unwrap().with_previous(Box::new(FileMasterKey::parse(&old_text).unwrap())).unwrap();
    for (org, bytes) in store.org_keys().await.unwrap() {
        let fresh = rotated.rewrap(&WrappedOrgKey::from_bytes(&bytes).unwrap()).unwrap();
        store.set_org_key(&org, &fresh.to_bytes()).await.unwrap();
    }
    let mut retired = rotated;
    let old_id = retired.ids().find(|id| *id != retired.current_id()).unwrap().to_owned();
    retired.retire(&old_id).unwrap();
    let after = Store::open(&url).await.unwrap().with_keys(std::sync::Arc::new(retired));
    assert_eq!(after.contract("org_x", "ct_secret").await.unwrap().unwrap().0, voided);
    assert_eq!(after.outbox("org_x", Some("sms"), 10).await.unwrap(), [message]);
    assert_eq!(after.list_contracts("org_x", &ContractFilter { text: Some("张伟".into()), ..Default::default() }, None, 10).await.unwrap().items.len(), 1);
    let contracts_after: Vec<String> = sqlx::query("SELECT body FROM contracts ORDER BY id").fetch_all(&raw).await.unwrap().iter().map(|r| sqlx::Row::get(r, 0)).collect();
    assert_eq!(contracts_before, contracts_after, "no contract row was re-encrypted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("signet.db").display());
    let store = open(&url).await;
    suite(store.clone()).await;
    jobs_suite(store).await;
    // Reopening runs no migration twice.
    let again = open(&url).await;
    assert!(again.org("org_a").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_on_postgres() {
    use sqlx::Executor as _;
    let (admin, schema, url) = postgres_schema("signet_test").await;
    let store = open(&url).await;
    suite(store.clone()).await;
    jobs_suite(store).await;
    let again = open(&url).await;
    assert!(again.org("org_a").await.unwrap().is_some());
    concurrent_claimers(&url).await;
    admin.execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).await.unwrap();
}

/// Two workers (each its own pool) claiming at once from the same queue on PostgreSQL get
/// disjoint jobs, and between them every job (`FOR UPDATE SKIP LOCKED`).
async fn concurrent_claimers(url: &str) {
    let setup = open(url).await;
    let now = T0 + 50_000_000;
    for i in 0..60 {
        setup.enqueue_job(&job(&format!("job_cc{i:02}"), None, None, now), now).await.unwrap();
    }
    let claimer = |name: &'static str| {
        let url = url.to_owned();
        tokio::spawn(async move {
            let store = open(&url).await;
            let mut got = Vec::new();
            loop {
                let batch = store.claim_jobs(name, 3, 60_000, now + 1).await.unwrap();
                if batch.is_empty() {
                    break;
                }
                got.extend(batch.into_iter().filter(|j| j.id.starts_with("job_cc")).map(|j| j.id));
            }
            got
        })
    };
    let (a, b) = (claimer("wa"), claimer("wb"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let all: std::collections::BTreeSet<_> = a.iter().chain(&b).cloned().collect();
    assert_eq!(a.len() + b.len(), 60, "each job claimed once: {} + {}", a.len(), b.len());
    assert_eq!(all.len(), 60, "every job claimed");
}

// Blob storage in an S3-compatible bucket: the `moto_server` CI starts, its endpoint in
// `SIGNET_TEST_S3_ENDPOINT` (default `http://127.0.0.1:5000`). Without a server these tests
// fail; set `SIGNET_TEST_S3_ENDPOINT` to the empty string to skip them.

mod s3_blobs {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use object_store::ObjectStoreExt as _;
    use signet_store::blob::{BlobError, BlobStore, S3Blobs, suite};

    fn endpoint() -> Option<String> {
        match std::env::var("SIGNET_TEST_S3_ENDPOINT") {
            Ok(e) if e.trim().is_empty() => {
                println!("note: SIGNET_TEST_S3_ENDPOINT is empty, so this S3 blob test is skipped");
                None
            }
            Ok(e) => Some(e.trim().trim_end_matches('/').to_owned()),
            Err(_) => Some("http://127.0.0.1:5000".into()),
        }
    }

    fn creds() -> Option<(String, String)> {
        Some(("test".into(), "test".into()))
    }

    /// A new, empty bucket (named with the process id and a counter); its `s3://` URL with
    /// `prefix`.
    fn fresh_bucket(endpoint: &str, prefix: &str) -> String {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let bucket = format!("signet-blobs-{}-{n}-{nanos}", std::process::id());
        if let Err(e) = ureq::put(&format!("{endpoint}/{bucket}")).send_empty() {
            panic!(
                "creating the bucket {bucket} at {endpoint} failed: {e}. The S3 blob tests need an S3-compatible server there: \
                 start one with `moto_server -H 127.0.0.1 -p 5000` (.ci/run does), point SIGNET_TEST_S3_ENDPOINT at another, \
                 or set SIGNET_TEST_S3_ENDPOINT to the empty string to skip these tests"
            );
        }
        format!("s3://{bucket}/{prefix}?endpoint={endpoint}&region=us-east-1&path_style=true")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_blob_suite_on_s3() {
        let Some(endpoint) = endpoint() else { return };
        let url = fresh_bucket(&endpoint, "blobs/main");
        let store = S3Blobs::with_credentials(&url, creds()).unwrap();
        suite(&store, "org_1").await;
        // Each blob is one object at PREFIX/KEY, and nothing else is in the bucket.
        let (raw, prefix) = signet_objects::connect(&url, creds()).unwrap();
        assert_eq!(prefix, "blobs/main");
        let object = raw.get(&"blobs/main/org_1/c2/x".into()).await.unwrap().bytes().await.unwrap();
        assert_eq!(&object[..], b"other contract");
        use futures_util::TryStreamExt as _;
        let all: Vec<String> = raw.list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
        assert_eq!(all, ["blobs/main/org_1/c2/x"]);
        // Deleting a prefix is per path segment: c1 does not take c10 with it.
        store.put_new("org_1/c1/a", b"1").await.unwrap();
        store.put_new("org_1/c10/a", b"10").await.unwrap();
        store.delete_prefix("org_1/c1").await.unwrap();
        assert!(store.get("org_1/c1/a").await.unwrap().is_none());
        assert_eq!(store.get("org_1/c10/a").await.unwrap().as_deref(), Some(&b"10"[..]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_servers_writing_one_key_have_one_winner() {
        let Some(endpoint) = endpoint() else { return };
        let url = fresh_bucket(&endpoint, "");
        // Two servers: two clients with their own connections.
        let a = S3Blobs::with_credentials(&url, creds()).unwrap();
        let b = S3Blobs::with_credentials(&url, creds()).unwrap();
        for round in 0..10 {
            let key = format!("org/contract/doc-{round}");
            let (from_a, from_b) = (vec![b'a'; 200_000], vec![b'b'; 200_000]);
            let (ra, rb) = tokio::join!(a.put_new(&key, &from_a), b.put_new(&key, &from_b));
            let winner = match (ra, rb) {
                (Ok(()), Err(BlobError::Exists(k))) | (Err(BlobError::Exists(k)), Ok(())) if k != key => {
                    panic!("Exists names {k:?}, not {key:?}")
                }
                (Ok(()), Err(BlobError::Exists(_))) => &from_a,
                (Err(BlobError::Exists(_)), Ok(())) => &from_b,
                other => panic!("round {round}: exactly one write must succeed and the other get Exists, got {other:?}"),
            };
            for server in [&a, &b] {
                assert_eq!(server.get(&key).await.unwrap().as_ref(), Some(winner), "round {round}: the winner's bytes, whole");
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_bucket_is_an_error_naming_the_key() {
        let Some(endpoint) = endpoint() else { return };
        fresh_bucket(&endpoint, ""); // the server is there; only this bucket is not
        let url = format!("s3://signet-no-such-bucket-{}?endpoint={endpoint}&path_style=true", std::process::id());
        let store = S3Blobs::with_credentials(&url, creds()).unwrap();
        let err = store.put_new("org/c/a.pdf", b"x").await.unwrap_err();
        assert!(matches!(err, BlobError::Remote { ref key, .. } if key == "org/c/a.pdf"), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("org/c/a.pdf") && text.contains("storing the blob failed"), "{text}");
        // The start-up check finds it before any upload; an existing bucket passes and keeps nothing.
        let err = store.check().await.unwrap_err();
        assert!(err.to_string().contains("does the bucket exist"), "{err}");
        let good = fresh_bucket(&endpoint, "p");
        let ok = S3Blobs::with_credentials(&good, creds()).unwrap();
        ok.check().await.unwrap();
        let (raw, _) = signet_objects::connect(&good, creds()).unwrap();
        use futures_util::TryStreamExt as _;
        let left: Vec<String> = raw.list(None).map_ok(|m| m.location.to_string()).try_collect().await.unwrap();
        assert!(left.is_empty(), "the probe is removed: {left:?}");
    }

    #[test]
    fn bad_blob_urls_are_refused_with_the_expected_form() {
        for (url, why) in [("http://x", "no s3:// scheme"), ("s3://", "no bucket"), ("s3://b?colour=red", "unknown parameter \"colour\"")] {
            for result in [S3Blobs::from_url(url), S3Blobs::with_credentials(url, creds())] {
                let err = result.err().unwrap_or_else(|| panic!("{url} must be refused"));
                assert!(matches!(err, BlobError::Config(_)), "{url}: {err:?}");
                let text = err.to_string();
                assert!(text.contains(why), "{url}: {text}");
                assert!(
                    text.contains("expected s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=REGION&path_style=true"),
                    "{url}: {text}"
                );
            }
        }
    }
}
