//! A libFuzzer-free smoke runner for the fuzz targets (CI builds this instead of installing
//! cargo-fuzz and an ASan build of every target).
//!
//! ```text
//! signet-fuzz-smoke [--secs N] [--timeout S] [--rss-limit-mb M] [--seed N]
//!                   [--corpus DIR]... [--artifacts DIR] [TARGET...]
//! signet-fuzz-smoke --replay TARGET FILE...
//! ```
//!
//! For each target (all by default): every file in `DIR/TARGET/` for each `--corpus DIR`
//! (default `corpus` and `regressions`) runs once, then random mutations of those files
//! (bit flips, byte and token insertions, deletions, duplications, splices between files) run
//! until the target's `--secs` (default 15) are up. Unlike libFuzzer there is no coverage
//! feedback: it catches shallow failures and every regression, not deep ones. A finding is
//!
//! - a panic (the message, the location and a backtrace are printed),
//! - one input running longer than `--timeout` seconds (default 10), or
//! - live heap allocations above `--rss-limit-mb` (default 2048; one allocation that would
//!   cross it counts too, as libFuzzer's `-malloc_limit_mb`).
//!
//! The input is written to `ARTIFACTS/TARGET/smoke-KIND-HASH` (default `artifacts/`), to be
//! replayed with `--replay` or `cargo fuzz run TARGET FILE`. A stack overflow aborts the process
//! (a failure all the same) before the input can be written; the mutations are a function of
//! `--seed` (printed) and the corpus, so rerunning with the same seed reaches it again. Exit
//! status: 0 clean, 1 a finding, 2 usage.

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use signet_fuzz::TARGETS;

// ---- allocation accounting ----------------------------------------------------------------

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Set when an allocation would cross LIMIT: the size asked for.
static OVER: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    /// Accounts `size` more bytes, or (over the limit) reports it and parks the thread for the
    /// watchdog, which saves the input and exits.
    fn grow(size: usize) {
        let live = LIVE.fetch_add(size, SeqCst) + size;
        if live > LIMIT.load(SeqCst) {
            LIVE.fetch_sub(size, SeqCst);
            OVER.store(size.max(1), SeqCst);
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::grow(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::grow(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), SeqCst);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            Self::grow(new_size - layout.size());
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            LIVE.fetch_sub(new_size.saturating_sub(layout.size()), SeqCst);
        } else if new_size < layout.size() {
            LIVE.fetch_sub(layout.size() - new_size, SeqCst);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

// ---- the input in flight, for the watchdog ------------------------------------------------

struct InFlight {
    target: &'static str,
    input: Arc<Vec<u8>>,
}

static CURRENT: Mutex<Option<InFlight>> = Mutex::new(None);
/// Milliseconds since START when the current input began; 0 when idle.
static BUSY_SINCE: AtomicU64 = AtomicU64::new(0);
static PANIC_MSG: Mutex<String> = Mutex::new(String::new());
static QUIET_PANICS: AtomicBool = AtomicBool::new(true);

fn now_ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64 + 1
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

fn save(artifacts: &Path, target: &str, kind: &str, input: &[u8]) -> PathBuf {
    let dir = artifacts.join(target);
    let path = dir.join(format!("smoke-{kind}-{:016x}", fnv(input)));
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, input)) {
        eprintln!("could not write {}: {e}", path.display());
    }
    path
}

fn watchdog(start: Instant, timeout: Duration, artifacts: PathBuf) {
    loop {
        std::thread::sleep(Duration::from_millis(10));
        let over = OVER.load(SeqCst);
        let since = BUSY_SINCE.load(SeqCst);
        let slow = since != 0 && now_ms(start) - since > timeout.as_millis() as u64;
        if over == 0 && !slow {
            continue;
        }
        let (kind, what) = if over != 0 {
            let live = LIVE.load(SeqCst) >> 20;
            ("oom", format!("allocation of {over} bytes with {live} MiB live crosses the limit"))
        } else {
            ("timeout", format!("one input ran longer than {} s", timeout.as_secs()))
        };
        let cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        match cur.as_ref() {
            Some(f) => {
                let path = save(&artifacts, f.target, kind, &f.input);
                println!("FINDING {} {kind}: {what}; input ({} bytes): {}", f.target, f.input.len(), path.display());
            }
            None => println!("FINDING {kind}: {what} (outside any input)"),
        }
        std::process::exit(1);
    }
}

