//! Certificate revocation lists (RFC 5280 §5): issuing v2 CRLs for Signet's CA, and reading and
//! checking CRLs from any CA.
//!
//! What it does not do: fetch CRLs, cache them, or decide whether a CRL is fresh enough (the
//! verifier compares `this_update`/`next_update` with its own validation time). Delta CRLs and
//! indirect CRLs are not produced; when read, their extensions are reported but not acted on.

use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::crl::RevokedCert;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use crate::alg::{Signer, verify_signature};
use crate::cert::{self, Certificate, SignedOut, extension, key_identifier, name_string, to_time};
use crate::ocsp::EnumeratedU8;
use crate::{PkiError, oid};

/// One revoked certificate to put on a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Positive big-endian serial number.
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub time: SystemTime,
    /// RFC 5280 CRLReason code (0 unspecified, 1 keyCompromise, …, 10 aACompromise), written
    /// as the reasonCode entry extension when given.
    pub reason: Option<u8>,
}

/// A CRL as read by [`parse_crl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCrl {
    /// Issuer name, formatted as in [`cert::subject_string`].
    pub issuer: String,
    /// DER of the issuer `Name` (for exact matching).
    pub issuer_der: Vec<u8>,
    pub this_update: SystemTime,
    pub next_update: Option<SystemTime>,
    /// (serial, revocation time) for every entry; serials without leading zero bytes.
    pub revoked: Vec<(Vec<u8>, SystemTime)>,
    /// The same entries with their reason codes.
    pub entries: Vec<RevokedEntry>,
    /// CRLNumber, when present and at most 8 bytes.
    pub crl_number: Option<u64>,
    /// AuthorityKeyIdentifier keyIdentifier, when present.
    pub authority_key_id: Option<Vec<u8>>,
    /// True when the CRL carries a deltaCRLIndicator (a delta CRL is not a complete list).
    pub is_delta: bool,
    /// The signed bytes, algorithm and signature, for callers that check it themselves.
    pub tbs_der: Vec<u8>,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: Vec<u8>,
}

impl ParsedCrl {
    /// The revocation entry for `serial` (leading zero bytes ignored), if listed.
    pub fn find(&self, serial: &[u8]) -> Option<&RevokedEntry> {
        let serial = strip_zeros(serial);
        self.entries.iter().find(|e| e.serial == serial)
    }
}

/// `TBSCertList` with the version optional (v1 CRLs have none; x509-cert requires it).
#[derive(Sequence)]
struct TbsCertList {
    #[asn1(optional = "true")]
    version: Option<u8>,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    this_update: Time,
    next_update: Option<Time>,
    revoked_certificates: Option<Vec<RevokedCert>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    crl_extensions: Option<Extensions>,
}

const ID_CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");

