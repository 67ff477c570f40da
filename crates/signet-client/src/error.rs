//! The client's one error type: what the API refused (its error envelope, typed), what never
//! reached it or never came back, and answers that are not what the API promises.
//!
//! No variant carries a signing token, an API key or a document: request descriptions name the
//! route with its placeholders (`POST /api/v1/signing/{token}/sign`), never the secret in it.

/// A failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The API answered with an error status. `code` is the stable machine code of the error
    /// envelope `{"error":{"code","message"}}`; when the body is not an envelope (a proxy's
    /// page, an unknown route's empty 404) it is `http_<status>` and `message` quotes the
    /// start of the body, or the status's reason when the body is empty.
    #[error("the API answered {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable code (`not_found`, `wrong_code`, `rate_limited`, …).
        code: String,
        /// For people: what was wrong and what to do.
        message: String,
    },
    /// The request did not reach the server, or its answer could not be read (connection
    /// refused, timeout, TLS, a body over the size limit).
    #[error("{request}: {source}")]
    Transport {
        /// The request, route placeholders instead of secrets.
        request: String,
        /// What went wrong.
        #[source]
        source: ureq::Error,
    },
    /// A successful answer that is not the JSON this client expects (a server of another
    /// version, or not a Signet server).
    #[error("{request}: the answer is not what the API describes: {reason}")]
    Decode {
        /// The request, route placeholders instead of secrets.
        request: String,
        /// What did not match.
        reason: String,
    },
}

impl ClientError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The stable code of an API error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether this is the API error `status` with `code`.
    pub fn is(&self, status: u16, code: &str) -> bool {
        self.status() == Some(status) && self.code() == Some(code)
    }
}

/// A call's result.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// The most of a non-envelope body quoted in an error message.
const QUOTE_MAX: usize = 200;

/// The error of an answer with status `status` (not 2xx) and body `body`.
pub(crate) fn api_error(status: u16, body: &[u8]) -> ClientError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(Envelope { error }) = serde_json::from_slice::<Envelope>(body)
        && !error.code.is_empty()
    {
        return ClientError::Api { status, code: error.code, message: error.message };
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = if text.is_empty() {
        reason(status).to_owned()
    } else {
        let mut end = text.len().min(QUOTE_MAX);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if end < text.len() { format!("{}…", &text[..end]) } else { text.to_owned() }
    };
    ClientError::Api { status, code: format!("http_{status}"), message }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        405 => "method not allowed",
        409 => "conflict",
        413 => "payload too large",
        415 => "unsupported media type",
        422 => "unprocessable content",
        429 => "too many requests",
        500 => "internal server error",
        502 => "bad gateway",
        503 => "service unavailable",
        504 => "gateway timeout",
        _ => "no body",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(e: ClientError) -> (u16, String, String) {
        match e {
            ClientError::Api { status, code, message } => (status, code, message),
            other => panic!("not an API error: {other:?}"),
        }
    }

    #[test]
    fn the_envelope_gives_status_code_and_message() {
        let body = br#"{"error":{"code":"wrong_code","message":"the code is wrong; 4 tries left"}}"#;
        let e = api_error(422, body);
        assert!(e.is(422, "wrong_code"));
        assert_eq!(parts(e), (422, "wrong_code".into(), "the code is wrong; 4 tries left".into()));
        // Unknown members are ignored; a missing message is empty.
        let e = api_error(429, br#"{"error":{"code":"rate_limited","retry":9},"x":1}"#);
        assert_eq!(parts(e), (429, "rate_limited".into(), String::new()));
        // Non-ASCII messages come through intact.
        let e = api_error(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"没有\"}}".as_bytes());
        assert_eq!(parts(e).2, "没有");
    }

    #[test]
    fn a_body_that_is_no_envelope_still_gives_an_api_error() {
        assert_eq!(parts(api_error(404, b"")), (404, "http_404".into(), "not found".into()));
        assert_eq!(parts(api_error(599, b"  ")), (599, "http_599".into(), "no body".into()));
        assert_eq!(parts(api_error(502, b"<html>Bad Gateway</html>\n")).2, "<html>Bad Gateway</html>");
        // JSON without the envelope, or an envelope without a code, is not taken for one.
        assert_eq!(parts(api_error(400, br#"{"message":"x"}"#)).1, "http_400");
        assert_eq!(parts(api_error(400, br#"{"error":{"code":""}}"#)).1, "http_400");
        assert_eq!(parts(api_error(400, br#"{"error":"flat"}"#)).1, "http_400");
        // A long body is cut on a character boundary.
        let long = "错".repeat(300);
        let message = parts(api_error(500, long.as_bytes())).2;
        assert!(message.ends_with('…') && message.len() <= QUOTE_MAX + '…'.len_utf8(), "{}", message.len());
        assert!(message.starts_with("错错"));
    }

    #[test]
    fn accessors_are_none_for_other_errors() {
        let e = ClientError::Decode { request: "GET /x".into(), reason: "y".into() };
        assert_eq!((e.status(), e.code()), (None, None));
        assert!(!e.is(404, "not_found"));
        assert_eq!(e.to_string(), "GET /x: the answer is not what the API describes: y");
    }
}
