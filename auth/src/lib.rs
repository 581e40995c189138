//! kaohe-auth: the sign-in building blocks, free of database and HTTP.
//!
//! - [`password`]: argon2id hashes with pinned parameters (stale hashes are
//!   reported for rehashing; a dummy verify of the same cost for unknown accounts);
//! - [`token`]: short-lived JWT access tokens, verified strictly (allow-listed
//!   algorithm per key, `kid` from our own key set, `exp`/`nbf`/`iss`/`aud`
//!   required, small leeway), with two keys valid during a rotation; a user's
//!   token names its sign-in session (`sid`);
//! - [`refresh`]: opaque refresh tokens, stored only as SHA-256 hashes so they
//!   can be rotated on use and revoked;
//! - [`lockout`]: when repeated failures lock an account;
//! - [`policy`]: the casbin RBAC-with-domains model of `policies/`.

pub mod lockout;
pub mod password;
pub mod policy;
pub mod refresh;
pub mod token;
