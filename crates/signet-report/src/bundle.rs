//! The offline evidence bundle: one zip with everything needed to check a contract without
//! the platform — the signed PDF(s), the evidence report, the root certificate, the log's
//! (and witnesses') verifier keys, and for each evidence event its entry and `tlog-proof`.
//!
//! [`bundle_zip`] only packs: the caller decides the files (conventionally
//! [`SIGNED_PDF`], [`EVIDENCE_PDF`], [`ROOT_PEM`], [`LOG_VKEY`], `witness-*.vkey`,
//! `NAME.entry` + `NAME.tlog-proof`, and [`README`] from [`bundle_readme`]). Names are checked
//! so that unpacking the bundle anywhere, on any system, writes only inside the target folder.

use std::collections::BTreeSet;
use std::io::{Cursor, Write};

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::{Error, Lang};

/// The signed contract document.
pub const SIGNED_PDF: &str = "signed.pdf";
/// The evidence report.
pub const EVIDENCE_PDF: &str = "evidence.pdf";
/// The platform's root certificate, the trust anchor for `signet verify`.
pub const ROOT_PEM: &str = "root.pem";
/// The evidence log's verifier key.
pub const LOG_VKEY: &str = "log.vkey";
/// How to check the bundle.
pub const README: &str = "README.txt";
/// The extension of an evidence entry file.
pub const ENTRY_EXT: &str = ".entry";
/// The extension of an offline inclusion proof file.
pub const PROOF_EXT: &str = ".tlog-proof";

/// Longest file name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// Packs `files` (name, bytes) into a zip, in the order given, each deflated, with mode 0644
/// and the fixed time 1980-01-01 00:00 (zip's epoch) so that the same files give the same
/// bytes.
///
/// Refuses ([`Error::UnsafeName`]) an empty name, one longer than [`MAX_NAME_LEN`] bytes, an
/// absolute path, a backslash, a colon (a Windows drive or stream), a control character, and
/// an empty, `.` or `..` path component; refuses ([`Error::DuplicateName`]) a name given
/// twice — compared ignoring ASCII case, as Windows and macOS unpack them onto one file — or
/// used both as a file and as a folder.
pub fn bundle_zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, Error> {
    let mut seen_files = BTreeSet::new();
    let mut seen_dirs = BTreeSet::new();
    for (name, _) in files {
        check_name(name)?;
        let key = name.to_ascii_lowercase();
        if seen_dirs.contains(&key) || !seen_files.insert(key.clone()) {
            return Err(Error::DuplicateName(name.clone()));
        }
        for (i, _) in key.match_indices('/') {
            let dir = &key[..i];
            if seen_files.contains(dir) {
                return Err(Error::DuplicateName(name.clone()));
            }
            seen_dirs.insert(dir.to_owned());
        }
    }

    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        let options = SimpleFileOptions::DEFAULT
            .compression_method(CompressionMethod::Deflated)
            .unix_permissions(0o644)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(name.as_str(), options).map_err(|e| Error::Zip(e.to_string()))?;
        zip.write_all(bytes).map_err(|e| Error::Zip(e.to_string()))?;
    }
    let cursor = zip.finish().map_err(|e| Error::Zip(e.to_string()))?;
    Ok(cursor.into_inner())
}

/// Checks that `name` unpacks inside the target folder on every system.
fn check_name(name: &str) -> Result<(), Error> {
    let unsafe_name = |reason: &'static str| Err(Error::UnsafeName { name: name.to_owned(), reason });
    if name.is_empty() {
        return unsafe_name("empty");
    }
    if name.len() > MAX_NAME_LEN {
        return unsafe_name("longer than 255 bytes");
    }
    if name.starts_with('/') {
        return unsafe_name("absolute path");
    }
    if name.contains('\\') {
        return unsafe_name("backslash");
    }
    if name.contains(':') {
        return unsafe_name("colon");
    }
    if name.chars().any(char::is_control) {
        return unsafe_name("control character");
    }
    for part in name.split('/') {
        match part {
            "" => return unsafe_name("empty path component"),
            "." | ".." => return unsafe_name("'.' or '..' path component"),
            _ => {}
        }
    }
    Ok(())
}

