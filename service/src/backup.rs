//! Backups (备份) and restores (恢复): one tar archive holding
//!
//! - `kaohe-backup.json`: what it is (format, when, which database, how many
//!   evidence files, the newest audit entry) and the **fingerprints** of the
//!   secrets it needs (the audit key's, the JWT signing key's), never the
//!   secrets: keep those apart from the backups (see README, "Backups");
//! - `database/kaohe.db`: a consistent copy of a SQLite database (`VACUUM
//!   INTO`, taken while the server runs), or `database/kaohe.pgdump`: a
//!   PostgreSQL database as `pg_dump --format=custom` writes it;
//! - `evidence/…`: the uploaded evidence files (`DATA_DIR/evidence`).
//!
//! A restore goes into an empty place only: no database file (SQLite) or no
//! table (PostgreSQL), no evidence files. It unpacks the database and the
//! evidence, then checks what it restored (`verify_evidence`; the audit
//! chain is checked by the command line with the key).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use entity::{audit_log, evidence};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::DatabaseUrl;

const MANIFEST: &str = "kaohe-backup.json";
const SQLITE_FILE: &str = "database/kaohe.db";
const PG_FILE: &str = "database/kaohe.pgdump";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Tool(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// Fingerprints of the secrets a backup's data needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// `ChainKey::fingerprint` of the audit key.
    pub audit_key: Option<String>,
    /// The key id of the JWT signing key (sessions in the backup need it; a
    /// new key only means everyone signs in again).
    pub jwt: Option<String>,
}

/// What a backup holds (`kaohe-backup.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub evidence_files: usize,
    pub evidence_bytes: u64,
    /// The newest audit entry's id and hash when the copy was taken.
    pub audit_head: Option<(i64, String)>,
    pub fingerprints: Fingerprints,
}

