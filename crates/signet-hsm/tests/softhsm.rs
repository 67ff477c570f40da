//! signet-hsm against a real PKCS#11 token: SoftHSM2.
//!
//! The test binary makes one SoftHSM world (a temporary token directory and a
//! `softhsm2.conf` naming it, set as `SOFTHSM2_CONF` before the module is loaded: SoftHSM
//! reads it at `C_Initialize`, which runs once per process), and every test gets a token of
//! its own in it, initialised with `softhsm2-util --init-token --free` under its own label.
//! All tokens are initialised when the world is made, before any test loads the module:
//! SoftHSM reads its token directory at `C_Initialize` and does not see tokens that another
//! process adds later.
//!
//! Without SoftHSM the tests skip with a note, except under `CI`, where they fail and say
//! how to install it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use signet_hsm::{HsmConfig, HsmError, KeyKind, MODULE_VAR, PIN_FILE_VAR, TOKEN_VAR, Token};
use signet_ledger::{Note, NoteSigner, SignatureType, VerifierKey, Verifiers};
use signet_pki::Signer;
use signet_pki::cert::{CertProfile, CertRequest, DistinguishedName, Issuer, issue_certificate};
use signet_vault::{FileMasterKey, Keyring, MasterKey, VaultError};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const USER_PIN: &str = "4711-user";
const SO_PIN: &str = "0815-so";
/// One token per test.
const TOKENS: [&str; 7] =
    ["t-master", "t-rotate", "t-custody", "t-sign", "t-persist", "t-config", "t-log"];

/// The `SubjectPublicKeyInfo` header of every uncompressed P-256 public key (RFC 5480).
const P256_SPKI_HEADER: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

struct World {
    dir: PathBuf,
    conf: PathBuf,
}

/// The SoftHSM world of this test binary, or `None` (after a printed note) when SoftHSM is
/// not installed outside CI.
fn world() -> Option<&'static World> {
    static WORLD: OnceLock<Option<World>> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let util = Command::new("softhsm2-util").arg("--version").output();
            if !Path::new(MODULE).exists() || util.is_err() {
                let how = "SoftHSM2 is not installed: apt-get install -y softhsm2 (it provides \
                           /usr/lib/softhsm/libsofthsm2.so and softhsm2-util)";
                if std::env::var_os("CI").is_some() {
                    panic!("{how}; the signet-hsm tests need it in CI");
                }
                eprintln!("skipping the SoftHSM tests: {how}");
                return None;
            }
            let dir = tempfile::tempdir().expect("temp dir").keep();
            let tokens = dir.join("tokens");
            std::fs::create_dir(&tokens).expect("token dir");
            let conf = dir.join("softhsm2.conf");
            std::fs::write(
                &conf,
                format!(
                    "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n\
                     slots.removable = false\n",
                    tokens.display()
                ),
            )
            .expect("write softhsm2.conf");
            // SAFETY: set once, inside this OnceLock, before any test loads the module or
            // starts a child; every test calls world() first and waits for it here.
            unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
            let world = World { dir, conf };
            for label in TOKENS {
                world.init_token(label);
            }
            Some(world)
        })
        .as_ref()
}

impl World {
    /// Initialises a token labelled `label` in a free slot, and its PIN file.
    fn init_token(&self, label: &str) {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &self.conf)
            .args(["--init-token", "--free", "--label", label, "--pin", USER_PIN, "--so-pin", SO_PIN])
            .output()
            .expect("run softhsm2-util");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token {label}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(self.pin_file(label), format!("{USER_PIN}\n")).expect("write PIN file");
    }

    fn pin_file(&self, label: &str) -> PathBuf {
        self.dir.join(format!("{label}.pin"))
    }

    /// The configuration of this test's token, read the way the server reads it (through
    /// the three settings).
    fn token(&self, label: &str) -> HsmConfig {
        assert!(TOKENS.contains(&label), "add {label} to TOKENS");
        self.config(MODULE, label, &self.pin_file(label))
    }

    fn config(&self, module: &str, label: &str, pin_file: &Path) -> HsmConfig {
        let vars = [
            (MODULE_VAR, OsString::from(module)),
            (TOKEN_VAR, OsString::from(label)),
            (PIN_FILE_VAR, pin_file.as_os_str().to_owned()),
        ];
        HsmConfig::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
            .expect("valid settings")
            .expect("all three set")
    }
}

