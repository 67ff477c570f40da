//! A Signet CA directory on disk: root CA, issuing CA, TSA and OCSP responder certificates and
//! keys, the certificates issued, and what was revoked.
//!
//! Layout of `DIR`:
//! ```text
//! ca.json            settings: key algorithm, base URL, TSA policy OID
//! root.pem           root CA certificate (the trust anchor users import)
//! issuing.pem        issuing CA certificate (signs signer, TSA and OCSP certificates)
//! tsa.pem, ocsp.pem  time-stamping and OCSP responder certificates
//! private/*.key      PKCS#8 private keys, mode 0600 in a 0700 directory
//! issued/SERIAL.pem  every certificate the issuing CA issued
//! revoked.json       revoked serials with time and reason
//! ```
//! This module is the adapter between files and the pure PKI core: it reads and writes, and
//! hands keys, certificates and the current time to `signet-pki`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use signet_pki::cert::{self, CertProfile, CertRequest, Certificate, DistinguishedName, Issuer};
use signet_pki::crl::{self, RevokedEntry};
use signet_pki::ocsp::{self, CertStatus, OcspResponder};
use signet_pki::{KeyAlgorithm, PrivateKey, Signer, SystemRng, pem, tsp};

const DAY: Duration = Duration::from_secs(86_400);
/// How long CRLs and OCSP responses produced here stay current.
pub const REVOCATION_VALIDITY: Duration = Duration::from_secs(7 * 86_400);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaSettings {
    pub version: u32,
    pub alg: String,
    pub base_url: String,
    /// Policy OID written into every time-stamp token (RFC 3161 `TSTInfo.policy`). The default
    /// is a placeholder: a production TSA puts its own registered policy OID here.
    #[serde(default = "default_tsa_policy")]
    pub tsa_policy: String,
}

fn default_tsa_policy() -> String {
    signet_pki::oid::SIGNET_TSA_POLICY.to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevokedRecord {
    pub serial: String,
    pub time: u64,
    pub reason: Option<u8>,
}

/// A loaded CA directory.
pub struct CaDir {
    pub dir: PathBuf,
    pub settings: CaSettings,
    pub tsa_policy: der::asn1::ObjectIdentifier,
    pub root: Certificate,
    pub root_key: Box<dyn Signer>,
    pub issuing: Certificate,
    pub issuing_key: Box<dyn Signer>,
    pub tsa: Certificate,
    pub tsa_key: Box<dyn Signer>,
    pub ocsp: Certificate,
    pub ocsp_key: Box<dyn Signer>,
    /// Where per-signing keys are made: in the token when the CA's keys are there (session
    /// objects, destroyed after the signing), else in memory.
    event_keys: Option<signet_hsm::Token>,
}

impl std::fmt::Debug for CaDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaDir").field("dir", &self.dir).finish_non_exhaustive()
    }
}

pub struct IssueParams<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    /// E.164 phone number for the subjectAltName (`tel:` URI).
    pub phone: Option<&'a str>,
    pub org: Option<&'a str>,
    pub alg: KeyAlgorithm,
    pub valid_days: u64,
}

