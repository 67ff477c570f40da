//! The evidence report as plain data: everything the evidence page (签约存证页) shows, in a
//! form the server can also return as JSON.
//!
//! Times are milliseconds since 1970-01-01T00:00:00Z (the platform's `Millis`, fields ending
//! in `_ms`); the report carries one display offset, [`EvidenceReport::utc_offset_minutes`],
//! and the PDF prints every time as `YYYY-MM-DD hh:mm:ss.mmm` followed by that offset. JSON
//! readers get the exact instant and convert as they like. IP addresses, user agents, account
//! names and digests are strings, shown as given.
//!
//! This module holds data only; it reads no clock and checks nothing. Empty optional values
//! print as "—".

use serde::{Deserialize, Serialize};

/// Everything the evidence report of one contract shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceReport {
    /// The contract's title.
    pub title: String,
    /// The human-facing contract number (e.g. `HT-2026-000123`).
    pub number: String,
    /// The contract's id (`ct_…`), as written in its evidence events.
    pub contract_id: String,
    /// Who sent the contract.
    pub sender: Party,
    /// The sending organisation's name.
    pub organisation: String,
    /// The IP address the contract was sent from.
    #[serde(default)]
    pub sent_ip: Option<String>,
    /// The user agent (browser or API client) it was sent with.
    #[serde(default)]
    pub sent_user_agent: Option<String>,
    /// When it was sent.
    pub sent_at_ms: u64,
    /// When the last signer signed; `None` while the contract is not complete.
    #[serde(default)]
    pub completed_at_ms: Option<u64>,
    /// When this report was produced (the caller's clock).
    pub generated_at_ms: u64,
    /// The offset from UTC, in minutes, every time is printed in (e.g. `480` for UTC+08:00).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// The contract's documents, in order; [`Position::document`] indexes this list.
    pub documents: Vec<DocumentDigest>,
    /// The signers, in signing order.
    pub signers: Vec<Signer>,
    /// The evidence log's signed checkpoint (the signed-note text, verbatim) that every
    /// inclusion proof in this report leads to.
    pub checkpoint: String,
    /// The evidence log's verifier key (`name+hash+base64`), if the caller wants it printed.
    #[serde(default)]
    pub log_key: Option<String>,
    /// Every evidence event of the contract, in order (the appendix).
    pub events: Vec<EventRow>,
}

/// A person or account acting for the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Display name.
    pub name: String,
    /// Account (user name, email address or API key id).
    pub account: String,
}

/// One document of the contract and its digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentDigest {
    /// File name as uploaded.
    pub name: String,
    /// Number of pages, if known.
    #[serde(default)]
    pub pages: Option<u32>,
    /// SHA-256 of the original upload, lowercase hex.
    pub sha256: String,
    /// SHA-256 of the final signed PDF, lowercase hex, once it exists.
    #[serde(default)]
    pub signed_sha256: Option<String>,
}

/// One signer and the evidence of their signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signer {
    /// Name as it appears in the signing certificate.
    pub name: String,
    /// Platform account or recipient id.
    #[serde(default)]
    pub account: Option<String>,
    /// Email address, if any.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number, if any.
    #[serde(default)]
    pub phone: Option<String>,
    /// The company signed for, when signing for one.
    #[serde(default)]
    pub company: Option<String>,
    /// When the signer was sent their link.
    #[serde(default)]
    pub received_at_ms: Option<u64>,
    /// When they first opened it.
    #[serde(default)]
    pub opened_at_ms: Option<u64>,
    /// When they signed.
    #[serde(default)]
    pub signed_at_ms: Option<u64>,
    /// The IP address they signed from.
    #[serde(default)]
    pub ip: Option<String>,
    /// The user agent they signed with.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// How their identity was checked before signing.
    #[serde(default)]
    pub verification: Option<Verification>,
    /// Serial number of their signing certificate (hex).
    #[serde(default)]
    pub certificate_serial: Option<String>,
    /// Where their signatures were placed.
    #[serde(default)]
    pub positions: Vec<Position>,
    /// Index of their `signed` event in the evidence log.
    #[serde(default)]
    pub log_index: Option<u64>,
    /// Inclusion proof of that event in the tree of [`EvidenceReport::checkpoint`]: base64
    /// hashes, the leaf's sibling first (as in a `.tlog-proof` file).
    #[serde(default)]
    pub inclusion_proof: Vec<String>,
}

