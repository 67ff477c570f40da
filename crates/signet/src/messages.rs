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
    FromUntrustedTimestamp,
    Claimed,
    Modifications,
    ModNone,
    ModPermitted,
    ModNotPermitted,
    Permitted,
    NotPermitted,
    Revision,
    Summary,
    LogEntryIncluded,
    LogProofInvalid,
    LogAuditOk,
    LogAuditFailed,
    LogStateUnchanged,
    LogHistoryExtends,
    LogHistoryFirst,
    LogNothingAppended,
    AdminCheckCounts,
    AdminCheckOk,
    AdminProblems,
    AdminDeployment,
    AdminCheckProgress,
    AdminResealed,
    AdminNoOlderKey,
    AdminRetirable,
    AdminCopySummary,
    AdminCopyProgress,
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
        Msg::FromUntrustedTimestamp => ("from a time-stamp by an untrusted authority", "来自不受信任机构的时间戳"),
        Msg::Claimed => ("claimed by the signer", "签署人自称"),
        Msg::Modifications => ("changes after signing", "签署后的改动"),
        Msg::ModNone => ("none", "无"),
        Msg::ModPermitted => ("permitted changes only", "仅有允许的改动"),
        Msg::ModNotPermitted => ("NOT PERMITTED changes", "存在不允许的改动"),
        Msg::Permitted => ("permitted", "允许"),
        Msg::NotPermitted => ("NOT PERMITTED", "不允许"),
        Msg::Revision => ("revision {n}", "修订版本 {n}"),
        Msg::Summary => ("{verdict} ({sigs} signature(s), changes after signing: {mods})", "{verdict}（{sigs} 个签名，签署后的改动：{mods}）"),
        Msg::LogEntryIncluded => ("VALID: the entry is in the log", "有效：该条目在日志中"),
        Msg::LogProofInvalid => ("INVALID: {reason}", "无效：{reason}"),
        Msg::LogAuditOk => ("OK: the log {origin} is consistent", "通过：日志 {origin} 前后一致"),
        Msg::LogAuditFailed => ("AUDIT FAILED: {reason}", "审计未通过：{reason}"),
        Msg::LogStateUnchanged => ("the state file {file} was left unchanged", "状态文件 {file} 未改动"),
        Msg::LogHistoryExtends => (
            "  history:   extends the previous audit at size {size} (root {root})",
            "  历史：      延续上次审计（大小 {size}，根哈希 {root}）",
        ),
        Msg::LogHistoryFirst => ("  history:   first audit (no previous state)", "  历史：      首次审计（无先前状态）"),
        Msg::LogNothingAppended => (
            "no entries in the input (empty lines are skipped); nothing appended",
            "输入中没有条目（空行会被跳过）；未追加任何内容",
        ),
        Msg::AdminCheckCounts => (
            "organisations: {orgs}\ncontracts: {contracts}\ndocuments: {documents} ({blobs} stored versions opened)\nevents: {events} ({proofs} inclusion proofs verified, {unlogged} not in the log yet)\nlog size: {size}",
            "机构：{orgs}\n合同：{contracts}\n文件：{documents}（已打开 {blobs} 个存储版本）\n事件：{events}（已验证 {proofs} 个包含证明，{unlogged} 个尚未写入日志）\n日志大小：{size}",
        ),
        Msg::AdminCheckOk => (
            "OK: every document opens and matches its contract, every proof verifies",
            "通过：每份文件都能打开且与其合同一致，每个证明都验证通过",
        ),
        Msg::AdminProblems => ("{n} problem(s):", "{n} 个问题："),
        Msg::AdminDeployment => ("deployment", "部署"),
        Msg::AdminCheckProgress => ("checked {contracts} contracts, {proofs} proofs ({secs} s)…", "已检查 {contracts} 份合同、{proofs} 个证明（{secs} 秒）…"),
        Msg::AdminResealed => (
            "sealed again by master key {key}: {orgs} organisation key(s), {files} deployment file(s), {totp} TOTP secret(s), {answers} stored answer(s)",
            "已用主密钥 {key} 重新封装：{orgs} 个机构密钥、{files} 个部署文件、{totp} 个 TOTP 密钥、{answers} 个已存应答",
        ),
        Msg::AdminNoOlderKey => ("no older master key is in use", "没有仍在使用的旧主密钥"),
        Msg::AdminRetirable => (
            "nothing needs master key(s) {keys} any more: remove the key file (keep a copy with the backups taken before now)",
            "已不再需要主密钥 {keys}：可删除该密钥文件（与此前的备份一起保留一份副本）",
        ),
        Msg::AdminCopySummary => (
            "objects: {objects}\ncopied: {copied} ({bytes} bytes)\nskipped (already there): {skipped}\nfailed: {failed}",
            "对象：{objects}\n已复制：{copied}（{bytes} 字节）\n已跳过（目标已有）：{skipped}\n失败：{failed}",
        ),
        Msg::AdminCopyProgress => (
            "{objects} objects: {copied} copied, {skipped} skipped, {failed} failed ({secs} s)…",
            "{objects} 个对象：已复制 {copied}，跳过 {skipped}，失败 {failed}（{secs} 秒）…",
        ),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// A sentence for a change found after signing; placeholders `{field}`, `{page}`,
