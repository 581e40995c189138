//! A login's role is one of the four the service knows (`users::Role`):
//! held by the database as the states are (see 000090).

use sea_orm_migration::prelude::*;

use crate::m20261202_000090_states::{add_checks, drop_checks};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The roles as stored when this was written.
pub const ROLES: [(&str, &str, &[&str]); 1] = [("app_user", "role", &["admin", "department", "unit", "service"])];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_checks(m, &ROLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_checks(m, &ROLES).await
    }
}