/// How the CA's private keys are kept: in `private/`, or in a PKCS#11 token.
#[derive(Clone, Copy)]
pub enum KeyFiles<'a> {
    /// PKCS#8 PEM files `NAME.key`, mode 0600 (the standalone `signet ca` tools).
    Plain,
    /// `NAME.key.sealed`: sealed by the platform's master key (`signet serve`). Plain key
    /// files found on load are sealed and removed.
    Sealed(&'a signet_vault::Keyring),
    /// In a PKCS#11 token, as objects labelled `signet-ca-NAME` (P-256 only), generated there,
    /// sensitive and not extractable: nothing is written to `private/`.
    Token(&'a signet_hsm::Token),
}

/// The token label of the CA key `name`.
fn token_label(name: &str) -> String {
    format!("signet-ca-{name}")
}

/// What the CA key `name` (`root`, `tsa`, …) is sealed for in `private/NAME.key.sealed`.
pub fn sealed_key_context(name: &str) -> Vec<u8> {
    format!("signet-ca/{name}").into_bytes()
}

impl KeyFiles<'_> {
    /// The token, when the keys are in one.
    fn token(&self) -> Option<signet_hsm::Token> {
        match self {
            KeyFiles::Token(t) => Some((*t).clone()),
            _ => None,
        }
    }

    /// A new key `name` for a new CA, kept as `self` says.
    fn create(&self, dir: &Path, name: &str, alg: KeyAlgorithm) -> Result<Box<dyn Signer>> {
        if let KeyFiles::Token(token) = self {
            if alg != KeyAlgorithm::P256 {
                bail!("keys in a PKCS#11 token are P-256; {} was asked for", alg.name());
            }
            return Ok(Box::new(token.signing_key(&token_label(name), signet_hsm::KeyKind::EcP256)?));
        }
        let key = PrivateKey::generate(alg)?;
        self.write(dir, name, &key)?;
        Ok(Box::new(key))
    }

    fn write(&self, dir: &Path, name: &str, key: &PrivateKey) -> Result<()> {
        let der = signet_vault::Zeroizing::new(key.to_pkcs8_der()?);
        match self {
            KeyFiles::Token(_) => bail!("a CA whose keys are in a token takes no key files"),
            KeyFiles::Plain => write_secret(&dir.join("private").join(format!("{name}.key")), pem::private_key_to_pem(&der).as_bytes()),
            KeyFiles::Sealed(keyring) => {
                let sealed = keyring.seal_secret(&der, &sealed_key_context(name))?;
                write_secret(&dir.join("private").join(format!("{name}.key.sealed")), &sealed)
            }
        }
    }

    fn read(&self, dir: &Path, name: &str) -> Result<Box<dyn Signer>> {
        if let KeyFiles::Token(token) = self {
            let label = token_label(name);
            if !token.contains(&label)? {
                bail!(
                    "the PKCS#11 token {:?} holds no key {label:?}: this CA ({}) was made with its keys elsewhere; use the token it was made with",
                    token.label(),
                    dir.display()
                );
            }
            return Ok(Box::new(token.signing_key(&label, signet_hsm::KeyKind::EcP256)?));
        }
        Ok(Box::new(self.read_file(dir, name)?))
    }

    fn read_file(&self, dir: &Path, name: &str) -> Result<PrivateKey> {
        let plain = dir.join("private").join(format!("{name}.key"));
        let sealed = dir.join("private").join(format!("{name}.key.sealed"));
        match (self, sealed.exists()) {
            (KeyFiles::Sealed(keyring), true) => {
                let bytes = fs::read(&sealed).with_context(|| format!("reading {}", sealed.display()))?;
                let der = keyring
                    .open_secret(&bytes, &sealed_key_context(name))
                    .with_context(|| format!("opening {} with the master key", sealed.display()))?;
                Ok(PrivateKey::from_pkcs8_der(&der)?)
            }
            (KeyFiles::Token(_), _) => bail!("a CA whose keys are in a token reads no key files"),
            (KeyFiles::Plain, true) => bail!(
                "{} is sealed by a Signet platform's master key; only `signet serve` (with that data directory) can use this CA",
                sealed.display()
            ),
            (_, false) => {
                let text = fs::read_to_string(&plain).with_context(|| format!("reading {}", plain.display()))?;
                let key = PrivateKey::from_pkcs8_der(&pem::private_key_from_pem(&text)?)?;
                if let KeyFiles::Sealed(_) = self {
                    // A deployment made before keys were sealed: seal now, then drop the plain file.
                    self.write(dir, name, &key)?;
                    fs::remove_file(&plain).with_context(|| format!("removing {}", plain.display()))?;
                }
                Ok(key)
            }
        }
    }
}

