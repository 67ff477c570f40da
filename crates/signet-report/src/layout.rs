//! A small page layout engine: A4 pages, a content column, wrapped paragraphs, headings that
//! keep with what follows, and tables whose rows split across pages (so a value of any
//! length — a 2 KB proof, a checkpoint — flows on instead of running off the page).
//!
//! It produces [`Op`]s per page in top-down coordinates (points from the page's top-left
//! corner, as krilla draws); `pdf.rs` turns them into PDF content and adds the running
//! header, footer and page numbers once the page count is known.

use crate::text::Metrics;

/// A4 width in points.
pub(crate) const PAGE_W: f32 = 595.276;
/// A4 height in points.
pub(crate) const PAGE_H: f32 = 841.89;
/// Left and right margin.
pub(crate) const MARGIN_X: f32 = 50.0;
/// Where content starts (below the running header).
pub(crate) const TOP: f32 = 66.0;
/// Where content must end (above the footer).
pub(crate) const BOTTOM: f32 = PAGE_H - 58.0;
/// The content column's width.
pub(crate) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Line height as a multiple of the font size.
pub(crate) const LEADING: f32 = 1.45;

/// An RGB colour.
pub(crate) type Rgb = (u8, u8, u8);

pub(crate) const INK: Rgb = (20, 20, 20);
pub(crate) const MUTED: Rgb = (90, 90, 90);
pub(crate) const ACCENT: Rgb = (22, 62, 120);
pub(crate) const RULE: Rgb = (200, 200, 200);
pub(crate) const BAND: Rgb = (232, 238, 246);
pub(crate) const HEADER_BG: Rgb = (242, 242, 242);

/// One drawing operation, in points from the page's top-left corner.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// One line of text; `y` is the baseline.
    Text { x: f32, y: f32, size: f32, color: Rgb, text: String },
    /// A horizontal rule.
    Rule { x1: f32, x2: f32, y: f32, width: f32, color: Rgb },
    /// A filled rectangle.
    Fill { x: f32, y: f32, w: f32, h: f32, color: Rgb },
}

/// The baseline of a line whose box starts at `top`, for a CJK font whose ideographic box
/// spans about −0.12 em to 0.88 em around the baseline.
pub(crate) fn baseline(top: f32, size: f32) -> f32 {
    top + size * LEADING / 2.0 + size * 0.38
}

/// A table: column widths (summing to at most [`CONTENT_W`]), an optional header row repeated
/// on every page the table spans, and rows of cells.
pub(crate) struct Table {
    pub widths: Vec<f32>,
    pub header: Option<Vec<String>>,
    pub rows: Vec<Vec<String>>,
    pub size: f32,
    /// Print the first column muted (labels of a key/value table).
    pub label_column: bool,
}

const CELL_PAD_X: f32 = 4.0;
const CELL_PAD_Y: f32 = 2.5;

