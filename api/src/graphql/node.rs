//! The Relay `Node` interface: `node(id)` and `nodes(ids)` fetch any object
//! by its global id. Each kind is loaded through its service function, so
//! the same read rules apply as everywhere else (guards on fields reached
//! through an interface are not run: async-graphql issue #1826; we use none).

use async_graphql::{Context, ID, Interface, Object};

use super::audit::AuditEntry;
use super::claims::Claim;
use super::errors::{GqlResult, IntoGql};
use super::evidence::Evidence;
use super::ids::{IdKind, decode};
use super::observations::Observation;
use super::{Department, Organisation, Rubric, RubricVersion, ScoreRun, Unit, User, env};
use kaohe_service::ServiceError;

/// Anything with a global id (全局编号): pass it to `node(id)` to fetch it again.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Global id (全局编号): opaque; pass it back as it is."))]
pub enum Node {
    Organisation(Organisation),
    Department(Department),
    Unit(Unit),
    Rubric(Rubric),
    RubricVersion(RubricVersion),
    ScoreRun(ScoreRun),
    Observation(Observation),
    Evidence(Evidence),
    Claim(Claim),
    AuditEntry(AuditEntry),
    User(User),
}

/// Most ids one `nodes` call takes.
pub const MAX_NODES: usize = 100;

/// Fetching objects by global id (按编号查询).
#[derive(Default)]
pub struct NodeQuery;

/// Fetching objects by global id (按编号查询).
#[Object]
impl NodeQuery {
    /// The object with this global id; null (with a NOT_FOUND error) if there
    /// is none the caller may see. Nullable, as Relay expects.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        fetch(ctx, &id).await.map(Some)
    }

    /// Several objects by global id, in the order asked (at most 100); an id
    /// the caller may not see is an error at its index.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ids, at most 100.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(ServiceError::BadUserInput(format!("at most {MAX_NODES} ids")).into_gql());
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(fetch(ctx, id).await.ok());
        }
        Ok(out)
    }
}

async fn fetch(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Node> {
    let (db, caller) = env(ctx)?;
    let Some((kind, n)) = decode(id) else {
        return Err(ServiceError::BadUserInput(format!("`{}` is not an id of this API", id.as_str())).into_gql());
    };
    Ok(match kind {
        IdKind::Organisation => {
            Node::Organisation(Organisation(crate::organisation::by_id(db, caller, n).await.gql()?))
        }
        IdKind::Department => {
            Node::Department(Department(crate::organisation::department_by_id(db, caller, n).await.gql()?))
        }
        IdKind::Unit => Node::Unit(Unit(crate::unit::by_id(db, caller, n).await.gql()?)),
        IdKind::Rubric => Node::Rubric(Rubric(crate::rubric::query::by_id(db, caller, n).await.gql()?)),
        IdKind::RubricVersion => {
            Node::RubricVersion(RubricVersion::new(crate::rubric::query::version_by_id(db, caller, n).await.gql()?))
        }
        IdKind::ScoreRun => Node::ScoreRun(ScoreRun(crate::runs::visible_run(db, caller, n).await.gql()?.0)),
        IdKind::Observation => {
            Node::Observation(Observation(crate::runs::query::observation_by_id(db, caller, n).await.gql()?))
        }
        IdKind::Evidence => Node::Evidence(Evidence(crate::evidence::by_id(db, caller, n).await.gql()?)),
        IdKind::Claim => Node::Claim(Claim(crate::claims::by_id(db, caller, n).await.gql()?)),
        IdKind::AuditEntry => {
            Node::AuditEntry(AuditEntry(crate::runs::query::audit_entry_by_id(db, caller, n).await.gql()?))
        }
        IdKind::User => Node::User(User(crate::users::by_id(db, caller, n).await.gql()?)),
        other => {
            return Err(ServiceError::BadUserInput(format!(
                "a {} is fetched through its parent, not by `node`",
                other.name()
            ))
            .into_gql());
        }
    })
}
