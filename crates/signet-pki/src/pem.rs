//! PEM text (RFC 7468) for certificates and PKCS#8 private keys.
//!
//! Reading is lenient about what surrounds the blocks (OpenSSL's `-text` output, several
//! certificates in one file, Windows line endings) and strict about the blocks themselves.
//! Encrypted keys are not read here: PKCS#12 files go through [`crate::pkcs12`].

use der::pem::LineEnding;
use der::{Decode, Encode, Reader, SliceReader};

use crate::PkiError;
use crate::cert::{Certificate, cert_der};

/// `-----BEGIN CERTIFICATE-----` text, LF line endings.
pub fn cert_to_pem(c: &Certificate) -> String {
    encode("CERTIFICATE", &cert_der(c))
}

/// Several certificates as one PEM bundle (leaf first, as given).
pub fn certs_to_pem(certs: &[Certificate]) -> String {
    certs.iter().map(cert_to_pem).collect()
}

/// Reads certificates from PEM text (every `CERTIFICATE` block; other blocks are skipped) or
/// from DER (one certificate, or several concatenated).
pub fn certs_from_pem_or_der(bytes: &[u8]) -> Result<Vec<Certificate>, PkiError> {
    if contains(bytes, b"-----BEGIN ") {
        let certs = pem_blocks(bytes)?
            .into_iter()
            .filter(|(label, _)| label == "CERTIFICATE" || label == "X509 CERTIFICATE")
            .map(|(_, der)| {
                Certificate::from_der(&der).map_err(|e| PkiError::malformed("certificate", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() {
            return Err(PkiError::malformed(
                "PEM file",
                "no CERTIFICATE block found",
            ));
        }
        return Ok(certs);
    }
    let mut reader = SliceReader::new(bytes).map_err(|e| PkiError::malformed("certificate", e))?;
    let mut certs = Vec::new();
    while !reader.is_finished() {
        certs.push(
            Certificate::decode(&mut reader).map_err(|e| PkiError::malformed("certificate", e))?,
        );
    }
    if certs.is_empty() {
        return Err(PkiError::malformed("certificate", "empty input"));
    }
    Ok(certs)
}

/// `-----BEGIN PRIVATE KEY-----` text for an unencrypted PKCS#8 `PrivateKeyInfo`.
pub fn private_key_to_pem(pkcs8_der: &[u8]) -> String {
    encode("PRIVATE KEY", pkcs8_der)
}

/// Reads the first private key block: `PRIVATE KEY` (PKCS#8) as is, `RSA PRIVATE KEY`
/// (PKCS#1) wrapped into PKCS#8. Returns PKCS#8 DER.
pub fn private_key_from_pem(text: &str) -> Result<Vec<u8>, PkiError> {
    for (label, der) in pem_blocks(text.as_bytes())? {
        match label.as_str() {
            "PRIVATE KEY" => return Ok(der),
            "RSA PRIVATE KEY" => return rsa_pkcs1_to_pkcs8(&der),
            "ENCRYPTED PRIVATE KEY" => {
                return Err(PkiError::Key(
                    "the private key is encrypted: decrypt it first \
                     (openssl pkcs8 -in key.pem -out plain.pem) or use a PKCS#12 file"
                        .into(),
                ));
            }
            "EC PRIVATE KEY" => {
                return Err(PkiError::Key(
                    "SEC1 \"EC PRIVATE KEY\" is not read: convert it with \
                     openssl pkcs8 -topk8 -nocrypt -in key.pem -out pkcs8.pem"
                        .into(),
                ));
            }
            _ => continue,
        }
    }
    Err(PkiError::Key(
        "no PRIVATE KEY block found in the PEM text".into(),
    ))
}

fn encode(label: &str, der: &[u8]) -> String {
    // Encoding only fails for labels with invalid characters; ours are constants.
    der::pem::encode_string(label, LineEnding::LF, der).unwrap_or_default()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Every PEM block in `bytes` as (label, DER), in order.
pub fn pem_blocks(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, PkiError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(begin) = find(bytes, b"-----BEGIN ", pos) {
        let label_start = begin + b"-----BEGIN ".len();
        let label_end = find(bytes, b"-----", label_start)
            .ok_or_else(|| PkiError::malformed("PEM", "unterminated BEGIN line"))?;
        let label = bytes.get(label_start..label_end).unwrap_or_default();
        let mut end_marker = b"-----END ".to_vec();
        end_marker.extend_from_slice(label);
        end_marker.extend_from_slice(b"-----");
        let end = find(bytes, &end_marker, label_end)
            .ok_or_else(|| PkiError::malformed("PEM", "missing END line"))?;
        let block_end = end + end_marker.len();
        let block = bytes.get(begin..block_end).unwrap_or_default();
        // The RFC 7468 decoder wants LF or CRLF line endings and nothing after the END line.
        let (label, der) =
            der::pem::decode_vec(block).map_err(|e| PkiError::malformed("PEM", e))?;
        out.push((label.to_string(), der));
        pos = block_end;
    }
    Ok(out)
}

/// PKCS#1 `RSAPrivateKey` → PKCS#8 `PrivateKeyInfo { 0, rsaEncryption NULL, OCTET STRING }`.
fn rsa_pkcs1_to_pkcs8(pkcs1: &[u8]) -> Result<Vec<u8>, PkiError> {
    #[derive(der::Sequence)]
    struct PrivateKeyInfo {
        version: u8,
        algorithm: spki::AlgorithmIdentifierOwned,
        private_key: der::asn1::OctetString,
    }
    let info = PrivateKeyInfo {
        version: 0,
        algorithm: spki::AlgorithmIdentifierOwned {
            oid: crate::oid::RSA_ENCRYPTION,
            parameters: Some(der::asn1::Any::null()),
        },
        private_key: der::asn1::OctetString::new(pkcs1)?,
    };
    Ok(info.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::tests::{openssl, tempdir, test_pki};
    use crate::{KeyAlgorithm, PrivateKey, Signer};

    #[test]
    fn certificates_round_trip_through_pem_and_der() {
        let pki = test_pki(KeyAlgorithm::P256);
        let pem = cert_to_pem(&pki.leaf);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(
            certs_from_pem_or_der(pem.as_bytes()).unwrap(),
            vec![pki.leaf.clone()]
        );
        // A bundle with text around and CRLF line endings.
        let bundle = format!(
            "subject=CN=x\r\n{}\r\nsome text\r\n{}",
            pem.replace('\n', "\r\n"),
            cert_to_pem(&pki.ca)
        );
        let certs = certs_from_pem_or_der(bundle.as_bytes()).unwrap();
        assert_eq!(certs, vec![pki.leaf.clone(), pki.ca.clone()]);
        // DER, single and concatenated.
        let der = cert_der(&pki.root);
        assert_eq!(certs_from_pem_or_der(&der).unwrap(), vec![pki.root.clone()]);
        let mut two = der.clone();
        two.extend(cert_der(&pki.ca));
        assert_eq!(certs_from_pem_or_der(&two).unwrap().len(), 2);
    }

    #[test]
    fn garbage_is_an_error() {
        let pki = test_pki(KeyAlgorithm::P256);
        let der = cert_der(&pki.root);
        for bad in [
            &b""[..],
            b"hello",
            &der[..der.len() - 1],
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nMIIB\n",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        ] {
            assert!(
                certs_from_pem_or_der(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(private_key_from_pem("nothing").is_err());
        assert!(
            private_key_from_pem(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
            )
            .is_err()
        );
    }

    #[test]
    fn private_keys_round_trip_and_openssl_keys_load() {
        let key = PrivateKey::generate(KeyAlgorithm::P256).unwrap();
        let pem = private_key_to_pem(&key.to_pkcs8_der().unwrap());
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = PrivateKey::from_pkcs8_der(&private_key_from_pem(&pem).unwrap()).unwrap();
        assert_eq!(again.public_key_der(), key.public_key_der());

        let dir = tempdir("pem");
        let (ok, text) = openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "k.pem",
            ],
        );
        assert!(ok, "{text}");
        let (ok, text) = openssl(
            &dir,
            &["rsa", "-in", "k.pem", "-traditional", "-out", "k1.pem"],
        );
        assert!(ok, "{text}");
        let pkcs8 = std::fs::read_to_string(dir.join("k.pem")).unwrap();
        let pkcs1 = std::fs::read_to_string(dir.join("k1.pem")).unwrap();
        assert!(pkcs1.contains("RSA PRIVATE KEY"));
        let a = PrivateKey::from_pkcs8_der(&private_key_from_pem(&pkcs8).unwrap()).unwrap();
        let b = PrivateKey::from_pkcs8_der(&private_key_from_pem(&pkcs1).unwrap()).unwrap();
        assert_eq!(a.public_key_der(), b.public_key_der());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
