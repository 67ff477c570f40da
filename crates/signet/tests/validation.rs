//! The validation engine against what others made: the public sample corpus (pyHanko and EU
//! DSS test files, `tests/data/corpora/EXPECTED.tsv`), our own attack fixtures
//! (`tests/attacks/make_attacks.py`: USF, ISA, SWA, shadow, Evil Annotation, Sneaky Signature,
//! each next to an honest counterpart), and pyHanko's own verdicts on both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const SIGNET: &str = env!("CARGO_BIN_EXE_signet");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpora")
}

fn signet(args: &[&std::ffi::OsStr], dir: &Path) -> Output {
    Command::new(SIGNET).args(args).current_dir(dir).env("SIGNET_LANG", "en").stdin(Stdio::null()).output().expect("run signet")
}

/// One row of EXPECTED.tsv.
struct Expected {
    path: String,
    class: String,
    modification: String,
}

fn expected() -> Vec<Expected> {
    let text = std::fs::read_to_string(corpora().join("EXPECTED.tsv")).expect("EXPECTED.tsv");
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 3, "EXPECTED.tsv line {}: {line:?}", i + 1);
        rows.push(Expected { path: cols[0].into(), class: cols[1].into(), modification: cols[2].into() });
    }
    rows
}

/// "OK" when every signature is intact with a valid signature value and no change after
/// signing is forbidden (trust aside: these are test certificates); "REJECT" otherwise.
fn class_of(report: &Value) -> &'static str {
    if report.get("error").is_some() {
        return "REJECT";
    }
    let sigs = report["signatures"].as_array().cloned().unwrap_or_default();
    let ok = !sigs.is_empty()
        && report["problems"].as_array().is_some_and(|p| p.is_empty())
        && report["document"]["modification"]["verdict"] != "NOT_PERMITTED"
        && sigs.iter().all(|s| s["integrity"] == "intact" && s["crypto_valid"] == true && s["indication"] != "TOTAL_FAILED");
    if ok { "OK" } else { "REJECT" }
}

fn json_lines(out: &Output) -> BTreeMap<String, Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .map(|v| (v["file"].as_str().unwrap_or_default().to_string(), v))
        .collect()
}

#[test]
fn corpus_verdicts_match_expected() {
    let rows = expected();
    assert!(rows.len() >= 52, "EXPECTED.tsv lists {} files", rows.len());
    let mut args: Vec<&std::ffi::OsStr> = vec!["verify".as_ref(), "--json".as_ref()];
    args.extend(rows.iter().map(|r| std::ffi::OsStr::new(&r.path)));
    let out = signet(&args, &corpora());
    // Test certificates are untrusted: nothing is VALID, so the run exits 1 — never 2 (every
    // input is a PDF, however broken).
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let reports = json_lines(&out);
    let mut wrong = Vec::new();
    for r in &rows {
        let Some(rep) = reports.get(&r.path) else {
            wrong.push(format!("{}: no report", r.path));
            continue;
        };
        assert_eq!(rep["schema"], "signet.verify/v1");
        assert!(rep.get("error").is_none(), "{}: {}", r.path, rep["error"]);
        assert_ne!(rep["verdict"], "VALID", "{}: valid without a trust anchor", r.path);
        let class = class_of(rep);
        let modification = rep["document"]["modification"]["verdict"].as_str().unwrap_or_default();
        if class != r.class || (r.modification != "-" && modification != r.modification) {
            wrong.push(format!(
                "{}: expected {} / {}, got {class} / {modification}: {}",
                r.path,
                r.class,
                r.modification,
                serde_json::to_string(&rep["signatures"]).unwrap_or_default()
            ));
        }
        // A REJECT never passes: the document verdict is INVALID (a failed signature, a
        // forbidden change, no signature or an unreadable structure) or at best INDETERMINATE
        // only where a signature is merely unprovable.
        if r.class == "REJECT" {
            assert_ne!(rep["verdict"], "VALID", "{}", r.path);
        }
    }
    assert!(wrong.is_empty(), "{} corpus file(s) off:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn a_batch_prints_one_line_per_file_in_order() {
    let rows = expected();
    let files: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
    let mut args: Vec<&std::ffi::OsStr> = vec!["verify".as_ref(), "--jobs".as_ref(), "3".as_ref()];
    args.extend(files.iter().map(std::ffi::OsStr::new));
    let out = signet(&args, &corpora());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), files.len(), "{text}");
    for (line, file) in lines.iter().zip(&files) {
        assert!(line.starts_with(&format!("{file}: ")), "{line} (expected {file})");
        assert!(line.contains("INVALID") || line.contains("INDETERMINATE"), "{line}");
    }
    // A file that cannot be read in the batch: exit 2, the others still reported.
    let args: Vec<&std::ffi::OsStr> = vec!["verify".as_ref(), "--json".as_ref(), files[0].as_ref(), "no-such.pdf".as_ref(), files[1].as_ref()];
    let out = signet(&args, &corpora());
    assert_eq!(out.status.code(), Some(2));
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 3);
    assert!(reports["no-such.pdf"]["error"].is_string());
}

