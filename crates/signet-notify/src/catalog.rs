//! The message catalog: every word Signet mails or texts to people, in Chinese and English.
//!
//! Texts are data: a subject and a list of [`Block`]s with `{name}` placeholders, filled by
//! [`crate::template`]. A paragraph whose placeholder has no value (an optional deadline or
//! reason) is left out. The placeholders each mail uses are listed at its renderer; a unit
//! test renders every entry with every value and checks that no placeholder survives.
//!
//! Nothing here is escaped: values are escaped when rendered to HTML, and the catalog's own
//! text is escaped the same way, so a `<` in a translation is harmless.

use crate::Lang;

/// One block of a mail body.
#[derive(Clone, Copy, Debug)]
pub enum Block {
    /// A paragraph; left out when one of its placeholders has no value.
    Para(&'static str),
    /// A link: a button in HTML, `label:` and the bare URL on its own line in plain text.
    /// `url` names the placeholder holding the URL.
    Link {
        /// The button's words.
        label: &'static str,
        /// The placeholder with the URL.
        url: &'static str,
    },
    /// A one-time code, set large; `var` names its placeholder.
    Code(&'static str),
    /// Small print closing the mail.
    Note(&'static str),
}

/// A mail: subject and body blocks.
#[derive(Clone, Copy, Debug)]
pub struct MailText {
    /// The subject line.
    pub subject: &'static str,
    /// The body, top to bottom.
    pub blocks: &'static [Block],
}

/// Every mail in one language.
#[derive(Debug)]
pub struct MailCatalog {
    /// `{org}`, `{sender}`, `{title}`, `{recipient}`, `{link}`, optional `{deadline}`.
    pub signing_request: MailText,
    /// Same placeholders as `signing_request`.
    pub reminder: MailText,
    /// `{code}`, `{minutes}`. The subject must not hold the code.
    pub one_time_code: MailText,
    /// `{title}`, `{recipient}`, `{signed_pdf}`, `{evidence_report}`.
    pub completed: MailText,
    /// `{title}`, `{recipient}`, `{who}`, optional `{reason}`.
    pub declined: MailText,
    /// `{title}`, `{recipient}`, `{org}`, optional `{reason}`.
    pub voided: MailText,
    /// Month names for deadlines, January first (English only; Chinese uses numbers).
    pub months: Option<[&'static str; 12]>,
}

/// Every text message in one language.
#[derive(Debug)]
pub struct SmsCatalog {
    /// `{code}`, `{minutes}`.
    pub one_time_code: &'static str,
}

/// The mail catalog of a language.
pub fn mail(lang: Lang) -> &'static MailCatalog {
    match lang {
        Lang::Zh => &MAIL_ZH,
        Lang::En => &MAIL_EN,
    }
}

/// The SMS catalog of a language.
pub fn sms(lang: Lang) -> &'static SmsCatalog {
    match lang {
        Lang::Zh => &SMS_ZH,
        Lang::En => &SMS_EN,
    }
}

static MAIL_ZH: MailCatalog = MailCatalog {
    signing_request: MailText {
        subject: "{org} 邀请您签署《{title}》",
        blocks: &[
            Block::Para("{recipient}，您好："),
            Block::Para("{org} 的 {sender} 邀请您签署《{title}》。"),
            Block::Para("请在 {deadline} 前完成签署。"),
            Block::Link { label: "查看并签署", url: "link" },
            Block::Note("此链接仅供您本人使用，请勿转发本邮件。签署前需要输入一次性验证码。"),
            Block::Note("本邮件由 Signet 代 {org} 发送。"),
        ],
    },
    reminder: MailText {
        subject: "提醒：请签署《{title}》",
        blocks: &[
            Block::Para("{recipient}，您好："),
            Block::Para("{org} 的 {sender} 仍在等待您签署《{title}》。"),
            Block::Para("请在 {deadline} 前完成签署。"),
            Block::Link { label: "查看并签署", url: "link" },
            Block::Note("此链接仅供您本人使用，请勿转发本邮件。签署前需要输入一次性验证码。"),
            Block::Note("本邮件由 Signet 代 {org} 发送。"),
        ],
    },
    one_time_code: MailText {
        subject: "您的 Signet 验证码",
        blocks: &[
            Block::Para("您的验证码是："),
            Block::Code("code"),
            Block::Para("{minutes} 分钟内有效。如非本人操作，请忽略本邮件。"),
            Block::Note("请勿将验证码告诉任何人，Signet 不会向您索要验证码。"),
        ],
    },
    completed: MailText {
        subject: "已完成签署：《{title}》",
        blocks: &[
            Block::Para("{recipient}，您好："),
            Block::Para("《{title}》已由各方签署完成。已签署的 PDF 和证据报告可供下载。"),
            Block::Link { label: "下载已签署的 PDF", url: "signed_pdf" },
            Block::Link { label: "下载证据报告", url: "evidence_report" },
            Block::Note("任何人都可以用标准的 PDF 工具验证签名。请妥善保存一份副本。"),
        ],
    },
    declined: MailText {
        subject: "已拒签：《{title}》",
        blocks: &[
            Block::Para("{recipient}，您好："),
            Block::Para("{who} 拒绝签署《{title}》。"),
            Block::Para("原因：{reason}"),
            Block::Para("该合同已无法继续签署。"),
        ],
    },
    voided: MailText {
        subject: "已作废：《{title}》",
        blocks: &[
            Block::Para("{recipient}，您好："),
            Block::Para("《{title}》已被 {org} 作废，无法再签署。"),
            Block::Para("原因：{reason}"),
        ],
    },
    months: None,
};

static MAIL_EN: MailCatalog = MailCatalog {
    signing_request: MailText {
        subject: "{org} asks you to sign “{title}”",
        blocks: &[
            Block::Para("Dear {recipient},"),
            Block::Para("{sender} of {org} asks you to sign “{title}”."),
            Block::Para("Please sign by {deadline}."),
            Block::Link { label: "Review and sign", url: "link" },
            Block::Note(
                "This link is for you alone: please do not forward this mail. You will confirm a \
                 one-time code before signing.",
            ),
            Block::Note("Sent by Signet on behalf of {org}."),
        ],
    },
    reminder: MailText {
        subject: "Reminder: please sign “{title}”",
        blocks: &[
            Block::Para("Dear {recipient},"),
            Block::Para("{sender} of {org} is still waiting for your signature on “{title}”."),
            Block::Para("Please sign by {deadline}."),
            Block::Link { label: "Review and sign", url: "link" },
            Block::Note(
                "This link is for you alone: please do not forward this mail. You will confirm a \
                 one-time code before signing.",
            ),
            Block::Note("Sent by Signet on behalf of {org}."),
        ],
    },
    one_time_code: MailText {
        subject: "Your Signet verification code",
        blocks: &[
            Block::Para("Your verification code is:"),
            Block::Code("code"),
            Block::Para("It is valid for {minutes} minutes. If you did not ask for it, ignore this mail."),
            Block::Note("Never tell anyone this code; Signet will never ask you for it."),
        ],
    },
    completed: MailText {
        subject: "Completed: “{title}”",
        blocks: &[
            Block::Para("Dear {recipient},"),
            Block::Para("Everyone has signed “{title}”. The signed PDF and its evidence report are ready to download."),
            Block::Link { label: "Download the signed PDF", url: "signed_pdf" },
            Block::Link { label: "Download the evidence report", url: "evidence_report" },
            Block::Note("Anyone can verify the signatures with standard PDF tools. Please keep a copy."),
        ],
    },
    declined: MailText {
        subject: "Declined: “{title}”",
        blocks: &[
            Block::Para("Dear {recipient},"),
            Block::Para("{who} declined to sign “{title}”."),
            Block::Para("Reason: {reason}"),
            Block::Para("The contract can no longer be signed."),
        ],
    },
    voided: MailText {
        subject: "Voided: “{title}”",
        blocks: &[
            Block::Para("Dear {recipient},"),
            Block::Para("“{title}” was voided by {org} and can no longer be signed."),
            Block::Para("Reason: {reason}"),
        ],
    },
    months: Some([
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]),
};

static SMS_ZH: SmsCatalog =
    SmsCatalog { one_time_code: "【Signet】验证码 {code}，{minutes} 分钟内有效。请勿告诉他人。" };

static SMS_EN: SmsCatalog = SmsCatalog {
    one_time_code: "[Signet] Your verification code is {code}. It is valid for {minutes} minutes. Do not share it.",
};
