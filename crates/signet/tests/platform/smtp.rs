//! A small SMTP server on 127.0.0.1 for the platform tests (after the one in
//! `crates/signet-notify/tests/support/`, here on plain threads so the blocking tests need no
//! runtime): EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT; no TLS, no
//! AUTH. Received messages are decoded far enough to read them: headers unfolded, multipart
//! walked, base64 and quoted-printable bodies decoded, the text parts kept.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

/// A received message.
#[derive(Clone, Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    /// The message's text parts (text/plain first, then text/html), decoded.
    pub fn text(&self) -> String {
        let mut plain = Vec::new();
        let mut html = Vec::new();
        collect_text(&self.data, &mut plain, &mut html, 0);
        plain.extend(html);
        plain.join("\n")
    }
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    /// While false, every connection is greeted with `421` and closed: a relay that is
    /// there but not taking mail, so senders fail at once and the port stays ours.
    up: Arc<AtomicBool>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and ends.
        let _ = TcpStream::connect(self.addr);
    }
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        Self::start_on("127.0.0.1:0")
    }

    /// A server on a given address (one a server was told about before it listened there).
    pub fn start_on(addr: &str) -> SmtpServer {
        let server = Self::start_down_on(addr);
        server.set_up(true);
        server
    }

    /// A server that refuses mail (`421` at the greeting) until [`SmtpServer::set_up`].
    pub fn start_down() -> SmtpServer {
        Self::start_down_on("127.0.0.1:0")
    }

    fn start_down_on(addr: &str) -> SmtpServer {
        let listener = TcpListener::bind(addr).expect("bind the SMTP server");
        let addr = listener.local_addr().expect("SMTP address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let up = Arc::new(AtomicBool::new(false));
        let (m, s, u) = (messages.clone(), stop.clone(), up.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                if !u.load(Ordering::SeqCst) {
                    let _ = stream.write_all(b"421 test.invalid not taking mail now, try again later\r\n");
                    continue;
                }
                let m = m.clone();
                std::thread::spawn(move || {
                    let _ = session(stream, &m);
                });
            }
        });
        SmtpServer { addr, messages, stop, up }
    }

    /// Starts (or stops) taking mail.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    /// `smtp://127.0.0.1:PORT` (no TLS).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().expect("messages").clone()
    }
}

impl super::support::Mailbox for SmtpServer {
    fn messages(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for (i, m) in SmtpServer::messages(self).iter().enumerate() {
            let text = m.text();
            for to in &m.rcpt_to {
                out.push((i.to_string(), to.clone(), text.clone()));
            }
        }
        out
    }
}

/// The address inside `FROM:<…>` / `TO:<…>` (parameters after it ignored).
fn path(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let inner = arg[prefix.len()..].trim_start().strip_prefix('<')?;
    Some(inner[..inner.find('>')?].to_owned())
}

fn session(stream: TcpStream, messages: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(b"220 test.invalid ESMTP ready\r\n")?;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned();
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_owned()),
            None => (text.to_ascii_uppercase(), String::new()),
        };
        match verb.as_str() {
            "EHLO" => w.write_all(b"250-test.invalid greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n")?,
            "HELO" => w.write_all(b"250 test.invalid\r\n")?,
            "MAIL" => match path(&arg, "FROM:") {
                Some(f) => {
                    from = Some(f);
                    rcpts.clear();
                    w.write_all(b"250 2.1.0 OK\r\n")?;
                }
                None => w.write_all(b"501 5.5.4 syntax: MAIL FROM:<address>\r\n")?,
            },
            "RCPT" => match (&from, path(&arg, "TO:")) {
                (None, _) => w.write_all(b"503 5.5.1 MAIL first\r\n")?,
                (Some(_), Some(to)) => {
                    rcpts.push(to);
                    w.write_all(b"250 2.1.5 OK\r\n")?;
                }
                (Some(_), None) => w.write_all(b"501 5.5.4 syntax: RCPT TO:<address>\r\n")?,
            },
            "DATA" => {
                if rcpts.is_empty() {
                    w.write_all(b"503 5.5.1 RCPT first\r\n")?;
                    continue;
                }
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l)? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" || l == b".\n" {
                        break;
                    }
                    // RFC 5321 §4.5.2: a leading dot was doubled by the client.
                    let l = if l.first() == Some(&b'.') { &l[1..] } else { &l[..] };
                    data.extend_from_slice(l);
                }
                messages.lock().expect("messages").push(Received {
                    mail_from: from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpts),
                    data,
                });
                w.write_all(b"250 2.0.0 OK queued\r\n")?;
            }
            "RSET" => {
                from = None;
                rcpts.clear();
                w.write_all(b"250 2.0.0 OK\r\n")?;
            }
            "NOOP" => w.write_all(b"250 2.0.0 OK\r\n")?,
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            _ => w.write_all(b"502 5.5.2 command not recognised\r\n")?,
        }
    }
}

