//! The report's words in Chinese and English, and how [`Lang`] picks between them.

use crate::Lang;

/// A label in both languages.
#[derive(Clone, Copy)]
pub(crate) struct L(pub &'static str, pub &'static str);

impl L {
    /// The label in `lang`; bilingual labels read "中文 / English".
    pub fn get(self, lang: Lang) -> String {
        match lang {
            Lang::Zh => self.0.to_owned(),
            Lang::En => self.1.to_owned(),
            Lang::Bilingual if self.0 == self.1 => self.0.to_owned(),
            Lang::Bilingual => format!("{} / {}", self.0, self.1),
        }
    }
}

pub(crate) const TITLE: L = L("签约存证页", "Evidence Report");
pub(crate) const INTRO: L = L(
    "本存证页记录本合同的发送与签署过程及其证据。各文件中的签名可用 signet verify --trust root.pem signed.pdf 离线校验；每个证据事件均已写入只可追加的存证日志，可用离线证据包中的包含证明逐条核对（见“存证日志”一节）。",
    "This report records how the contract was sent and signed, and the evidence of each step. The signatures in each document can be checked offline with signet verify --trust root.pem signed.pdf; every evidence event was appended to an append-only evidence log and can be checked one by one with the inclusion proofs in the offline evidence bundle (see \"Evidence log\").",
);

pub(crate) const SEC_CONTRACT: L = L("合同信息", "Contract");
pub(crate) const CONTRACT_TITLE: L = L("合同标题", "Title");
pub(crate) const CONTRACT_NUMBER: L = L("合同编号", "Contract number");
pub(crate) const CONTRACT_ID: L = L("合同 ID", "Contract ID");
pub(crate) const SENDER: L = L("发起人", "Sender");
pub(crate) const SENDER_ACCOUNT: L = L("发起人账号", "Sender account");
pub(crate) const ORGANISATION: L = L("发起机构", "Organisation");
pub(crate) const SENT_IP: L = L("发起 IP", "Sent from IP");
pub(crate) const SENT_UA: L = L("发起客户端", "Sent with");
pub(crate) const SENT_AT: L = L("发起时间", "Sent at");
pub(crate) const COMPLETED_AT: L = L("完成时间", "Completed at");
pub(crate) const GENERATED_AT: L = L("存证页生成时间", "Report generated at");

pub(crate) const SEC_DOCUMENTS: L = L("合同文件", "Documents");
pub(crate) const DOCUMENT: L = L("文件", "Document");
pub(crate) const FILE_NAME: L = L("文件名", "File name");
pub(crate) const PAGES: L = L("页数", "Pages");
pub(crate) const SHA256_ORIGINAL: L = L("原文 SHA-256", "Original SHA-256");
pub(crate) const SHA256_SIGNED: L = L("签署后 SHA-256", "Signed SHA-256");

pub(crate) const SEC_SIGNERS: L = L("签署人", "Signers");
pub(crate) const SIGNER: L = L("签署人", "Signer");
pub(crate) const NAME: L = L("姓名", "Name");
pub(crate) const ACCOUNT: L = L("账号", "Account");
pub(crate) const EMAIL: L = L("邮箱", "Email");
pub(crate) const PHONE: L = L("手机号", "Phone");
pub(crate) const COMPANY: L = L("代表企业", "Signing for");
pub(crate) const RECEIVED_AT: L = L("收到时间", "Received at");
pub(crate) const OPENED_AT: L = L("查看时间", "Opened at");
pub(crate) const SIGNED_AT: L = L("签署时间", "Signed at");
pub(crate) const IP: L = L("签署 IP", "IP address");
pub(crate) const USER_AGENT: L = L("签署客户端", "User agent");
pub(crate) const VERIFICATION: L = L("意愿认证方式", "Verification");
pub(crate) const VERIFIED_AT: L = L("认证时间", "Verified at");
pub(crate) const CERT_SERIAL: L = L("证书序列号", "Certificate serial");
pub(crate) const POSITIONS: L = L("签署位置", "Signature positions");
pub(crate) const LOG_INDEX: L = L("存证日志索引", "Evidence log index");
pub(crate) const PROOF: L = L("包含证明", "Inclusion proof");
pub(crate) const PROOF_NONE: L = L("（树中仅此一条，无需中间哈希）", "(no hashes: the only leaf of its tree)");

