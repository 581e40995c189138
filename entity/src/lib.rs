//! sea-orm entities of kaohe, one module per table.
//!
//! Points and scores are [`Exact`] (never floats); JSON payloads are stored as
//! text so both SQLite and PostgreSQL hold them the same way.

pub mod exact;
pub use exact::Exact;

pub mod states;

pub mod app_user;
pub mod audit_anchor;
pub mod audit_log;
pub mod casbin_rule;
pub mod claim;
pub mod clause;
pub mod department;
pub mod entry_sheet;
pub mod evidence;
pub mod evidence_link;
pub mod idempotency_key;
pub mod indicator;
pub mod indicator_group;
pub mod login_failure;
pub mod observation;
pub mod organisation;
pub mod policy_state;
pub mod refresh_token;
pub mod result;
pub mod result_section;
pub mod rubric;
pub mod rubric_version;
pub mod rule;
pub mod score_run;
pub mod score_run_unit;
pub mod section_submission;
pub mod service_credential;
pub mod unit;
pub mod unit_history;
pub mod unit_import;
pub mod user_session;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