// --- just enough MIME ---------------------------------------------------------------------------

/// Splits an entity into unfolded headers (lower-case names) and its body.
fn split_entity(data: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = match data.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&data[..i], &data[i + 4..]),
        None => match data.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&data[..i], &data[i + 2..]),
            None => (data, &data[data.len()..]),
        },
    };
    let head = String::from_utf8_lossy(head);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    (headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A parameter of a structured header value (`boundary="…"`).
fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn collect_text(data: &[u8], plain: &mut Vec<String>, html: &mut Vec<String>, depth: usize) {
    if depth > 5 {
        return;
    }
    let (headers, body) = split_entity(data);
    let ct = header(&headers, "content-type").unwrap_or("text/plain").to_owned();
    let ct_lower = ct.to_ascii_lowercase();
    if ct_lower.starts_with("multipart/") {
        let Some(boundary) = param(&ct, "boundary") else { return };
        let delimiter = format!("--{boundary}");
        let text = body;
        let mut starts = Vec::new();
        let mut i = 0;
        while let Some(p) = text[i..].windows(delimiter.len()).position(|w| w == delimiter.as_bytes()) {
            starts.push(i + p);
            i += p + delimiter.len();
        }
        for pair in starts.windows(2) {
            let part = &text[pair[0] + delimiter.len()..pair[1]];
            let part = part.strip_prefix(b"\r\n").or_else(|| part.strip_prefix(b"\n")).unwrap_or(part);
            // The line break before a delimiter belongs to the delimiter.
            let part = part.strip_suffix(b"\r\n").or_else(|| part.strip_suffix(b"\n")).unwrap_or(part);
            collect_text(part, plain, html, depth + 1);
        }
        return;
    }
    if !ct_lower.starts_with("text/") {
        return;
    }
    let encoding = header(&headers, "content-transfer-encoding").unwrap_or("7bit").to_ascii_lowercase();
    let decoded = match encoding.as_str() {
        "base64" => {
            let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default()
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.to_vec(),
    };
    let text = String::from_utf8_lossy(&decoded).into_owned();
    if ct_lower.starts_with("text/html") { html.push(text) } else { plain.push(text) }
}

fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'=' if body[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if body[i + 1..].starts_with(b"\n") => i += 2,
            b'=' if i + 3 <= body.len() => {
                let hex = std::str::from_utf8(&body[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'=');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parts_are_decoded_from_multipart_base64_and_quoted_printable() {
        let raw = b"From: a@example.com\r\nContent-Type: multipart/alternative;\r\n boundary=\"XYZ\"\r\n\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9=AA=8C=E8=AF=81=E7=A0=81=EF=BC=9A123456 li=\r\nne\r\n--XYZ\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n--XYZ--\r\n";
        let m = Received { mail_from: String::new(), rcpt_to: vec![], data: raw.to_vec() };
        assert_eq!(m.text(), "验证码：123456 line\n<b>hi</b>");
    }
}