/// Verifies an ECDSA P-256 signature (DER) with aws-lc, from the SPKI's raw point.
fn verify_p256(spki: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
    assert_eq!(spki.len(), 91, "a P-256 SPKI is 91 bytes");
    assert_eq!(spki[..26], P256_SPKI_HEADER, "SPKI header");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &spki[26..]).verify(message, signature).is_ok()
}

#[test]
fn master_key_wraps_unwraps_and_refuses_changed_or_foreign_bytes() {
    let Some(world) = world() else { return };
    let token = Token::open(&world.token("t-master")).unwrap();
    // Looking makes nothing.
    assert!(token.find_master_key("signet-master").unwrap().is_none());
    assert!(!token.contains("signet-master").unwrap(), "a lookup made no key");
    let master = token.master_key("signet-master").unwrap();
    assert_eq!(master.id(), "signet-master");
    let org_key = [0x5a; 32];
    let wrapped = master.wrap(&org_key).unwrap();
    assert_eq!(wrapped.len(), 40, "RFC 5649 of 32 bytes");
    assert!(!wrapped.windows(8).any(|w| w == &org_key[..8]));
    assert_eq!(master.unwrap(&wrapped).unwrap().as_slice(), &org_key);
    // Found again by label: the same key.
    let again = token.master_key("signet-master").unwrap();
    assert_eq!(again.unwrap(&wrapped).unwrap().as_slice(), &org_key);
    let found = token.find_master_key("signet-master").unwrap().expect("found by label");
    assert_eq!(found.unwrap(&wrapped).unwrap().as_slice(), &org_key);

    let refused = VaultError::OrgKeyUnwrap { master_id: "signet-master".into() };
    for at in 0..wrapped.len() {
        let mut changed = wrapped.clone();
        changed[at] ^= 0x01;
        assert_eq!(master.unwrap(&changed).unwrap_err(), refused, "byte {at} changed");
    }
    for len in [0, 1, 8, 16, 39] {
        assert!(master.unwrap(&wrapped[..len]).is_err(), "prefix {len}");
    }
    let mut longer = wrapped.clone();
    longer.extend_from_slice(&[0; 8]);
    assert!(master.unwrap(&longer).is_err());

    // Wrapped by another key of the same token.
    let other = token.master_key("other-master").unwrap();
    let foreign = other.wrap(&org_key).unwrap();
    assert_ne!(foreign, wrapped);
    assert_eq!(master.unwrap(&foreign).unwrap_err(), refused);
    assert_eq!(other.unwrap(&foreign).unwrap().as_slice(), &org_key);

    // Labels must be usable as master key ids.
    for bad in ["", "a b", "a/b", &"x".repeat(65)] {
        assert!(matches!(token.master_key(bad), Err(HsmError::BadLabel { .. })), "{bad:?}");
    }
    let debug = format!("{master:?}");
    assert!(debug.contains("signet-master"), "{debug}");
}

