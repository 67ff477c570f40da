//! Certificate path building and validation at a given time.
//!
//! [`build_chain`] finds a path from a leaf to one of the caller's trust anchors through a pool
//! of untrusted intermediates, checking signatures, validity periods, CA flags, key usage and
//! path length constraints (a subset of RFC 5280 §6 fit for document signing).
//!
//! What it does not do: revocation (the verifier combines this with [`crate::crl`] and
//! [`crate::ocsp`]), certificate policies, name constraints (a certificate carrying a critical
//! name-constraints extension is refused rather than half-checked), or purpose checks on the
//! leaf (EKU/KU of the leaf are the caller's business).

use std::time::SystemTime;

use der::asn1::ObjectIdentifier;

use crate::cert::{
    self, Certificate, authority_key_identifier, basic_constraints, cert_der, is_self_issued,
    key_usage, names_match, subject_key_identifier, subject_string,
};
use crate::oid;

/// Longest path accepted, leaf and anchor included.
pub const MAX_PATH_LEN: usize = 10;

/// Upper bound on signature checks in one [`build_chain`] call (guards against pools crafted
/// to make the search explode).
const MAX_SIGNATURE_CHECKS: usize = 256;

/// A validated path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedChain {
    /// Leaf first, trust anchor last (a leaf that is itself an anchor gives one certificate).
    pub certs: Vec<Certificate>,
}

impl ValidatedChain {
    pub fn leaf(&self) -> Option<&Certificate> {
        self.certs.first()
    }
    pub fn anchor(&self) -> Option<&Certificate> {
        self.certs.last()
    }
}

/// Why no valid path was found. Subjects are formatted as in [`cert::subject_string`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    #[error(
        "no chain to a trusted root: cannot find the issuer of {0} among the trusted roots and \
         the certificates supplied"
    )]
    NoChainFound(String),
    #[error("certificate {subject} expired at {not_after}")]
    Expired { subject: String, not_after: String },
    #[error("certificate {subject} is not valid before {not_before}")]
    NotYetValid { subject: String, not_before: String },
    #[error("the signature on certificate {subject} does not verify with its issuer's key")]
    BadSignature { subject: String },
    #[error("certificate {subject} is not a CA certificate but appears as an issuer")]
    NotACa { subject: String },
    #[error(
        "the chain is longer than allowed (path length constraint or {MAX_PATH_LEN} certificates)"
    )]
    PathTooLong,
    #[error("certificate {subject} has a critical extension {oid} that Signet does not process")]
    UnsupportedCriticalExtension { subject: String, oid: String },
    #[error("certificate {subject} cannot be read: {detail}")]
    Malformed { subject: String, detail: String },
}

/// Builds and validates a path from `leaf` to one of `anchors` at time `at`.
///
/// Issuers are found by name (and by AuthorityKeyIdentifier/SubjectKeyIdentifier when both are
/// present), anchors first, then `pool`. Every non-anchor certificate must be within its
/// validity period at `at` and carry a signature that its issuer's key verifies. Every issuer
/// must be a CA (BasicConstraints cA, and keyCertSign if KeyUsage is present) and respect
/// pathLenConstraint. Anchors are trusted as given: their own signature is not checked, but
/// their validity period and CA flags are. When several paths fail, the error of the one that
/// got furthest is returned.
pub fn build_chain(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
    at: SystemTime,
) -> Result<ValidatedChain, ChainError> {
    check_critical_extensions(leaf)?;
    let leaf_der = cert_der(leaf);
    if anchors.iter().any(|a| cert_der(a) == leaf_der) {
        check_validity(leaf, at)?;
        return Ok(ValidatedChain {
            certs: vec![leaf.clone()],
        });
    }
    check_validity(leaf, at)?;
    let mut search = Search {
        pool,
        anchors,
        at,
        checks: 0,
        best: None,
    };
    let mut path = vec![leaf.clone()];
    match search.extend(&mut path) {
        Some(chain) => Ok(ValidatedChain { certs: chain }),
        None => Err(search
            .best
            .map(|(_, e)| e)
            .unwrap_or_else(|| ChainError::NoChainFound(subject_string(leaf)))),
    }
}