/// The SQLite file a URL names (`sqlite://path?mode=rwc`), if it is one.
pub fn sqlite_path(url: &DatabaseUrl) -> Option<PathBuf> {
    let u = url.expose();
    let rest = u.strip_prefix("sqlite://").or_else(|| u.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// Files under `dir`, recursively, as (path, relative path).
fn files_under(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>, BackupError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(d.display().to_string()))? {
            let path = entry.map_err(io(d.display().to_string()))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                let rel = path.strip_prefix(dir).map(Path::to_path_buf).unwrap_or_else(|_| path.clone());
                out.push((path, rel));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes a backup of the database and the evidence files to `out` (which
/// must not exist); answers its manifest.
pub async fn backup(
    db: &DatabaseConnection,
    url: &DatabaseUrl,
    data_dir: &Path,
    fingerprints: Fingerprints,
    out: &Path,
) -> Result<Manifest, BackupError> {
    if out.exists() {
        return Err(BackupError::Refused(format!("{} exists; a backup never overwrites a file", out.display())));
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let work = tempfile::tempdir_in(parent).map_err(io(format!("a work folder in {}", parent.display())))?;
    let head = audit_log::Entity::find().order_by_desc(audit_log::Column::Id).one(db).await?.map(|e| (e.id, e.hash));
    let (kind, copy, name) = if url.is_sqlite() {
        if url.is_memory() {
            return Err(BackupError::Refused("an in-memory database has nothing to back up".into()));
        }
        let copy = work.path().join("kaohe.db");
        let target = copy.display().to_string().replace('\'', "''");
        db.execute_unprepared(&format!("VACUUM INTO '{target}'")).await?;
        ("sqlite", copy, SQLITE_FILE)
    } else {
        let copy = work.path().join("kaohe.pgdump");
        pg_tool("pg_dump", url, &["--format=custom", "--no-owner", "--no-privileges", "--file"], Some(&copy))?;
        ("postgres", copy, PG_FILE)
    };
    let evidence_dir = data_dir.join("evidence");
    let files = files_under(&evidence_dir)?;
    let mut bytes = 0;
    for (p, _) in &files {
        bytes += std::fs::metadata(p).map_err(io(p.display().to_string()))?.len();
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at: chrono::Utc::now(),
        database: kind.into(),
        evidence_files: files.len(),
        evidence_bytes: bytes,
        audit_head: head,
        fingerprints,
    };
    let partial = work.path().join("backup.tar");
    {
        let file = std::fs::File::create(&partial).map_err(io(partial.display().to_string()))?;
        let mut tar = tar::Builder::new(file);
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Tool(e.to_string()))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(manifest.created_at.timestamp().max(0) as u64);
        header.set_cksum();
        tar.append_data(&mut header, MANIFEST, text.as_slice()).map_err(io("the manifest"))?;
        tar.append_path_with_name(&copy, name).map_err(io("the database copy"))?;
        for (path, rel) in &files {
            tar.append_path_with_name(path, Path::new("evidence").join(rel)).map_err(io(path.display().to_string()))?;
        }
        tar.into_inner().and_then(|f| f.sync_all()).map_err(io(partial.display().to_string()))?;
    }
    std::fs::rename(&partial, out).map_err(io(out.display().to_string()))?;
    Ok(manifest)
}

/// Reads a backup's manifest.
pub fn manifest(archive: &Path) -> Result<Manifest, BackupError> {
    let file = std::fs::File::open(archive).map_err(io(archive.display().to_string()))?;
    let mut tar = tar::Archive::new(file);
    for entry in tar.entries().map_err(io(archive.display().to_string()))? {
        let mut entry = entry.map_err(io(archive.display().to_string()))?;
        if entry.path().ok().as_deref() == Some(Path::new(MANIFEST)) {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(io("the manifest"))?;
            let m: Manifest = serde_json::from_str(&text)
                .map_err(|e| BackupError::Refused(format!("not a kaohe backup (its manifest: {e})")))?;
            if m.format != FORMAT {
                return Err(BackupError::Refused(format!("backup format {} is not {FORMAT}", m.format)));
            }
            return Ok(m);
        }
    }
    Err(BackupError::Refused(format!("{} is not a kaohe backup (no {MANIFEST})", archive.display())))
}

/// Restores a backup into an empty place: the database of `url` (a SQLite
/// file that does not exist yet, or a PostgreSQL database without tables)
/// and `DATA_DIR/evidence` (absent or empty). Answers the manifest.
pub async fn restore(archive: &Path, url: &DatabaseUrl, data_dir: &Path) -> Result<Manifest, BackupError> {
    let m = manifest(archive)?;
    let want = if url.is_sqlite() { "sqlite" } else { "postgres" };
    if m.database != want {
        return Err(BackupError::Refused(format!(
            "the backup holds a {} database and DATABASE_URL is {want}",
            m.database
        )));
    }
    let evidence_dir = data_dir.join("evidence");
    if !files_under(&evidence_dir)?.is_empty() {
        return Err(BackupError::Refused(format!(
            "{} holds files: restore into an empty data folder",
            evidence_dir.display()
        )));
    }
    let sqlite = if url.is_sqlite() {
        let path = sqlite_path(url).ok_or_else(|| BackupError::Refused("DATABASE_URL names no SQLite file".into()))?;
        if path.exists() && std::fs::metadata(&path).map(|md| md.len() > 0).unwrap_or(true) {
            return Err(BackupError::Refused(format!(
                "{} exists: restore into an empty data folder (or another DATABASE_URL)",
                path.display()
            )));
        }
        Some(path)
    } else {
        let db = crate::db::connect(url).await?;
        let tables = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
            ))
            .await?
            .and_then(|r| r.try_get::<i64>("", "n").ok())
            .unwrap_or(0);
        db.close().await?;
        if tables > 0 {
            return Err(BackupError::Refused("the PostgreSQL database has tables: restore into an empty one".into()));
        }
        None
    };
    std::fs::create_dir_all(data_dir).map_err(io(data_dir.display().to_string()))?;
    let work = tempfile::tempdir_in(data_dir).map_err(io(data_dir.display().to_string()))?;
    let file = std::fs::File::open(archive).map_err(io(archive.display().to_string()))?;
    let mut tar = tar::Archive::new(file);
    for entry in tar.entries().map_err(io(archive.display().to_string()))? {
        let mut entry = entry.map_err(io(archive.display().to_string()))?;
        let path = entry.path().map_err(io("an archive entry"))?.into_owned();
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            // No links, devices or anything else a backup never holds.
            return Err(BackupError::Refused(format!("the entry {} is not a plain file", path.display())));
        }
        if path.starts_with("evidence") {
            // unpack_in refuses paths that would leave the folder.
            if !entry.unpack_in(data_dir).map_err(io(path.display().to_string()))? {
                return Err(BackupError::Refused(format!("the entry {} leaves the data folder", path.display())));
            }
        } else if path == Path::new(SQLITE_FILE) || path == Path::new(PG_FILE) {
            entry.unpack(work.path().join("database")).map_err(io(path.display().to_string()))?;
        }
    }
    let copy = work.path().join("database");
    if !copy.exists() {
        return Err(BackupError::Refused("the backup holds no database".into()));
    }
    match sqlite {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
            }
            std::fs::copy(&copy, &path).map_err(io(path.display().to_string()))?;
        }
        None => pg_tool("pg_restore", url, &["--no-owner", "--no-privileges", "--exit-on-error"], Some(&copy))?,
    }
    Ok(m)
}

