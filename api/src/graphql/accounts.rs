//! Accounts and the organisation's set-up over GraphQL (用户与科室管理): the
//! `User` type, `users`, `user`, `me`, `myPermissions`; the user, password
//! and department mutations; the unit sheet import. Thin: each resolver
//! parses ids, calls one service function and maps its answer.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject, Upload};
use chrono::{DateTime, Utc};
use entity::app_user;

use super::connection::{connection, page_of};
use super::errors::{GqlResult, IntoGql};
use super::organisation::Department;
use super::{IdKind, Organisation, Unit, env, parse_id, to_id, write_env};
use crate::auth::AuthState;
use crate::unit::import::{self, Action, Source};
use crate::users::{self, NewUser, Role, UserFilter, UserUpdate};
use kaohe_service::ServiceError;

/// What an account does (角色).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum UserRole {
    /// 督导室/考核办: administers the organisation.
    Admin,
    /// 科室负责人: scores the sections its department owns.
    DepartmentHead,
    /// 被考核单位账号: its own unit's evidence, claims and published results.
    Unit,
    /// A read-only integration account (月讲评).
    Integration,
}

impl From<UserRole> for Role {
    fn from(r: UserRole) -> Self {
        match r {
            UserRole::Admin => Role::Admin,
            UserRole::DepartmentHead => Role::DepartmentHead,
            UserRole::Unit => Role::Unit,
            UserRole::Integration => Role::Integration,
        }
    }
}

impl From<Role> for UserRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => UserRole::Admin,
            Role::DepartmentHead => UserRole::DepartmentHead,
            Role::Unit => UserRole::Unit,
            Role::Integration => UserRole::Integration,
        }
    }
}

/// An account (用户) of an organisation.
pub struct User(pub app_user::Model);

/// An account (用户) of an organisation.
#[Object]
impl User {
    /// Identifier.
    pub(crate) async fn id(&self) -> ID {
        to_id(IdKind::User, self.0.id)
    }

    /// Username (用户名), NFKC-normalised; unique across the platform.
    async fn username(&self) -> &str {
        &self.0.username
    }

    /// Display name (姓名).
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// Role (角色).
    async fn role(&self) -> async_graphql::Result<UserRole> {
        Role::of(&self.0.role)
            .map(UserRole::from)
            .ok_or_else(|| ServiceError::Internal(format!("user {}: role", self.0.id).into()))
            .gql()
    }

    /// Whether it may sign in (在用); a deactivated account (已停用) may not.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// It signed in with a one-time password and must change it (`changePassword`) before anything else.
    async fn must_change_password(&self) -> bool {
        self.0.must_change_password
    }

    /// Version for optimistic concurrency (乐观锁版本); pass it to the user mutations.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When it was created (创建时间).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last changed (更新时间).
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.0.updated_at
    }

    /// Its organisation (考核组织).
    async fn organisation(&self, ctx: &Context<'_>) -> async_graphql::Result<Organisation> {
        Ok(Organisation(super::loader::organisation(ctx, self.0.organisation_id).await?))
    }

    /// Its department (科室): a department head's, or an admin's if it has one.
    async fn department(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Department>> {
        let Some(id) = self.0.department_id else { return Ok(None) };
        let (db, caller) = env(ctx)?;
        Ok(Some(Department(crate::organisation::department_by_id(db, caller, id).await.gql()?)))
    }

    /// Its unit (被考核单位), for a unit user.
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        let Some(id) = self.0.unit_id else { return Ok(None) };
        Ok(Some(Unit(super::loader::unit(ctx, id).await?)))
    }
}

connection!(UserConnection, UserEdge, User, "accounts (用户)");