pub(crate) const SEC_LOG: L = L("存证日志", "Evidence log");
pub(crate) const LOG_EXPLAIN: L = L(
    "下列检查点由存证日志签名，上文各包含证明均指向该检查点的树根。校验方法：signet log verify-proof NAME.tlog-proof --entry NAME.entry --log-key log.vkey。",
    "The checkpoint below is signed by the evidence log; every inclusion proof above leads to its tree root. To check an event: signet log verify-proof NAME.tlog-proof --entry NAME.entry --log-key log.vkey.",
);
pub(crate) const CHECKPOINT: L = L("检查点", "Checkpoint");
pub(crate) const LOG_KEY: L = L("日志公钥", "Log key");

pub(crate) const SEC_EVENTS: L = L("附录：证据事件", "Appendix: evidence events");
pub(crate) const COL_NO: L = L("序号", "No.");
pub(crate) const COL_TIME: L = L("时间", "Time");
pub(crate) const COL_EVENT: L = L("事件", "Event");
pub(crate) const COL_ACTOR: L = L("操作人 → 相关人", "Actor → recipient");
pub(crate) const COL_IP: L = L("IP", "IP");
pub(crate) const COL_INDEX: L = L("日志索引", "Log index");
pub(crate) const NO_EVENTS: L = L("（无）", "(none)");

pub(crate) const NONE: &str = "—";

/// "第 N / M 页", "Page N of M", or both.
pub(crate) fn page_number(lang: Lang, n: usize, total: usize) -> String {
    let zh = format!("第 {n} / {total} 页");
    let en = format!("Page {n} of {total}");
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
        Lang::Bilingual => format!("{zh} · {en}"),
    }
}

/// "签署人 N" / "Signer N" / both.
pub(crate) fn numbered(label: L, lang: Lang, n: usize) -> String {
    match lang {
        Lang::Zh => format!("{} {n}", label.0),
        Lang::En => format!("{} {n}", label.1),
        Lang::Bilingual => format!("{} {n} / {} {n}", label.0, label.1),
    }
}

/// A signature position: "文件 1（合同.pdf）第 2 页，x 100.0，y 200.0" and its English twin.
pub(crate) fn position(lang: Lang, document: usize, name: Option<&str>, page: u32, x: f64, y: f64) -> String {
    let n = document.saturating_add(1);
    match lang {
        Lang::Zh => {
            let name = name.map(|s| format!("（{s}）")).unwrap_or_default();
            format!("文件 {n}{name} 第 {page} 页，x {x:.1}，y {y:.1}")
        }
        Lang::En => {
            let name = name.map(|s| format!(" ({s})")).unwrap_or_default();
            format!("document {n}{name}, page {page}, x {x:.1}, y {y:.1}")
        }
        Lang::Bilingual => {
            let name = name.map(|s| format!(" ({s})")).unwrap_or_default();
            format!("文件 / document {n}{name}, 第 {page} 页 / page {page}, x {x:.1}, y {y:.1}")
        }
    }
}

/// The name of an evidence event type; unknown types print as given.
pub(crate) fn event_kind(lang: Lang, kind: &str) -> String {
    let l = match kind {
        "created" => L("创建", "Created"),
        "fields_set" => L("放置签署位置", "Fields placed"),
        "draft_edited" => L("修改草稿", "Draft edited"),
        "sent" => L("发送", "Sent"),
        "notified" => L("通知签署人", "Notified"),
        "opened" => L("查看", "Opened"),
        "code_sent" => L("发送验证码", "Code sent"),
        "code_verified" => L("验证码通过", "Code verified"),
        "code_failed" => L("验证码错误", "Wrong code"),
        "signed" => L("签署", "Signed"),
        "declined" => L("拒签", "Declined"),
        "voided" => L("撤销", "Voided"),
        "expired" => L("过期", "Expired"),
        "reminded" => L("提醒", "Reminded"),
        "completed" => L("签署完成", "Completed"),
        other => return other.to_owned(),
    };
    l.get(lang)
}

/// The name of a verification method; unknown methods print as given.
pub(crate) fn verification_method(lang: Lang, method: &str) -> String {
    let l = match method {
        "sms" | "sms_code" => L("短信验证码", "SMS one-time code"),
        "email" | "email_code" => L("邮箱验证码", "email one-time code"),
        other => return other.to_owned(),
    };
    l.get(lang)
}