/// `{subtype}`, `{key}`, `{object}`.
pub fn change_text(kind: signet_verify::modification::ChangeKind, lang: Lang) -> &'static str {
    use signet_verify::modification::ChangeKind as K;
    let (en, zh) = match kind {
        K::DssUpdated => ("validation data (DSS) added or updated", "添加或更新了验证数据（DSS）"),
        K::DocumentTimestampAdded => ("a document time-stamp was added", "添加了文档时间戳"),
        K::MetadataChanged => ("document metadata updated", "更新了文档元数据"),
        K::SignatureAdded => ("the prepared signature field {field} was signed", "预留签名域 {field} 已被签署"),
        K::SignatureFieldAdded => ("a new signature field {field} was added and signed", "新增并签署了签名域 {field}"),
        K::EmptySignatureFieldAdded => ("an empty signature field {field} was added", "新增了空签名域 {field}"),
        K::FormFilled => ("form field {field} was filled in", "表单域 {field} 被填写"),
        K::AnnotationAdded => ("a /{subtype} annotation was added on page {page}", "第 {page} 页新增了 /{subtype} 注释"),
        K::AnnotationChanged => ("a /{subtype} annotation on page {page} was changed", "第 {page} 页的 /{subtype} 注释被修改"),
        K::AnnotationRemoved => ("an annotation was removed from page {page}", "第 {page} 页的注释被删除"),
        K::PagesAddedOrRemoved => ("pages were added or removed", "页面被增加或删除"),
        K::PageChanged => ("page {page} was changed (/{key})", "第 {page} 页被修改（/{key}）"),
        K::PageTreeChanged => ("the page tree was changed (/{key})", "页面树被修改（/{key}）"),
        K::CatalogChanged => ("the document catalog was changed (/{key})", "文档目录被修改（/{key}）"),
        K::RootReplaced => ("the document catalog was replaced", "文档目录被替换"),
        K::FormSettingsChanged => ("the form settings were changed (/{key})", "表单设置被修改（/{key}）"),
        K::FormFieldAdded => ("a form field or widget was added", "新增了表单域或控件"),
        K::FormFieldRemoved => ("form field {field} was removed", "表单域 {field} 被删除"),
        K::FieldChanged => ("form field {field} was changed (/{key})", "表单域 {field} 被修改（/{key}）"),
        K::WidgetChanged => ("the widget of field {field} was changed (/{key})", "表单域 {field} 的控件被修改（/{key}）"),
        K::CoversPage => ("a field or annotation covers most of page {page}", "某个表单域或注释覆盖了第 {page} 页的大部分"),
        K::SignatureDictionaryChanged => ("the signature dictionary of field {field} was changed", "签名域 {field} 的签名字典被修改"),
        K::SignatureValueReplaced => ("the signature in field {field} was replaced or removed", "签名域 {field} 中的签名被替换或删除"),
        K::ObjectChanged => ("object {object} of the signed version was rewritten", "已签署版本中的对象 {object} 被改写"),
        K::ObjectDeleted => ("object {object} of the signed version was deleted", "已签署版本中的对象 {object} 被删除"),
        K::FreedObjectReused => ("object {object}, free when signed, was brought back into use", "签署时已释放的对象 {object} 被重新启用"),
        K::MissingObjectDefined => ("object {object}, numbered but not defined when signed, was defined", "签署时已编号但未定义的对象 {object} 被定义"),
        K::UnreadableRevision => ("a later revision cannot be read or analysed", "后续修订版本无法读取或分析"),
        K::BytesOutsideRevisions => ("bytes were appended after the last revision without a cross-reference section", "最后一个修订版本之后附加了没有交叉引用表的数据"),
    };
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// Why a change is not permitted.
pub fn refusal_text(r: signet_verify::modification::Refusal, lang: Lang) -> &'static str {
    use signet_verify::modification::Refusal as R;
    let (en, zh) = match r {
        R::CertifiedNoChanges => ("the certification (P=1) allows no changes", "文档认证（P=1）不允许任何改动"),
        R::CertifiedNoAnnotations => ("the certification (P=2) allows no annotations", "文档认证（P=2）不允许添加注释"),
        R::OverlayAnnotation => ("this kind of annotation can paint over the signed content", "此类注释可以遮盖已签署的内容"),
        R::VisibleFieldOnCertified => ("a visible signature field added to a certified document can paint over its content", "向已认证文档添加的可见签名域可以遮盖其内容"),
        R::FieldLocked => ("the field is locked by a signature", "该表单域已被签名锁定"),
        R::AltersSignedContent => ("it can change what the signer saw", "它可以改变签署人所看到的内容"),
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
        Msg::DemoVerification, Msg::Intact, Msg::Broken, Msg::Unknown, Msg::FromTimestamp, Msg::FromUntrustedTimestamp, Msg::Claimed,
        Msg::Modifications, Msg::ModNone, Msg::ModPermitted, Msg::ModNotPermitted, Msg::Permitted, Msg::NotPermitted,
        Msg::Revision, Msg::Summary, Msg::LogEntryIncluded, Msg::LogProofInvalid, Msg::LogAuditOk, Msg::LogAuditFailed,
        Msg::LogStateUnchanged, Msg::LogHistoryExtends, Msg::LogHistoryFirst, Msg::LogNothingAppended, Msg::AdminCheckCounts,
        Msg::AdminCheckOk, Msg::AdminProblems, Msg::AdminDeployment, Msg::AdminCheckProgress, Msg::AdminResealed,
        Msg::AdminNoOlderKey, Msg::AdminRetirable, Msg::AdminCopySummary, Msg::AdminCopyProgress,
    ];

    fn holes(s: &str) -> Vec<String> {
        let mut v: Vec<String> = s.split('{').skip(1).filter_map(|p| p.split('}').next().map(str::to_string)).collect();
        v.sort();
        v
    }

    #[test]
    fn every_change_and_refusal_is_translated() {
        use signet_verify::modification::{ChangeKind as K, Refusal as R};
        let kinds = [
            K::DssUpdated, K::DocumentTimestampAdded, K::MetadataChanged, K::SignatureAdded, K::SignatureFieldAdded,
            K::EmptySignatureFieldAdded, K::FormFilled, K::AnnotationAdded, K::AnnotationChanged, K::AnnotationRemoved,
            K::PagesAddedOrRemoved, K::PageChanged, K::PageTreeChanged, K::CatalogChanged, K::RootReplaced,
            K::FormSettingsChanged, K::FormFieldAdded, K::FormFieldRemoved, K::FieldChanged, K::WidgetChanged,
            K::CoversPage, K::SignatureDictionaryChanged, K::SignatureValueReplaced, K::ObjectChanged, K::ObjectDeleted,
            K::FreedObjectReused, K::MissingObjectDefined, K::UnreadableRevision, K::BytesOutsideRevisions,
        ];
        for k in kinds {
            let (en, zh) = (change_text(k, Lang::En), change_text(k, Lang::Zh));
            assert_ne!(en, zh, "{k:?}");
            assert_eq!(holes(en), holes(zh), "{k:?}");
        }
        for r in [R::CertifiedNoChanges, R::CertifiedNoAnnotations, R::OverlayAnnotation, R::VisibleFieldOnCertified, R::FieldLocked, R::AltersSignedContent] {
            assert_ne!(refusal_text(r, Lang::En), refusal_text(r, Lang::Zh), "{r:?}");
        }
    }

    #[test]
    fn every_message_exists_in_both_languages_with_the_same_placeholders() {
        for m in ALL {
            let en = text(*m, Lang::En);
            let zh = text(*m, Lang::Zh);
            assert!(!en.is_empty() && !zh.is_empty(), "{m:?}");
            assert_ne!(en, zh, "{m:?} is not translated");
            assert_eq!(holes(en), holes(zh), "{m:?} placeholders differ");
        }
    }
}