/// Runs one input; on a panic returns its message (with location and backtrace).
fn run_one(target: &'static str, f: fn(&[u8]), input: Arc<Vec<u8>>, start: Instant) -> Result<(), String> {
    *CURRENT.lock().unwrap() = Some(InFlight { target, input: input.clone() });
    BUSY_SINCE.store(now_ms(start), SeqCst);
    let r = panic::catch_unwind(AssertUnwindSafe(|| f(&input)));
    BUSY_SINCE.store(0, SeqCst);
    *CURRENT.lock().unwrap() = None;
    r.map_err(|_| std::mem::take(&mut *PANIC_MSG.lock().unwrap_or_else(|e| e.into_inner())))
}

// ---- mutations ------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// PDF and DER fragments worth inserting.
const TOKENS: &[&[u8]] = &[
    b" obj ", b"endobj", b"stream\n", b"\nendstream", b"xref\n", b"trailer", b"startxref\n", b"%%EOF\n",
    b"<<", b">>", b"[", b"]", b" R ", b"/Prev ", b"/Length ", b"/Type", b"/XRef", b"/ObjStm",
    b"/Root ", b"/Size ", b"/Pages", b"/Kids", b"/Annots", b"/AcroForm", b"/Fields", b"/Parent",
    b"/ByteRange", b"/Contents", b"/DSS", b"/Perms", b"/DocMDP", b"/V ", b"/Filter /FlateDecode",
    b"/W [1 4 2]", b"/Index", b"/N ", b"/First ", b"0", b"-1", b"1 0 R", b"4294967296",
    b"99999999999", b"0000000000 65535 f \n", b"\x30\x80", b"\x30\x84\xff\xff\xff\xff",
    b"\x02\x01\x00", b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", b"\xa0\x82\xff\xff",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    let mut d = if seeds.is_empty() { Vec::new() } else { seeds[rng.below(seeds.len())].clone() };
    for _ in 0..1 + rng.below(8) {
        let len = d.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                d[i] = [0, 0xff, 0x7f, 0x80, b'0', b' ', b'\n'][rng.below(7)];
            }
            2 => {
                let at = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(at..at, bytes);
            }
            3 | 4 => {
                let at = rng.below(len + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                d.splice(at..at, t.iter().copied());
            }
            5 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(256));
                d.drain(at..at + n);
            }
            6 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(256));
                let chunk = d[at..at + n].to_vec();
                let to = rng.below(len + 1);
                d.splice(to..to, chunk);
            }
            7 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let at = rng.below(other.len());
                    let n = 1 + rng.below((other.len() - at).min(4096));
                    let to = rng.below(len + 1);
                    d.splice(to..to, other[at..at + n].iter().copied());
                }
            }
            8 if len > 0 => d.truncate(rng.below(len)),
            _ if len > 0 => {
                // A decimal number somewhere replaced by another.
                let i = rng.below(len);
                if d[i].is_ascii_digit() {
                    let n = [0u64, 1, 2, 255, 65535, 1 << 31, u32::MAX as u64, u64::MAX][rng.below(8)];
                    d.splice(i..i + 1, n.to_string().into_bytes());
                }
            }
            _ => {}
        }
    }
    d.truncate(max_len);
    d
}

// ---- driver ---------------------------------------------------------------------------------

struct Args {
    secs: u64,
    timeout: u64,
    rss_mb: usize,
    seed: u64,
    corpus: Vec<PathBuf>,
    artifacts: PathBuf,
    targets: Vec<String>,
    replay: bool,
}

fn usage(msg: &str) -> ! {
    eprintln!("{msg}\nusage: signet-fuzz-smoke [--secs N] [--timeout S] [--rss-limit-mb M] [--seed N] [--corpus DIR]... [--artifacts DIR] [TARGET...]\n       signet-fuzz-smoke --replay TARGET FILE...");
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut a = Args {
        secs: 15,
        timeout: 10,
        rss_mb: 2048,
        seed: SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1,
        corpus: Vec::new(),
        artifacts: PathBuf::from("artifacts"),
        targets: Vec::new(),
        replay: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().unwrap_or_else(|| usage(&format!("{name} needs a value")));
        let num = |s: String, name: &str| s.parse::<u64>().unwrap_or_else(|_| usage(&format!("{name}: not a number: {s}")));
        match arg.as_str() {
            "--secs" => a.secs = num(val("--secs"), "--secs"),
            "--timeout" => a.timeout = num(val("--timeout"), "--timeout"),
            "--rss-limit-mb" => a.rss_mb = num(val("--rss-limit-mb"), "--rss-limit-mb").max(1) as usize,
            "--seed" => a.seed = num(val("--seed"), "--seed").max(1),
            "--corpus" => a.corpus.push(PathBuf::from(val("--corpus"))),
            "--artifacts" => a.artifacts = PathBuf::from(val("--artifacts")),
            "--replay" => a.replay = true,
            "-h" | "--help" => usage("signet-fuzz-smoke: replay and mutate the fuzz corpora without libFuzzer"),
            s if s.starts_with('-') => usage(&format!("unknown option {s}")),
            _ => a.targets.push(arg),
        }
    }
    if a.corpus.is_empty() {
        a.corpus = vec![PathBuf::from("corpus"), PathBuf::from("regressions")];
    }
    a
}

