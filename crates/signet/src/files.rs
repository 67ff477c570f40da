//! File adapters: a PDF file as a random-access [`Source`] (never read whole), writing a
//! signed output as input + appended bytes through a temporary file and a rename, password
//! files, and finding a font that can draw Chinese.

use std::fs::{self as fs, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use signet_pdf::{PdfError, Source};

/// A file read with positioned reads; the file is never loaded whole.
pub struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<FileSource> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let meta = file.metadata().with_context(|| format!("cannot read {}", path.display()))?;
        if !meta.is_file() {
            bail!("{} is not a regular file", path.display());
        }
        Ok(FileSource { len: meta.len(), file })
    }
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), PdfError> {
        use std::os::unix::fs::FileExt;
        if offset.checked_add(buf.len() as u64).is_none_or(|end| end > self.len) {
            return Err(PdfError::OutOfRange { offset, len: buf.len(), source_len: self.len });
        }
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| PdfError::Read(format!("read error at offset {offset}: {e}")))
    }
}

/// Writes `input` followed by `appended` to `out` via a temporary file in `out`'s directory
/// and a rename: a failure leaves no half-written output. The input is copied by the kernel
/// (no pass through this process's memory).
pub fn write_signed(input: &Path, appended: &[u8], out: &Path) -> Result<()> {
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot create a file in {}", dir.display()))?;
    {
        let mut src = File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
        std::io::copy(&mut src, tmp.as_file_mut()).with_context(|| format!("writing {}", out.display()))?;
    }
    tmp.write_all(appended)?;
    tmp.as_file().sync_all()?;
    tmp.persist(out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

/// Reads a password file: the first line, without its line ending. No file: empty password.
pub fn read_password(path: Option<&Path>) -> Result<String> {
    let Some(path) = path else { return Ok(String::new()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read password file {}", path.display()))?;
    let line = text.split('\n').next().unwrap_or("");
    Ok(line.strip_suffix('\r').unwrap_or(line).to_string())
}

/// Fonts tried, in order, when text must be drawn and no --font is given: (path, face index).
/// Index 2 of the Noto CJK collections is Simplified Chinese.
const FONT_CANDIDATES: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("/System/Library/Fonts/STHeiti Light.ttc", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
];

/// The default font's bytes and face index ([`find_font`] without `--font`), read once per
/// process: a CJK collection is tens of megabytes, and the server draws with it on every
/// signing and evidence report.
pub fn default_font() -> Result<&'static (Vec<u8>, u32)> {
    static FONT: std::sync::OnceLock<(Vec<u8>, u32)> = std::sync::OnceLock::new();
    if let Some(f) = FONT.get() {
        return Ok(f);
    }
    let (path, index) = find_font(None, None)?;
    let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(FONT.get_or_init(|| (bytes, index)))
}

/// Finds the font to draw appearance text with: `--font`, then `SIGNET_FONT`, then the
/// well-known places of CJK fonts.
pub fn find_font(explicit: Option<&Path>, index: Option<u32>) -> Result<(PathBuf, u32)> {
    if let Some(p) = explicit {
        if !p.is_file() {
            bail!("--font {}: no such file", p.display());
        }
        return Ok((p.to_path_buf(), index.unwrap_or(0)));
    }
    if let Some(p) = std::env::var_os("SIGNET_FONT") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok((p, index.unwrap_or(0)));
        }
        bail!("SIGNET_FONT names {}, which does not exist", p.display());
    }
    for (p, i) in FONT_CANDIDATES {
        let p = Path::new(p);
        if p.is_file() {
            return Ok((p.to_path_buf(), index.unwrap_or(*i)));
        }
    }
    bail!("no font found to draw the text lines: install a CJK font (Debian: apt-get install fonts-noto-cjk) or pass --font FILE")
}

/// Writes `data` to `path` so that it survives a crash once this returns: a temporary file in
/// the same directory (mode `mode`), fsync, rename (or, without `replace`, link only if `path`
/// does not exist), fsync of the directory.
pub fn write_durable(path: &Path, data: &[u8], mode: u32, replace: bool) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("creating a file in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .with_context(|| format!("chmod in {}", dir.display()))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(data).with_context(|| format!("writing in {}", dir.display()))?;
    tmp.as_file().sync_all().with_context(|| format!("syncing a file in {}", dir.display()))?;
    if replace {
        tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    } else {
        tmp.persist_noclobber(path).with_context(|| format!("writing {}", path.display()))?;
    }
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing the directory {}", dir.display()))?;
    Ok(())
}