#[test]
fn a_keyring_rotates_from_a_key_file_to_the_token() {
    let Some(world) = world() else { return };
    let token = Token::open(&world.token("t-rotate")).unwrap();
    let context = b"org-1/contract-7/document-3";

    let file_key = FileMasterKey::generate().unwrap();
    let file_id = file_key.id().to_owned();
    let mut keyring = Keyring::new(Box::new(file_key)).unwrap();
    let (org_key, old_wrapped) = keyring.new_org_key().unwrap();
    let envelope = org_key.seal(b"the signed contract", context).unwrap();
    let old_secret = keyring.seal_secret(b"a CA key", b"signet-ca/root").unwrap();

    keyring.rotate_to(Box::new(token.master_key("signet-master").unwrap())).unwrap();
    assert_eq!(keyring.current_id(), "signet-master");
    // Old organisation keys still open, through the previous (file) master key.
    assert!(keyring.needs_rewrap(&old_wrapped));
    let opened = keyring.open_org_key(&old_wrapped).unwrap();
    assert_eq!(opened.open(&envelope, context).unwrap().as_slice(), b"the signed contract");

    // Rewrapped under the token's key; the document is not re-encrypted and still opens.
    let rewrapped = keyring.rewrap(&old_wrapped).unwrap();
    assert_eq!(rewrapped.master_id(), "signet-master");
    assert!(!keyring.needs_rewrap(&rewrapped));
    keyring.retire(&file_id).unwrap();
    let stored = signet_vault::WrappedOrgKey::from_bytes(&rewrapped.to_bytes()).unwrap();
    let opened = keyring.open_org_key(&stored).unwrap();
    assert_eq!(opened.open(&envelope, context).unwrap().as_slice(), b"the signed contract");
    // Without the file key, what it alone wrapped no longer opens.
    assert!(matches!(
        keyring.open_org_key(&old_wrapped),
        Err(VaultError::UnknownMasterKey { .. })
    ));
    assert!(keyring.open_secret(&old_secret, b"signet-ca/root").is_err());

    // New organisation keys and installation secrets go through the token.
    let (new_key, new_wrapped) = keyring.new_org_key().unwrap();
    assert_eq!(new_wrapped.master_id(), "signet-master");
    let sealed_new = new_key.seal(b"new", context).unwrap();
    let reopened = keyring.open_org_key(&new_wrapped).unwrap();
    assert_eq!(reopened.open(&sealed_new, context).unwrap().as_slice(), b"new");
    let sealed = keyring.seal_secret(b"the TSA key", b"signet-ca/tsa").unwrap();
    assert_eq!(keyring.open_secret(&sealed, b"signet-ca/tsa").unwrap().as_slice(), b"the TSA key");
}

#[test]
fn generated_keys_are_sensitive_and_not_extractable() {
    let Some(world) = world() else { return };
    let token = Token::open(&world.token("t-custody")).unwrap();
    let custodies = [
        ("master", token.master_key("signet-master").unwrap().custody().unwrap()),
        ("ca", token.signing_key("signet-ca", KeyKind::EcP256).unwrap().custody().unwrap()),
        ("log", token.ed25519_key("signet-log").unwrap().custody().unwrap()),
    ];
    for (what, custody) in custodies {
        assert!(custody.token_object, "{what}: {custody:?}");
        assert!(custody.private, "{what}: {custody:?}");
        assert!(custody.sensitive && custody.always_sensitive, "{what}: {custody:?}");
        assert!(!custody.extractable && custody.never_extractable, "{what}: {custody:?}");
        assert!(custody.local, "{what}: generated in the token: {custody:?}");
        assert!(!custody.value_readable, "{what}: CKA_VALUE must not be readable: {custody:?}");
    }
    let ephemeral = token.ephemeral_signing_key().unwrap().custody().unwrap();
    assert!(!ephemeral.token_object, "{ephemeral:?}");
    assert!(ephemeral.sensitive && !ephemeral.extractable && !ephemeral.value_readable);
}

