//! Organisations (tenants), their departments (科室), units (被考核单位) and users.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisation")
                .col(id())
                .col(text("code").unique_key())
                .col(text("name"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("department")
                .col(id())
                .col(big("organisation_id"))
                .col(text("name"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("department", "organisation_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("department", &["organisation_id", "name"], true)).await?;
        m.create_table(
            Table::create()
                .table("unit")
                .col(id())
                .col(big("organisation_id"))
                .col(big_null("parent_id"))
                .col(text("code"))
                .col(text("name"))
                .col(text("kind"))
                .col(text("attributes").default("{}"))
                .col(boolean("active", true))
                .col(int_default("version", 1))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("unit", "organisation_id", "organisation"))
                .foreign_key(&mut fk("unit", "parent_id", "unit"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("unit", &["organisation_id", "code"], true)).await?;
        m.create_index(index("unit", &["parent_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("app_user")
                .col(id())
                .col(big("organisation_id"))
                .col(big_null("department_id"))
                .col(big_null("unit_id"))
                .col(text("username").unique_key())
                .col(text("display_name"))
                .col(text_null("password_hash"))
                .col(text("role"))
                .col(boolean("active", true))
                .col(int_default("version", 1))
                .col(ts("created_at"))
                .foreign_key(&mut fk("app_user", "organisation_id", "organisation"))
                .foreign_key(&mut fk("app_user", "department_id", "department"))
                .foreign_key(&mut fk("app_user", "unit_id", "unit"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["app_user", "unit", "department", "organisation"]).await
    }
}
