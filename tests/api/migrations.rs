use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::fresh;

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    let fresh = fresh().await;
    let db = kaohe_api::db::connect(&fresh.settings.database_url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), 0);
    Migrator::down(&db, None).await.unwrap();
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), Migrator::migrations().len());
    Migrator::up(&db, None).await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn decimal_columns_have_the_exact_type_of_each_backend() {
    let fresh = fresh().await;
    let db = kaohe_api::db::connect(&fresh.settings.database_url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => "SELECT type AS t FROM pragma_table_info('result') WHERE name = 'final_score'",
        _ => {
            "SELECT data_type AS t FROM information_schema.columns \
              WHERE table_name = 'result' AND column_name = 'final_score'"
        }
    };
    let row = db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
    let t: String = row.try_get("", "t").unwrap();
    let expected = if backend == DbBackend::Sqlite { "text" } else { "numeric" };
    assert_eq!(t.to_lowercase(), expected);
    db.close().await.unwrap();
}

#[tokio::test]
async fn sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout() {
    let fresh = fresh().await;
    if !fresh.settings.is_sqlite() {
        return;
    }
    let db = kaohe_api::db::connect(&fresh.settings.database_url).await.unwrap();
    let pragma = |name: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(DbBackend::Sqlite, format!("PRAGMA {name}")))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("busy_timeout").await, "5000");
    db.close().await.unwrap();
}

#[test]
fn the_database_lists_of_states_are_the_types_lists() {
    use entity::states::*;
    use migration::m20261202_000090_states::STATES;
    let of = |table: &str, column: &str| STATES.iter().find(|s| s.0 == table && s.1 == column).unwrap().2.to_vec();
    assert_eq!(of("score_run", "status"), RunStatus::ALL);
    assert_eq!(of("score_run", "period_kind"), PeriodKind::ALL);
    assert_eq!(of("observation", "status"), ObservationStatus::ALL);
    assert_eq!(of("claim", "status"), ClaimStatus::ALL);
    assert_eq!(of("section_submission", "status"), SubmissionStatus::ALL);
    assert_eq!(of("rubric_version", "status"), VersionStatus::ALL);
    assert_eq!(of("indicator", "role"), IndicatorRole::ALL);
    assert_eq!(of("rule", "kind"), kaohe_engine::rubric::file::RULE_KINDS);
    let roles: Vec<&str> = kaohe_service::users::Role::ALL.iter().map(|r| r.stored()).collect();
    assert_eq!(migration::m20261202_000095_roles::ROLES[0].2, roles);
}

#[tokio::test]
async fn a_state_outside_its_list_is_refused_by_the_database() {
    let app = crate::helpers::spawn_app().await;
    let backend = app.db.get_database_backend();
    for (sql, what) in [
        ("UPDATE score_run SET status = 'review'", "run status"),
        ("UPDATE observation SET status = 'deleted'", "observation status"),
        ("UPDATE rule SET kind = 'per_cnt'", "rule kind"),
        ("UPDATE indicator SET role = 'adjustment'", "indicator role"),
        ("UPDATE app_user SET role = 'root'", "login role"),
    ] {
        let e = app.db.execute_raw(Statement::from_string(backend, sql)).await;
        let e = e.expect_err(what).to_string();
        assert!(e.contains("ck_"), "{what}: {e}");
    }
    // The values of the lists themselves are fine.
    app.db.execute_raw(Statement::from_string(backend, "UPDATE rule SET kind = kind")).await.unwrap();
}
