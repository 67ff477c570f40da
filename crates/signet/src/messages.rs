//! The message catalog of the command line: every label and sentence the CLI prints for people,
//! in English and Chinese. The language comes from `SIGNET_LANG`, else `LC_ALL`/`LANG`
//! (`zh…` → Chinese), else English. JSON output is language-neutral and never goes through
//! here.
//!
//! Error details raised inside the pure cores are English for now; the CLI wraps them with a
//! localized prefix.

use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

pub fn lang() -> Lang {
    static LANG: OnceLock<Lang> = OnceLock::new();
    *LANG.get_or_init(|| {
        let pick = |v: &str| if v.to_ascii_lowercase().starts_with("zh") { Lang::Zh } else { Lang::En };
        for var in ["SIGNET_LANG", "LC_ALL", "LANG"] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty() {
                    return pick(&v);
                }
        }
        Lang::En
    })
}

/// Message keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Error,
    Valid,
    Invalid,
    Indeterminate,
    Revisions,
    Signatures,
    Problem,
    Signature,
    DocumentTimestamp,
    InField,
    Signer,
    SerialIssuedBy,
    Integrity,
    SignatureValueValid,
    ChainTrusted,
    Time,
    Timestamp,
    TimestampBy,
    Level,
    Certifies,
    Covers,
    RevisionOf,
    WholeFile,
    Note,
    Yes,
    No,
    Signed,
    DemoVerification,
    Intact,
    Broken,
    Unknown,
    FromTimestamp,
    Claimed,
}

/// The text of `m` in the current language.
pub fn t(m: Msg) -> &'static str {
    text(m, lang())
}

pub fn text(m: Msg, lang: Lang) -> &'static str {
    let (en, zh) = match m {
        Msg::Error => ("error", "错误"),
        Msg::Valid => ("VALID", "有效"),
        Msg::Invalid => ("INVALID", "无效"),
        Msg::Indeterminate => ("INDETERMINATE", "无法确定"),
        Msg::Revisions => ("revision(s)", "个修订版本"),
        Msg::Signatures => ("signature(s)", "个签名"),
        Msg::Problem => ("problem", "问题"),
        Msg::Signature => ("signature", "签名"),
        Msg::DocumentTimestamp => ("document time-stamp", "文档时间戳"),
        Msg::InField => ("in field", "位于签名域"),
        Msg::Signer => ("signer", "签署人"),
        Msg::SerialIssuedBy => ("serial {serial}, issued by {issuer}", "序列号 {serial}，签发者 {issuer}"),
        Msg::Integrity => ("integrity", "完整性"),
        Msg::SignatureValueValid => ("signature value valid", "签名值有效"),
        Msg::ChainTrusted => ("chain trusted", "证书链可信"),
        Msg::Time => ("time", "时间"),
        Msg::Timestamp => ("time-stamp", "时间戳"),
        Msg::TimestampBy => ("by", "签发方"),
        Msg::Level => ("level", "级别"),
        Msg::Certifies => ("certifies", "文档认证"),
        Msg::Covers => ("covers", "覆盖范围"),
        Msg::RevisionOf => ("revision {n} of {total}", "第 {n} 个修订版本（共 {total} 个）"),
        Msg::WholeFile => ("the whole file", "整个文件"),
        Msg::Note => ("note", "说明"),
        Msg::Yes => ("yes", "是"),
        Msg::No => ("no", "否"),
        Msg::Signed => ("signed {input} as {signer} ({level}) -> {output}", "已签署 {input}，签署人 {signer}（{level}）-> {output}"),
        Msg::DemoVerification => ("verification of {file}: {verdict}", "验证 {file}：{verdict}"),
        Msg::Intact => ("intact", "未被改动"),
        Msg::Broken => ("BROKEN (the signed bytes changed)", "已被破坏（签名内容被改动）"),
        Msg::Unknown => ("unknown", "未知"),
        Msg::FromTimestamp => ("from a trusted time-stamp", "来自可信时间戳"),
        Msg::Claimed => ("claimed by the signer", "签署人自称"),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// `t(m)` with `{name}` placeholders replaced.
pub fn tf(m: Msg, args: &[(&str, &str)]) -> String {
    let mut s = t(m).to_string();
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// `label:` padded to `width` terminal columns (CJK characters take two).
pub fn label(m: Msg, width: usize) -> String {
    let text = format!("{}:", t(m));
    let cols: usize = text.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(cols)))
}

pub fn yes_no(b: bool) -> &'static str {
    if b { t(Msg::Yes) } else { t(Msg::No) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Msg] = &[
        Msg::Error, Msg::Valid, Msg::Invalid, Msg::Indeterminate, Msg::Revisions, Msg::Signatures, Msg::Problem,
        Msg::Signature, Msg::DocumentTimestamp, Msg::InField, Msg::Signer, Msg::SerialIssuedBy, Msg::Integrity,
        Msg::SignatureValueValid, Msg::ChainTrusted, Msg::Time, Msg::Timestamp, Msg::TimestampBy, Msg::Level,
        Msg::Certifies, Msg::Covers, Msg::RevisionOf, Msg::WholeFile, Msg::Note, Msg::Yes, Msg::No, Msg::Signed,
        Msg::DemoVerification, Msg::Intact, Msg::Broken, Msg::Unknown, Msg::FromTimestamp, Msg::Claimed,
    ];

    #[test]
    fn every_message_exists_in_both_languages_with_the_same_placeholders() {
        for m in ALL {
            let en = text(*m, Lang::En);
            let zh = text(*m, Lang::Zh);
            assert!(!en.is_empty() && !zh.is_empty(), "{m:?}");
            assert_ne!(en, zh, "{m:?} is not translated");
            let holes = |s: &str| {
                let mut v: Vec<String> = s.split('{').skip(1).filter_map(|p| p.split('}').next().map(str::to_string)).collect();
                v.sort();
                v
            };
            assert_eq!(holes(en), holes(zh), "{m:?} placeholders differ");
        }
    }
}
