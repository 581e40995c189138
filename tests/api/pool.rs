//! The PostgreSQL pool's round trips (vendor/README.md, `sqlx-postgres`):
//! a statement on a pooled connection costs one round trip, the pool's check
//! when it takes the connection back and hands it out again costs none unless
//! the connection sat idle, and a backend ended while its connection sat in
//! the pool is never used. PostgreSQL only (SQLite has no server to ask).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::fresh;

/// A TCP relay in front of PostgreSQL that counts the `ReadyForQuery`
/// messages the server sends: one per round trip (a statement's `Sync`,
/// the pool's ping, a simple query).
struct CountingRelay {
    addr: std::net::SocketAddr,
    ready: Arc<AtomicUsize>,
}

impl CountingRelay {
    async fn start(upstream: String) -> CountingRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let ready = Arc::new(AtomicUsize::new(0));
        let counter = ready.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else { return };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    let _ = server_write.shutdown().await;
                });
                let counter = counter.clone();
                tokio::spawn(async move {
                    // The server's side is all framed messages (no TLS asked):
                    // a type byte, then a length that counts itself.
                    let mut pending: Vec<u8> = Vec::new();
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match server_read.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.extend_from_slice(&buf[..n]);
                        while pending.len() >= 5 {
                            let len = u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]]) as usize;
                            if pending.len() < 1 + len {
                                break;
                            }
                            if pending[0] == b'Z' {
                                counter.fetch_add(1, Ordering::SeqCst);
                            }
                            pending.drain(..1 + len);
                        }
                        if client_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = client_write.shutdown().await;
                });
            }
        });
        CountingRelay { addr, ready }
    }

    fn round_trips(&self) -> usize {
        self.ready.load(Ordering::SeqCst)
    }
}

/// `url` with its host and port replaced by `addr`, TLS off (the relay reads
/// the server's messages).
fn through(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let userinfo = authority.rsplit_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{scheme}://{userinfo}{addr}/{path}{sep}sslmode=disable")
}

/// Host and port of a PostgreSQL URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hostport.contains(':') { hostport.to_string() } else { format!("{hostport}:5432") }
}

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
    let relay = CountingRelay::start(host_port(&url)).await;
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