fn target(name: &str) -> (&'static str, fn(&[u8])) {
    *TARGETS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| {
        let names: Vec<_> = TARGETS.iter().map(|(n, _)| *n).collect();
        usage(&format!("unknown target {name}; targets: {}", names.join(" ")))
    })
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn main() {
    let a = parse_args();
    let start = Instant::now();
    LIMIT.store(a.rss_mb.saturating_mul(1 << 20), SeqCst);
    let artifacts = a.artifacts.clone();
    let timeout = Duration::from_secs(a.timeout);
    std::thread::spawn(move || watchdog(start, timeout, artifacts));
    panic::set_hook(Box::new(|info| {
        let bt = std::backtrace::Backtrace::force_capture();
        let msg = format!("{info}\n{bt}");
        if !QUIET_PANICS.load(SeqCst) {
            eprintln!("{msg}");
        }
        *PANIC_MSG.lock().unwrap_or_else(|e| e.into_inner()) = msg;
    }));

    let mut findings = 0;
    if a.replay {
        let Some((t, files)) = a.targets.split_first() else { usage("--replay needs a target") };
        let (name, f) = target(t);
        for file in files {
            let data = std::fs::read(file).unwrap_or_else(|e| usage(&format!("{file}: {e}")));
            let t0 = Instant::now();
            match run_one(name, f, Arc::new(data), start) {
                Ok(()) => println!("{file}: ok ({} ms)", t0.elapsed().as_millis()),
                Err(msg) => {
                    findings += 1;
                    println!("{file}: PANIC\n{msg}");
                }
            }
        }
        std::process::exit(if findings == 0 { 0 } else { 1 });
    }

    let names: Vec<String> = if a.targets.is_empty() {
        TARGETS.iter().map(|(n, _)| n.to_string()).collect()
    } else {
        a.targets.clone()
    };
    let targets: Vec<_> = names.iter().map(|t| target(t)).collect();
    println!("seed {} ({} s a target, timeout {} s, limit {} MiB)", a.seed, a.secs, a.timeout, a.rss_mb);
    let mut rng = Rng(a.seed);
    for (name, f) in targets {
        let files: Vec<PathBuf> = a.corpus.iter().flat_map(|d| files_in(&d.join(name))).collect();
        let seeds: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap_or_default()).collect();
        let max_len = seeds.iter().map(Vec::len).max().unwrap_or(0).max(4096) + 1024;
        let t0 = Instant::now();
        let mut execs = 0u64;
        let mut failed = None;
        for (file, seed) in files.iter().zip(&seeds) {
            execs += 1;
            if let Err(msg) = run_one(name, f, Arc::new(seed.clone()), start) {
                failed = Some(format!("seed {}: {msg}", file.display()));
                break;
            }
        }
        let replayed = execs;
        let until = t0 + Duration::from_secs(a.secs);
        while failed.is_none() && Instant::now() < until {
            let input = Arc::new(mutate(&mut rng, &seeds, max_len));
            execs += 1;
            if let Err(msg) = run_one(name, f, input.clone(), start) {
                let path = save(&a.artifacts, name, "crash", &input);
                failed = Some(format!("input ({} bytes) {}: {msg}", input.len(), path.display()));
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        match failed {
            None => println!("{name}: {replayed} seeds, {execs} executions in {secs:.1} s: clean"),
            Some(msg) => {
                findings += 1;
                println!("FINDING {name} panic: {msg}");
            }
        }
    }
    println!("fuzz smoke: {} targets, {findings} with findings", names.len());
    std::process::exit(if findings == 0 { 0 } else { 1 });
}