struct Search<'a> {
    pool: &'a [Certificate],
    anchors: &'a [Certificate],
    at: SystemTime,
    checks: usize,
    /// The error met deepest in the search, with its depth.
    best: Option<(usize, ChainError)>,
}

impl Search<'_> {
    fn fail(&mut self, depth: usize, e: ChainError) {
        if self.best.as_ref().is_none_or(|(d, _)| depth > *d) {
            self.best = Some((depth, e));
        }
    }

    /// Extends `path` (whose last element still needs an issuer) to an anchor.
    fn extend(&mut self, path: &mut Vec<Certificate>) -> Option<Vec<Certificate>> {
        let depth = path.len();
        let child = path.last()?.clone();
        if depth >= MAX_PATH_LEN {
            self.fail(depth, ChainError::PathTooLong);
            return None;
        }
        let mut found_candidate = false;
        let candidates = self
            .anchors
            .iter()
            .map(|c| (c, true))
            .chain(self.pool.iter().map(|c| (c, false)))
            .filter(|(c, _)| issuer_candidate(&child, c))
            .collect::<Vec<_>>();
        for (candidate, is_anchor) in candidates {
            let cand_der = cert_der(candidate);
            if path.iter().any(|p| cert_der(p) == cand_der) {
                continue; // loops
            }
            found_candidate = true;
            if self.checks >= MAX_SIGNATURE_CHECKS {
                self.fail(usize::MAX, ChainError::PathTooLong);
                return None;
            }
            self.checks += 1;
            if cert::verify_cert_signature(&child, &cert::spki_der(candidate)).is_err() {
                self.fail(
                    depth,
                    ChainError::BadSignature {
                        subject: subject_string(&child),
                    },
                );
                continue;
            }
            if let Err(e) = self.check_issuer(candidate, path) {
                self.fail(depth + 1, e);
                continue;
            }
            path.push(candidate.clone());
            if is_anchor {
                return Some(path.clone());
            }
            if let Some(chain) = self.extend(path) {
                return Some(chain);
            }
            path.pop();
        }
        if !found_candidate {
            self.fail(depth, ChainError::NoChainFound(subject_string(&child)));
        }
        None
    }

    /// Checks that `issuer` may sit above `path` (leaf first).
    fn check_issuer(&self, issuer: &Certificate, path: &[Certificate]) -> Result<(), ChainError> {
        check_critical_extensions(issuer)?;
        check_validity(issuer, self.at)?;
        let subject = subject_string(issuer);
        let bc = basic_constraints(issuer);
        let ku_ok = key_usage(issuer).is_none_or(|k| k.key_cert_sign);
        // A v1 certificate without extensions is accepted as an anchor only (RFC 5280 §6.1.4 (k)
        // applies to intermediates; v1 roots are still around).
        let anchor_v1 = issuer.tbs_certificate().extensions().is_none()
            && self.anchors.iter().any(|a| a == issuer);
        let ca = bc.as_ref().is_some_and(|b| b.ca) || anchor_v1;
        if !ca || !ku_ok {
            return Err(ChainError::NotACa { subject });
        }
        if let Some(limit) = bc.and_then(|b| b.path_len_constraint) {
            // Non-self-issued intermediates below this issuer (the leaf does not count).
            let below = path.iter().skip(1).filter(|c| !is_self_issued(c)).count();
            if below > usize::from(limit) {
                return Err(ChainError::PathTooLong);
            }
        }
        Ok(())
    }
}

