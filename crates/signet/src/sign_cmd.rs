//! `signet sign`: reads the PDF, the PKCS#12 file and the options, picks the time-stamp and
//! validation-data services, calls `signet-pades`, and writes input + update atomically.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use clap::Args;
use signet_pades::{Credentials, Level, Services, TimestampSource, ValidationDataSource};
use signet_pdf::{AppearanceSpec, FontData, NewField, Placement, SignatureKind, SignatureRequest};
use signet_pki::PrivateKey;

use crate::ca::CaDir;
use crate::files::{self, FileSource};
use crate::services::{FetchValidation, HttpTsa, LocalTsa, LocalValidation};

#[derive(Args, Debug, Clone)]
pub struct SignArgs {
    /// The PDF to sign.
    pub input: PathBuf,
    /// Where to write the signed PDF (may equal the input).
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
    /// PKCS#12 file with the signer's key, certificate and chain.
    #[arg(long)]
    pub p12: PathBuf,
    /// File whose first line is the PKCS#12 password (empty password without it).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// PAdES baseline level.
    #[arg(long, default_value = "B-T", value_parser = ["B-B", "B-T", "B-LT", "B-LTA"])]
    pub level: String,
    /// URL of an RFC 3161 time-stamp authority (requests are POSTed to it as given).
    #[arg(long, conflicts_with = "tsa_dir")]
    pub tsa: Option<String>,
    /// Use the TSA (and the CRL/OCSP data) of a Signet CA directory in this process.
    #[arg(long)]
    pub tsa_dir: Option<PathBuf>,
    /// Page for a visible signature (counting from 1).
    #[arg(long, requires = "rect")]
    pub page: Option<usize>,
    /// Rectangle X1,Y1,X2,Y2 in PDF points from the page's bottom-left corner.
    #[arg(long, requires = "page")]
    pub rect: Option<String>,
    /// PNG (with transparency) for the visible appearance, e.g. a company seal.
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// A line of text in the visible appearance (repeatable).
    #[arg(long = "text")]
    pub text: Vec<String>,
    /// Font file (TTF/OTF/TTC) for the text lines; default: a CJK font of the system.
    #[arg(long)]
    pub font: Option<PathBuf>,
    /// Face index inside a font collection (.ttc).
    #[arg(long)]
    pub font_index: Option<u32>,
    /// Signature field to sign: an existing empty field, or a new one of this name.
    #[arg(long)]
    pub field: Option<String>,
    /// Certify the document (DocMDP): 1 no changes, 2 form filling and signing, 3 also annotations.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub certify: Option<u8>,
    /// Create an empty signature field NAME,PAGE,X1,Y1,X2,Y2 for a later signer (repeatable).
    #[arg(long = "add-field")]
    pub add_field: Vec<String>,
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub location: Option<String>,
    #[arg(long)]
    pub contact: Option<String>,
    /// Sign with RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
    #[arg(long)]
    pub rsa_pss: bool,
}

pub fn run(args: SignArgs) -> Result<()> {
    let summary = sign_file(&args, SystemTime::now())?;
    println!("{summary}");
    Ok(())
}

