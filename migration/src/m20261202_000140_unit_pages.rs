//! Pages of an organisation's units (issue 18): `WHERE organisation_id = ?
//! ORDER BY id LIMIT 100`, the most asked list, reads its page straight from
//! `(organisation_id, id)` and counts from it, where the primary key made it
//! filter every other organisation's units on the way (a province holds a
//! hundred and fifty bureaus' units in one table).

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UNIT_PAGES: &str = "ix_unit_organisation_id_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("unit", &["organisation_id", "id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(UNIT_PAGES).table("unit").to_owned()).await
    }
}
