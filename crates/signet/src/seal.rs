//! Generated seal images: a round company seal (ring and five-pointed star, the shape of a
//! Chinese company seal) as an RGBA PNG with a transparent background. The company name goes
//! into the appearance's text lines, drawn with a real font.

use anyhow::{Context, Result, bail};

pub fn parse_color(hex_rgb: &str) -> Result<[u8; 3]> {
    let h = hex_rgb.trim_start_matches('#');
    let b = hex::decode(h).with_context(|| format!("colour {hex_rgb:?} must be RRGGBB hex"))?;
    if b.len() != 3 {
        bail!("colour {hex_rgb:?} must be RRGGBB hex");
    }
    Ok([b[0], b[1], b[2]])
}

/// Coverage (0..=1) of the seal's ink at point (x, y) in a unit square centred at 0.
fn ink(x: f64, y: f64) -> bool {
    let r = (x * x + y * y).sqrt();
    // Outer ring and a thin inner ring.
    if (0.90..=0.98).contains(&r) || (0.82..=0.84).contains(&r) {
        return true;
    }
    in_star(x, y, 0.36)
}

fn in_star(x: f64, y: f64, outer: f64) -> bool {
    let inner = outer * 0.382;
    let pts: Vec<(f64, f64)> = (0..10)
        .map(|i| {
            let a = std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::PI / 5.0;
            let rr = if i % 2 == 0 { outer } else { inner };
            (rr * a.cos(), rr * a.sin())
        })
        .collect();
    // Even-odd ray casting.
    let mut inside = false;
    let mut j = pts.len() - 1;
    for i in 0..pts.len() {
        let (xi, yi) = pts[i];
        let (xj, yj) = pts[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// A `size`×`size` seal in `color`, anti-aliased by 4×4 supersampling.
pub fn company_seal_png(size: u32, color: [u8; 3]) -> Result<Vec<u8>> {
    if !(16..=4096).contains(&size) {
        bail!("seal size must be between 16 and 4096 pixels");
    }
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    let s = size as f64;
    for py in 0..size {
        for px in 0..size {
            let mut hits = 0u32;
            for sy in 0..4 {
                for sx in 0..4 {
                    let x = ((px as f64 + (sx as f64 + 0.5) / 4.0) / s) * 2.0 - 1.0;
                    let y = 1.0 - ((py as f64 + (sy as f64 + 0.5) / 4.0) / s) * 2.0;
                    if ink(x, y) {
                        hits += 1;
                    }
                }
            }
            rgba.extend_from_slice(&color);
            rgba.push(((hits * 255) / 16) as u8);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, size, size);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().context("encoding the seal PNG")?;
        w.write_image_data(&rgba).context("encoding the seal PNG")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_has_ink_and_transparency() {
        let png = company_seal_png(64, [0xd7, 0x19, 0x1c]).unwrap();
        let img = signet_pdf::decode_png(&png).unwrap();
        assert_eq!((img.width, img.height), (64, 64));
        let alphas: Vec<u8> = img.rgba.chunks(4).map(|p| p[3]).collect();
        assert!(alphas.contains(&0), "corners are transparent");
        assert!(alphas.contains(&255), "ring and star are opaque");
        // The centre (inside the star) is inked.
        assert_eq!(alphas[(32 * 64 + 32) as usize], 255);
    }

    #[test]
    fn colours() {
        assert_eq!(parse_color("#0000ff").unwrap(), [0, 0, 255]);
        assert!(parse_color("blue").is_err());
        assert!(parse_color("0000").is_err());
    }
}