/// What the signed-in caller may do in its organisation (我的权限), as the policy grants it.
#[derive(SimpleObject)]
pub struct OrganisationPermissions {
    /// May create accounts, change them, reset passwords, deactivate (用户管理).
    pub can_administer_users: bool,
    /// May list accounts (`users`): all of them for the admin, the department heads for a head, itself otherwise.
    pub can_see_users: bool,
    /// May create, rename and deactivate departments (科室管理).
    pub can_administer_departments: bool,
    /// May create, rename, move, deactivate and import assessed units (被考核单位管理).
    pub can_administer_units: bool,
    /// May change the organisation's settings: who scores which section (`assignIndicator`) and service credentials.
    pub can_administer_organisation: bool,
    /// May open score runs (开启考核批次).
    pub can_open_runs: bool,
    /// May publish and amend runs (发布).
    pub can_publish: bool,
    /// May edit rubric drafts (编辑考核细则).
    pub can_edit_rubrics: bool,
    /// May upload evidence (上传佐证材料); a unit user for its own unit only.
    pub can_upload_evidence: bool,
}

/// Reading accounts (用户查询).
#[derive(Default)]
pub struct AccountQuery;

/// Reading accounts (用户查询).
#[Object]
impl AccountQuery {
    /// The accounts of the caller's organisation it may see (the admin: all;
    /// a department head: the department heads; others: itself), in creation order.
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only accounts of this role.")] role: Option<UserRole>,
        #[graphql(desc = "Only accounts of this department (科室).")] department_id: Option<ID>,
        #[graphql(desc = "Only accounts of this unit (被考核单位).")] unit_id: Option<ID>,
        #[graphql(desc = "Only active (true) or deactivated (false) accounts.")] active: Option<bool>,
        #[graphql(desc = "Only accounts whose username or display name contains this text.")] search: Option<String>,
        #[graphql(desc = "Page size from the start or after `after`, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Cursor to continue after.")] after: Option<String>,
        #[graphql(desc = "Page size before `before` (paging backwards), 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Cursor to page backwards from; needed with `last`.")] before: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let p = page_of(ctx, first, after, last, before)?;
        let (db, caller) = env(ctx)?;
        let filter = UserFilter {
            role: role.map(Role::from),
            department_id: department_id.map(|d| parse_id(&d, IdKind::Department)).transpose()?,
            unit_id: unit_id.map(|u| parse_id(&u, IdKind::Unit)).transpose()?,
            active,
            search,
        };
        let paged = users::list(db, caller, filter, p).await.gql()?;
        Ok(UserConnection::build(paged, User))
    }

    /// One account by id; NOT_FOUND if there is none the caller may see.
    async fn user(&self, ctx: &Context<'_>, #[graphql(desc = "User id.")] id: ID) -> async_graphql::Result<User> {
        let (db, caller) = env(ctx)?;
        let id = parse_id(&id, IdKind::User)?;
        Ok(User(users::by_id(db, caller, id).await.gql()?))
    }

    /// The signed-in user's own account (我的账号); null for a service credential.
    /// Answered even before a one-time password is changed.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let (db, caller) = env(ctx)?;
        Ok(users::me(db, caller).await.gql()?.map(User))
    }

    /// What the signed-in caller may do with accounts, departments, units and
    /// the organisation's settings (all false when not signed in).
    async fn my_permissions(&self, ctx: &Context<'_>) -> async_graphql::Result<OrganisationPermissions> {
        let (_, caller) = env(ctx)?;
        let r = crate::policy::organisation_rights(caller);
        Ok(OrganisationPermissions {
            can_administer_users: r.administer_users,
            can_see_users: r.see_users,
            can_administer_departments: r.administer_departments,
            can_administer_units: r.administer_units,
            can_administer_organisation: r.administer_organisation,
            can_open_runs: r.open_runs,
            can_publish: r.publish_runs,
            can_edit_rubrics: r.edit_rubrics,
            can_upload_evidence: r.upload_evidence,
        })
    }
}

/// Creating an account (新增用户) in the admin's own organisation.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Username (用户名): 2 to 64 letters, digits, `-`, `_`, `.`, `@`; NFKC-normalised and trimmed; unique.
    pub username: String,
    /// Display name (姓名).
    pub display_name: String,
    /// Role (角色).
    pub role: UserRole,
    /// The department (科室) of a department head (required for one; optional for an admin).
    pub department_id: Option<ID>,
    /// The unit (被考核单位) of a unit user (required for one).
    pub unit_id: Option<ID>,
    /// An initial password meeting the policy; none: a one-time password is made and answered once.
    pub initial_password: Option<String>,
}

