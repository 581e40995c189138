//! Loads every `*.toml` in the rubrics folder into the database as a
//! published rubric version. A bad file stops the start (the engine's error
//! names the file and the indicator); a file already loaded (same sha256 of
//! its text) adds nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::Utc;
use entity::states::VersionStatus;
use entity::{Exact, clause, indicator, indicator_group, organisation, rubric, rubric_version, rule};
use kaohe_engine::{Rubric, RubricErrors};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};

use super::enum_text;
use crate::audit::{self, ChainKey};
use crate::caller::Caller;

/// Why the rubrics could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read rubrics from {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid rubric file(s):\n{0}")]
    Invalid(RubricErrors),
    #[error("{file}: organisation `{code}` does not exist")]
    UnknownOrganisation { file: String, code: String },
    #[error("storing rubric {file}: {source}")]
    Db {
        file: String,
        #[source]
        source: DbErr,
    },
}

/// What loading did, file by file.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Files stored as a new published version.
    pub stored: Vec<String>,
    /// Files whose text was already stored.
    pub unchanged: Vec<String>,
}

/// One validated file.
pub struct RubricSource {
    pub file_name: String,
    pub sha256: String,
    pub rubric: Rubric,
}

/// Reads and validates every `*.toml` file of `dir`, sorted by name. Every
/// problem of every file is reported together.
pub fn read_dir(dir: &Path) -> Result<Vec<RubricSource>, LoadError> {
    let io = |source| LoadError::Io { path: dir.to_path_buf(), source };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io { path: path.clone(), source })?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match Rubric::from_toml(&file_name, &text) {
            Ok(rubric) => {
                sources.push(RubricSource { sha256: hex::encode(Sha256::digest(text.as_bytes())), file_name, rubric })
            }
            Err(RubricErrors(list)) => problems.extend(list),
        }
    }
    if problems.is_empty() { Ok(sources) } else { Err(LoadError::Invalid(RubricErrors(problems))) }
}

/// Reads, validates and stores every rubric of `dir`.
pub async fn load_dir(db: &DatabaseConnection, chain_key: &ChainKey, dir: &Path) -> Result<LoadReport, LoadError> {
    let sources = read_dir(dir)?;
    let mut report = LoadReport::default();
    for src in &sources {
        let stored = store(db, chain_key, src).await?;
        if stored {
            tracing::info!(file = %src.file_name, code = %src.rubric.code, version = %src.rubric.version, "rubric version stored");
            report.stored.push(src.file_name.clone());
        } else {
            report.unchanged.push(src.file_name.clone());
        }
    }
    Ok(report)
}

