//! kaohe's domain services (督导考核): everything the API does, callable
//! without GraphQL or HTTP. Each function takes the database, the caller and
//! plain values, authorizes first, writes in one transaction with its audit
//! entry, and answers typed values or a [`ServiceError`]. The scoring itself
//! is the pure `kaohe-engine`; `kaohe-api` is a thin GraphQL and HTTP shell
//! over this crate (see ARCHITECTURE.md).

pub mod audit;
pub mod auth;
pub mod backup;
pub mod bootstrap;
pub mod caller;
pub mod claims;
pub mod config;
pub mod db;
pub mod departments;
pub mod error;
pub mod evidence;
pub mod idempotency;
pub mod ids;
pub mod input;
pub mod kept_sql;
pub mod metrics;
pub mod organisation;
pub mod paging;
pub mod policy;
pub mod rubric;
pub mod runs;
pub mod secret;
pub mod seed;
pub mod seed_runs;
pub mod unit;
pub mod users;
pub mod webhooks;

pub use caller::Caller;
pub use error::ServiceError;