#[test]
fn hsm_signatures_verify_independently_and_sign_certificates_and_cms() {
    let Some(world) = world() else { return };
    let token = Token::open(&world.token("t-sign")).unwrap();
    let ca = token.signing_key("signet-ca", KeyKind::EcP256).unwrap();
    assert_eq!(ca.scheme(), signet_pki::SignatureScheme::EcdsaP256Sha256);
    let message = b"a TBSCertificate, say";
    let signature = ca.sign(message).unwrap();
    assert!(verify_p256(ca.public_key_der(), message, &signature));
    assert!(!verify_p256(ca.public_key_der(), b"another message", &signature));

    // Signatures from several threads at once, each verified.
    std::thread::scope(|scope| {
        for i in 0..4u8 {
            let ca = &ca;
            scope.spawn(move || {
                for j in 0..5u8 {
                    let msg = [i, j, 7];
                    assert!(verify_p256(ca.public_key_der(), &msg, &ca.sign(&msg).unwrap()));
                }
            });
        }
    });

    // A root certificate signed in the token, and an event certificate for an ephemeral key.
    let now = std::time::SystemTime::now();
    let root_spki = ca.public_key_der().to_vec();
    let root = issue_certificate(
        &request(now, "Signet HSM Test Root", CertProfile::RootCa, &root_spki, 1),
        Issuer::SelfSigned(&ca),
    )
    .unwrap();
    signet_pki::cert::verify_cert_signature(&root, &root_spki).unwrap();

    let event_key = token.ephemeral_signing_key().unwrap();
    let event_spki = event_key.public_key_der().to_vec();
    let event_cert = issue_certificate(
        &request(now, "Signer 张三", CertProfile::Signer, &event_spki, 2),
        Issuer::Ca { cert: &root, key: &ca },
    )
    .unwrap();
    signet_pki::cert::verify_issued_by(&event_cert, &root).unwrap();

    let content = b"%PDF-1.7 the byte range";
    let digest: [u8; 32] = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, content)
        .as_ref()
        .try_into()
        .unwrap();
    let cms = signet_pki::cms::sign_cades_detached(&event_key, &event_cert, std::slice::from_ref(&root), &digest)
        .unwrap()
        .to_der()
        .unwrap();
    let parsed = signet_pki::cms::parse_signed_data(&cms).unwrap();
    parsed.verify_signature().unwrap();
    parsed.check_message_digest(&digest).unwrap();
    parsed.check_signing_certificate().unwrap();

    // And OpenSSL agrees, when it is installed.
    if Command::new("openssl").arg("version").output().is_ok() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let root_pem = write("root.pem", signet_pki::pem::cert_to_pem(&root).as_bytes());
        let sig = write("sig.der", &cms);
        let data = write("data.bin", content);
        let out = Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in"])
            .arg(&sig)
            .arg("-content")
            .arg(&data)
            .arg("-CAfile")
            .arg(&root_pem)
            .args(["-out", "/dev/null"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl cms -verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn request<'a>(
    now: std::time::SystemTime,
    name: &str,
    profile: CertProfile,
    key: &'a [u8],
    serial: u8,
) -> CertRequest<'a> {
    let day = std::time::Duration::from_secs(86_400);
    CertRequest {
        subject: DistinguishedName::new(name),
        profile,
        public_key_der: key,
        serial: vec![serial],
        not_before: now - day,
        not_after: now + day,
        crl_url: None,
        ocsp_url: None,
        ca_issuers_url: None,
        phone: None,
    }
}

#[test]
fn keys_persist_in_the_token_and_ephemeral_keys_vanish() {
    let Some(world) = world() else { return };
    let config = world.token("t-persist");
    let (spki, log_key, wrapped) = {
        let token = Token::open(&config).unwrap();
        let tsa = token.signing_key("signet-tsa", KeyKind::EcP256).unwrap();
        let log = token.ed25519_key("signet-log").unwrap();
        let wrapped = token.master_key("signet-master").unwrap().wrap(&[3; 32]).unwrap();
        (tsa.public_key_der().to_vec(), log.public_key(), wrapped)
        // Every key and the token are dropped here: the sessions close, the login ends.
    };
    let token = Token::open(&config).unwrap();
    let tsa = token.signing_key("signet-tsa", KeyKind::EcP256).unwrap();
    assert_eq!(tsa.public_key_der(), spki.as_slice());
    assert!(verify_p256(&spki, b"m", &tsa.sign(b"m").unwrap()));
    assert_eq!(token.ed25519_key("signet-log").unwrap().public_key(), log_key);
    let master = token.master_key("signet-master").unwrap();
    assert_eq!(master.unwrap(&wrapped).unwrap().as_slice(), &[3; 32]);
    // Another label is another key.
    let other = token.signing_key("signet-ocsp", KeyKind::EcP256).unwrap();
    assert_ne!(other.public_key_der(), spki.as_slice());
    // A label holding another kind of key is refused, not reused.
    let err = token.signing_key("signet-log", KeyKind::EcP256).unwrap_err();
    assert!(matches!(err, HsmError::KeyRefused { .. }), "{err:?}");

    let ephemeral = token.ephemeral_signing_key().unwrap();
    let label = ephemeral.label().to_owned();
    assert!(label.starts_with("signet-ephemeral-"), "{label}");
    assert!(token.contains(&label).unwrap());
    let second = token.ephemeral_signing_key().unwrap();
    assert_ne!(second.public_key_der(), ephemeral.public_key_der());
    assert!(verify_p256(ephemeral.public_key_der(), b"e", &ephemeral.sign(b"e").unwrap()));
    drop(ephemeral);
    assert!(!token.contains(&label).unwrap(), "the ephemeral key outlived its signer");
    assert!(token.contains(second.label()).unwrap());
    drop(second);
    assert!(token.contains("signet-tsa").unwrap());
}

