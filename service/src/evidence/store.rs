//! Uploaded evidence files on disk, by content: `DATA_DIR/evidence/<first 2
//! hex>/<sha256>`. The same bytes are stored once, whoever sends them; a file
//! is written to a temporary file in its final folder, flushed, then renamed,
//! so a reader never sees half a file. Nothing here trusts the client: the
//! type is read from the bytes (magic numbers, the `infer` crate), the name
//! is cleaned before it is stored. Files are never deleted: an upload whose
//! database row failed leaves a harmless, content-addressed file.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::ServiceError;

/// The types accepted as evidence (media type, extension), as detected from the bytes.
const ALLOWED: [(&str, &str); 5] = [
    ("application/pdf", "pdf"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
];

/// Longest stored file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 120;

/// Bytes given to the type detector (an OOXML file's part names sit in its first few KiB).
const SNIFF_BYTES: usize = 64 * 1024;

/// Where evidence files live and how large one may be.
#[derive(Clone, Debug)]
pub struct EvidenceStore {
    root: PathBuf,
    max_bytes: usize,
}

/// A file as stored: its content hash, size and detected type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub media_type: &'static str,
    pub extension: &'static str,
}

impl EvidenceStore {
    /// Files under `root` (`DATA_DIR/evidence`), each at most `max_bytes` (`MAX_UPLOAD_BYTES`).
    pub fn new(root: PathBuf, max_bytes: usize) -> EvidenceStore {
        EvidenceStore { root, max_bytes }
    }

    /// The path of the file with this hash; `None` unless it is 64 lowercase
    /// hex digits (a stored value is never turned into a path unchecked).
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// Checks size and type, then stores the bytes unless the same bytes are
    /// already there. Blocking I/O: call it off the async workers.
    pub fn put(&self, bytes: &[u8]) -> Result<StoredFile, ServiceError> {
        if bytes.len() > self.max_bytes {
            return Err(ServiceError::TooLarge(format!(
                "the file has {} bytes; evidence files are at most {} bytes",
                bytes.len(),
                self.max_bytes
            )));
        }
        let (media_type, extension) = detect(bytes)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha256).ok_or_else(|| ServiceError::Internal("a sha256 that is not hex".into()))?;
        let present = std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64);
        if !present {
            write_atomically(&path, bytes).map_err(ServiceError::internal)?;
        }
        Ok(StoredFile { sha256, size: bytes.len() as u64, media_type, extension })
    }

    /// The stored bytes of `sha256`, checked against the hash (a file changed
    /// on disk is an internal error, never served). Blocking I/O.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>, ServiceError> {
        let path = self.path_of(sha256).ok_or_else(|| ServiceError::Internal("stored sha256 is not hex".into()))?;
        let bytes = std::fs::read(&path).map_err(ServiceError::internal)?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(ServiceError::Internal(format!("{} does not match its hash", path.display()).into()));
        }
        Ok(bytes)
    }
}

/// Temporary file in the target folder, flushed to disk, renamed over the
/// target (a concurrent upload of the same bytes renames identical content).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent folder"))?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".upload-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename itself survives a crash once the folder is flushed.
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The type of `bytes` from their magic numbers, if it is one evidence may
/// have; otherwise BAD_USER_INPUT naming what was detected.
pub fn detect(bytes: &[u8]) -> Result<(&'static str, &'static str), ServiceError> {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let wanted = "evidence files must be PDF, PNG, JPEG, DOCX or XLSX";
    match infer::get(head) {
        Some(t) => ALLOWED.iter().find(|(m, _)| *m == t.mime_type()).copied().ok_or_else(|| {
            ServiceError::BadUserInput(format!("the file is {} (.{}); {wanted}", t.mime_type(), t.extension()))
        }),
        None => Err(ServiceError::BadUserInput(format!(
            "the file's type is not recognised (plain text, for one, is not accepted); {wanted}"
        ))),
    }
}

