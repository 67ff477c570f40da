//! `multipart/form-data` (RFC 7578) bodies, built here: the one upload the API takes is a
//! handful of parts held in memory, which does not justify ureq's `multipart` feature and its
//! dependencies.
//!
//! File names are written as browsers write them (the WHATWG HTML form encoding): UTF-8, with
//! `"`, CR and LF percent-encoded; servers read `filename*` rarely and this form always.
//!
//! The boundary is derived from the parts, not drawn at random: the same parts always make the
//! same bytes. The server recognises a retry under an `Idempotency-Key` by the request's bytes,
//! so a random boundary would turn every retry into "the same key with another request".

/// One part of a form.
pub(crate) struct Part<'a> {
    /// The form field's name.
    pub name: &'a str,
    /// The file name, for file parts.
    pub file_name: Option<&'a str>,
    /// The part's `Content-Type`.
    pub content_type: &'a str,
    /// The bytes.
    pub body: &'a [u8],
}

/// An encoded form: its `Content-Type` (with the boundary) and its body.
pub(crate) struct Form {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Encodes `parts` with a boundary derived from them that occurs in none of them.
pub(crate) fn encode(parts: &[Part<'_>]) -> Form {
    encode_with(parts, |attempt| content_boundary(parts, attempt))
}

/// Encodes `parts`, taking boundaries from `next(0)`, `next(1)`, … until one occurs in no part.
pub(crate) fn encode_with(parts: &[Part<'_>], mut next: impl FnMut(u32) -> String) -> Form {
    let mut attempt = 0;
    let boundary = loop {
        let b = next(attempt);
        attempt += 1;
        let delimiter = format!("--{b}");
        let clashes = parts.iter().any(|p| contains(p.body, delimiter.as_bytes()));
        if !clashes {
            break b;
        }
    };
    let size: usize = parts.iter().map(|p| p.body.len() + 200 + boundary.len()).sum();
    let mut body = Vec::with_capacity(size + boundary.len() + 8);
    for p in parts {
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        body.extend_from_slice(quoted(p.name).as_bytes());
        body.push(b'"');
        if let Some(file) = p.file_name {
            body.extend_from_slice(b"; filename=\"");
            body.extend_from_slice(quoted(file).as_bytes());
            body.push(b'"');
        }
        body.extend_from_slice(b"\r\nContent-Type: ");
        body.extend_from_slice(p.content_type.as_bytes());
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(p.body);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    Form { content_type: format!("multipart/form-data; boundary={boundary}"), body }
}

/// A quoted-string's content the way browsers write form names and file names.
fn quoted(s: &str) -> String {
    s.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// `signet-` and 128 bits of two FNV-1a hashes over the parts (each field length-prefixed)
/// and `attempt`: the same parts give the same boundary in every process and version.
fn content_boundary(parts: &[Part<'_>], attempt: u32) -> String {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = [0xcbf2_9ce4_8422_2325u64, 0x6c62_272e_07bb_0142u64];
    let mut feed = |bytes: &[u8]| {
        for chunk in [&(bytes.len() as u64).to_be_bytes()[..], bytes] {
            for &b in chunk {
                for x in h.iter_mut() {
                    *x = (*x ^ u64::from(b)).wrapping_mul(PRIME);
                }
            }
        }
    };
    feed(&attempt.to_be_bytes());
    for p in parts {
        feed(p.name.as_bytes());
        feed(p.file_name.unwrap_or_default().as_bytes());
        feed(p.content_type.as_bytes());
        feed(p.body);
    }
    format!("signet-{:016x}{:016x}", h[0], h[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits an encoded body back into (headers, body) per part, strictly.
    fn decode(form: &Form) -> Vec<(String, Vec<u8>)> {
        let boundary = form.content_type.strip_prefix("multipart/form-data; boundary=").expect("content type");
        let delimiter = format!("--{boundary}");
        let body = &form.body;
        assert!(body.starts_with(delimiter.as_bytes()), "the body starts with the first delimiter");
        assert!(body.ends_with(format!("\r\n{delimiter}--\r\n").as_bytes()), "the body ends with the close delimiter");
        let mut parts = Vec::new();
        let mut rest = &body[delimiter.len()..];
        loop {
            if rest.starts_with(b"--\r\n") {
                assert_eq!(rest.len(), 4, "nothing after the close delimiter");
                break;
            }
            rest = rest.strip_prefix(b"\r\n").expect("CRLF after a delimiter");
            let head_end = rest.windows(4).position(|w| w == b"\r\n\r\n").expect("end of part headers");
            let head = String::from_utf8(rest[..head_end].to_vec()).expect("UTF-8 headers");
            rest = &rest[head_end + 4..];
            let next = format!("\r\n{delimiter}");
            let end = rest.windows(next.len()).position(|w| w == next.as_bytes()).expect("next delimiter");
            parts.push((head, rest[..end].to_vec()));
            rest = &rest[end + next.len()..];
        }
        parts
    }

    #[test]
    fn parts_come_out_byte_for_byte_with_their_headers() {
        let pdf = b"%PDF-1.7\r\n\x00\xff binary\r\n--not-the-boundary\r\n";
        let meta = br#"{"title":"Lease","send":true}"#;
        let form = encode(&[
            Part { name: "document", file_name: Some("lease.pdf"), content_type: "application/pdf", body: pdf },
            Part { name: "document", file_name: Some("附件 2.pdf"), content_type: "application/pdf", body: b"%PDF-2.0" },
            Part { name: "metadata", file_name: None, content_type: "application/json", body: meta },
        ]);
        assert!(form.content_type.starts_with("multipart/form-data; boundary=signet-"));
        let parts = decode(&form);
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0].0,
            "Content-Disposition: form-data; name=\"document\"; filename=\"lease.pdf\"\r\nContent-Type: application/pdf"
        );
        assert_eq!(parts[0].1, pdf);
        assert!(parts[1].0.contains("filename=\"附件 2.pdf\""), "UTF-8 file names are written as is: {}", parts[1].0);
        assert_eq!(parts[1].1, b"%PDF-2.0");
        assert_eq!(parts[2].0, "Content-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json");
        assert_eq!(parts[2].1, meta);
    }

    #[test]
    fn an_empty_part_is_well_formed() {
        let form = encode(&[Part { name: "document", file_name: Some("e.pdf"), content_type: "application/pdf", body: b"" }]);
        let parts = decode(&form);
        assert_eq!(parts.len(), 1);
        assert!(parts[0].1.is_empty());
    }

    #[test]
    fn quotes_and_line_breaks_in_file_names_cannot_forge_headers() {
        let form = encode(&[Part {
            name: "document",
            file_name: Some("a\"; name=\"metadata\r\nContent-Type: text/plain\r\n\r\nx.pdf"),
            content_type: "application/pdf",
            body: b"%PDF",
        }]);
        let parts = decode(&form);
        assert_eq!(parts.len(), 1);
        assert_eq!(
            parts[0].0,
            "Content-Disposition: form-data; name=\"document\"; filename=\"a%22; name=%22metadata%0D%0AContent-Type: text/plain%0D%0A%0D%0Ax.pdf\"\r\nContent-Type: application/pdf"
        );
        assert_eq!(parts[0].1, b"%PDF");
    }

    #[test]
    fn a_boundary_found_in_a_part_is_replaced() {
        let body = b"before --clash after";
        let form = encode_with(&[Part { name: "document", file_name: Some("d.pdf"), content_type: "application/pdf", body }], |attempt| {
            if attempt == 0 { "clash".to_owned() } else { format!("fresh{attempt}") }
        });
        assert_eq!(form.content_type, "multipart/form-data; boundary=fresh1");
        assert_eq!(decode(&form)[0].1, body);
    }

    #[test]
    fn the_same_parts_make_the_same_bytes() {
        let part = |body: &'static [u8]| Part { name: "document", file_name: Some("a.pdf"), content_type: "application/pdf", body };
        let a = encode(&[part(b"%PDF-1.7 one")]);
        let again = encode(&[part(b"%PDF-1.7 one")]);
        assert_eq!((a.content_type.as_str(), a.body.as_slice()), (again.content_type.as_str(), again.body.as_slice()));
        let b = encode(&[part(b"%PDF-1.7 two")]);
        assert_ne!(a.content_type, b.content_type, "another body, another boundary");
        // Length prefixes keep (name, file name) splits apart.
        let x = Part { name: "ab", file_name: Some("c"), content_type: "t", body: b"" };
        let y = Part { name: "a", file_name: Some("bc"), content_type: "t", body: b"" };
        assert_ne!(content_boundary(&[x], 0), content_boundary(&[y], 0));
        // RFC 2046: 1 to 70 characters from a restricted set; ours is letters, digits and '-'.
        let boundary = content_boundary(&[], 0);
        assert!(boundary.len() <= 70 && boundary.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'), "{boundary}");
    }
}