/// A new account and its one-time password.
#[derive(SimpleObject)]
pub struct CreatedUser {
    /// The account.
    pub user: User,
    /// The one-time password (初始密码), shown only in this answer; null when `initialPassword` was given.
    pub one_time_password: Option<String>,
}

/// A password reset: the account and its new one-time password.
#[derive(SimpleObject)]
pub struct PasswordReset {
    /// The account (its sessions have ended).
    pub user: User,
    /// The one-time password (临时密码), shown only in this answer; the user must change it at sign-in.
    pub one_time_password: String,
}

/// Changing an account (修改用户); fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The account.
    pub id: ID,
    /// Its version as last read (乐观锁).
    pub expected_version: i32,
    /// A new display name.
    pub display_name: Option<String>,
    /// A new role (not one's own).
    pub role: Option<UserRole>,
    /// A new department, or null to take the account out of its department.
    pub department_id: MaybeUndefined<ID>,
    /// A new unit, or null to take the account off its unit.
    pub unit_id: MaybeUndefined<ID>,
}

fn maybe_id(v: MaybeUndefined<ID>, kind: IdKind) -> async_graphql::Result<Option<Option<i64>>> {
    Ok(match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(id) => Some(Some(parse_id(&id, kind)?)),
    })
}

fn auth<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<AuthState>> {
    ctx.data::<Arc<AuthState>>()
}

/// After a membership change: this instance enforces it from the next request.
async fn memberships_changed(ctx: &Context<'_>) -> async_graphql::Result<()> {
    auth(ctx)?.policy.invalidate().await;
    Ok(())
}

/// Administering accounts and departments (用户与科室管理); the organisation's admin only, except `changePassword`.
#[derive(Default)]
pub struct AccountMutation;

