//! The offline evidence bundle: a zip read back with the `zip` crate, refused names, and the
//! README's commands.

use std::io::{Cursor, Read};

use signet_report::{Error, Lang, bundle_readme, bundle_zip};

fn files() -> Vec<(String, Vec<u8>)> {
    let mut v = vec![
        ("signed.pdf".to_owned(), b"%PDF-1.7\n...signed...".to_vec()),
        ("evidence.pdf".to_owned(), b"%PDF-1.7\n...report...".to_vec()),
        ("root.pem".to_owned(), b"-----BEGIN CERTIFICATE-----\n".to_vec()),
        ("log.vkey".to_owned(), b"signet.example/evidence+1f2e3d4c+AQ==\n".to_vec()),
        ("witness-a.vkey".to_owned(), b"witness.example+01020304+AQ==\n".to_vec()),
        ("empty.entry".to_owned(), Vec::new()),
        ("合同-张三.pdf".to_owned(), vec![0u8; 10]),
        ("events/0003-signed.entry".to_owned(), br#"{"schema":"signet.evidence/v1"}"#.to_vec()),
    ];
    // A large, incompressible-ish file.
    v.push(("big.bin".to_owned(), (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()));
    v
}

#[test]
fn the_bundle_reads_back_with_the_same_names_and_bytes() {
    let files = files();
    let zip = bundle_zip(&files).unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(&zip)).unwrap();
    assert_eq!(archive.len(), files.len());
    for (i, (name, bytes)) in files.iter().enumerate() {
        let mut f = archive.by_index(i).unwrap();
        assert_eq!(f.name().unwrap(), name.as_str());
        assert_eq!(f.compression(), zip::CompressionMethod::Deflated);
        assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o644));
        let mut back = Vec::new();
        f.read_to_end(&mut back).unwrap();
        assert_eq!(&back, bytes, "{name}");
    }
    // Same files, same bytes: no clock in the archive.
    assert_eq!(bundle_zip(&files).unwrap(), zip);
    // An empty bundle is a valid, empty zip.
    let empty = bundle_zip(&[]).unwrap();
    assert_eq!(zip::ZipArchive::new(Cursor::new(&empty)).unwrap().len(), 0);
}

#[test]
fn unsafe_names_are_refused() {
    for bad in [
        "/etc/passwd",
        "../evil.sh",
        "events/../../evil.sh",
        "events/..",
        "a\\b.pdf",
        "..\\evil.sh",
        "C:evil",
        "",
        "dir/",
        "a//b",
        "./signed.pdf",
        "line\nbreak",
    ] {
        let mut f = files();
        f.push((bad.to_owned(), b"x".to_vec()));
        match bundle_zip(&f) {
            Err(Error::UnsafeName { name, .. }) => assert_eq!(name, bad),
            other => panic!("{bad:?} accepted: {:?}", other.map(|z| z.len())),
        }
    }
}

#[test]
fn duplicate_names_are_refused() {
    for dup in ["signed.pdf", "SIGNED.PDF", "events", "big.bin/inner"] {
        let mut f = files();
        f.push((dup.to_owned(), b"x".to_vec()));
        assert_eq!(bundle_zip(&f), Err(Error::DuplicateName(dup.to_owned())), "{dup}");
    }
    // A folder named after an earlier file, and a file named after an earlier folder.
    let f = vec![("a".to_owned(), vec![]), ("a/b".to_owned(), vec![])];
    assert!(matches!(bundle_zip(&f), Err(Error::DuplicateName(_))));
    let f = vec![("a/b".to_owned(), vec![]), ("a".to_owned(), vec![])];
    assert!(matches!(bundle_zip(&f), Err(Error::DuplicateName(_))));
}

#[test]
fn the_readme_gives_both_commands_for_every_file() {
    let names = [
        "signed.pdf",
        "evidence.pdf",
        "root.pem",
        "log.vkey",
        "witness-a.vkey",
        "0001-sent.entry",
        "0001-sent.tlog-proof",
        "0002-signed.entry",
        "0002-signed.tlog-proof",
        "orphan.tlog-proof",
        "README.txt",
    ];
    let both = bundle_readme(Lang::Bilingual, "HT-2026-000123", &names);
    assert!(both.contains("HT-2026-000123"));
    assert!(both.contains("signet verify --trust root.pem signed.pdf"));
    assert!(!both.contains("signet verify --trust root.pem evidence.pdf"), "the report is not a signed document");
    for stem in ["0001-sent", "0002-signed"] {
        let cmd = format!(
            "signet log verify-proof {stem}.tlog-proof --entry {stem}.entry --log-key log.vkey --witness-key witness-a.vkey"
        );
        assert_eq!(both.matches(&cmd).count(), 2, "{cmd} once per language:\n{both}");
    }
    assert!(!both.contains("orphan.entry"), "a proof without its entry gets no command");
    assert!(both.contains("校验") && both.contains("Check the signatures"));

    let zh = bundle_readme(Lang::Zh, "X", &names);
    let en = bundle_readme(Lang::En, "X", &names);
    assert!(zh.contains("离线证据包") && !zh.contains("Offline evidence bundle"));
    assert!(en.contains("Offline evidence bundle") && !en.contains("离线证据包"));
    // Names that need quoting are quoted for the shell.
    let q = bundle_readme(Lang::En, "X", &["合同 一.pdf", "root.pem", "log.vkey"]);
    assert!(q.contains("signet verify --trust root.pem '合同 一.pdf'"), "{q}");
}