/// Issues a v2 CRL signed by `key`, with AuthorityKeyIdentifier and CRLNumber extensions.
/// `issuer` must be the CA certificate matching `key`. Returns DER.
pub fn build_crl(
    issuer: &Certificate,
    key: &dyn Signer,
    this_update: SystemTime,
    next_update: SystemTime,
    crl_number: u64,
    revoked: &[RevokedEntry],
) -> Result<Vec<u8>, PkiError> {
    if key.public_key_der() != cert::spki_der(issuer).as_slice() {
        return Err(PkiError::Certificate(format!(
            "the CRL signing key does not belong to {}",
            cert::subject_string(issuer)
        )));
    }
    if next_update <= this_update {
        return Err(PkiError::Certificate(
            "the CRL's nextUpdate must follow thisUpdate".into(),
        ));
    }
    let mut entries = Vec::with_capacity(revoked.len());
    for r in revoked {
        let serial = strip_zeros(&r.serial);
        let serial = SerialNumber::new(&serial)
            .map_err(|e| PkiError::Certificate(format!("revoked serial number: {e}")))?;
        let crl_entry_extensions = match r.reason {
            Some(code) if code > 10 || code == 7 => {
                return Err(PkiError::Certificate(format!(
                    "{code} is not a CRLReason code"
                )));
            }
            Some(code) => Some(vec![extension(
                oid::ID_CE_CRL_REASONS,
                false,
                &EnumeratedU8(code),
            )?]),
            None => None,
        };
        entries.push(RevokedCert {
            serial_number: serial,
            revocation_date: to_time(r.time)?,
            crl_entry_extensions,
        });
    }
    let aki_id = match cert::subject_key_identifier(issuer) {
        Some(id) => id,
        None => key_identifier(issuer.tbs_certificate().subject_public_key_info())?,
    };
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(der::asn1::OctetString::new(aki_id)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let number = CrlNumber(der::asn1::Uint::new(&crl_number.to_be_bytes())?);
    let tbs = TbsCertList {
        version: Some(1), // v2
        signature: key.scheme().algorithm_identifier(),
        issuer: issuer.tbs_certificate().subject().clone(),
        this_update: to_time(this_update)?,
        next_update: Some(to_time(next_update)?),
        revoked_certificates: if entries.is_empty() {
            None
        } else {
            Some(entries)
        },
        crl_extensions: Some(vec![
            extension(oid::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, &aki)?,
            extension(oid::ID_CE_CRL_NUMBER, false, &number)?,
        ]),
    };
    cert::sign_tbs(&tbs.to_der()?, key)
}

/// Parses a DER CRL without checking its signature.
pub fn parse_crl(der: &[u8]) -> Result<ParsedCrl, PkiError> {
    let bad = |e: der::Error| PkiError::malformed("CRL", e);
    let outer = SignedOut::from_der(der).map_err(bad)?;
    let tbs_der = outer.tbs.to_der().map_err(bad)?;
    let tbs = TbsCertList::from_der(&tbs_der).map_err(bad)?;
    if tbs.signature != outer.signature_algorithm {
        return Err(PkiError::malformed(
            "CRL",
            "inner and outer signature algorithms differ",
        ));
    }
    let mut entries = Vec::new();
    for rc in tbs.revoked_certificates.unwrap_or_default() {
        let reason = rc
            .crl_entry_extensions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find(|e| e.extn_id == oid::ID_CE_CRL_REASONS)
            .map(|e| EnumeratedU8::from_der(e.extn_value.as_bytes()).map(|r| r.0))
            .transpose()
            .map_err(bad)?;
        entries.push(RevokedEntry {
            serial: strip_zeros(rc.serial_number.as_bytes()),
            time: rc.revocation_date.to_system_time(),
            reason,
        });
    }
    let exts = tbs.crl_extensions.unwrap_or_default();
    let find = |id: ObjectIdentifier| exts.iter().find(|e| e.extn_id == id);
    let crl_number = find(oid::ID_CE_CRL_NUMBER)
        .and_then(|e| CrlNumber::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|n| {
            let b = strip_zeros(n.0.as_bytes());
            (b.len() <= 8).then(|| b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)))
        });
    let authority_key_id = find(oid::ID_CE_AUTHORITY_KEY_IDENTIFIER)
        .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|a| a.key_identifier)
        .map(|k| k.as_bytes().to_vec());
    Ok(ParsedCrl {
        issuer: name_string(&tbs.issuer),
        issuer_der: tbs.issuer.to_der().map_err(bad)?,
        this_update: tbs.this_update.to_system_time(),
        next_update: tbs.next_update.map(|t| t.to_system_time()),
        revoked: entries.iter().map(|e| (e.serial.clone(), e.time)).collect(),
        entries,
        crl_number,
        authority_key_id,
        is_delta: find(ID_CE_DELTA_CRL_INDICATOR).is_some(),
        tbs_der,
        signature_algorithm: outer.signature_algorithm,
        signature: outer
            .signature
            .as_bytes()
            .ok_or_else(|| PkiError::malformed("CRL", "signature has unused bits"))?
            .to_vec(),
    })
}