/// Signs per `args`; returns a one-line summary.
pub fn sign_file(args: &SignArgs, now: SystemTime) -> Result<String> {
    let level = Level::parse(&args.level).with_context(|| format!("--level {:?}: use B-B, B-T, B-LT or B-LTA", args.level))?;
    let password = files::read_password(args.password_file.as_deref())?;
    let p12_bytes = std::fs::read(&args.p12).with_context(|| format!("cannot read {}", args.p12.display()))?;
    let p12 = signet_pki::pkcs12::read_pkcs12(&p12_bytes, &password).with_context(|| format!("{}", args.p12.display()))?;
    let mut key = PrivateKey::from_pkcs8_der(&p12.key_pkcs8_der).with_context(|| format!("the key in {}", args.p12.display()))?;
    if args.rsa_pss {
        key = key
            .with_scheme(signet_pki::SignatureScheme::RsaPssSha256)
            .with_context(|| format!("--rsa-pss needs an RSA key, and {} holds another kind", args.p12.display()))?;
    }

    let placement = match (args.page, &args.rect) {
        (Some(page), Some(rect)) => Some(Placement { page, rect: parse_rect(rect)? }),
        _ => None,
    };
    let image = match &args.image {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            Some(signet_pdf::decode_png(&bytes).with_context(|| format!("{} is not a usable PNG", p.display()))?)
        }
        None => None,
    };
    // A visible signature never shows an empty box: without --image/--text it shows the
    // signer's name and the signing date (when a font is available).
    let mut text_lines = args.text.clone();
    let mut font_found = None;
    if !text_lines.is_empty() {
        font_found = Some(files::find_font(args.font.as_deref(), args.font_index)?);
    } else if placement.is_some() && image.is_none()
        && let Ok(found) = files::find_font(args.font.as_deref(), args.font_index) {
            let name = signet_pki::cert::common_name(&p12.cert).unwrap_or_else(|| signet_pki::cert::subject_string(&p12.cert));
            text_lines = vec![name, crate::demo::date_utc(now)];
            font_found = Some(found);
        }
    let font_bytes = match font_found {
        Some((path, index)) => Some((std::fs::read(&path).with_context(|| format!("cannot read font {}", path.display()))?, index)),
        None => None,
    };
    let appearance = if image.is_some() || !text_lines.is_empty() {
        Some(AppearanceSpec {
            image,
            text_lines,
            font: font_bytes.as_ref().map(|(b, i)| FontData { bytes: b, index: *i }),
        })
    } else {
        None
    };
    if appearance.is_some() && placement.is_none() && args.field.is_none() {
        bail!("--image/--text need --page and --rect (or --field naming an existing field with a rectangle)");
    }
    let add_fields = args.add_field.iter().map(|s| parse_add_field(s)).collect::<Result<Vec<_>>>()?;
    let request = SignatureRequest {
        kind: SignatureKind::Cades,
        field_name: args.field.clone(),
        placement,
        appearance,
        contents_capacity: 0,
        signing_time: Some(now),
        name: signet_pki::cert::common_name(&p12.cert),
        reason: args.reason.clone(),
        location: args.location.clone(),
        contact_info: args.contact.clone(),
        certify: args.certify,
        add_fields,
    };

    let ca_dir = match &args.tsa_dir {
        Some(d) => Some(CaDir::load(d)?),
        None => None,
    };
    let http_tsa = args.tsa.as_ref().map(|u| HttpTsa { url: u.clone() });
    let local_tsa = ca_dir.as_ref().map(|ca| LocalTsa { ca });
    let local_validation = ca_dir.as_ref().map(|ca| LocalValidation { ca });
    let tsa: Option<&dyn TimestampSource> = match (&http_tsa, &local_tsa) {
        (Some(h), _) => Some(h),
        (None, Some(l)) => Some(l),
        _ => None,
    };
    let validation: &dyn ValidationDataSource = match &local_validation {
        Some(v) => v,
        None => &FetchValidation,
    };

    let src = FileSource::open(&args.input)?;
    let creds = Credentials { key: &key, cert: &p12.cert, chain: &p12.chain };
    let appended = signet_pades::sign(&src, &creds, &request, level, Services { tsa, validation: Some(validation) }, now)
        .with_context(|| format!("cannot sign {}", args.input.display()))?;
    files::write_signed(&args.input, &appended, &args.out)?;
    Ok(crate::messages::tf(
        crate::messages::Msg::Signed,
        &[
            ("input", &args.input.display().to_string()),
            ("signer", &signet_pki::cert::subject_string(&p12.cert)),
            ("level", level.name()),
            ("output", &args.out.display().to_string()),
        ],
    ))
}

fn parse_numbers(s: &str, n: usize, what: &str) -> Result<Vec<f64>> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != n {
        bail!("{what} {s:?}: expected {n} comma-separated numbers");
    }
    parts
        .iter()
        .map(|p| p.parse::<f64>().ok().filter(|v| v.is_finite()).with_context(|| format!("{what} {s:?}: {p:?} is not a number")))
        .collect()
}

pub fn parse_rect(s: &str) -> Result<[f64; 4]> {
    let v = parse_numbers(s, 4, "--rect")?;
    Ok([v[0], v[1], v[2], v[3]])
}

/// `NAME,PAGE,X1,Y1,X2,Y2`.
pub fn parse_add_field(s: &str) -> Result<NewField> {
    let (name, rest) = s.split_once(',').with_context(|| format!("--add-field {s:?}: expected NAME,PAGE,X1,Y1,X2,Y2"))?;
    if name.trim().is_empty() {
        bail!("--add-field {s:?}: the field name is empty");
    }
    let v = parse_numbers(rest, 5, "--add-field")?;
    if v[0] < 1.0 || v[0].fract() != 0.0 {
        bail!("--add-field {s:?}: the page must be a whole number from 1");
    }
    Ok(NewField { name: name.trim().to_string(), placement: Placement { page: v[0] as usize, rect: [v[1], v[2], v[3], v[4]] } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_and_field_parsing() {
        assert_eq!(parse_rect("1,2,3.5,4").unwrap(), [1.0, 2.0, 3.5, 4.0]);
        assert!(parse_rect("1,2,3").is_err());
        assert!(parse_rect("1,2,x,4").is_err());
        assert!(parse_rect("1,2,inf,4").is_err());
        let f = parse_add_field("Signer2,1,300,100,500,180").unwrap();
        assert_eq!(f.name, "Signer2");
        assert_eq!(f.placement.page, 1);
        assert!(parse_add_field("Signer2,0,1,2,3,4").is_err());
        assert!(parse_add_field(",1,1,2,3,4").is_err());
        assert!(parse_add_field("x").is_err());
    }
}