/// Pages under construction.
pub(crate) struct Layout<'m, 'f> {
    m: &'m Metrics<'f>,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'m, 'f> Layout<'m, 'f> {
    pub fn new(m: &'m Metrics<'f>) -> Self {
        Layout { m, pages: vec![Vec::new()], y: TOP }
    }

    pub fn finish(self) -> Vec<Vec<Op>> {
        self.pages
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn at_page_top(&self) -> bool {
        self.y <= TOP
    }

    /// Starts a new page unless `h` points still fit on this one.
    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM && !self.at_page_top() {
            self.new_page();
        }
    }

    /// Vertical space; dropped at the top of a page.
    pub fn space(&mut self, h: f32) {
        if !self.at_page_top() {
            self.y = (self.y + h).min(BOTTOM);
        }
    }

    /// Wrapped lines, each centred in the column.
    pub fn centered(&mut self, text: &str, size: f32, color: Rgb) {
        let lh = size * LEADING;
        for line in self.m.wrap(text, size, CONTENT_W) {
            self.ensure(lh);
            let w = self.m.width(&line, size);
            let x = MARGIN_X + ((CONTENT_W - w) / 2.0).max(0.0);
            self.push(Op::Text { x, y: baseline(self.y, size), size, color, text: line });
            self.y += lh;
        }
    }

    /// A wrapped paragraph.
    pub fn paragraph(&mut self, text: &str, size: f32, color: Rgb) {
        let lh = size * LEADING;
        for line in self.m.wrap(text, size, CONTENT_W) {
            self.ensure(lh);
            self.push(Op::Text { x: MARGIN_X, y: baseline(self.y, size), size, color, text: line });
            self.y += lh;
        }
    }

    /// A section heading on a tinted band, kept with at least a few lines of what follows.
    pub fn heading(&mut self, text: &str) {
        let size = 12.0;
        let lh = size * LEADING;
        let lines = self.m.wrap(text, size, CONTENT_W - 2.0 * CELL_PAD_X);
        self.space(10.0);
        self.ensure(lines.len() as f32 * lh + 2.0 * CELL_PAD_Y + 4.0 * 9.0 * LEADING);
        let last = lines.len().saturating_sub(1);
        for (i, line) in lines.into_iter().enumerate() {
            let pad_top = if i == 0 { CELL_PAD_Y } else { 0.0 };
            let h = lh + pad_top + if i == last { CELL_PAD_Y } else { 0.0 };
            self.ensure(h);
            self.push(Op::Fill { x: MARGIN_X, y: self.y, w: CONTENT_W, h, color: BAND });
            let op = Op::Text {
                x: MARGIN_X + CELL_PAD_X,
                y: baseline(self.y + pad_top, size),
                size,
                color: ACCENT,
                text: line,
            };
            self.push(op);
            self.y += h;
        }
        self.y += 4.0;
    }

    /// A sub-heading with a rule under it, kept with a few lines of what follows.
    pub fn subheading(&mut self, text: &str) {
        let size = 10.5;
        let lh = size * LEADING;
        let lines = self.m.wrap(text, size, CONTENT_W);
        self.space(6.0);
        self.ensure(lines.len() as f32 * lh + 2.0 + 3.0 * 9.0 * LEADING);
        for line in lines {
            self.ensure(lh + 2.0);
            self.push(Op::Text { x: MARGIN_X, y: baseline(self.y, size), size, color: INK, text: line });
            self.y += lh;
        }
        self.push(Op::Rule { x1: MARGIN_X, x2: MARGIN_X + CONTENT_W, y: self.y, width: 0.6, color: ACCENT });
        self.y += 2.0;
    }

    /// A table; rows longer than the space left are continued on the next page, with the
    /// header repeated.
    pub fn table(&mut self, t: &Table) {
        let size = t.size;
        let lh = size * LEADING;
        let header = t.header.as_ref().map(|cells| self.wrap_row(t, cells));
        let mut header_drawn_on_page = false;
        if let Some(h) = &header {
            // Keep the header with the first row's first lines.
            let rows = h.iter().map(Vec::len).max().unwrap_or(1);
            self.ensure((rows + 2) as f32 * lh + 4.0 * CELL_PAD_Y);
        }
        // Whether this page holds nothing but (perhaps) the table's header: breaking the
        // page again would gain no room.
        let mut fresh = self.at_page_top();
        for cells in &t.rows {
            let wrapped = self.wrap_row(t, cells);
            let n = wrapped.iter().map(Vec::len).max().unwrap_or(1);
            let mut k = 0;
            while k < n {
                if let Some(h) = &header
                    && !header_drawn_on_page
                {
                    self.draw_row(t, h, 0, h.iter().map(Vec::len).max().unwrap_or(1), true);
                    header_drawn_on_page = true;
                }
                let avail = ((BOTTOM - self.y - 2.0 * CELL_PAD_Y) / lh).floor().max(0.0) as usize;
                // Do not split a short row; do not start a row where no line fits.
                if avail < (n - k).min(3) && !fresh {
                    self.new_page();
                    header_drawn_on_page = false;
                    fresh = true;
                    continue;
                }
                let take = (n - k).min(avail.max(1));
                self.draw_row(t, &wrapped, k, take, false);
                fresh = false;
                k += take;
                if k < n {
                    self.new_page();
                    header_drawn_on_page = false;
                    fresh = true;
                }
            }
        }
    }

    fn wrap_row(&self, t: &Table, cells: &[String]) -> Vec<Vec<String>> {
        t.widths
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let text = cells.get(i).map(String::as_str).unwrap_or("");
                self.m.wrap(text, t.size, (w - 2.0 * CELL_PAD_X).max(1.0))
            })
            .collect()
    }

    /// Draws lines `from..from + count` of a wrapped row, then a rule under it.
    fn draw_row(&mut self, t: &Table, wrapped: &[Vec<String>], from: usize, count: usize, is_header: bool) {
        let size = t.size;
        let lh = size * LEADING;
        let h = count as f32 * lh + 2.0 * CELL_PAD_Y;
        if is_header {
            self.push(Op::Fill { x: MARGIN_X, y: self.y, w: t.widths.iter().sum(), h, color: HEADER_BG });
        }
        let mut x = MARGIN_X;
        for (col, (w, lines)) in t.widths.iter().zip(wrapped).enumerate() {
            let color = if is_header || (t.label_column && col == 0) { MUTED } else { INK };
            let mut top = self.y + CELL_PAD_Y;
            for line in lines.iter().skip(from).take(count) {
                if !line.is_empty() {
                    let op = Op::Text { x: x + CELL_PAD_X, y: baseline(top, size), size, color, text: line.clone() };
                    self.push(op);
                }
                top += lh;
            }
            x += w;
        }
        self.y += h;
        let x2 = MARGIN_X + t.widths.iter().sum::<f32>();
        self.push(Op::Rule { x1: MARGIN_X, x2, y: self.y, width: 0.4, color: RULE });
    }
}
