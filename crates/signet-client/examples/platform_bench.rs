//! End-to-end throughput of a Signet server through its API: contracts created, signed by two
//! signers in turn (each: link → code → sign) and completed, from several concurrent clients;
//! and the latency of the signing call. Links and codes are read from the outbox (the embedded
//! default keeps every message there).
//!
//! ```text
//! cargo run --release -p signet-client --example platform_bench -- URL[,URL…] API_KEY PDF CONTRACTS CONCURRENCY
//! ```
//! With several URLs (servers of one deployment), client `k` sends its API calls to server
//! `k mod n` and its signers' calls to the next one, as a load balancer would spread them.
//! `bench/platform_bench.sh` starts a release server and runs this; `bench/scale_bench.sh`
//! compares the embedded default with one and two servers on PostgreSQL + S3.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signet_client::{Channel, Client, ContractMetadata, NewField, NewRecipient, SignRequest, Status};

fn wait_for(client: &Client, address: &str, want: impl Fn(&str, &str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let messages = client.outbox(Some(Channel::Email), Some(200)).expect("the outbox");
        if let Some(m) = messages.iter().find(|m| m.address == address && want(&m.subject, &m.body)) {
            return m.body.clone();
        }
        assert!(Instant::now() < deadline, "no message for {address}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn link_token(body: &str) -> String {
    let at = body.find("/s/").expect("a link") + 3;
    body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

fn code(body: &str) -> String {
    let bytes = body.as_bytes();
    (0..bytes.len().saturating_sub(5))
        .find(|&i| bytes[i..i + 6].iter().all(u8::is_ascii_digit) && (i == 0 || !bytes[i - 1].is_ascii_digit()) && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit()))
        .map(|i| body[i..i + 6].to_owned())
        .expect("a six-digit code")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: platform_bench URL[,URL…] API_KEY PDF CONTRACTS CONCURRENCY");
        std::process::exit(2);
    }
    let urls: Vec<String> = args[1].split(',').filter(|u| !u.is_empty()).map(str::to_owned).collect();
    let (key, pdf) = (args[2].clone(), std::fs::read(&args[3]).expect("the PDF"));
    let contracts: usize = args[4].parse().expect("CONTRACTS");
    let concurrency: usize = args[5].parse().expect("CONCURRENCY");
    let pdf = Arc::new(pdf);
    let next = Arc::new(AtomicUsize::new(0));
    let sign_ms = Arc::new(Mutex::new(Vec::new()));
    let create_ms = Arc::new(Mutex::new(Vec::new()));
    let run = std::process::id();
    let started = Instant::now();
    let threads: Vec<_> = (0..concurrency)
        .map(|k| {
            let (api_url, signer_url) = (urls[k % urls.len()].clone(), urls[(k + 1) % urls.len()].clone());
            let (key, pdf, next, sign_ms, create_ms) = (key.clone(), pdf.clone(), next.clone(), sign_ms.clone(), create_ms.clone());
            std::thread::spawn(move || {
                let api = Client::new(api_url, Some(key));
                let signer_side = Client::new(signer_url, None);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= contracts {
                        return;
                    }
                    let a = format!("a{run}-{i}@bench.example");
                    let b = format!("b{run}-{i}@bench.example");
                    let mut meta = ContractMetadata::new(format!("Bench contract {i} 基准测试合同"));
                    meta.recipients = vec![NewRecipient::signer("张三", a.clone(), 1), NewRecipient::signer("Li Si", b.clone(), 2)];
                    meta.fields = vec![NewField::signature(a.clone(), 1, [60.0, 60.0, 200.0, 110.0]), NewField::signature(b.clone(), 1, [300.0, 60.0, 440.0, 110.0])];
                    meta.send = true;
                    let t = Instant::now();
                    let c = api.create_contract(&[("contract.pdf", &pdf)], &meta).expect("create");
                    create_ms.lock().expect("lock").push(t.elapsed().as_secs_f64() * 1000.0);
                    for (who, name) in [(&a, "张三"), (&b, "Li Si")] {
                        let token = link_token(&wait_for(&api, who, |_, body| body.contains("/s/")));
                        signer_side.request_code(&token, Channel::Email).expect("a code");
                        let code = code(&wait_for(&api, who, |subject, _| subject.contains("code") || subject.contains("验证码")));
                        let t = Instant::now();
                        let outcome = signer_side.sign(&token, &SignRequest::typed(code, name)).expect("sign");
                        sign_ms.lock().expect("lock").push(t.elapsed().as_secs_f64() * 1000.0);
                        if who == &b {
                            assert_eq!(outcome.status, Status::Completed, "contract {} did not complete", c.id);
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a bench thread");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut signs = sign_ms.lock().expect("lock").clone();
    let mut creates = create_ms.lock().expect("lock").clone();
    signs.sort_by(f64::total_cmp);
    creates.sort_by(f64::total_cmp);
    println!(
        "{contracts} contracts (2 signers each, B-LT signatures, B-LTA at completion) with {concurrency} concurrent clients on {} server(s) in {elapsed:.2} s: {:.2} contracts/s completed end to end",
        urls.len(),
        contracts as f64 / elapsed
    );
    println!("signing call: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} calls)", percentile(&signs, 0.5), percentile(&signs, 0.99), signs.last().copied().unwrap_or(0.0), signs.len());
    println!("create + send call: p50 {:.1} ms, p99 {:.1} ms", percentile(&creates, 0.5), percentile(&creates, 0.99));
}
