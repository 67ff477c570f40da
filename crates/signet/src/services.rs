//! The outside world of signing: time-stamp authorities and revocation data, over HTTP or from
//! a Signet CA in this process. These are the adapters behind `signet-pades`'
//! [`TimestampSource`] and [`ValidationDataSource`] traits.

use std::time::{Duration, SystemTime};

use signet_pades::{PadesError, Revocation, TimestampSource, ValidationDataSource};
use signet_pki::cert::{self, Certificate};
use signet_pki::{Rng as _, SystemRng, ocsp, tsp};

use crate::ca::CaDir;

const HTTP_TIMEOUT: Duration = Duration::from_secs(20);
/// Responses larger than this are refused (a TSA reply or an OCSP response is a few KB; a CRL
/// of a large CA can be a few MB).
const MAX_BODY: u64 = 32 * 1024 * 1024;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into()
}

fn read_body(mut resp: ureq::http::Response<ureq::Body>, url: &str) -> Result<Vec<u8>, String> {
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("{url} answered HTTP {status}"));
    }
    resp.body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| format!("reading the answer of {url}: {e}"))
}

/// POSTs `body` to `url`; returns the response body.
pub fn http_post(url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let resp = agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    read_body(resp, url)
}

pub fn http_get(url: &str) -> Result<Vec<u8>, String> {
    let resp = agent().get(url).call().map_err(|e| format!("cannot reach {url}: {e}"))?;
    read_body(resp, url)
}

/// An RFC 3161 TSA reached over HTTP.
pub struct HttpTsa {
    pub url: String,
}

impl TimestampSource for HttpTsa {
    fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
        let mut nonce = [0u8; 8];
        SystemRng.fill(&mut nonce).map_err(PadesError::Pki)?;
        nonce[0] &= 0x7f;
        nonce[0] |= 0x01;
        let req = tsp::build_request(imprint, Some(&nonce), true)?;
        let resp = http_post(&self.url, "application/timestamp-query", &req)
            .map_err(|e| PadesError::Timestamp(format!("{e} (check --tsa)")))?;
        tsp::parse_response(&resp, imprint, Some(&nonce))
            .map_err(|e| PadesError::Timestamp(format!("{} answered with something that is not a valid time-stamp: {e}", self.url)))
    }
}

/// The TSA of a Signet CA directory, in this process.
pub struct LocalTsa<'a> {
    pub ca: &'a CaDir,
}

impl TimestampSource for LocalTsa<'_> {
    fn timestamp(&self, imprint: &[u8; 32]) -> Result<Vec<u8>, PadesError> {
        let req = tsp::TimeStampRequest::sha256(imprint);
        let serial = crate::tsa_serial().map_err(|e| PadesError::Timestamp(e.to_string()))?;
        Ok(self.ca.tsa().issue_token(&req, SystemTime::now(), &serial)?)
    }
}

/// Validation data produced directly by a Signet CA in this process.
pub struct LocalValidation<'a> {
    pub ca: &'a CaDir,
}

impl ValidationDataSource for LocalValidation<'_> {
    fn revocation(&self, c: &Certificate, issuer: &Certificate) -> Result<Revocation, PadesError> {
        if issuer != &self.ca.issuing && issuer != &self.ca.root {
            // Not ours (e.g. a signer from another CA while time-stamping in-process): fetch.
            return FetchValidation.revocation(c, issuer);
        }
        self.ca.revocation_for(c, issuer, SystemTime::now()).map_err(|e| PadesError::ValidationData {
            subject: cert::subject_string(c),
            detail: format!("{e:#}"),
        })
    }
}

/// Validation data fetched from the OCSP and CRL URLs in the certificates.
pub struct FetchValidation;