/// The name to store and offer on download: the client's last path segment,
/// without control, bidirectional or reserved characters, at most
/// `MAX_FILENAME_CHARS`, ending in the detected type's extension.
pub fn clean_filename(raw: &str, extension: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_format_char(*c))
        .map(|c| if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim();
    let lower = cleaned.to_lowercase();
    let has_extension = lower.ends_with(&format!(".{extension}")) || (extension == "jpg" && lower.ends_with(".jpeg"));
    let (stem, ext) = match (cleaned.is_empty(), has_extension) {
        (true, _) => ("evidence", format!(".{extension}")),
        (false, true) => {
            let dot = cleaned.rfind('.').unwrap_or(cleaned.len());
            (&cleaned[..dot], cleaned[dot..].to_string())
        }
        (false, false) => (cleaned, format!(".{extension}")),
    };
    let room = MAX_FILENAME_CHARS.saturating_sub(ext.chars().count()).max(1);
    let stem: String = stem.chars().take(room).collect();
    format!("{}{ext}", stem.trim_end())
}

/// Invisible formatting characters (bidirectional overrides, zero-width
/// marks): `evil` + U+202E + `fdp.exe` displays as `evilexe.pdf`.
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(detect(PDF).unwrap(), ("application/pdf", "pdf"));
        assert_eq!(detect(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).unwrap().1, "png");
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]).unwrap().1, "jpg");
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        let elf = detect(&elf).unwrap_err();
        assert!(elf.to_string().contains("application/x-executable"), "{elf}");
        let html = detect(b"<!DOCTYPE html><html><script>alert(1)</script></html>").unwrap_err();
        assert!(html.to_string().contains("text/html"), "{html}");
        assert_eq!(detect(b"just some words").unwrap_err().code(), "BAD_USER_INPUT");
        assert!(detect(b"").is_err());
        // A plain zip is not an OOXML document.
        assert!(detect(b"PK\x03\x04\x14\0\0\0\x08\0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").is_err());
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_filename("../../etc/passwd", "pdf"), "passwd.pdf");
        assert_eq!(clean_filename("C:\\Users\\x\\佐证材料.PDF", "pdf"), "佐证材料.PDF");
        assert_eq!(clean_filename("report.exe", "pdf"), "report.exe.pdf");
        assert_eq!(clean_filename("evil\u{202E}fdp.exe", "pdf"), "evilfdp.exe.pdf");
        assert_eq!(clean_filename("a\r\nb\0.png", "png"), "ab.png");
        assert_eq!(clean_filename("photo.jpeg", "jpg"), "photo.jpeg");
        assert_eq!(clean_filename("  ...  ", "pdf"), "evidence.pdf");
        assert_eq!(clean_filename("", "xlsx"), "evidence.xlsx");
        assert_eq!(clean_filename("a\"b<c>.pdf", "pdf"), "a_b_c_.pdf");
        let long = clean_filename(&format!("{}.pdf", "长".repeat(500)), "pdf");
        assert_eq!(long.chars().count(), MAX_FILENAME_CHARS);
        assert!(long.ends_with(".pdf"));
    }

    #[test]
    fn bytes_are_stored_once_by_hash_and_read_back_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(dir.path().join("evidence"), 1024);
        let a = store.put(PDF).unwrap();
        let b = store.put(PDF).unwrap();
        assert_eq!(a, b);
        let path = store.path_of(&a.sha256).unwrap();
        assert!(path.starts_with(dir.path().join("evidence").join(&a.sha256[..2])));
        let files: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1, "one file, no temporary left behind");
        assert_eq!(store.read(&a.sha256).unwrap(), PDF);
        std::fs::write(&path, b"%PDF-tampered").unwrap();
        assert_eq!(store.read(&a.sha256).unwrap_err().code(), "INTERNAL");
        assert!(store.path_of("../../etc/passwd").is_none());
        assert!(store.path_of(&"A".repeat(64)).is_none());
    }

    #[test]
    fn too_large_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(dir.path().join("evidence"), 16);
        assert_eq!(store.put(PDF).unwrap_err().code(), "UPLOAD_TOO_LARGE");
        assert!(!dir.path().join("evidence").exists());
    }
}
