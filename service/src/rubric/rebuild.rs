//! A stored rubric version back into the engine's [`Rubric`]: rows →
//! [`RubricFile`] → [`Rubric::from_file`] (validated again on the way).

use std::sync::Arc;

use entity::{organisation, rubric, rubric_version};
use kaohe_engine::Rubric;
use kaohe_engine::rubric::file::{
    ClauseFile, GroupFile, Header, IndicatorFile, KindFile, Regime, RubricFile, RuleFile,
};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::query::{self, VersionTree};
use crate::caller::Caller;
use crate::error::ServiceError;

fn corrupt(what: String) -> ServiceError {
    ServiceError::Internal(what.into())
}

fn parse_enum<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, ServiceError> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|e| corrupt(format!("stored {what} `{text}`: {e}")))
}

/// Loads a stored version and compiles it with the engine, read as `caller`
/// may see it. A frozen (published or retired) version is compiled once per
/// server and shared (`super::frozen`). A stored version that does not
/// compile is a server fault (published versions were checked).
pub async fn rubric_of_version(
    db: &DatabaseConnection,
    caller: &Caller,
    version_id: i64,
) -> Result<Arc<Rubric>, ServiceError> {
    super::frozen::rubric(db, caller, version_id).await
}

/// A stored version in the engine's file form, with the name its errors
/// carry and the rows it was read from (drafts are compiled from it when
/// published, and their rows matched to the compiled rubric).
pub async fn file_of_version(
    db: &DatabaseConnection,
    caller: &Caller,
    version_id: i64,
) -> Result<(String, RubricFile, VersionTree), ServiceError> {
    let version = query::version_by_id(db, caller, version_id).await?;
    let tree = query::tree(db, caller, version_id).await?;
    let (name, file) = file_of_rows(db, &version, &tree).await?;
    Ok((name, file, tree))
}

/// A version's row and tree in the engine's file form (its rubric and
/// organisation read for the header).
pub(crate) async fn file_of_rows(
    db: &DatabaseConnection,
    version: &rubric_version::Model,
    tree: &VersionTree,
) -> Result<(String, RubricFile), ServiceError> {
    let version_id = version.id;
    let rubric_row = rubric::Entity::find_by_id(version.rubric_id)
        .one(db)
        .await?
        .ok_or_else(|| corrupt(format!("rubric of version {version_id}")))?;
    let org = organisation::Entity::find_by_id(rubric_row.organisation_id)
        .one(db)
        .await?
        .ok_or_else(|| corrupt(format!("organisation of rubric {}", rubric_row.id)))?;
    let header = Header {
        code: rubric_row.code,
        title: version.title.clone(),
        version: version.label.clone(),
        organisation: org.code,
        regime: parse_enum::<Regime>("regime", &version.regime)?,
        source: version.source.clone(),
        scale: version.scale.0,
        bonus_cap: version.bonus_cap.map(|c| c.0),
    };
    let file = RubricFile { rubric: header, indicators: indicators(tree)? };
    let name = version.file_name.clone().unwrap_or_else(|| format!("rubric version {version_id}"));
    Ok((name, file))
}

fn indicators(tree: &VersionTree) -> Result<Vec<IndicatorFile>, ServiceError> {
    let code_of = |id: i64| tree.indicators.iter().find(|i| i.id == id).map(|i| i.code.clone());
    let mut out = Vec::with_capacity(tree.indicators.len());
    for ind in &tree.indicators {
        let top = ind.parent_id.is_none();
        let groups = tree
            .groups
            .get(&ind.id)
            .map(|gs| {
                gs.iter()
                    .map(|g| GroupFile {
                        key: g.key.clone(),
                        title: g.title.clone(),
                        text: g.text.clone(),
                        cap: g.cap.map(|c| c.0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut clauses = Vec::new();
        for c in tree.clauses.get(&ind.id).into_iter().flatten() {
            let prefix = format!("{}-{}", ind.code, c.no);
            let mut rules = Vec::new();
            for r in tree.rules.get(&c.id).into_iter().flatten() {
                let suffix = r.code.strip_prefix(&prefix).unwrap_or(&r.code);
                rules.push(RuleFile {
                    key: (!suffix.is_empty()).then(|| suffix.to_string()),
                    label: r.label.clone(),
                    kind: kind_file(r)?,
                    cap: r.cap.map(|c| c.0),
                    halving: serde_json::from_str(&r.halving)
                        .map_err(|e| corrupt(format!("rule {} halving: {e}", r.code)))?,
                    highest_only: r.highest_only,
                    defer_late: r.defer_late,
                });
            }
            clauses.push(ClauseFile {
                no: c.no.clone(),
                group: c.group_key.clone(),
                text: c.text.clone(),
                cap: c.cap.map(|c| c.0),
                informational: c.informational,
                rules,
            });
        }
        out.push(IndicatorFile {
            code: ind.code.clone(),
            parent: ind.parent_id.and_then(code_of),
            title: ind.title.clone(),
            max: ind.max_points.map(|m| m.0),
            department: ind.department.clone(),
            role: if top { Some(super::engine_role(ind.role)) } else { None },
            weight: if top { ind.weight.map(|w| w.0) } else { None },
            note: ind.note.clone(),
            groups,
            clauses,
        });
    }
    Ok(out)
}

/// The stored params are the engine's `RuleKind` as JSON; the file form also
/// carries the effect for the kinds that have one.
fn kind_file(r: &entity::rule::Model) -> Result<KindFile, ServiceError> {
    let v: serde_json::Value =
        serde_json::from_str(&r.params).map_err(|e| corrupt(format!("rule {} params: {e}", r.code)))?;
    kind_from_params(&r.kind, &r.effect, v).map_err(|e| corrupt(format!("rule {} params: {e}", r.code)))
}

/// Whether a kind's file form names an effect (the engine fixes it for
/// rating and direct, which award points, and veto).
pub(crate) fn kind_has_effect(kind: &str) -> bool {
    !matches!(kind, "rating" | "direct" | "veto")
}

/// A rule's kind in the file form, from its name, effect and params (a JSON
/// object, as stored or as a client sends it); the error names what is wrong.
pub(crate) fn kind_from_params(
    kind: &str,
    effect: &str,
    mut params: serde_json::Value,
) -> Result<KindFile, serde_json::Error> {
    if let serde_json::Value::Object(map) = &mut params {
        map.insert("kind".into(), serde_json::Value::String(kind.to_string()));
        if kind_has_effect(kind) {
            map.insert("effect".into(), serde_json::Value::String(effect.to_string()));
        }
    }
    serde_json::from_value(params)
}
