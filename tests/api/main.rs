//! End-to-end tests: each starts the real server on port 0 with its own fresh
//! database (a temp SQLite file, or a fresh PostgreSQL database when
//! `KAOHE_TEST_PG` is set) and talks to it over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod accounts;
mod audit;
mod auth;
mod backups;
mod batching;
mod contract;
mod costs;
mod dataentry;
mod decimal;
mod drafts;
mod entities;
mod entrysheet;
mod errors;
mod evidence;
mod fuzz;
mod gate;
mod generations;
mod graphiql;
mod health;
mod http_guards;
mod idempotency;
mod isolation;
mod matrix;
mod migrations;
mod operations;
mod organisations;
mod passwords;
mod plain;
mod pool;
mod proxies;
mod relay;
mod responses;
mod restart;
mod rubrics;
mod runs;
mod schema;
mod scopes;
mod sessions;
mod statements;
mod units;
mod webhooks;
