//! Exact decimals survive the database: SQLite stores them as TEXT, PostgreSQL
//! as unconstrained NUMERIC (see `entity::Exact`).

use std::str::FromStr;

use chrono::Utc;
use entity::{Exact, rubric, rubric_version};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, Statement};
use serde_json::json;

use crate::helpers::{gid, spawn_app};

fn samples() -> Vec<Decimal> {
    vec![
        Decimal::from_str("0.1").unwrap(),
        Decimal::from_str("0.2").unwrap(),
        Decimal::ONE / Decimal::from(3),
        Decimal::from_str("12345678.123456").unwrap(),
        Decimal::from_str("0.1").unwrap() + Decimal::from_str("0.2").unwrap(),
        Decimal::from_str("-0.000001").unwrap(),
        Decimal::from_str("1.50").unwrap(),
        Decimal::MAX,
    ]
}

#[tokio::test]
async fn decimals_read_back_exactly_through_the_database_and_the_api() {
    let app = spawn_app().await;
    let now = Utc::now();
    let probe = rubric::ActiveModel {
        organisation_id: Set(1),
        code: Set("decimal-probe".into()),
        title: Set("decimal probe".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (i, d) in samples().into_iter().enumerate() {
        let row = rubric_version::ActiveModel {
            rubric_id: Set(probe.id),
            label: Set(format!("probe-{i}")),
            title: Set("probe".into()),
            // Published: drafts are hidden from anonymous readers.
            status: Set(entity::states::VersionStatus::Published),
            scale: Set(Exact(d)),
            bonus_cap: Set(Some(Exact(d))),
            regime: Set("annual".into()),
            version: Set(1),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .unwrap();
        ids.push((row.id, d));
    }
    for (id, d) in &ids {
        let row = rubric_version::Entity::find_by_id(*id).one(&app.db).await.unwrap().unwrap();
        assert_eq!(row.scale.0, *d, "scale through sea-orm");
        assert_eq!(row.scale.0.to_string(), d.to_string(), "scale keeps its digits");
        assert_eq!(row.bonus_cap.map(|c| c.0), Some(*d));

        let data = app
            .query_with(
                "query($id: ID!) { rubricVersion(id: $id) { scale bonusCap } }",
                json!({ "id": gid("RubricVersion", *id) }),
            )
            .await;
        assert_eq!(data["rubricVersion"]["scale"], json!(d.to_string()), "scale through GraphQL");
        assert_eq!(data["rubricVersion"]["bonusCap"], json!(d.to_string()));
    }
    // 0.1 + 0.2 is exactly 0.3 (it would not be as a float).
    assert_eq!(ids[4].1, Decimal::from_str("0.3").unwrap());

    if app.is_sqlite() {
        // Stored as text, never as a REAL.
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT DISTINCT typeof(scale) AS t FROM rubric_version",
            ))
            .await
            .unwrap();
        let kinds: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "t").unwrap()).collect();
        assert_eq!(kinds, ["text"]);
    }
}
