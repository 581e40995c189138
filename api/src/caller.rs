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
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller { who: Who::Anonymous, organisation_id: None, role: CallerRole::Anonymous }
    }

    pub fn system() -> Caller {
        Caller { who: Who::System, organisation_id: None, role: CallerRole::System }
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
}