#[test]
fn every_signed_field_is_reported_and_shadow_attacks_keep_the_signed_revision() {
    // Two signatures whose byte ranges overlap: both appear, one fails on its byte range.
    let dir = corpora();
    let f = "dss/dss-pades/src/test/resources/validation/pdf-byterange-overlap.pdf";
    let rep = &json_lines(&signet(&["verify".as_ref(), "--json".as_ref(), f.as_ref()], &dir))[f];
    let sigs = rep["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{rep}");
    assert!(sigs.iter().any(|s| s["sub_indication"] == "FORMAT_FAILURE"), "{rep}");
    assert_eq!(rep["verdict"], "INVALID");

    // Pages removed after signing: the signature stays intact for its revision, the document fails.
    let f = "dss/dss-pades/src/test/resources/validation/pdf-removed-pages.pdf";
    let rep = &json_lines(&signet(&["verify".as_ref(), "--json".as_ref(), f.as_ref()], &dir))[f];
    let s = &rep["signatures"][0];
    assert_eq!(s["integrity"], "intact", "{rep}");
    assert_eq!(s["modification_after"], "NOT_PERMITTED");
    assert!(s["covered_revision"].as_u64().unwrap() < rep["document"]["revisions"].as_u64().unwrap());
    let changes = rep["document"]["modification"]["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["kind"] == "pages_added_or_removed" && c["permitted"] == false), "{rep}");
    assert_eq!(rep["verdict"], "INVALID");

    // One signature value shown by two fields: one signature, both names.
    let f = "dss/dss-pades/src/test/resources/validation/signature-referenced-from-multiple-fields.pdf";
    let rep = &json_lines(&signet(&["verify".as_ref(), "--json".as_ref(), f.as_ref()], &dir))[f];
    assert_eq!(rep["signatures"].as_array().unwrap().len(), 1, "{rep}");
    assert_eq!(rep["signatures"][0]["also_in_fields"].as_array().unwrap().len(), 1, "{rep}");

    // A SHA-1 signature by an RSA-1024 key still verifies (intact, valid value) but is flagged.
    let f = "dss/dss-pades/src/test/resources/validation/pades-multiple-pages-annots-overlap.pdf";
    let rep = &json_lines(&signet(&["verify".as_ref(), "--json".as_ref(), f.as_ref()], &dir))[f];
    let weak = rep["signatures"].as_array().unwrap().iter().find(|s| s["signer"]["key"] == "RSA 1024").expect("an RSA-1024 signer");
    assert_eq!(weak["crypto_valid"], true, "{weak}");
    assert!(weak["notes"].to_string().contains("SHA-1 and an RSA key of 1024 bits"), "{weak}");

    // The text report lists the changes (and says which are not permitted), in both languages.
    let f = "dss/dss-pades/src/test/resources/validation/pdf-signed-added-page.pdf";
    let text = String::from_utf8_lossy(&signet(&["verify".as_ref(), f.as_ref()], &dir).stdout).into_owned();
    assert!(text.contains("pages were added or removed") && text.contains("NOT PERMITTED"), "{text}");
    let zh = Command::new(SIGNET).args(["verify", f]).current_dir(&dir).env("SIGNET_LANG", "zh").output().unwrap();
    let zh = String::from_utf8_lossy(&zh.stdout);
    assert!(zh.contains("页面被增加或删除") && zh.contains("不允许"), "{zh}");
}

/// Generates the attack fixtures into a temp dir (Python standard library only).
fn attack_fixtures() -> (tempfile::TempDir, PathBuf, Vec<Value>) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("attacks");
    let made = Command::new("python3")
        .arg(repo().join("tests/attacks/make_attacks.py"))
        .args(["--signet".as_ref(), SIGNET.as_ref(), "--out".as_ref(), out.as_os_str()] as [&std::ffi::OsStr; 4])
        .env("SIGNET_LANG", "en")
        .output()
        .expect("python3");
    assert!(made.status.success(), "make_attacks.py failed:\n{}\n{}", String::from_utf8_lossy(&made.stdout), String::from_utf8_lossy(&made.stderr));
    let manifest: Vec<Value> = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    (tmp, out, manifest)
}

