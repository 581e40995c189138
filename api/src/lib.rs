//! kaohe's API: the GraphQL schema (`graphql`) and the HTTP routes (`http`)
//! over the domain services of `kaohe-service`, and the application that
//! wires them (`config`, `startup`). The binary `kaohe` is `main.rs`;
//! everything else lives here so tests can start the real server.

pub mod bench_seed;
pub mod config;
pub mod graphql;
pub mod http;
pub mod memory;
pub mod metrics;
pub mod startup;
pub mod telemetry;

// The services, under the names the shell's modules use.
pub use kaohe_service::{
    Caller, ServiceError, audit, auth, backup, bootstrap, caller, claims, db, departments, error, evidence,
    idempotency, organisation, paging, policy, rubric, runs, secret, seed, seed_runs, unit, users, webhooks,
};

pub use config::Settings;
pub use startup::{Application, StartupError};