#[test]
fn bad_configuration_gives_clear_errors() {
    let Some(world) = world() else { return };
    let config = world.token("t-config");

    let mut wrong_pin = config.clone();
    wrong_pin.pin = signet_hsm::Zeroizing::new("not-the-pin".to_owned());
    let err = Token::open(&wrong_pin).unwrap_err();
    assert!(matches!(err, HsmError::Login { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("PIN is wrong") && message.contains(PIN_FILE_VAR), "{message}");
    assert!(!message.contains("not-the-pin"), "{message}");

    let mut unknown = config.clone();
    unknown.token_label = "no-such-token".to_owned();
    let err = Token::open(&unknown).unwrap_err();
    assert!(matches!(err, HsmError::TokenNotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("no-such-token") && message.contains(TOKEN_VAR), "{message}");
    assert!(message.contains("\"t-config\""), "lists the tokens present: {message}");

    let mut missing = config.clone();
    missing.module = world.dir.join("libnothing.so");
    let err = Token::open(&missing).unwrap_err();
    assert!(matches!(err, HsmError::ModuleLoad { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("libnothing.so") && message.contains(MODULE_VAR), "{message}");
    // A file that is not a PKCS#11 library.
    let not_a_library = world.dir.join("softhsm2.conf");
    let err = Token::open(&world.config(not_a_library.to_str().unwrap(), "t-config", &world.pin_file("t-config")))
        .unwrap_err();
    assert!(matches!(err, HsmError::ModuleLoad { .. }), "{err:?}");

    let empty_pin = world.dir.join("empty.pin");
    std::fs::write(&empty_pin, " \n").unwrap();
    let vars = [
        (MODULE_VAR, OsString::from(MODULE)),
        (TOKEN_VAR, OsString::from("t-config")),
        (PIN_FILE_VAR, empty_pin.into_os_string()),
    ];
    let err = HsmConfig::from_lookup(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
        .unwrap_err();
    assert!(matches!(err, HsmError::BadPin { .. }), "{err:?}");
    assert!(err.to_string().contains(PIN_FILE_VAR), "{err}");

    // The right PIN still works after the refusals.
    Token::open(&config).unwrap();
}

#[test]
fn the_log_signs_notes_with_an_ed25519_key_in_the_token() {
    let Some(world) = world() else { return };
    let token = Token::open(&world.token("t-log")).unwrap();
    let key = token.ed25519_key("signet-log").unwrap();
    let origin = "signet.example/log";
    let signer = key.note_signer(origin, SignatureType::Ed25519).unwrap();
    let vkey = VerifierKey::new(origin, SignatureType::Ed25519, &key.public_key()).unwrap();
    assert_eq!(signer.verifier(), vkey);

    let checkpoint = format!("{origin}\n3\n{}\n", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    let mut note = Note::new(checkpoint.clone()).unwrap();
    note.sign(&signer).unwrap();
    let bytes = note.to_bytes().unwrap();
    let parsed = Note::parse(&bytes).unwrap();
    let verified = parsed.verify(&Verifiers::new([vkey.clone()]).unwrap()).unwrap();
    assert_eq!(verified.verified.len(), 1);
    // The same vkey text a log publishes parses back to the same key.
    assert_eq!(VerifierKey::parse(&vkey.to_string()).unwrap(), vkey);

    // An independent Ed25519 implementation agrees with the raw signature.
    let raw = key.sign(checkpoint.as_bytes()).unwrap();
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key()).unwrap();
    dalek.verify_strict(checkpoint.as_bytes(), &ed25519_dalek::Signature::from_bytes(&raw)).unwrap();

    // The same key as a witness: a cosignature/v1 over the checkpoint.
    let witness = key.note_signer("witness.example/w1", SignatureType::CosignatureV1).unwrap();
    signet_ledger::cosignature::cosign(&mut note, &witness, 1_700_000_000).unwrap();
    let both = Verifiers::new([vkey, witness.verifier()]).unwrap();
    let verified = Note::parse(&note.to_bytes().unwrap()).unwrap().verify(&both).unwrap();
    assert_eq!(verified.verified.len(), 2);

    // Found again by label: the same public key.
    assert_eq!(token.ed25519_key("signet-log").unwrap().public_key(), key.public_key());
}