impl ValidationDataSource for FetchValidation {
    fn revocation(&self, c: &Certificate, issuer: &Certificate) -> Result<Revocation, PadesError> {
        let subject = cert::subject_string(c);
        let mut rev = Revocation::default();
        let mut problems: Vec<String> = Vec::new();
        for url in cert::ocsp_urls(c) {
            match fetch_ocsp(&url, c, issuer) {
                Ok((der, certs)) => {
                    rev.ocsp.push(der);
                    rev.certs.extend(certs);
                    break;
                }
                Err(e) => problems.push(e),
            }
        }
        for url in cert::crl_urls(c) {
            match http_get(&url).and_then(|der| {
                signet_pki::crl::verify_crl(&der, issuer).map_err(|e| format!("CRL from {url}: {e}"))?;
                Ok(der)
            }) {
                Ok(der) => {
                    rev.crls.push(der);
                    break;
                }
                Err(e) => problems.push(e),
            }
        }
        if rev.ocsp.is_empty() && rev.crls.is_empty() {
            let detail = if problems.is_empty() {
                "the certificate names no OCSP responder and no CRL distribution point".to_string()
            } else {
                problems.join("; ")
            };
            return Err(PadesError::ValidationData { subject, detail });
        }
        Ok(rev)
    }
}

/// Asks the OCSP responder at `url` about `c`: the request's certificate ID and the raw answer.
fn ask_ocsp(url: &str, c: &Certificate, issuer: &Certificate) -> Result<(ocsp::CertId, Vec<u8>), String> {
    let id = ocsp::cert_id(c, issuer, signet_pki::oid::ID_SHA1).map_err(|e| e.to_string())?;
    let req = ocsp::build_request(std::slice::from_ref(&id), None).map_err(|e| e.to_string())?;
    Ok((id, http_post(url, "application/ocsp-request", &req)?))
}

fn fetch_ocsp(url: &str, c: &Certificate, issuer: &Certificate) -> Result<(Vec<u8>, Vec<Certificate>), String> {
    let (id, der) = ask_ocsp(url, c, issuer)?;
    let parsed = ocsp::parse_response(&der).map_err(|e| format!("OCSP answer from {url}: {e}"))?;
    if parsed.status != 0 {
        return Err(format!("OCSP responder {url} answered with status {}", parsed.status));
    }
    ocsp::verify_response(&parsed, issuer, &[]).map_err(|e| format!("OCSP answer from {url}: {e}"))?;
    match parsed.single.iter().find(|s| s.id.serial == id.serial) {
        Some(s) => match &s.status {
            ocsp::CertStatus::Good => Ok((der, parsed.certs.clone())),
            ocsp::CertStatus::Revoked { .. } => Err(format!("{} is REVOKED (OCSP {url})", cert::subject_string(c))),
            ocsp::CertStatus::Unknown => Err(format!("OCSP responder {url} does not know {}", cert::subject_string(c))),
        },
        None => Err(format!("OCSP answer from {url} is about another certificate")),
    }
}

/// `signet verify --online`: fetches the OCSP responses and CRLs a signer's certificate names
/// (HTTP, each request bounded by the agent's timeout); the verifier checks what comes back.
pub struct OnlineRevocation;

impl signet_verify::RevocationFetcher for OnlineRevocation {
    fn fetch(&self, c: &Certificate, issuer: &Certificate) -> Result<signet_verify::Fetched, String> {
        let mut out = signet_verify::Fetched::default();
        let mut problems = Vec::new();
        for url in cert::ocsp_urls(c).into_iter().take(3) {
            match ask_ocsp(&url, c, issuer) {
                Ok((_, der)) => {
                    if let Ok(parsed) = ocsp::parse_response(&der) {
                        out.certs.extend(parsed.certs.iter().cloned());
                    }
                    out.ocsps.push(der);
                    break;
                }
                Err(e) => problems.push(format!("OCSP {url}: {e}")),
            }
        }
        for url in cert::crl_urls(c).into_iter().take(3) {
            match http_get(&url) {
                Ok(der) => {
                    out.crls.push(der);
                    break;
                }
                Err(e) => problems.push(format!("CRL {url}: {e}")),
            }
        }
        if out.ocsps.is_empty() && out.crls.is_empty() {
            return Err(if problems.is_empty() { "no OCSP or CRL service answered".into() } else { problems.join("; ") });
        }
        Ok(out)
    }
}