#[test]
fn attacks_fail_and_honest_counterparts_pass() {
    let (_tmp, dir, manifest) = attack_fixtures();
    let kinds: BTreeSet<&str> = manifest.iter().filter_map(|e| e["attack"].as_str()).collect();
    for k in ["USF", "ISA", "SWA", "shadow", "EAA", "SSA"] {
        assert!(kinds.iter().any(|x| x.eq_ignore_ascii_case(k) || x.to_ascii_lowercase().starts_with(&k.to_ascii_lowercase())), "no {k} fixture in {kinds:?}");
    }
    let root = dir.join("ca/root.pem");
    let mut wrong = Vec::new();
    for e in &manifest {
        let file = e["file"].as_str().unwrap();
        let pass = e["expect"] == "pass";
        let json = signet(&["verify".as_ref(), "--trust".as_ref(), root.as_os_str(), "--json".as_ref(), file.as_ref()], &dir);
        let text = signet(&["verify".as_ref(), "--trust".as_ref(), root.as_os_str(), file.as_ref()], &dir);
        let rep = json_lines(&json).remove(file).unwrap_or(Value::Null);
        let want = if pass { Some(0) } else { Some(1) };
        if json.status.code() != want || text.status.code() != want {
            wrong.push(format!(
                "{file} ({}): exit {:?} (json) / {:?} (text), want {want:?}: {}",
                e["what"],
                json.status.code(),
                text.status.code(),
                String::from_utf8_lossy(&text.stdout)
            ));
            continue;
        }
        assert_eq!(rep["verdict"], if pass { "VALID" } else { "INVALID" }, "{file}");
        // Where the attack lives after the signature, the signature itself is still reported
        // intact for the revision it covers, and the document's changes are what fail.
        if !pass && e["signed_revision_intact"] == true && e["attack"] != "SWA" {
            let first = &rep["signatures"][0];
            assert_eq!(first["integrity"], "intact", "{file}: {rep}");
            assert_eq!(rep["document"]["modification"]["verdict"], "NOT_PERMITTED", "{file}: {rep}");
            assert!(
                rep["document"]["modification"]["changes"].as_array().unwrap().iter().any(|c| c["permitted"] == false),
                "{file}: {rep}"
            );
        }
        if !pass && e["signed_revision_intact"] == false {
            assert!(rep["signatures"].as_array().unwrap().iter().any(|s| s["indication"] == "TOTAL_FAILED"), "{file}: {rep}");
        }
    }
    assert!(wrong.is_empty(), "{} fixture(s) judged wrongly:\n{}", wrong.len(), wrong.join("\n"));
}

