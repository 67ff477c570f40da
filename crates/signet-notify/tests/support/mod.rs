//! A small SMTP server for the tests, on 127.0.0.1: enough of RFC 5321 (EHLO/HELO, AUTH
//! PLAIN/LOGIN from RFC 4954, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) to
//! receive what the mailer sends and record it, byte for byte.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the server behaves.
#[derive(Clone, Default)]
pub struct Options {
    /// Offer AUTH PLAIN LOGIN and accept these credentials.
    pub credentials: Option<(String, String)>,
    /// Refuse MAIL FROM until a successful AUTH (530).
    pub require_auth: bool,
    /// Refuse recipients in this domain (550).
    pub reject_domain: Option<String>,
    /// Refuse every message after its data (554).
    pub reject_data: bool,
}

/// A login attempt the server saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthAttempt {
    pub mechanism: String,
    pub user: String,
    pub password: String,
    pub accepted: bool,
}

/// A received message.
#[derive(Clone, Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
    /// The accepted login of the session, if any.
    pub auth: Option<AuthAttempt>,
}

#[derive(Default)]
struct State {
    messages: Vec<Received>,
    auth_attempts: Vec<AuthAttempt>,
    /// Command verbs of every session, in order.
    verbs: Vec<String>,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    pub async fn start(options: Options) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (opts, st) = (options.clone(), st.clone());
                tokio::spawn(async move {
                    let _ = session(stream, opts, st).await;
                });
            }
        });
        SmtpServer { addr, state, task }
    }

    /// `smtp://[user:pass@]127.0.0.1:PORT?from=…` for this server.
    pub fn url(&self, userinfo: &str) -> String {
        format!("smtp://{userinfo}{}?from=Signet%20%3Csignet%40example.com%3E", self.addr)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.state.lock().unwrap().messages.clone()
    }

    pub fn auth_attempts(&self) -> Vec<AuthAttempt> {
        self.state.lock().unwrap().auth_attempts.clone()
    }

    pub fn verbs(&self) -> Vec<String> {
        self.state.lock().unwrap().verbs.clone()
    }
}

async fn read_line(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let n = r.read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    Ok(Some(buf))
}

fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).trim_end_matches(['\r', '\n']).to_owned()
}

/// The address inside `FROM:<…>` / `TO:<…>`.
fn path(arg: &str, prefix: &str) -> Option<String> {
    let rest = arg.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &arg[prefix.len()..])?;
    let rest = rest.trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