/// An identity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The method: `sms` or `email` (one-time code) are named in the report's language; any
    /// other value is printed as given.
    pub method: String,
    /// When the check passed.
    pub at_ms: u64,
}

/// Where a signature was placed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Index into [`EvidenceReport::documents`] (from 0; printed from 1).
    pub document: usize,
    /// Page, from 1.
    pub page: u32,
    /// Horizontal position in PDF points from the page's left edge.
    pub x: f64,
    /// Vertical position in PDF points from the page's bottom edge.
    pub y: f64,
}

/// One evidence event, a row of the appendix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// The event's type as in the evidence log (`sent`, `opened`, `code_verified`, `signed`,
    /// …); known types are named in the report's language, others printed as given.
    pub kind: String,
    /// When it happened.
    pub at_ms: u64,
    /// Who acted.
    pub actor: String,
    /// The recipient concerned, if any.
    #[serde(default)]
    pub recipient: Option<String>,
    /// The IP address recorded with it, if any.
    #[serde(default)]
    pub ip: Option<String>,
    /// Its index in the evidence log, once appended.
    #[serde(default)]
    pub log_index: Option<u64>,
}

/// Formats `ms` as `YYYY-MM-DD hh:mm:ss.mmm UTC±hh:mm` in the given offset.
pub fn format_time(ms: u64, utc_offset_minutes: i32) -> String {
    // Clamp the offset to what exists on Earth (±18 h) so arithmetic cannot overflow.
    let offset = utc_offset_minutes.clamp(-18 * 60, 18 * 60);
    let millis = ms % 1000;
    let secs = i128::from(ms / 1000) + i128::from(offset) * 60;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{millis:03} UTC{sign}{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        abs / 60,
        abs % 60
    )
}

/// The UTC date and time of `ms` as (year, month, day, hour, minute, second), the year
/// clamped to 0..=9999 (for PDF metadata).
pub(crate) fn utc_parts(ms: u64) -> (u16, u8, u8, u8, u8, u8) {
    let secs = i128::from(ms / 1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    if y > 9999 {
        return (9999, 12, 31, 23, 59, 59);
    }
    // Each narrowing is in range: y ≤ 9999, m ≤ 12, d ≤ 31, hour < 24, minute and second < 60.
    (y as u16, m as u8, d as u8, (rem / 3600) as u8, (rem % 3600 / 60) as u8, (rem % 60) as u8)
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i128) -> (i128, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // d in 1..=31 and m in 1..=12 by construction.
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i128::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_in_the_reports_offset() {
        assert_eq!(format_time(0, 0), "1970-01-01 00:00:00.000 UTC+00:00");
        // 2026-03-01T06:05:09.123Z
        assert_eq!(format_time(1_772_345_109_123, 480), "2026-03-01 14:05:09.123 UTC+08:00");
        assert_eq!(format_time(1_772_345_109_123, -330), "2026-03-01 00:35:09.123 UTC-05:30");
        // Leap day, and the day before the epoch in a negative offset.
        assert_eq!(format_time(951_782_400_000, 0), "2000-02-29 00:00:00.000 UTC+00:00");
        assert_eq!(format_time(0, -60), "1969-12-31 23:00:00.000 UTC-01:00");
        // Absurd offsets are clamped, huge times do not overflow.
        assert!(format_time(u64::MAX, i32::MAX).ends_with("UTC+18:00"));
    }
}