impl CaDir {
    /// Creates a new CA in `dir` (which must not already hold one), its keys in plain files.
    pub fn init(dir: &Path, alg: KeyAlgorithm, base_url: &str, org: &str, now: SystemTime) -> Result<CaDir> {
        Self::init_with(dir, alg, base_url, org, now, KeyFiles::Plain)
    }

    /// Creates a new CA in `dir`, its keys kept as `keys` says.
    pub fn init_with(dir: &Path, alg: KeyAlgorithm, base_url: &str, org: &str, now: SystemTime, keys: KeyFiles<'_>) -> Result<CaDir> {
        if dir.join("ca.json").exists() {
            bail!("{} already holds a Signet CA (ca.json exists); choose another --dir", dir.display());
        }
        let base_url = base_url.trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("--base-url must start with http:// or https://, got {base_url:?}");
        }
        fs::create_dir_all(dir.join("private")).with_context(|| format!("creating {}", dir.display()))?;
        fs::create_dir_all(dir.join("issued"))?;
        set_mode(&dir.join("private"), 0o700)?;
        let mut rng = SystemRng;
        let back = now - Duration::from_secs(600);
        let dn = |cn: &str| DistinguishedName {
            common_name: cn.to_string(),
            organization: Some(org.to_string()),
            organizational_unit: None,
            email: None,
            country: None,
        };

        let root_key = keys.create(dir, "root", alg)?;
        let root = cert::issue_certificate(
            &CertRequest {
                subject: dn(&format!("{org} Root CA")),
                profile: CertProfile::RootCa,
                public_key_der: root_key.public_key_der(),
                serial: cert::random_serial(&mut rng)?,
                not_before: back,
                not_after: now + DAY * 365 * 20,
                crl_url: None,
                ocsp_url: None,
                ca_issuers_url: None,
                phone: None,
            },
            Issuer::SelfSigned(&*root_key),
        )?;
        let issuing_key = keys.create(dir, "issuing", alg)?;
        let issuing = cert::issue_certificate(
            &CertRequest {
                subject: dn(&format!("{org} Issuing CA")),
                profile: CertProfile::IssuingCa,
                public_key_der: issuing_key.public_key_der(),
                serial: cert::random_serial(&mut rng)?,
                not_before: back,
                not_after: now + DAY * 365 * 10,
                crl_url: Some(format!("{base_url}/crl/root.crl")),
                ocsp_url: None,
                ca_issuers_url: Some(format!("{base_url}/certs/root.cer")),
                phone: None,
            },
            Issuer::Ca { cert: &root, key: &*root_key },
        )?;
        let leaf = |cn: &str, profile: CertProfile, key: &dyn Signer, days: u64| -> Result<Certificate> {
            let mut rng = SystemRng;
            Ok(cert::issue_certificate(
                &CertRequest {
                    subject: dn(cn),
                    profile,
                    public_key_der: key.public_key_der(),
                    serial: cert::random_serial(&mut rng)?,
                    not_before: back,
                    not_after: now + Duration::from_secs(86_400 * days),
                    crl_url: Some(format!("{base_url}/crl/issuing.crl")),
                    ocsp_url: Some(format!("{base_url}/ocsp")),
                    ca_issuers_url: Some(format!("{base_url}/certs/issuing.cer")),
                    phone: None,
                },
                Issuer::Ca { cert: &issuing, key: &*issuing_key },
            )?)
        };
        let tsa_key = keys.create(dir, "tsa", alg)?;
        let tsa = leaf(&format!("{org} Time-Stamping Authority"), CertProfile::TimeStamping, &*tsa_key, 365 * 10)?;
        let ocsp_key = keys.create(dir, "ocsp", alg)?;
        let ocsp = {
            let mut rng = SystemRng;
            cert::issue_certificate(
                &CertRequest {
                    subject: dn(&format!("{org} OCSP Responder")),
                    profile: CertProfile::OcspResponder,
                    public_key_der: ocsp_key.public_key_der(),
                    serial: cert::random_serial(&mut rng)?,
                    not_before: back,
                    not_after: now + DAY * 365 * 2,
                    crl_url: None,
                    ocsp_url: None,
                    ca_issuers_url: None,
                    phone: None,
                },
                Issuer::Ca { cert: &issuing, key: &*issuing_key },
            )?
        };

