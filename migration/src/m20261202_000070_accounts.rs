//! Accounts (issue 15): users an admin creates must change their one-time
//! password at first sign-in (`must_change_password`) and carry when they were
//! last changed; departments (科室) get a version and can be deactivated;
//! `unit_import` keeps the previews of unit sheets (CSV or .xlsx) until they
//! are applied. Usernames stay unique across the platform (the unique key of
//! the first migration): sign-in takes a username alone.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for col in [boolean("must_change_password", false), ts_null("updated_at")] {
            m.alter_table(Table::alter().table("app_user").add_column(col).to_owned()).await?;
        }
        for col in [boolean("active", true), int_default("version", 1), ts_null("updated_at")] {
            m.alter_table(Table::alter().table("department").add_column(col).to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table("unit_import")
                .col(id())
                .col(big("organisation_id"))
                .col(text("sha256"))
                .col(text("filename"))
                .col(text("plan"))
                .col(big_null("created_by"))
                .col(ts("created_at"))
                .col(ts_null("applied_at"))
                .foreign_key(&mut fk("unit_import", "organisation_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("unit_import", &["organisation_id", "sha256"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["unit_import"]).await?;
        for col in ["updated_at", "version", "active"] {
            m.alter_table(Table::alter().table("department").drop_column(col).to_owned()).await?;
        }
        for col in ["updated_at", "must_change_password"] {
            m.alter_table(Table::alter().table("app_user").drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