/// Name chaining, plus key identifiers when both sides carry them.
fn issuer_candidate(child: &Certificate, candidate: &Certificate) -> bool {
    if !names_match(
        child.tbs_certificate().issuer(),
        candidate.tbs_certificate().subject(),
    ) {
        return false;
    }
    match (
        authority_key_identifier(child),
        subject_key_identifier(candidate),
    ) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

fn check_validity(c: &Certificate, at: SystemTime) -> Result<(), ChainError> {
    let v = c.tbs_certificate().validity();
    let (not_before, not_after) = cert::validity(c);
    if at < not_before {
        return Err(ChainError::NotYetValid {
            subject: subject_string(c),
            not_before: v.not_before.to_string(),
        });
    }
    if at > not_after {
        return Err(ChainError::Expired {
            subject: subject_string(c),
            not_after: v.not_after.to_string(),
        });
    }
    Ok(())
}

/// Extensions whose meaning we either enforce or may safely ignore when critical.
const UNDERSTOOD: &[ObjectIdentifier] = &[
    oid::ID_CE_BASIC_CONSTRAINTS,
    oid::ID_CE_KEY_USAGE,
    oid::ID_CE_EXT_KEY_USAGE,
    oid::ID_CE_SUBJECT_ALT_NAME,
    oid::ID_CE_ISSUER_ALT_NAME,
    oid::ID_CE_SUBJECT_KEY_IDENTIFIER,
    oid::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    oid::ID_CE_CRL_DISTRIBUTION_POINTS,
    oid::ID_CE_CERTIFICATE_POLICIES,
    oid::ID_PE_AUTHORITY_INFO_ACCESS,
    oid::ID_PKIX_OCSP_NOCHECK,
];

fn check_critical_extensions(c: &Certificate) -> Result<(), ChainError> {
    for e in c
        .tbs_certificate()
        .extensions()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        if e.critical && !UNDERSTOOD.contains(&e.extn_id) {
            return Err(ChainError::UnsupportedCriticalExtension {
                subject: subject_string(c),
                oid: e.extn_id.to_string(),
            });
        }
    }
    // A BasicConstraints or KeyUsage we cannot decode must not be read as "absent".
    for (id, ok) in [
        (oid::ID_CE_BASIC_CONSTRAINTS, basic_constraints(c).is_some()),
        (oid::ID_CE_KEY_USAGE, key_usage(c).is_some()),
    ] {
        if cert::extension_value(c, &id).is_some() && !ok {
            return Err(ChainError::Malformed {
                subject: subject_string(c),
                detail: format!("extension {id} does not decode"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::tests::{DAY, openssl, request, t0, tempdir, test_pki};
    use crate::cert::{CertProfile, Issuer, issue_certificate};
    use crate::pem::cert_to_pem;
    use crate::{KeyAlgorithm, PrivateKey};
    use der::Decode;

    #[test]
    fn happy_path_both_key_types_and_openssl_agrees() {
        for alg in [KeyAlgorithm::P256, KeyAlgorithm::Rsa2048] {
            let pki = test_pki(alg);
            let at = t0() + DAY * 10;
            let chain = build_chain(
                &pki.leaf,
                std::slice::from_ref(&pki.ca),
                std::slice::from_ref(&pki.root),
                at,
            )
            .unwrap();
            assert_eq!(
                chain.certs,
                vec![pki.leaf.clone(), pki.ca.clone(), pki.root.clone()]
            );
            // The pool may hold noise and the root itself.
            let pool = [
                pki.tsa.clone(),
                pki.root.clone(),
                pki.ocsp.clone(),
                pki.ca.clone(),
            ];
            let chain = build_chain(&pki.leaf, &pool, std::slice::from_ref(&pki.root), at).unwrap();
            assert_eq!(chain.certs.len(), 3);
            // The anchor may be the issuing CA itself.
            let chain = build_chain(&pki.leaf, &[], std::slice::from_ref(&pki.ca), at).unwrap();
            assert_eq!(chain.certs, vec![pki.leaf.clone(), pki.ca.clone()]);
            // A root that is an anchor validates alone.
            let chain = build_chain(&pki.root, &[], std::slice::from_ref(&pki.root), at).unwrap();
            assert_eq!(chain.certs.len(), 1);

            let dir = tempdir("chain");
            std::fs::write(dir.join("root.pem"), cert_to_pem(&pki.root)).unwrap();
            std::fs::write(dir.join("issuing.pem"), cert_to_pem(&pki.ca)).unwrap();
            std::fs::write(dir.join("leaf.pem"), cert_to_pem(&pki.leaf)).unwrap();
            let at_epoch = at
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                .to_string();
            let (ok, text) = openssl(
                &dir,
                &[
                    "verify",
                    "-attime",
                    &at_epoch,
                    "-CAfile",
                    "root.pem",
                    "-untrusted",
                    "issuing.pem",
                    "leaf.pem",
                ],
            );
            assert!(ok && text.contains("leaf.pem: OK"), "{text}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    #[test]
    fn expired_and_not_yet_valid() {
        let pki = test_pki(KeyAlgorithm::P256);
        let pool = [pki.ca.clone()];
        let anchors = [pki.root.clone()];
        let err = build_chain(&pki.leaf, &pool, &anchors, t0() + DAY * 400).unwrap_err();
        assert!(
            matches!(&err, ChainError::Expired { subject, .. } if subject.starts_with("CN=张三")),
            "{err}"
        );
        assert!(err.to_string().contains("expired"), "{err}");
        let err = build_chain(&pki.leaf, &pool, &anchors, t0() - DAY).unwrap_err();
        assert!(matches!(err, ChainError::NotYetValid { .. }), "{err}");
        // The issuing CA expired while the leaf is still valid.
        let ca_key = &pki.ca_key;
        let mut req = request("Short CA", CertProfile::IssuingCa, ca_key, 5);
        req.subject = crate::cert::DistinguishedName::from_name(pki.ca.tbs_certificate().subject());
        let short_ca = issue_certificate(
            &req,
            Issuer::Ca {
                cert: &pki.root,
                key: &pki.root_key,
            },
        )
        .unwrap();
        let err = build_chain(&pki.leaf, &[short_ca], &anchors, t0() + DAY * 10).unwrap_err();
        assert!(
            matches!(&err, ChainError::Expired { subject, .. } if subject.contains("Issuing CA")),
            "{err}"
        );
    }

    #[test]
    fn wrong_anchor_missing_intermediate_and_tampering() {
        let pki = test_pki(KeyAlgorithm::P256);
        let other = test_pki(KeyAlgorithm::P256);
        let at = t0() + DAY;
        // Another PKI with the same names: the key identifiers differ, so no candidate.
        let err = build_chain(
            &pki.leaf,
            std::slice::from_ref(&pki.ca),
            std::slice::from_ref(&other.root),
            at,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ChainError::NoChainFound(s) if s.contains("Issuing CA")),
            "{err}"
        );
        let err = build_chain(&pki.leaf, &[], std::slice::from_ref(&pki.root), at).unwrap_err();
        assert!(
            matches!(&err, ChainError::NoChainFound(s) if s.starts_with("CN=张三")),
            "{err}"
        );
        let err = build_chain(&pki.leaf, std::slice::from_ref(&pki.ca), &[], at).unwrap_err();
        assert!(matches!(err, ChainError::NoChainFound(_)), "{err}");

        // Flip one byte inside the TBS (in the subject's CN) of the leaf.
        let mut der = cert_der(&pki.leaf);
        let pos = der.windows(3).position(|w| w == "张".as_bytes()).unwrap();
        der[pos + 2] ^= 0x01;
        let tampered = Certificate::from_der(&der).unwrap();
        let err = build_chain(
            &tampered,
            std::slice::from_ref(&pki.ca),
            std::slice::from_ref(&pki.root),
            at,
        )
        .unwrap_err();
        assert!(matches!(err, ChainError::BadSignature { .. }), "{err}");
        // A tampered intermediate.
        let mut der = cert_der(&pki.ca);
        let pos = der.windows(9).position(|w| w == b"Issuing C").unwrap();
        der[pos] ^= 0x20; // "issuing" — still matches by folding, fails the signature
        let tampered_ca = Certificate::from_der(&der).unwrap();
        let err = build_chain(
            &pki.leaf,
            &[tampered_ca],
            std::slice::from_ref(&pki.root),
            at,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ChainError::BadSignature { subject } if subject.contains("ssuing")),
            "{err}"
        );
    }

    #[test]
    fn end_entities_cannot_issue_and_path_length_holds() {
        let pki = test_pki(KeyAlgorithm::P256);
        let at = t0() + DAY;
        // issue_certificate refuses to issue under an end-entity certificate.
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let req = request("Bogus", CertProfile::Signer, &key, 30);
        assert!(
            issue_certificate(
                &req,
                Issuer::Ca {
                    cert: &pki.leaf,
                    key: &pki.leaf_key
                }
            )
            .is_err()
        );

        // Path length: the issuing CA has pathLen 0, so a sub-CA below it is refused.
        let sub_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let sub = issue_certificate(
            &request("Sub CA", CertProfile::IssuingCa, &sub_key, 300),
            Issuer::Ca {
                cert: &pki.ca,
                key: &pki.ca_key,
            },
        )
        .unwrap();
        let ee = issue_certificate(
            &request("Below Sub", CertProfile::Signer, &key, 30),
            Issuer::Ca {
                cert: &sub,
                key: &sub_key,
            },
        )
        .unwrap();
        let err = build_chain(
            &ee,
            &[sub.clone(), pki.ca.clone()],
            std::slice::from_ref(&pki.root),
            at,
        )
        .unwrap_err();
        assert_eq!(err, ChainError::PathTooLong, "{err}");
        // Anchors' pathLen is enforced too (as OpenSSL does; RFC 5280 leaves it to the anchor
        // information): the issuing CA as anchor still refuses the sub-CA.
        let err = build_chain(
            &ee,
            std::slice::from_ref(&sub),
            std::slice::from_ref(&pki.ca),
            at,
        )
        .unwrap_err();
        assert_eq!(err, ChainError::PathTooLong);
        assert!(build_chain(&ee, &[], std::slice::from_ref(&sub), at).is_ok());
    }

    #[test]
    fn an_end_entity_in_the_issuer_position_is_not_a_ca() {
        // An anchor with the Signer profile, and a CA certificate with the same name and key
        // that issued a child: the child must not validate up to the end-entity anchor.
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let ee_root = issue_certificate(
            &request("Not A CA", CertProfile::Signer, &key, 300),
            Issuer::SelfSigned(&key),
        )
        .unwrap();
        let ca_like = issue_certificate(
            &request("Not A CA", CertProfile::RootCa, &key, 300),
            Issuer::SelfSigned(&key),
        )
        .unwrap();
        let child_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let child = issue_certificate(
            &request("Child", CertProfile::Signer, &child_key, 30),
            Issuer::Ca {
                cert: &ca_like,
                key: &key,
            },
        )
        .unwrap();
        let err = build_chain(&child, &[], &[ee_root], t0() + DAY).unwrap_err();
        assert!(matches!(err, ChainError::NotACa { .. }), "{err}");
        assert!(build_chain(&child, &[], &[ca_like], t0() + DAY).is_ok());
    }

    #[test]
    fn loops_in_the_pool_terminate() {
        // Two CAs that cross-certify each other, neither trusted.
        let ka = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let kb = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let a_self = issue_certificate(
            &request("A", CertProfile::RootCa, &ka, 300),
            Issuer::SelfSigned(&ka),
        )
        .unwrap();
        let b_self = issue_certificate(
            &request("B", CertProfile::RootCa, &kb, 300),
            Issuer::SelfSigned(&kb),
        )
        .unwrap();
        let a_by_b = issue_certificate(
            &request("A", CertProfile::RootCa, &ka, 300),
            Issuer::Ca {
                cert: &b_self,
                key: &kb,
            },
        )
        .unwrap();
        let b_by_a = issue_certificate(
            &request("B", CertProfile::RootCa, &kb, 300),
            Issuer::Ca {
                cert: &a_self,
                key: &ka,
            },
        )
        .unwrap();
        let leaf_key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let leaf = issue_certificate(
            &request("L", CertProfile::Signer, &leaf_key, 30),
            Issuer::Ca {
                cert: &a_self,
                key: &ka,
            },
        )
        .unwrap();
        let unrelated = test_pki(KeyAlgorithm::P256);
        let err = build_chain(
            &leaf,
            &[a_by_b, b_by_a, a_self, b_self],
            &[unrelated.root],
            t0() + DAY,
        )
        .unwrap_err();
        assert!(matches!(err, ChainError::NoChainFound(_)), "{err}");
    }
}