        let settings = CaSettings {
            version: 1,
            alg: alg.name().to_string(),
            base_url,
            tsa_policy: default_tsa_policy(),
        };
        for (name, c) in [("root", &root), ("issuing", &issuing), ("tsa", &tsa), ("ocsp", &ocsp)] {
            write_atomic(&dir.join(format!("{name}.pem")), pem::cert_to_pem(c).as_bytes())?;
        }
        for c in [&tsa, &ocsp] {
            write_atomic(&dir.join("issued").join(format!("{}.pem", cert::serial_hex(c))), pem::cert_to_pem(c).as_bytes())?;
        }
        write_atomic(&dir.join("revoked.json"), b"[]\n")?;
        write_atomic(&dir.join("ca.json"), serde_json::to_vec_pretty(&settings)?.as_slice())?;
        Ok(CaDir {
            dir: dir.to_path_buf(),
            tsa_policy: signet_pki::oid::SIGNET_TSA_POLICY,
            settings,
            root,
            root_key,
            issuing,
            issuing_key,
            tsa,
            tsa_key,
            ocsp,
            ocsp_key,
            event_keys: keys.token(),
        })
    }

    /// Loads an existing CA directory with plain key files.
    pub fn load(dir: &Path) -> Result<CaDir> {
        Self::load_with(dir, KeyFiles::Plain)
    }

    /// Loads an existing CA directory, its keys kept as `keys` says.
    pub fn load_with(dir: &Path, keys: KeyFiles<'_>) -> Result<CaDir> {
        let settings_path = dir.join("ca.json");
        let settings: CaSettings = serde_json::from_slice(
            &fs::read(&settings_path).with_context(|| {
                format!("{} is not a Signet CA directory (no ca.json); create one with `signet ca init --dir {}`", dir.display(), dir.display())
            })?,
        )
        .with_context(|| format!("reading {}", settings_path.display()))?;
        let tsa_policy = der::asn1::ObjectIdentifier::new(&settings.tsa_policy).map_err(|_| {
            anyhow::anyhow!("{}: tsa_policy {:?} is not an object identifier (e.g. 1.2.3.4)", settings_path.display(), settings.tsa_policy)
        })?;
        let cert_of = |name: &str| -> Result<Certificate> {
            let p = dir.join(format!("{name}.pem"));
            let bytes = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
            pem::certs_from_pem_or_der(&bytes)?
                .into_iter()
                .next()
                .with_context(|| format!("{} holds no certificate", p.display()))
        };
        let key_of = |name: &str| keys.read(dir, name);
        Ok(CaDir {
            dir: dir.to_path_buf(),
            tsa_policy,
            root: cert_of("root")?,
            root_key: key_of("root")?,
            issuing: cert_of("issuing")?,
            issuing_key: key_of("issuing")?,
            tsa: cert_of("tsa")?,
            tsa_key: key_of("tsa")?,
            ocsp: cert_of("ocsp")?,
            ocsp_key: key_of("ocsp")?,
            event_keys: keys.token(),
            settings,
        })
    }

    /// Issues a signer certificate with a new key held in memory (for a PKCS#12 file).
    pub fn issue(&self, p: &IssueParams<'_>, now: SystemTime) -> Result<(Certificate, PrivateKey)> {
        let key = PrivateKey::generate(p.alg)?;
        let c = self.issue_to(p, key.public_key_der(), now)?;
        Ok((c, key))
    }

    /// Issues a signer certificate for one signing, with a new key made where the CA's keys
    /// are: in the token (a session object, gone when the returned signer is dropped), or in
    /// memory. The key is never written anywhere.
    pub fn issue_event(&self, p: &IssueParams<'_>, now: SystemTime) -> Result<(Certificate, Box<dyn Signer>)> {
        let key: Box<dyn Signer> = match &self.event_keys {
            Some(token) => Box::new(token.ephemeral_signing_key()?),
            None => Box::new(PrivateKey::generate(p.alg)?),
        };
        let c = self.issue_to(p, key.public_key_der(), now)?;
        Ok((c, key))
    }

    fn issue_to(&self, p: &IssueParams<'_>, public_key_der: &[u8], now: SystemTime) -> Result<Certificate> {
        if p.name.trim().is_empty() {
            bail!("--name must not be empty");
        }
        let mut rng = SystemRng;
        let base = &self.settings.base_url;
        let c = cert::issue_certificate(
            &CertRequest {
                subject: DistinguishedName {
                    common_name: p.name.to_string(),
                    organization: p.org.map(str::to_string),
                    organizational_unit: None,
                    email: p.email.map(str::to_string),
                    country: None,
                },
                profile: CertProfile::Signer,
                public_key_der,
                serial: cert::random_serial(&mut rng)?,
                not_before: now - Duration::from_secs(600),
                not_after: now + Duration::from_secs(86_400 * p.valid_days),
                crl_url: Some(format!("{base}/crl/issuing.crl")),
                ocsp_url: Some(format!("{base}/ocsp")),
                ca_issuers_url: Some(format!("{base}/certs/issuing.cer")),
                phone: p.phone.map(str::to_string),
            },
            Issuer::Ca { cert: &self.issuing, key: &*self.issuing_key },
        )?;
        write_atomic(
            &self.dir.join("issued").join(format!("{}.pem", cert::serial_hex(&c))),
            pem::cert_to_pem(&c).as_bytes(),
        )?;
        Ok(c)
    }

    /// A certificate this CA issued, as PEM (from `issued/`), by serial in hex.
    pub fn issued_pem(&self, serial_hex: &str) -> Result<String> {
        let serial = normalize_serial(serial_hex)?;
        let path = self.dir.join("issued").join(format!("{serial}.pem"));
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    }

    /// The chain a signer's PKCS#12 carries: issuing CA and root.
    pub fn chain(&self) -> Vec<Certificate> {
        vec![self.issuing.clone(), self.root.clone()]
    }

    pub fn revoked(&self) -> Result<Vec<RevokedRecord>> {
        let p = self.dir.join("revoked.json");
        match fs::read(&p) {
            Ok(b) => Ok(serde_json::from_slice(&b).with_context(|| format!("reading {}", p.display()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }

    /// Marks a certificate issued by the issuing CA as revoked.
    pub fn revoke(&self, serial_hex: &str, now: SystemTime) -> Result<()> {
        let serial = normalize_serial(serial_hex)?;
        let known = self.dir.join("issued").join(format!("{serial}.pem"));
        if !known.exists() {
            bail!("no certificate with serial {serial} was issued by this CA (see {}/issued/)", self.dir.display());
        }
        let mut list = self.revoked()?;
        if list.iter().any(|r| r.serial == serial) {
            bail!("serial {serial} is already revoked");
        }
        list.push(RevokedRecord { serial, time: unix(now), reason: None });
        write_atomic(&self.dir.join("revoked.json"), serde_json::to_vec_pretty(&list)?.as_slice())
    }

    /// The status of a serial issued by the issuing CA.
    pub fn status(&self, serial: &[u8], revoked: &[RevokedRecord]) -> CertStatus {
        let hex = normalize_serial(&hex::encode(serial)).unwrap_or_default();
        if let Some(r) = revoked.iter().find(|r| r.serial == hex) {
            return CertStatus::Revoked { time: SystemTime::UNIX_EPOCH + Duration::from_secs(r.time), reason: r.reason };
        }
        if self.dir.join("issued").join(format!("{hex}.pem")).exists() {
            CertStatus::Good
        } else {
            CertStatus::Unknown
        }
    }

    /// The issuing CA's CRL (the certificates it issued that were revoked).
    pub fn issuing_crl(&self, now: SystemTime) -> Result<Vec<u8>> {
        self.issuing_crl_of(&self.revoked()?, now)
    }

    fn issuing_crl_of(&self, revoked: &[RevokedRecord], now: SystemTime) -> Result<Vec<u8>> {
        let entries: Vec<RevokedEntry> = revoked
            .iter()
            .filter_map(|r| {
                Some(RevokedEntry {
                    serial: hex::decode(&r.serial).ok()?,
                    time: SystemTime::UNIX_EPOCH + Duration::from_secs(r.time),
                    reason: r.reason,
                })
            })
            .collect();
        Ok(crl::build_crl(&self.issuing, &*self.issuing_key, now, now + REVOCATION_VALIDITY, crl_number(now), &entries)?)
    }

    /// The root's CRL (it revoked nothing: it only ever issued the issuing CA).
    pub fn root_crl(&self, now: SystemTime) -> Result<Vec<u8>> {
        Ok(crl::build_crl(&self.root, &*self.root_key, now, now + REVOCATION_VALIDITY, crl_number(now), &[])?)
    }

    pub fn ocsp_responder(&self) -> OcspResponder<'_> {
        OcspResponder {
            ca: &self.issuing,
            responder_cert: &self.ocsp,
            key: &*self.ocsp_key,
            chain: vec![self.ocsp.clone()],
        }
    }

    pub fn tsa(&self) -> tsp::Tsa<'_> {
        tsp::Tsa {
            cert: &self.tsa,
            chain: std::slice::from_ref(&self.issuing),
            key: &*self.tsa_key,
            policy: self.tsa_policy,
            accuracy_millis: 100,
        }
    }

    /// Validation data for `cert` produced directly (no HTTP): OCSP for what the issuing CA
    /// issued, the root's CRL for the issuing CA. A revoked certificate gets an error instead:
    /// it must not sign.
    pub fn revocation_for(&self, c: &Certificate, issuer: &Certificate, now: SystemTime) -> Result<signet_pades::Revocation> {
        let mut rev = signet_pades::Revocation::default();
        if issuer == &self.issuing {
            let id = ocsp::cert_id(c, issuer, signet_pki::oid::ID_SHA1)?;
            let revoked = self.revoked()?;
            let serial = c.tbs_certificate().serial_number().as_bytes().to_vec();
            let status = self.status(&serial, &revoked);
            if let CertStatus::Revoked { time, .. } = status {
                bail!("the certificate was revoked ({}s after 1970); a revoked certificate must not sign", unix(time));
            }
            rev.ocsp.push(self.ocsp_responder().respond_for(&id, status, now, REVOCATION_VALIDITY)?);
            rev.certs.push(self.ocsp.clone());
            rev.crls.push(self.issuing_crl_of(&revoked, now)?);
        } else if issuer == &self.root {
            rev.crls.push(self.root_crl(now)?);
        } else {
            bail!("{} was not issued by this CA", cert::subject_string(c));
        }
        Ok(rev)
    }
}

/// CRL numbers grow with time, so several processes never go backwards.
fn crl_number(now: SystemTime) -> u64 {
    unix(now)
}

pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Upper-case hex without leading zero bytes (as OpenSSL prints serials), as file names use.
pub fn normalize_serial(s: &str) -> Result<String> {
    let cleaned: String = s.trim().trim_start_matches("0x").chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(if cleaned.len() % 2 == 1 { format!("0{cleaned}") } else { cleaned.clone() })
        .with_context(|| format!("--serial must be hexadecimal, got {s:?}"))?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
    Ok(hex::encode_upper(&bytes[first.min(bytes.len())..]))
}

/// Writes a file via a temporary file in the same directory and a rename, so readers never see
/// half a file.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    crate::files::write_durable(path, data, 0o644, true)
}

/// Writes a secret with mode 0600 from the start.
pub fn write_secret(path: &Path, data: &[u8]) -> Result<()> {
    crate::files::write_durable(path, data, 0o600, true)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).with_context(|| format!("chmod {}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}
