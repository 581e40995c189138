//! Who is calling: built per request in the HTTP handler, passed to every
//! service function so authorization plugs in at one place later.

/// The kind of caller (its role); policy decisions key on this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallerRole {
    /// Nobody signed in.
    Anonymous,
    /// The server itself (start-up loading, seeding).
    System,
    /// 督导室 / 考核办: administers an organisation.
    Admin,
    /// 科室: scores the sections its department owns.
    Department,
    /// 被考核单位: its own evidence, claims and published results.
    Unit,
    /// A read-only integration credential.
    Service,
}

/// Who the caller is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    Anonymous,
    System,
    User {
        id: i64,
        label: String,
    },
    /// An integration's service credential (e.g. the 月讲评 system).
    Service {
        id: i64,
        label: String,
    },
}

/// The identity of one request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub who: Who,
    /// The organisation (tenant) the caller acts in, if any.
    pub organisation_id: Option<i64>,
    pub role: CallerRole,
    /// What the policy grants a signed-in caller, resolved once per request.
    pub grants: Option<Grants>,
    /// A user signed in with a one-time password (a new account, a reset):
    /// everything but changing it is refused until it is changed.
    pub must_change_password: bool,
    /// The audit entries appended for this caller (shared by its clones), so
    /// the instance can move the generations they move before its answer
    /// leaves (`auth::pulse`).
    pub appended: std::sync::Arc<crate::audit::Appended>,
}

/// A signed-in caller's standing in the casbin policy of its organisation.
#[derive(Clone)]
pub struct Grants {
    /// `user:<id>` or `svc:<id>`.
    pub subject: String,
    /// The casbin domain: the caller's organisation code.
    pub organisation_code: String,
    /// The unit of a unit user (被考核单位账号).
    pub unit_id: Option<i64>,
    pub policy: std::sync::Arc<kaohe_auth::policy::Policy>,
    /// The stored policy version `policy` was loaded at.
    pub policy_version: i64,
}

impl std::fmt::Debug for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grants")
            .field("subject", &self.subject)
            .field("organisation_code", &self.organisation_code)
            .field("unit_id", &self.unit_id)
            .field("policy_version", &self.policy_version)
            .finish_non_exhaustive()
    }
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller {
            who: Who::Anonymous,
            organisation_id: None,
            role: CallerRole::Anonymous,
            grants: None,
            must_change_password: false,
            appended: Default::default(),
        }
    }

    pub fn system() -> Caller {
        Caller {
            who: Who::System,
            organisation_id: None,
            role: CallerRole::System,
            grants: None,
            must_change_password: false,
            appended: Default::default(),
        }
    }

    /// Id of the user, if the caller is one.
    pub fn user_id(&self) -> Option<i64> {
        match &self.who {
            Who::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// A label for the audit log.
    pub fn label(&self) -> String {
        match &self.who {
            Who::Anonymous => "anonymous".into(),
            Who::System => "system".into(),
            Who::User { id, label } => format!("{label} (#{id})"),
            Who::Service { id, label } => format!("service {label} (#{id})"),
        }
    }

    /// Everything a response may depend on about the caller, as text: who,
    /// in which organisation, with which role and unit, under which policy
    /// version. Two requests with the same identity (and the same data) get
    /// the same answer, so a cached response is only ever reused for it.
    pub fn response_identity(&self) -> String {
        let who = match &self.who {
            Who::Anonymous => "anonymous".to_string(),
            Who::System => "system".to_string(),
            Who::User { id, .. } => format!("user:{id}"),
            Who::Service { id, .. } => format!("svc:{id}"),
        };
        let (unit, policy) = match &self.grants {
            Some(g) => (g.unit_id, g.policy_version),
            None => (None, 0),
        };
        format!(
            "{who}|org:{:?}|role:{:?}|unit:{unit:?}|policy:{policy}|must_change:{}",
            self.organisation_id, self.role, self.must_change_password
        )
    }
}
