//! Every entity writes and reads back through its migrated table, on the
//! backend under test (catches a column the entity and the migration disagree on).

use std::str::FromStr;

use chrono::{NaiveDate, Utc};
use entity::*;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, QueryOrder, Set};

use crate::helpers::spawn_app;

fn d(s: &str) -> Exact {
    Exact(Decimal::from_str(s).unwrap())
}

#[tokio::test]
async fn a_whole_run_chain_round_trips_through_every_table() {
    let app = spawn_app().await;
    let db = &app.db;
    let now = Utc::now();
    let org =
        organisation::Entity::find().filter(organisation::Column::Code.eq("chengkou")).one(db).await.unwrap().unwrap();
    let dept = department::Entity::find()
        .filter(department::Column::OrganisationId.eq(org.id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let unit_row = unit::Entity::find().filter(unit::Column::OrganisationId.eq(org.id)).one(db).await.unwrap().unwrap();
    let version = rubric_version::Entity::find().one(db).await.unwrap().unwrap();
    let rule_row =
        rule::Entity::find().filter(rule::Column::RubricVersionId.eq(version.id)).one(db).await.unwrap().unwrap();
    let section = indicator::Entity::find()
        .filter(indicator::Column::RubricVersionId.eq(version.id))
        .filter(indicator::Column::Depth.eq(0))
        .one(db)
        .await
        .unwrap()
        .unwrap();

    let user = app_user::ActiveModel {
        organisation_id: Set(org.id),
        department_id: Set(Some(dept.id)),
        unit_id: Set(None),
        username: Set("mishuke".into()),
        display_name: Set("秘书科 科长".into()),
        password_hash: Set(None),
        role: Set("department".into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let run = score_run::ActiveModel {
        organisation_id: Set(org.id),
        rubric_version_id: Set(version.id),
        period_kind: Set(entity::states::PeriodKind::Year),
        // 2025: the demo seed already holds the published 2026 run.
        period: Set("2025".into()),
        title: Set("2025 年度督导考核".into()),
        status: Set(entity::states::RunStatus::Open),
        revision: Set(1),
        replaces_run_id: Set(None),
        created_by: Set(Some(user.id)),
        created_at: Set(now),
        published_at: Set(None),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    score_run_unit::ActiveModel { score_run_id: Set(run.id), unit_id: Set(unit_row.id), ..Default::default() }
        .insert(db)
        .await
        .unwrap();
    section_submission::ActiveModel {
        score_run_id: Set(run.id),
        indicator_id: Set(section.id),
        status: Set(entity::states::SubmissionStatus::Submitted),
        submitted_by: Set(Some(user.id)),
        submitted_at: Set(Some(now)),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let obs = observation::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(unit_row.id),
        rule_id: Set(rule_row.id),
        facts: Set(r#"{"count":3}"#.into()),
        note: Set(Some("3 名专职教研员未完成听课任务".into())),
        status: Set(entity::states::ObservationStatus::Active),
        supersedes_id: Set(None),
        work_key: Set(Some("w1".into())),
        document_date: Set(Some(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap())),
        entered_by: Set(Some(user.id)),
        entered_at: Set(now),
        idempotency_key: Set(Some("k-1".into())),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    // The idempotency key is unique per run.
    let again = observation::ActiveModel { id: sea_orm::NotSet, ..obs.clone().into() };
    let err = again.insert(db).await.expect_err("duplicate idempotency key accepted");
    assert_eq!(kaohe_api::ServiceError::from(err).code(), "CONFLICT");

    let claim_row = claim::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(unit_row.id),
        rule_id: Set(rule_row.id),
        facts: Set(r#"{"level":"province"}"#.into()),
        status: Set(entity::states::ClaimStatus::Pending),
        filed_by: Set(Some(user.id)),
        decided_by: Set(None),
        decision_reason: Set(None),
        observation_id: Set(Some(obs.id)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let ev = evidence::ActiveModel {
        organisation_id: Set(org.id),
        unit_id: Set(Some(unit_row.id)),
        kind: Set("reference".into()),
        sha256: Set(None),
        size: Set(None),
        media_type: Set(None),
        filename: Set(None),
        doc_number: Set(Some("许教组〔2023〕8号".into())),
        doc_date: Set(Some(NaiveDate::from_ymd_opt(2023, 5, 4).unwrap())),
        url: Set(None),
        uploaded_by: Set(Some(user.id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    evidence_link::ActiveModel {
        evidence_id: Set(ev.id),
        observation_id: Set(Some(obs.id)),
        claim_id: Set(Some(claim_row.id)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let res = result::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(unit_row.id),
        final_score: Set(d("88.5")),
        base: Set(d("85")),
        bonus: Set(d("4")),
        penalty: Set(d("0.5")),
        rank: Set(1),
        explanation: Set("[]".into()),
        computed_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    result_section::ActiveModel {
        score_run_id: Set(run.id),
        unit_id: Set(unit_row.id),
        indicator_id: Set(section.id),
        score: Set(d("12.6")),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();

    let back = result::Entity::find_by_id(res.id).one(db).await.unwrap().unwrap();
    assert_eq!(back.final_score, d("88.5"));
    assert_eq!((back.base.0 + back.bonus.0 - back.penalty.0), d("88.5").0);
    let obs_back = observation::Entity::find_by_id(obs.id).one(db).await.unwrap().unwrap();
    assert_eq!(obs_back.document_date, NaiveDate::from_ymd_opt(2026, 3, 31));
    assert_eq!(obs_back.facts, r#"{"count":3}"#);
    let sec = result_section::Entity::find()
        .filter(result_section::Column::ScoreRunId.eq(run.id))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sec.score, d("12.6"));
    let ev_back = evidence::Entity::find_by_id(ev.id).one(db).await.unwrap().unwrap();
    assert_eq!(ev_back.doc_number.as_deref(), Some("许教组〔2023〕8号"));

    // Foreign keys are enforced (SQLite too): a run of a missing version is refused.
    let orphan = score_run::ActiveModel { id: sea_orm::NotSet, rubric_version_id: Set(987_654), ..run.into() };
    let err = orphan.insert(db).await.expect_err("foreign key not enforced");
    assert_eq!(kaohe_api::ServiceError::from(err).code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn relations_navigate_between_entities() {
    let app = spawn_app().await;
    let db = &app.db;
    let org =
        organisation::Entity::find().filter(organisation::Column::Code.eq("chengkou")).one(db).await.unwrap().unwrap();
    assert_eq!(org.find_related(department::Entity).all(db).await.unwrap().len(), 4);
    let rubrics = org.find_related(rubric::Entity).all(db).await.unwrap();
    let versions = rubrics[0].find_related(rubric_version::Entity).all(db).await.unwrap();
    let indicators = versions[0].find_related(indicator::Entity).all(db).await.unwrap();
    assert!(!indicators.is_empty());
    let (r, c) = rule::Entity::find().find_also_related(clause::Entity).one(db).await.unwrap().unwrap();
    assert_eq!(c.unwrap().id, r.clause_id);
    let (u, o) = unit::Entity::find().find_also_related(organisation::Entity).one(db).await.unwrap().unwrap();
    assert_eq!(o.unwrap().id, u.organisation_id);
}

#[tokio::test]
async fn each_organisation_has_its_own_keyed_audit_chain() {
    use kaohe_api::audit::{Chain, KEYED, check_chain};
    let app = spawn_app().await;
    let entries = audit_log::Entity::find().order_by_asc(audit_log::Column::Id).all(&app.db).await.unwrap();
    assert!(entries.len() >= 2, "rubric publications are audited");
    // Each entry links to the previous entry of its own organisation.
    let mut heads = std::collections::HashMap::new();
    for e in &entries {
        assert_eq!(e.prev_hash.as_ref(), heads.get(&e.organisation_id), "entry {}", e.id);
        assert_eq!(e.chain_version, KEYED);
        heads.insert(e.organisation_id, e.hash.clone());
    }
    assert_eq!(heads.len(), 2, "both demo organisations write entries");
    // Rubric publications, then the demo seed's runs: all by the system.
    assert!(entries.iter().all(|e| e.actor_label == "system"));
    assert!(entries.iter().any(|e| e.action == "rubric_version.publish"));
    let check = |org: Option<i64>| check_chain(&app.db, &app.chain_key, Chain::of(org));
    for org in heads.keys() {
        assert!(check(*org).await.unwrap().ok());
    }

    // A second entry after the same predecessor (a fork) is refused.
    let last = entries.last().unwrap().clone();
    let fork = audit_log::ActiveModel { id: sea_orm::NotSet, hash: Set("f".repeat(64)), ..last.clone().into() };
    let err = fork.insert(&app.db).await.expect_err("a forked chain was accepted");
    assert_eq!(kaohe_api::ServiceError::from(err).code(), "CONFLICT");

    // Editing an entry breaks its organisation's chain at that entry, and no other chain.
    let first = entries[0].clone();
    let mut edited: audit_log::ActiveModel = first.clone().into();
    edited.after = Set(Some("{}".into()));
    edited.update(&app.db).await.unwrap();
    assert_eq!(check(first.organisation_id).await.unwrap().first_broken, Some(first.id));
    for org in heads.keys().filter(|o| **o != first.organisation_id) {
        assert!(check(*org).await.unwrap().ok());
    }
}