/// Runs `pg_dump` or `pg_restore` against `url`, the password passed in
/// `PGPASSWORD` (not on the command line, where other users could read it).
fn pg_tool(tool: &str, url: &DatabaseUrl, args: &[&str], file: Option<&Path>) -> Result<(), BackupError> {
    let (dbname, password) = split_password(url.expose());
    let mut cmd = Command::new(tool);
    cmd.args(args);
    if let Some(f) = file
        && tool == "pg_dump"
    {
        cmd.arg(f);
    }
    cmd.arg("--dbname").arg(&dbname);
    if tool == "pg_restore"
        && let Some(f) = file
    {
        cmd.arg(f);
    }
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd.output().map_err(|e| BackupError::Tool(format!("{tool}: {e} (is it installed and on PATH?)")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(BackupError::Tool(format!("{tool} failed: {}", err.trim())));
    }
    Ok(())
}

/// `postgres://user:pw@host/db` → (`postgres://user@host/db`, `pw`).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let Some((userinfo, host)) = rest.split_once('@') else { return (url.to_string(), None) };
    match userinfo.split_once(':') {
        Some((user, pw)) => (format!("{scheme}://{user}@{host}"), Some(pw.to_string())),
        None => (url.to_string(), None),
    }
}

/// What checking the evidence files against their rows found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvidenceCheck {
    pub checked: usize,
    /// Hashes whose file is not there.
    pub missing: Vec<String>,
    /// Hashes whose file's bytes hash to something else.
    pub altered: Vec<String>,
}

impl EvidenceCheck {
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.altered.is_empty()
    }
}

/// Checks every uploaded evidence file the database names against its hash.
pub async fn verify_evidence(db: &DatabaseConnection, data_dir: &Path) -> Result<EvidenceCheck, BackupError> {
    let store = crate::evidence::store::EvidenceStore::new(data_dir.join("evidence"), usize::MAX);
    let rows = evidence::Entity::find().filter(evidence::Column::Sha256.is_not_null()).all(db).await?;
    let mut hashes: Vec<String> = rows.into_iter().filter_map(|r| r.sha256).collect();
    hashes.sort();
    hashes.dedup();
    let mut check = EvidenceCheck::default();
    for h in hashes {
        check.checked += 1;
        let Some(path) = store.path_of(&h) else {
            check.altered.push(h);
            continue;
        };
        match std::fs::File::open(&path) {
            Err(_) => check.missing.push(h),
            Ok(mut f) => {
                let mut hasher = Sha256::new();
                std::io::copy(&mut f, &mut hasher).map_err(io(path.display().to_string()))?;
                if hex::encode(hasher.finalize()) != h {
                    check.altered.push(h);
                }
            }
        }
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_and_pg_passwords_are_read_from_urls() {
        let url = DatabaseUrl::from("sqlite:///srv/kaohe/kaohe.db?mode=rwc".to_string());
        assert_eq!(sqlite_path(&url), Some(PathBuf::from("/srv/kaohe/kaohe.db")));
        assert_eq!(sqlite_path(&DatabaseUrl::from("sqlite::memory:".to_string())), None);
        assert_eq!(
            split_password("postgres://kaohe:s3cret@db:5432/kaohe"),
            ("postgres://kaohe@db:5432/kaohe".to_string(), Some("s3cret".to_string()))
        );
        assert_eq!(split_password("postgres://postgres@127.0.0.1/x").1, None);
    }
}