/// Administering accounts and departments (用户与科室管理); the organisation's admin only, except `changePassword`.
#[Object]
impl AccountMutation {
    /// Creates an account in the caller's organisation (新增用户); the user
    /// changes its password at first sign-in. A username taken is CONFLICT.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] input: CreateUserInput,
    ) -> async_graphql::Result<CreatedUser> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let new = NewUser {
            username: input.username,
            display_name: input.display_name,
            role: input.role.into(),
            department_id: input.department_id.map(|d| parse_id(&d, IdKind::Department)).transpose()?,
            unit_id: input.unit_id.map(|u| parse_id(&u, IdKind::Unit)).transpose()?,
            initial_password: input.initial_password,
        };
        let created = users::create(db, chain_key, caller, &auth(ctx)?.passwords, new).await.gql()?;
        memberships_changed(ctx).await?;
        Ok(CreatedUser { user: User(created.user), one_time_password: created.one_time_password })
    }

    /// Changes an account's display name, role, department or unit (修改用户);
    /// a department head moved to another department scores its sections from the next request.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change.")] input: UpdateUserInput,
    ) -> async_graphql::Result<User> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&input.id, IdKind::User)?;
        let change = UserUpdate {
            display_name: input.display_name,
            role: input.role.map(Role::from),
            department_id: maybe_id(input.department_id, IdKind::Department)?,
            unit_id: maybe_id(input.unit_id, IdKind::Unit)?,
        };
        let user = users::update(db, chain_key, caller, id, input.expected_version, change).await.gql()?;
        memberships_changed(ctx).await?;
        Ok(User(user))
    }

    /// Changes the caller's own password (修改密码): at least 12 characters,
    /// not one of the 10,000 most common passwords, not the username.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current password.")] current_password: String,
        #[graphql(desc = "The new password.")] new_password: String,
    ) -> async_graphql::Result<User> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let passwords = &auth(ctx)?.passwords;
        let user =
            users::change_password(db, chain_key, caller, passwords, &current_password, &new_password).await.gql()?;
        Ok(User(user))
    }

    /// Resets an account's password (重置密码): a one-time password, answered
    /// once; every session of the account ends at once.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<PasswordReset> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::User)?;
        let passwords = &auth(ctx)?.passwords;
        let (user, password) =
            users::reset_password(db, chain_key, caller, passwords, id, expected_version, Utc::now()).await.gql()?;
        Ok(PasswordReset { user: User(user), one_time_password: password })
    }

    /// Deactivates an account (停用用户), with a reason: it can no longer sign
    /// in, and every session of it ends at once.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] id: ID,
        #[graphql(desc = "Why (停用原因); required.")] reason: String,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<User> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::User)?;
        let user = users::deactivate(db, chain_key, caller, id, &reason, expected_version, Utc::now()).await.gql()?;
        memberships_changed(ctx).await?;
        Ok(User(user))
    }

    /// Reactivates a deactivated account (启用用户).
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<User> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::User)?;
        let user = users::reactivate(db, chain_key, caller, id, expected_version, Utc::now()).await.gql()?;
        memberships_changed(ctx).await?;
        Ok(User(user))
    }

    /// Creates a department (新增科室) in the caller's organisation; a name taken there is CONFLICT.
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name (科室名称), e.g. 秘书科.")] name: String,
    ) -> async_graphql::Result<Department> {
        let (db, chain_key, caller) = write_env(ctx)?;
        Ok(Department(crate::departments::create(db, chain_key, caller, &name).await.gql()?))
    }

    /// Renames a department (科室更名); the sections assigned to it stay assigned.
    async fn rename_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department.")] id: ID,
        #[graphql(desc = "The new name.")] name: String,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<Department> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Department)?;
        let d = crate::departments::rename(db, chain_key, caller, id, &name, expected_version).await.gql()?;
        memberships_changed(ctx).await?;
        Ok(Department(d))
    }

    /// Deactivates a department (停用科室); refused (CONFLICT) while active accounts belong to it.
    async fn deactivate_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<Department> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Department)?;
        let d = crate::departments::deactivate(db, chain_key, caller, id, expected_version).await.gql()?;
        memberships_changed(ctx).await?;
        Ok(Department(d))
    }

    /// Reactivates a deactivated department (启用科室).
    async fn reactivate_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department.")] id: ID,
        #[graphql(desc = "Its version as last read (乐观锁).")] expected_version: i32,
    ) -> async_graphql::Result<Department> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let id = parse_id(&id, IdKind::Department)?;
        let d = crate::departments::reactivate(db, chain_key, caller, id, expected_version).await.gql()?;
        memberships_changed(ctx).await?;
        Ok(Department(d))
    }

    /// Reads a sheet of units (CSV or .xlsx; columns code, name, kind, parent
    /// code) and answers what applying it would add or change, with every
    /// row's errors (导入预览). Nothing changes but the stored preview.
    async fn preview_unit_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sheet, as a GraphQL multipart upload.")] file: Upload,
    ) -> async_graphql::Result<UnitImportPreview> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let (filename, content) = upload(ctx, file)?;
        let p = import::preview(db, chain_key, caller, &filename, &content).await.gql()?;
        Ok(UnitImportPreview::from(p))
    }

    /// Applies a sheet of units in one transaction (导入): by the preview's
    /// id, or the same file again, with the file's SHA-256 either way. A
    /// sheet with any error changes nothing (BAD_USER_INPUT listing them);
    /// the same sheet applied twice changes nothing the second time.
    async fn apply_unit_import(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The preview's id (`previewUnitImport`); or send `file`.")] preview_id: Option<ID>,
        #[graphql(desc = "The sheet again; or give `previewId`.")] file: Option<Upload>,
        #[graphql(desc = "The SHA-256 of the file's bytes (lowercase hex), as `previewUnitImport` answered it.")]
        sha256: String,
    ) -> async_graphql::Result<UnitImportResult> {
        let (db, chain_key, caller) = write_env(ctx)?;
        let source = match (preview_id, file) {
            (Some(id), None) => Source::Preview(parse_id(&id, IdKind::UnitImport)?),
            (None, Some(f)) => {
                let (filename, content) = upload(ctx, f)?;
                Source::File { filename, content }
            }
            _ => {
                return Err(ServiceError::BadUserInput("give `previewId` or `file` (one of them)".into()).into_gql());
            }
        };
        let applied = import::apply(db, chain_key, caller, source, &sha256).await.gql()?;
        Ok(UnitImportResult {
            added: applied.added as i32,
            changed: applied.changed as i32,
            unchanged: applied.unchanged as i32,
            units: applied.units.into_iter().map(Unit).collect(),
        })
    }
}

