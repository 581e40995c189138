//! The PostgreSQL pool's round trips (vendor/README.md, `sqlx-postgres`):
//! a statement on a pooled connection costs one round trip, the pool's check
//! when it takes the connection back and hands it out again costs none unless
//! the connection sat idle, and a backend ended while its connection sat in
//! the pool is never used. PostgreSQL only (SQLite has no server to ask).

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::helpers::fresh;
use crate::relay::{Relay, host_port, through};

async fn backend_pid(db: &DatabaseConnection) -> Result<i32, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid() AS pid"))
        .await?
        .expect("a row");
    row.try_get::<i32>("", "pid")
}

#[tokio::test]
async fn a_pooled_statement_costs_one_round_trip_and_an_idle_connection_is_pinged() {
    let fresh = fresh().await;
    if fresh.settings.is_sqlite() {
        return;
    }
    let url = fresh.settings.database_url.expose().to_string();
    let relay = Relay::start(host_port(&url), Duration::ZERO).await;
    let db = kaohe_api::db::connect(&through(&url, relay.addr).into()).await.unwrap();
    // Prepares the statement and settles the pool on its connection.
    for _ in 0..3 {
        backend_pid(&db).await.unwrap();
    }

    let before = relay.round_trips();
    for _ in 0..20 {
        backend_pid(&db).await.unwrap();
    }
    // sqlx-postgres 0.9.0 as published: 61 (a ping each time the pool took
    // the connection back, and each time it handed it out).
    assert_eq!(relay.round_trips() - before, 20, "one round trip per statement");

    // A connection idle for longer than the bypass gets a real ping first.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before = relay.round_trips();
    backend_pid(&db).await.unwrap();
    assert_eq!(relay.round_trips() - before, 2, "the ping, then the statement");
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_backend_ended_while_its_connection_sat_in_the_pool_is_never_used() {
    let fresh = fresh().await;
    if fresh.settings.is_sqlite() {
        return;
    }
    let db = kaohe_api::db::connect(&fresh.settings.database_url).await.unwrap();
    let admin = kaohe_api::db::connect(&fresh.settings.database_url).await.unwrap();
    for round in 0..3 {
        let pid = backend_pid(&db).await.unwrap();
        let ended = admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_terminate_backend($1) AS ended",
                [pid.into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<bool>("", "ended")
            .unwrap();
        assert!(ended, "round {round}: backend {pid} ended");
        // The backend's farewell (FATAL 57P01, then the end of the stream)
        // reaches the idle connection; well within the 500 ms bypass.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let next =
            backend_pid(&db).await.unwrap_or_else(|e| panic!("round {round}: the pool used the ended backend: {e}"));
        assert_ne!(next, pid, "round {round}: a new backend answers");
    }
    db.close().await.unwrap();
    admin.close().await.unwrap();
}