/// Stores one rubric as a published version in one transaction. Returns
/// false when a version with the same text is already stored.
pub async fn store(db: &DatabaseConnection, chain_key: &ChainKey, src: &RubricSource) -> Result<bool, LoadError> {
    let dberr = |source| LoadError::Db { file: src.file_name.clone(), source };
    let r = &src.rubric;
    let txn = crate::db::begin_write(db).await.map_err(dberr)?;
    let org = organisation::Entity::find()
        .filter(organisation::Column::Code.eq(&r.organisation))
        .one(&txn)
        .await
        .map_err(dberr)?
        .ok_or_else(|| LoadError::UnknownOrganisation { file: src.file_name.clone(), code: r.organisation.clone() })?;
    let now = Utc::now();
    let rubric_row = match rubric::Entity::find()
        .filter(rubric::Column::OrganisationId.eq(org.id))
        .filter(rubric::Column::Code.eq(&r.code))
        .one(&txn)
        .await
        .map_err(dberr)?
    {
        Some(row) => row,
        None => rubric::ActiveModel {
            organisation_id: Set(org.id),
            code: Set(r.code.clone()),
            title: Set(r.title.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(dberr)?,
    };
    let same = rubric_version::Entity::find()
        .filter(rubric_version::Column::RubricId.eq(rubric_row.id))
        .filter(rubric_version::Column::SourceSha256.eq(&src.sha256))
        .one(&txn)
        .await
        .map_err(dberr)?;
    if same.is_some() {
        txn.rollback().await.map_err(dberr)?;
        return Ok(false);
    }
    // The file changed under the same label: the stored version is frozen, so
    // it is retired and the new text becomes a new published version.
    let older = rubric_version::Entity::find()
        .filter(rubric_version::Column::RubricId.eq(rubric_row.id))
        .filter(rubric_version::Column::Label.eq(&r.version))
        .filter(rubric_version::Column::Status.eq("published"))
        .all(&txn)
        .await
        .map_err(dberr)?;
    for old in older {
        tracing::warn!(file = %src.file_name, version = %r.version, id = old.id, "rubric file changed: retiring the stored version");
        let id = old.id;
        let next = old.version + 1;
        let mut am: rubric_version::ActiveModel = old.into();
        am.status = Set(VersionStatus::Retired);
        am.version = Set(next);
        am.update(&txn).await.map_err(dberr)?;
        audit::record(
            &txn,
            chain_key,
            &Caller::system(),
            audit::Entry {
                organisation_id: Some(org.id),
                action: "rubric_version.retire",
                entity: "rubric_version",
                entity_id: Some(id.to_string()),
                before: None,
                after: Some(serde_json::json!({"status": "retired"})),
            },
        )
        .await
        .map_err(dberr)?;
    }
    let version = rubric_version::ActiveModel {
        rubric_id: Set(rubric_row.id),
        label: Set(r.version.clone()),
        title: Set(r.title.clone()),
        status: Set(VersionStatus::Published),
        scale: Set(Exact(r.scale)),
        bonus_cap: Set(r.bonus_cap.map(Exact)),
        regime: Set(enum_text(&r.regime)),
        source: Set(r.source.clone()),
        file_name: Set(Some(src.file_name.clone())),
        source_sha256: Set(Some(src.sha256.clone())),
        version: Set(1),
        published_at: Set(Some(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(dberr)?;
    insert_tree(&txn, version.id, r).await.map_err(dberr)?;
    audit::record(
        &txn,
        chain_key,
        &Caller::system(),
        audit::Entry {
            organisation_id: Some(org.id),
            action: "rubric_version.publish",
            entity: "rubric_version",
            entity_id: Some(version.id.to_string()),
            before: None,
            after: Some(serde_json::json!({
                "rubric": r.code,
                "label": r.version,
                "file": src.file_name,
                "sha256": src.sha256,
            })),
        },
    )
    .await
    .map_err(dberr)?;
    txn.commit().await.map_err(dberr)?;
    Ok(true)
}

/// Inserts indicators (parents first), their groups, clauses and rules.
async fn insert_tree<C: ConnectionTrait>(conn: &C, version_id: i64, r: &Rubric) -> Result<(), DbErr> {
    let mut indicator_ids: Vec<i64> = Vec::with_capacity(r.indicators.len());
    // (indicator idx, clause idx) → clause id
    let mut clause_ids: HashMap<(usize, usize), i64> = HashMap::new();
    for (pos, ind) in r.indicators.iter().enumerate() {
        let parent_id = ind.parent.and_then(|p| indicator_ids.get(p).copied());
        let row = indicator::ActiveModel {
            rubric_version_id: Set(version_id),
            parent_id: Set(parent_id),
            code: Set(ind.code.clone()),
            title: Set(ind.title.clone()),
            depth: Set(to_i32(ind.depth)),
            position: Set(to_i32(pos)),
            max_points: Set(ind.max.map(Exact)),
            weight: Set(ind.weight.map(Exact)),
            role: Set(super::stored_role(ind.role)),
            department: Set(ind.department.clone()),
            note: Set(ind.note.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        indicator_ids.push(row.id);
        for (gpos, g) in ind.groups.iter().enumerate() {
            indicator_group::ActiveModel {
                indicator_id: Set(row.id),
                key: Set(g.key.clone()),
                title: Set(g.title.clone()),
                text: Set(g.text.clone()),
                cap: Set(g.cap.map(Exact)),
                position: Set(to_i32(gpos)),
                ..Default::default()
            }
            .insert(conn)
            .await?;
        }
        for (cpos, c) in ind.clauses.iter().enumerate() {
            let crow = clause::ActiveModel {
                indicator_id: Set(row.id),
                no: Set(c.no.clone()),
                text: Set(c.text.clone()),
                group_key: Set(c.group.and_then(|g| ind.groups.get(g)).map(|g| g.key.clone())),
                cap: Set(c.cap.map(Exact)),
                informational: Set(c.informational),
                position: Set(to_i32(cpos)),
                ..Default::default()
            }
            .insert(conn)
            .await?;
            clause_ids.insert((pos, cpos), crow.id);
        }
    }
    for (pos, rl) in r.rules.iter().enumerate() {
        let (Some(&indicator_id), Some(&clause_id)) =
            (indicator_ids.get(rl.indicator), clause_ids.get(&(rl.indicator, rl.clause)))
        else {
            return Err(DbErr::Custom(format!("rule {} has no indicator or clause", rl.code)));
        };
        let params = serde_json::to_string(&rl.kind).map_err(|e| DbErr::Custom(format!("rule {}: {e}", rl.code)))?;
        let halving =
            serde_json::to_string(&rl.halving).map_err(|e| DbErr::Custom(format!("rule {}: {e}", rl.code)))?;
        rule::ActiveModel {
            rubric_version_id: Set(version_id),
            indicator_id: Set(indicator_id),
            clause_id: Set(clause_id),
            code: Set(rl.code.clone()),
            label: Set(rl.label.clone()),
            kind: Set(rl.kind.name().to_string()),
            effect: Set(enum_text(&rl.effect)),
            params: Set(params),
            cap: Set(rl.cap.map(Exact)),
            halving: Set(halving),
            highest_only: Set(rl.highest_only),
            defer_late: Set(rl.defer_late),
            position: Set(to_i32(pos)),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