pub(super) fn upload(ctx: &Context<'_>, file: Upload) -> async_graphql::Result<(String, Vec<u8>)> {
    let f = file
        .value(ctx)
        .map_err(|_| ServiceError::BadUserInput("send the file as a GraphQL multipart request".into()).into_gql())?;
    let filename = f.filename.clone();
    let mut content = Vec::new();
    let mut reader = f.into_read();
    std::io::Read::read_to_end(&mut reader, &mut content)
        .map_err(|e| ServiceError::BadUserInput(format!("the upload does not read: {e}")).into_gql())?;
    Ok((filename, content))
}

/// What applying a row does (导入动作).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum UnitImportAction {
    /// A new unit (新增).
    Add,
    /// An existing unit's name or parent changes (变更).
    Change,
    /// The unit is already as the row says (不变).
    Unchanged,
}

/// One row of a sheet and what applying it does.
#[derive(SimpleObject)]
pub struct UnitImportRow {
    /// The row's number in the sheet (the header is row 1).
    pub row: i32,
    /// Unit code (单位代码).
    pub code: String,
    /// Unit name (单位名称).
    pub name: String,
    /// Unit kind (单位类型).
    pub kind: String,
    /// The parent unit's code (上级单位代码), if any.
    pub parent_code: Option<String>,
    /// What applying it does.
    pub action: UnitImportAction,
    /// What changes, e.g. `name: 旧 → 新`.
    pub changes: Vec<String>,
}

/// What is wrong with one row (行错误).
#[derive(SimpleObject)]
pub struct UnitImportError {
    /// The row's number in the sheet (1: the header).
    pub row: i32,
    /// The column (`code`, `name`, `kind`, `parent code`), if the error is about one.
    pub column: Option<String>,
    /// Why.
    pub message: String,
}

/// A previewed unit sheet (导入预览).
#[derive(SimpleObject)]
pub struct UnitImportPreview {
    /// The preview's id: pass it to `applyUnitImport`.
    pub id: ID,
    /// SHA-256 of the file (lowercase hex): pass it to `applyUnitImport`.
    pub sha256: String,
    /// The rows that read well, with what applying each does.
    pub rows: Vec<UnitImportRow>,
    /// Every row's errors; the sheet can be applied only without any.
    pub errors: Vec<UnitImportError>,
    /// Units it would add.
    pub added: i32,
    /// Units it would change.
    pub changed: i32,
    /// Rows already as the units are.
    pub unchanged: i32,
}

impl From<import::Preview> for UnitImportPreview {
    fn from(p: import::Preview) -> Self {
        let plan = &p.plan;
        let count = |a| plan.count(a) as i32;
        UnitImportPreview {
            id: to_id(IdKind::UnitImport, p.import.id),
            sha256: p.import.sha256.clone(),
            added: count(Action::Add),
            changed: count(Action::Change),
            unchanged: count(Action::Unchanged),
            rows: plan
                .rows
                .iter()
                .map(|r| UnitImportRow {
                    row: r.sheet.row as i32,
                    code: r.sheet.code.clone(),
                    name: r.sheet.name.clone(),
                    kind: r.sheet.kind.clone(),
                    parent_code: r.sheet.parent_code.clone(),
                    action: match r.action {
                        Action::Add => UnitImportAction::Add,
                        Action::Change => UnitImportAction::Change,
                        Action::Unchanged => UnitImportAction::Unchanged,
                    },
                    changes: r.changes.clone(),
                })
                .collect(),
            errors: plan
                .errors
                .iter()
                .map(|e| UnitImportError { row: e.row as i32, column: e.column.clone(), message: e.message.clone() })
                .collect(),
        }
    }
}

/// What an import did (导入结果).
#[derive(SimpleObject)]
pub struct UnitImportResult {
    /// Units added.
    pub added: i32,
    /// Units changed.
    pub changed: i32,
    /// Rows that changed nothing.
    pub unchanged: i32,
    /// The units added or changed, in sheet order.
    pub units: Vec<Unit>,
}