/// Parses the CRL and checks that `issuer` issued it: same name, matching key identifier when
/// both are present, cRLSign in the issuer's KeyUsage when present, and a good signature.
pub fn verify_crl(der: &[u8], issuer: &Certificate) -> Result<ParsedCrl, PkiError> {
    let crl = parse_crl(der)?;
    let issuer_name = Name::from_der(&crl.issuer_der)?;
    if !cert::names_match(&issuer_name, issuer.tbs_certificate().subject()) {
        return Err(PkiError::Certificate(format!(
            "the CRL was issued by {}, not by {}",
            crl.issuer,
            cert::subject_string(issuer)
        )));
    }
    if let (Some(aki), Some(ski)) = (&crl.authority_key_id, cert::subject_key_identifier(issuer))
        && *aki != ski
    {
        return Err(PkiError::Certificate(format!(
            "the CRL's authority key identifier does not match {}",
            cert::subject_string(issuer)
        )));
    }
    if cert::key_usage(issuer).is_some_and(|k| !k.crl_sign) {
        return Err(PkiError::Certificate(format!(
            "{} may not sign CRLs (no cRLSign key usage)",
            cert::subject_string(issuer)
        )));
    }
    verify_signature(
        &cert::spki_der(issuer),
        &crl.signature_algorithm,
        None,
        &crl.tbs_der,
        &crl.signature,
    )
    .map_err(|e| PkiError::BadSignature(format!("CRL from {}: {e}", crl.issuer)))?;
    Ok(crl)
}

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    let start = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    b.get(start..).unwrap_or(b).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;
    use crate::cert::tests::{DAY, openssl, t0, tempdir, test_pki};
    use crate::pem::cert_to_pem;

    fn entries(pki: &crate::cert::tests::TestPki) -> Vec<RevokedEntry> {
        vec![
            RevokedEntry {
                serial: cert::serial_bytes(&pki.leaf),
                time: t0() + DAY,
                reason: Some(1),
            },
            RevokedEntry {
                serial: vec![0x00, 0x81, 0x02],
                time: t0() + DAY * 2,
                reason: None,
            },
        ]
    }

    #[test]
    fn build_parse_verify_and_openssl_agrees() {
        for alg in [KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
            let pki = test_pki(alg);
            let der = build_crl(
                &pki.ca,
                &pki.ca_key,
                t0() + DAY * 3,
                t0() + DAY * 10,
                7,
                &entries(&pki),
            )
            .unwrap();
            let crl = verify_crl(&der, &pki.ca).unwrap();
            assert_eq!(crl.issuer, cert::subject_string(&pki.ca));
            assert_eq!(crl.this_update, t0() + DAY * 3);
            assert_eq!(crl.next_update, Some(t0() + DAY * 10));
            assert_eq!(crl.crl_number, Some(7));
            assert_eq!(crl.authority_key_id, cert::subject_key_identifier(&pki.ca));
            assert!(!crl.is_delta);
            assert_eq!(
                crl.revoked,
                vec![
                    (cert::serial_bytes(&pki.leaf), t0() + DAY),
                    (vec![0x81, 0x02], t0() + DAY * 2)
                ]
            );
            assert_eq!(
                crl.find(&cert::serial_bytes(&pki.leaf)).unwrap().reason,
                Some(1)
            );
            assert_eq!(crl.find(&[0, 0x81, 0x02]).unwrap().reason, None);
            assert!(crl.find(&cert::serial_bytes(&pki.tsa)).is_none());
            // Wrong issuer: name mismatch, then signature mismatch with the right name.
            assert!(verify_crl(&der, &pki.root).is_err());
            let other = test_pki(alg);
            assert!(verify_crl(&der, &other.ca).is_err());

            let dir = tempdir("crl");
            std::fs::write(dir.join("x.crl"), &der).unwrap();
            std::fs::write(dir.join("root.pem"), cert_to_pem(&pki.root)).unwrap();
            std::fs::write(dir.join("issuing.pem"), cert_to_pem(&pki.ca)).unwrap();
            let (ok, text) = openssl(
                &dir,
                &[
                    "crl",
                    "-in",
                    "x.crl",
                    "-inform",
                    "DER",
                    "-CAfile",
                    "issuing.pem",
                    "-noout",
                ],
            );
            assert!(ok && text.contains("verify OK"), "{text}");
            let (ok, text) = openssl(
                &dir,
                &["crl", "-in", "x.crl", "-inform", "DER", "-noout", "-text"],
            );
            assert!(ok, "{text}");
            assert!(text.contains("Version 2"), "{text}");
            assert!(text.contains("X509v3 CRL Number:"), "{text}");
            assert!(text.contains("Key Compromise"), "{text}");
            assert!(text.contains(&cert::serial_hex(&pki.leaf)), "{text}");

            // A root CRL (empty) checks out against root.pem too.
            let root_crl =
                build_crl(&pki.root, &pki.root_key, t0(), t0() + DAY * 30, 1, &[]).unwrap();
            std::fs::write(dir.join("root.crl"), &root_crl).unwrap();
            let (ok, text) = openssl(
                &dir,
                &[
                    "crl", "-in", "root.crl", "-inform", "DER", "-CAfile", "root.pem", "-noout",
                ],
            );
            assert!(ok && text.contains("verify OK"), "{text}");
            assert!(verify_crl(&root_crl, &pki.root).unwrap().revoked.is_empty());
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn tampering_and_garbage_are_errors() {
        let pki = test_pki(KeyAlgorithm::P256);
        let der = build_crl(&pki.ca, &pki.ca_key, t0(), t0() + DAY, 1, &entries(&pki)).unwrap();
        // Change the revocation time of the first entry (a byte of the TBS).
        let mut bad = der.clone();
        let when = "260102000000Z".as_bytes();
        let pos = bad.windows(when.len()).position(|w| w == when).unwrap();
        bad[pos + 5] ^= 0x01;
        assert!(parse_crl(&bad).is_ok());
        assert!(matches!(
            verify_crl(&bad, &pki.ca),
            Err(PkiError::BadSignature(_))
        ));
        for n in [0, 1, 10, der.len() / 2, der.len() - 1] {
            assert!(parse_crl(&der[..n]).is_err());
        }
        assert!(parse_crl(b"\x30\x03\x02\x01\x00").is_err());
        let mut junk = der.clone();
        junk.push(0);
        assert!(parse_crl(&junk).is_err());
        // Wrong key, bad times, bad reason.
        assert!(build_crl(&pki.ca, &pki.root_key, t0(), t0() + DAY, 1, &[]).is_err());
        assert!(build_crl(&pki.ca, &pki.ca_key, t0(), t0(), 1, &[]).is_err());
        let r = RevokedEntry {
            serial: vec![1],
            time: t0(),
            reason: Some(7),
        };
        assert!(build_crl(&pki.ca, &pki.ca_key, t0(), t0() + DAY, 1, &[r]).is_err());
        // A CA certificate without cRLSign may not sign a CRL: the leaf is no CA.
        let leaf_crl = build_crl(&pki.leaf, &pki.leaf_key, t0(), t0() + DAY, 1, &[]).unwrap();
        assert!(verify_crl(&leaf_crl, &pki.leaf).is_err());
    }
}
