//! Turning laid-out pages into a PDF with krilla: the caller's font embedded as a subset
//! (CID-keyed, with a ToUnicode map, so every character can be copied and searched), the
//! running header, and "page N of M" on every page.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};

use crate::labels::{self as t};
use crate::layout::{self, MARGIN_X, MUTED, Op, PAGE_H, PAGE_W, RULE, Rgb};
use crate::model::{EvidenceReport, utc_parts};
use crate::text::Metrics;
use crate::{Error, FontSource, Lang};

/// Renders the evidence report as an A4 PDF; see the crate documentation.
pub fn render_pdf(report: &EvidenceReport, lang: Lang, font: &FontSource<'_>) -> Result<Vec<u8>, Error> {
    let metrics = Metrics::new(font.bytes, font.index)?;
    let pages = crate::report::layout(report, lang, &metrics);
    // krilla keeps the font data alive behind an `Arc`; it needs its own copy.
    let kfont = Font::new(font.bytes.to_vec().into(), font.index).ok_or(Error::Font { index: font.index })?;

    let mut doc = Document::new_with(SerializeSettings::default());
    doc.set_metadata(metadata(report, lang));
    let total = pages.len();
    for (i, ops) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(Error::Pdf("page size".into()))?;
        let mut page = doc.start_page_with(settings);
        let mut surface = page.surface();
        let mut painter = Painter { s: &mut surface, m: &metrics, font: &kfont };
        painter.decorate(report, lang, i + 1, total);
        for op in ops {
            painter.op(op);
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| Error::Pdf(e.to_string()))
}

fn metadata(report: &EvidenceReport, lang: Lang) -> Metadata {
    let (y, mo, d, h, mi, s) = utc_parts(report.generated_at_ms);
    let created =
        DateTime::new(y).month(mo).day(d).hour(h).minute(mi).second(s).utc_offset_hour(0).utc_offset_minute(0);
    let title = match lang {
        Lang::En => format!("{} — {}", t::TITLE.1, report.number),
        _ => format!("{} — {}", t::TITLE.0, report.number),
    };
    Metadata::new()
        .title(title)
        .description(report.title.clone())
        .language(if lang == Lang::En { "en" } else { "zh-CN" }.to_owned())
        .creator("Signet".to_owned())
        .producer("Signet".to_owned())
        .creation_date(created)
}

struct Painter<'a, 's, 'f> {
    s: &'a mut Surface<'s>,
    m: &'a Metrics<'f>,
    font: &'a Font,
}

impl Painter<'_, '_, '_> {
    fn op(&mut self, op: &Op) {
        match op {
            Op::Text { x, y, size, color, text } => self.text(*x, *y, *size, *color, text),
            Op::Rule { x1, x2, y, width, color } => {
                let mut pb = PathBuilder::new();
                pb.move_to(*x1, *y);
                pb.line_to(*x2, *y);
                if let Some(path) = pb.finish() {
                    self.s.set_fill(None);
                    self.s.set_stroke(Some(Stroke { paint: paint(*color), width: *width, ..Stroke::default() }));
                    self.s.draw_path(&path);
                    self.s.set_stroke(None);
                }
            }
            Op::Fill { x, y, w, h, color } => {
                let mut pb = PathBuilder::new();
                if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                    pb.push_rect(rect);
                }
                if let Some(path) = pb.finish() {
                    self.s.set_stroke(None);
                    self.s.set_fill(Some(Fill {
                        paint: paint(*color),
                        opacity: NormalizedF32::ONE,
                        rule: FillRule::NonZero,
                    }));
                    self.s.draw_path(&path);
                }
            }
        }
    }

    /// One line of text, each character one glyph whose ToUnicode entry is that character.
    fn text(&mut self, x: f32, y: f32, size: f32, color: Rgb, text: &str) {
        let glyphs: Vec<KrillaGlyph> = text
            .char_indices()
            .map(|(i, c)| {
                let g = self.m.glyph(c);
                KrillaGlyph::new(GlyphId::new(u32::from(g.id)), g.advance_em, 0.0, 0.0, 0.0, i..i + c.len_utf8(), None)
            })
            .collect();
        if glyphs.is_empty() {
            return;
        }
        self.s.set_stroke(None);
        self.s.set_fill(Some(Fill { paint: paint(color), opacity: NormalizedF32::ONE, rule: FillRule::NonZero }));
        self.s.draw_glyphs(Point::from_xy(x, y), &glyphs, self.font.clone(), text, size, false);
    }

    /// The running header (title and contract number) and the footer with the page number.
    fn decorate(&mut self, report: &EvidenceReport, lang: Lang, n: usize, total: usize) {
        let size = 7.5;
        let half = layout::CONTENT_W / 2.0 - 6.0;
        let top = 30.0;
        let left = self.m.wrap(&t::TITLE.get(lang), size, half).into_iter().next().unwrap_or_default();
        self.text(MARGIN_X, layout::baseline(top, size), size, MUTED, &left);
        let right = self.m.wrap(&report.number, size, half).into_iter().next().unwrap_or_default();
        let w = self.m.width(&right, size);
        self.text(PAGE_W - MARGIN_X - w, layout::baseline(top, size), size, MUTED, &right);
        self.op(&Op::Rule { x1: MARGIN_X, x2: PAGE_W - MARGIN_X, y: top + 14.0, width: 0.5, color: RULE });

        let bottom = PAGE_H - 40.0;
        self.op(&Op::Rule { x1: MARGIN_X, x2: PAGE_W - MARGIN_X, y: bottom, width: 0.5, color: RULE });
        let number = t::page_number(lang, n, total);
        let w = self.m.width(&number, size);
        self.text((PAGE_W - w) / 2.0, layout::baseline(bottom + 4.0, size), size, MUTED, &number);
    }
}

fn paint(c: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}