async fn session(stream: TcpStream, opts: Options, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 test.invalid ESMTP ready\r\n").await?;
    let mut authed: Option<AuthAttempt> = None;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    while let Some(line) = read_line(&mut r).await? {
        let line = text(&line);
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_owned()),
            None => (line.to_ascii_uppercase(), String::new()),
        };
        state.lock().unwrap().verbs.push(verb.clone());
        match verb.as_str() {
            "EHLO" => {
                let mut reply = String::from("250-test.invalid greets you\r\n");
                if opts.credentials.is_some() {
                    reply.push_str("250-AUTH PLAIN LOGIN\r\n");
                }
                reply.push_str("250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n");
                w.write_all(reply.as_bytes()).await?;
            }
            "HELO" => w.write_all(b"250 test.invalid\r\n").await?,
            "AUTH" => {
                let mut parts = arg.splitn(2, ' ');
                let mechanism = parts.next().unwrap_or("").to_ascii_uppercase();
                let initial = parts.next().map(str::to_owned);
                let Some(expected) = &opts.credentials else {
                    w.write_all(b"503 5.5.1 AUTH not offered\r\n").await?;
                    continue;
                };
                let (user, password) = match mechanism.as_str() {
                    "PLAIN" => {
                        let blob = match initial {
                            Some(b) => b,
                            None => {
                                w.write_all(b"334 \r\n").await?;
                                text(&read_line(&mut r).await?.unwrap_or_default())
                            }
                        };
                        let raw = B64.decode(blob.trim()).unwrap_or_default();
                        let fields: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
                        match fields.as_slice() {
                            [_authz, user, pass] => {
                                (String::from_utf8_lossy(user).into_owned(), String::from_utf8_lossy(pass).into_owned())
                            }
                            _ => (String::new(), String::new()),
                        }
                    }
                    "LOGIN" => {
                        let user_b64 = match initial {
                            Some(u) => u,
                            None => {
                                w.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                                text(&read_line(&mut r).await?.unwrap_or_default())
                            }
                        };
                        w.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                        let pass_b64 = text(&read_line(&mut r).await?.unwrap_or_default());
                        let dec =
                            |s: &str| String::from_utf8_lossy(&B64.decode(s.trim()).unwrap_or_default()).into_owned();
                        (dec(&user_b64), dec(&pass_b64))
                    }
                    _ => {
                        w.write_all(b"504 5.5.4 mechanism not supported\r\n").await?;
                        continue;
                    }
                };
                let accepted = (user.as_str(), password.as_str()) == (expected.0.as_str(), expected.1.as_str());
                let attempt = AuthAttempt { mechanism, user, password, accepted };
                state.lock().unwrap().auth_attempts.push(attempt.clone());
                if accepted {
                    authed = Some(attempt);
                    w.write_all(b"235 2.7.0 Authentication successful\r\n").await?;
                } else {
                    w.write_all(b"535 5.7.8 Authentication credentials invalid\r\n").await?;
                }
            }
            "MAIL" => {
                if opts.require_auth && authed.is_none() {
                    w.write_all(b"530 5.7.0 Authentication required\r\n").await?;
                    continue;
                }
                match path(&arg, "FROM:") {
                    Some(f) => {
                        from = Some(f);
                        rcpts.clear();
                        w.write_all(b"250 2.1.0 OK\r\n").await?;
                    }
                    None => w.write_all(b"501 5.5.4 syntax: MAIL FROM:<address>\r\n").await?,
                }
            }
            "RCPT" => {
                if from.is_none() {
                    w.write_all(b"503 5.5.1 MAIL first\r\n").await?;
                    continue;
                }
                match path(&arg, "TO:") {
                    Some(to) if opts.reject_domain.as_ref().is_some_and(|d| to.ends_with(&format!("@{d}"))) => {
                        w.write_all(b"550 5.1.1 no such user here\r\n").await?;
                    }
                    Some(to) => {
                        rcpts.push(to);
                        w.write_all(b"250 2.1.5 OK\r\n").await?;
                    }
                    None => w.write_all(b"501 5.5.4 syntax: RCPT TO:<address>\r\n").await?,
                }
            }
            "DATA" => {
                if rcpts.is_empty() {
                    w.write_all(b"503 5.5.1 RCPT first\r\n").await?;
                    continue;
                }
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let Some(l) = read_line(&mut r).await? else { return Ok(()) };
                    if l == b".\r\n" {
                        break;
                    }
                    // RFC 5321 §4.5.2: a leading dot was doubled by the client.
                    let l = if l.first() == Some(&b'.') { &l[1..] } else { &l[..] };
                    data.extend_from_slice(l);
                }
                if opts.reject_data {
                    w.write_all(b"554 5.7.1 message refused by policy\r\n").await?;
                } else {
                    state.lock().unwrap().messages.push(Received {
                        mail_from: from.take().unwrap_or_default(),
                        rcpt_to: std::mem::take(&mut rcpts),
                        data,
                        auth: authed.clone(),
                    });
                    w.write_all(b"250 2.0.0 OK queued\r\n").await?;
                }
                from = None;
                rcpts.clear();
            }
            "RSET" => {
                from = None;
                rcpts.clear();
                w.write_all(b"250 2.0.0 OK\r\n").await?;
            }
            "NOOP" => w.write_all(b"250 2.0.0 OK\r\n").await?,
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => w.write_all(b"502 5.5.2 command not recognised\r\n").await?,
        }
    }
    Ok(())
}