fn python() -> PathBuf {
    std::env::var_os("SIGNET_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/signet-venv/bin/python")
    })
}

/// pyHanko's OK/REJECT for each file (tests/corpus/pyhanko_classify.py).
fn pyhanko_classes(dir: &Path, files: &[String]) -> BTreeMap<String, (String, String)> {
    let py = python();
    assert!(py.is_file(), "pyHanko's python {} is missing: run `bash .ci/run` once, or set SIGNET_PYTHON", py.display());
    let out = Command::new(&py)
        .arg(repo().join("tests/corpus/pyhanko_classify.py"))
        .args(files)
        .current_dir(dir)
        .output()
        .expect("run pyhanko_classify.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    json_lines(&out)
        .into_iter()
        .map(|(f, v)| (f, (v["class"].as_str().unwrap_or_default().to_string(), v["detail"].as_str().unwrap_or_default().to_string())))
        .collect()
}

/// The paths PYHANKO_DIFFERENCES.md lists (lines "- `path`").
fn documented_differences() -> BTreeSet<String> {
    let text = std::fs::read_to_string(corpora().join("PYHANKO_DIFFERENCES.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("- `").and_then(|r| r.strip_suffix('`')))
        .map(str::to_string)
        .collect()
}

#[test]
fn pyhanko_agrees_except_where_documented() {
    // The corpus: our verdict class against pyHanko's, file by file.
    let rows = expected();
    let files: Vec<String> = rows.iter().map(|r| r.path.clone()).collect();
    let theirs = pyhanko_classes(&corpora(), &files);
    let mut args: Vec<&std::ffi::OsStr> = vec!["verify".as_ref(), "--json".as_ref()];
    args.extend(files.iter().map(std::ffi::OsStr::new));
    let ours = json_lines(&signet(&args, &corpora()));
    let mut differ = BTreeSet::new();
    let mut detail = Vec::new();
    for f in &files {
        let (tc, td) = theirs.get(f).cloned().unwrap_or_else(|| ("MISSING".into(), String::new()));
        let oc = ours.get(f).map(class_of).unwrap_or("MISSING");
        if tc != oc {
            differ.insert(f.clone());
            detail.push(format!("{f}: pyHanko {tc}, ours {oc} ({td})"));
        }
    }
    let documented = documented_differences();
    assert_eq!(differ, documented, "undocumented or stale differences with pyHanko:\n{}", detail.join("\n"));

    // Our attack fixtures: pyHanko rejects every attack too; of the honest ones it refuses only
    // the sticky note on a P=3 document (pyHanko treats every annotation change as unsafe; ISO
    // 32000 DocMDP P=3 permits annotations, and ours permits the kinds that cannot paint over
    // the page).
    let (_tmp, dir, manifest) = attack_fixtures();
    let files: Vec<String> = manifest.iter().map(|e| e["file"].as_str().unwrap().to_string()).collect();
    let theirs = pyhanko_classes(&dir, &files);
    let mut off = Vec::new();
    for e in &manifest {
        let f = e["file"].as_str().unwrap();
        let (tc, td) = &theirs[f];
        let want = if e["expect"] == "pass" { "OK" } else { "REJECT" };
        if tc != want && f != "honest-p3-sticky-note.pdf" {
            off.push(format!("{f}: pyHanko {tc} ({td})"));
        }
    }
    assert!(off.is_empty(), "pyHanko disagrees on attack fixtures:\n{}", off.join("\n"));
    assert_eq!(theirs["honest-p3-sticky-note.pdf"].0, "REJECT", "pyHanko now accepts the sticky note: drop the exception");
}
