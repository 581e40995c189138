//! The audit log (操作日志) over GraphQL: entries and the chain check.

use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::audit_log;

use super::connection::{connection, page_of};
use super::errors::GqlResult;
use super::{IdKind, env, parse_id, to_id, write_env};
use crate::runs::query::AuditFilter;
use crate::runs::{self};

connection!(AuditEntryConnection, AuditEntryEdge, AuditEntry, "audit entries (操作日志)");

/// One audit entry (操作日志): who did what, when, before and after.
#[derive(Clone)]
pub struct AuditEntry(pub audit_log::Model);

/// One audit entry (操作日志): who did what, when, before and after.
#[Object]
impl AuditEntry {
    /// Identifier (sequence number).
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::AuditEntry, self.0.id)
    }

    /// Who (操作人).
    async fn actor(&self) -> &str {
        &self.0.actor_label
    }

    /// The user id of the actor, if a user.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|i| to_id(IdKind::User, i))
    }

    /// What (操作), e.g. `observation.correct`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// Kind of object changed (对象类型).
    async fn entity(&self) -> &str {
        &self.0.entity
    }

    /// Id of the object changed (对象编号).
    async fn entity_id(&self) -> Option<&str> {
        self.0.entity_id.as_deref()
    }

    /// The score run concerned (考核批次), if any.
    async fn run_id(&self) -> Option<ID> {
        self.0.score_run_id.map(|i| to_id(IdKind::ScoreRun, i))
    }

    /// The unit concerned (被考核单位), if any.
    async fn unit_id(&self) -> Option<ID> {
        self.0.unit_id.map(|i| to_id(IdKind::Unit, i))
    }

    /// State before (修改前), as JSON.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.as_deref().and_then(|b| serde_json::from_str(b).ok()).map(Json)
    }

    /// State after (修改后), as JSON.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.as_deref().and_then(|b| serde_json::from_str(b).ok()).map(Json)
    }

    /// When (时间).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Hash of the previous entry of the same organisation's chain (上一条哈希).
    async fn prev_hash(&self) -> Option<&str> {
        self.0.prev_hash.as_deref()
    }

    /// This entry's hash (哈希) over its fields and the previous hash: an
    /// HMAC-SHA256 under the server's audit key (a plain SHA-256 for entries
    /// written before the key existed).
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}

/// The result of checking the audit chain (日志校验).
#[derive(SimpleObject)]
pub struct AuditChainCheck {
    /// Whether the chain is whole (完整): every hash and link matches, no
    /// anchored entry is missing from its end and every anchor's seal holds.
    pub ok: bool,
    /// Entries in the chain checked (条数): the caller's organisation's (each
    /// organisation's entries form a chain of their own); every chain when
    /// the server itself checks.
    pub entries: i64,
    /// The first entry whose hash or link does not match (edited, inserted or removed rows).
    pub first_broken_id: Option<ID>,
    /// Whether entries were cut from the end of the chain (日志截断): its
    /// newest entry is older than the head a publication anchored.
    pub tail_missing: bool,
    /// The newest chain head a publication anchored (发布锚点), written in the
    /// publishing transaction; null if nothing was published since the audit
    /// key exists, or when several chains are checked.
    pub anchored_head: Option<AuditChainHead>,
    /// The chain's newest entry now (链头): keep its hash outside the system
    /// (e.g. in the minutes of a publication) to notice a later cut; null for
    /// an empty chain or when several chains are checked.
    pub head: Option<AuditChainHead>,
    /// Anchors whose seal does not verify under the audit key: made or
    /// changed by someone without it (each makes `ok` false).
    pub invalid_anchors: i64,
}

/// One entry at the head of an audit chain (链头).
#[derive(SimpleObject)]
pub struct AuditChainHead {
    /// The entry (it may no longer exist when the tail was cut).
    pub entry_id: ID,
    /// Its hash.
    pub hash: String,
    /// For an anchor, the publication that anchored it; for the current
    /// head, the score run the entry concerns, if any.
    pub run_id: Option<ID>,
    /// When the anchor was taken, or the entry written.
    pub at: DateTime<Utc>,
}

impl From<crate::audit::Head> for AuditChainHead {
    fn from(h: crate::audit::Head) -> Self {
        AuditChainHead {
            entry_id: to_id(IdKind::AuditEntry, h.entry_id),
            hash: h.hash,
            run_id: h.score_run_id.map(|i| to_id(IdKind::ScoreRun, i)),
            at: h.at,
        }
    }
}

/// The audit log (操作日志).
#[derive(Default)]
pub struct AuditQuery;

/// The audit log (操作日志).
#[Object]
impl AuditQuery {
    /// The audit log (操作日志), oldest first, filtered by run, unit or user.
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only entries about this score run.")] run_id: Option<ID>,
        #[graphql(desc = "Only entries about this unit.")] unit_id: Option<ID>,
        #[graphql(desc = "Only entries by this user.")] user_id: Option<ID>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<AuditEntryConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let filter = AuditFilter {
            run_id: run_id.map(|i| parse_id(&i, IdKind::ScoreRun)).transpose()?,
            unit_id: unit_id.map(|i| parse_id(&i, IdKind::Unit)).transpose()?,
            user_id: user_id.map(|i| parse_id(&i, IdKind::User)).transpose()?,
        };
        let paged = runs::query::audit(db, caller, filter, p).await.gql()?;
        Ok(AuditEntryConnection::build(paged, AuditEntry))
    }

    /// Re-checks the caller's organisation's audit chain (日志校验): every
    /// hash, every link and the heads publications anchored. Staff of the
    /// organisation only. It reads the whole chain, so the request gate
    /// charges it 1,000 points.
    async fn verify_audit_chain(&self, ctx: &Context<'_>) -> async_graphql::Result<AuditChainCheck> {
        // Tampering happens outside the API and moves no generation: always recheck.
        crate::http::responses::no_store(ctx);
        let (db, chain_key, caller) = write_env(ctx)?;
        let c = runs::query::verify_chain(db, chain_key, caller).await.gql()?;
        Ok(AuditChainCheck {
            ok: c.ok(),
            entries: i64::try_from(c.entries).unwrap_or(i64::MAX),
            first_broken_id: c.first_broken.map(|i| to_id(IdKind::AuditEntry, i)),
            tail_missing: c.tail_missing,
            anchored_head: c.anchored.map(AuditChainHead::from),
            head: c.head.map(AuditChainHead::from),
            invalid_anchors: i64::try_from(c.invalid_anchors).unwrap_or(i64::MAX),
        })
    }
}