/// The bundle's `README.txt`: what each file is and the commands that check it, for the
/// bundle whose file names are `names` (the other entries of the zip).
///
/// Every `*.pdf` but [`EVIDENCE_PDF`] gets a `signet verify --trust root.pem` line; every
/// `NAME.tlog-proof` with a `NAME.entry` beside it gets a `signet log verify-proof` line;
/// every `*.vkey` but [`LOG_VKEY`] is passed as a `--witness-key`. `Lang::Bilingual` writes
/// the Chinese text, then the English.
pub fn bundle_readme(lang: Lang, contract_number: &str, names: &[&str]) -> String {
    let pdfs: Vec<&str> =
        names.iter().copied().filter(|n| n.to_ascii_lowercase().ends_with(".pdf") && *n != EVIDENCE_PDF).collect();
    let witnesses: Vec<&str> = names.iter().copied().filter(|n| n.ends_with(".vkey") && *n != LOG_VKEY).collect();
    let entries: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_suffix(PROOF_EXT))
        .filter(|stem| names.contains(&format!("{stem}{ENTRY_EXT}").as_str()))
        .collect();
    let witness_args: String = witnesses.iter().map(|w| format!(" --witness-key {}", quote(w))).collect();
    let verify_lines: Vec<String> =
        pdfs.iter().map(|p| format!("    signet verify --trust {ROOT_PEM} {}", quote(p))).collect();
    let proof_lines: Vec<String> = entries
        .iter()
        .map(|stem| {
            format!(
                "    signet log verify-proof {} --entry {} --log-key {LOG_VKEY}{witness_args}",
                quote(&format!("{stem}{PROOF_EXT}")),
                quote(&format!("{stem}{ENTRY_EXT}"))
            )
        })
        .collect();
    let loop_line = format!(
        "    for p in *{PROOF_EXT}; do signet log verify-proof \"$p\" --entry \"${{p%{PROOF_EXT}}}{ENTRY_EXT}\" --log-key {LOG_VKEY}{witness_args}; done"
    );

    let zh = {
        let mut s = format!("离线证据包 — 合同编号 {contract_number}\n{}\n\n", "=".repeat(40));
        s.push_str("本证据包可脱离平台独立核验，只需 signet 命令行工具。\n\n");
        s.push_str("文件说明：\n");
        for p in &pdfs {
            s.push_str(&format!("  {p}  已签署的合同文件（PAdES 签名，含时间戳与验证数据）\n"));
        }
        s.push_str(&format!("  {EVIDENCE_PDF}  签约存证页（签署人、时间、IP、认证方式、证书、日志索引与包含证明）\n"));
        s.push_str(&format!("  {ROOT_PEM}  平台根证书（签名信任锚）\n"));
        s.push_str(&format!("  {LOG_VKEY}  存证日志公钥\n"));
        for w in &witnesses {
            s.push_str(&format!("  {w}  见证方公钥\n"));
        }
        s.push_str(&format!(
            "  NAME{ENTRY_EXT} / NAME{PROOF_EXT}  每个证据事件的原始记录及其离线包含证明（共 {} 个）\n\n",
            entries.len()
        ));
        s.push_str("一、校验文件签名（结果应为全部签名有效、文件未被篡改）：\n");
        s.push_str(&lines_or(&verify_lines, "    （本包不含已签署文件）"));
        s.push_str("\n二、逐条校验证据事件已写入存证日志：\n");
        s.push_str(&lines_or(&proof_lines, "    （本包不含证据事件）"));
        s.push_str("\n  或一次校验全部事件：\n");
        s.push_str(&loop_line);
        s.push_str(
            "\n\n每条命令成功时退出码为 0。可将 signed.pdf 的 SHA-256（sha256sum）与存证页所列“签署后 SHA-256”比对。\n",
        );
        s
    };
    let en = {
        let mut s = format!("Offline evidence bundle — contract {contract_number}\n{}\n\n", "=".repeat(40));
        s.push_str(
            "This bundle can be checked without the platform; all it takes is the signet command line tool.\n\n",
        );
        s.push_str("Files:\n");
        for p in &pdfs {
            s.push_str(&format!(
                "  {p}  the signed contract document (PAdES signatures with time-stamps and validation data)\n"
            ));
        }
        s.push_str(&format!(
            "  {EVIDENCE_PDF}  the evidence report (signers, times, IP addresses, identity checks, certificates, log indexes and inclusion proofs)\n"
        ));
        s.push_str(&format!("  {ROOT_PEM}  the platform's root certificate (the trust anchor for signatures)\n"));
        s.push_str(&format!("  {LOG_VKEY}  the evidence log's verifier key\n"));
        for w in &witnesses {
            s.push_str(&format!("  {w}  a witness's verifier key\n"));
        }
        s.push_str(&format!(
            "  NAME{ENTRY_EXT} / NAME{PROOF_EXT}  each evidence event as logged, and its offline inclusion proof ({} events)\n\n",
            entries.len()
        ));
        s.push_str("1. Check the signatures (every signature should be valid and the document unmodified):\n");
        s.push_str(&lines_or(&verify_lines, "    (this bundle holds no signed document)"));
        s.push_str("\n2. Check that each evidence event is in the evidence log:\n");
        s.push_str(&lines_or(&proof_lines, "    (this bundle holds no evidence events)"));
        s.push_str("\n   or all of them at once:\n");
        s.push_str(&loop_line);
        s.push_str(
            "\n\nEach command exits with 0 on success. The SHA-256 of signed.pdf (sha256sum) can be compared with the \"Signed SHA-256\" in the evidence report.\n",
        );
        s
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
        Lang::Bilingual => format!("{zh}\n\n{en}"),
    }
}

fn lines_or(lines: &[String], empty: &str) -> String {
    if lines.is_empty() { format!("{empty}\n") } else { lines.iter().map(|l| format!("{l}\n")).collect() }
}

/// Quotes a file name for a POSIX shell when it holds anything but safe characters.
fn quote(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/+=@%,".contains(c)) {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for ok in ["signed.pdf", "events/0001-signed.entry", "张三.pdf", "a..b", ".hidden"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a\\b", "C:x", "a//b", "dir/", ".", "..", "a\nb"] {
            assert!(matches!(check_name(bad), Err(Error::UnsafeName { .. })), "{bad:?}");
        }
        assert!(check_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(quote("0001-signed.entry"), "0001-signed.entry");
        assert_eq!(quote("it's here.pdf"), "'it'\\''s here.pdf'");
        assert_eq!(quote("合同.pdf"), "'合同.pdf'");
    }
}
