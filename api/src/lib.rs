//! kaohe: the GraphQL service on which education authorities score
//! supervision rubrics (督导考核). The binary `kaohe` is `main.rs`; everything
//! else lives here so tests can start the real server.

pub mod audit;
pub mod auth;
pub mod bench_seed;
pub mod caller;
pub mod claims;
pub mod config;
pub mod db;
pub mod error;
pub mod evidence;
pub mod graphql;
pub mod http;
pub mod idempotency;
pub mod organisation;
pub mod paging;
pub mod policy;
pub mod rubric;
pub mod runs;
pub mod secret;
pub mod seed;
pub mod seed_runs;
pub mod startup;
pub mod unit;

pub use caller::Caller;
pub use config::Settings;
pub use error::ApiError;
pub use startup::{Application, StartupError};
