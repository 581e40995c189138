//! Rubrics (考核细则), their versions, the indicator tree, clauses and rules.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let b = m.get_database_backend();
        m.create_table(
            Table::create()
                .table("rubric")
                .col(id())
                .col(big("organisation_id"))
                .col(text("code"))
                .col(text("title"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("rubric", "organisation_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("rubric", &["organisation_id", "code"], true)).await?;
        m.create_table(
            Table::create()
                .table("rubric_version")
                .col(id())
                .col(big("rubric_id"))
                .col(text("label"))
                .col(text("title"))
                .col(text("status"))
                .col(exact(b, "scale"))
                .col(exact_null(b, "bonus_cap"))
                .col(text("regime"))
                .col(text_null("source"))
                .col(text_null("file_name"))
                .col(text_null("source_sha256"))
                .col(int_default("version", 1))
                .col(ts_null("published_at"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("rubric_version", "rubric_id", "rubric"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("rubric_version", &["rubric_id", "label"], false)).await?;
        // Loading the same file twice (even by two servers at once) stores it once.
        m.create_index(index("rubric_version", &["rubric_id", "source_sha256"], true)).await?;
        m.create_table(
            Table::create()
                .table("indicator")
                .col(id())
                .col(big("rubric_version_id"))
                .col(big_null("parent_id"))
                .col(text("code"))
                .col(text("title"))
                .col(int("depth"))
                .col(int("position"))
                .col(exact_null(b, "max_points"))
                .col(exact_null(b, "weight"))
                .col(text("role"))
                .col(text_null("department"))
                .col(text_null("note"))
                .foreign_key(&mut fk("indicator", "rubric_version_id", "rubric_version"))
                .foreign_key(&mut fk("indicator", "parent_id", "indicator"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("indicator", &["rubric_version_id", "code"], true)).await?;
        m.create_index(index("indicator", &["parent_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("indicator_group")
                .col(id())
                .col(big("indicator_id"))
                .col(text("key"))
                .col(text("title"))
                .col(text_null("text"))
                .col(exact_null(b, "cap"))
                .col(int("position"))
                .foreign_key(&mut fk("indicator_group", "indicator_id", "indicator"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("indicator_group", &["indicator_id", "key"], true)).await?;
        m.create_table(
            Table::create()
                .table("clause")
                .col(id())
                .col(big("indicator_id"))
                .col(text("no"))
                .col(text("text"))
                .col(text_null("group_key"))
                .col(exact_null(b, "cap"))
                .col(boolean("informational", false))
                .col(int("position"))
                .foreign_key(&mut fk("clause", "indicator_id", "indicator"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("clause", &["indicator_id", "no"], true)).await?;
        m.create_table(
            Table::create()
                .table("rule")
                .col(id())
                .col(big("rubric_version_id"))
                .col(big("indicator_id"))
                .col(big("clause_id"))
                .col(text("code"))
                .col(text_null("label"))
                .col(text("kind"))
                .col(text("effect"))
                .col(text("params"))
                .col(exact_null(b, "cap"))
                .col(text("halving").default("[]"))
                .col(boolean("highest_only", false))
                .col(boolean("defer_late", false))
                .col(int("position"))
                .foreign_key(&mut fk("rule", "rubric_version_id", "rubric_version"))
                .foreign_key(&mut fk("rule", "indicator_id", "indicator"))
                .foreign_key(&mut fk("rule", "clause_id", "clause"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("rule", &["rubric_version_id", "code"], true)).await?;
        m.create_index(index("rule", &["clause_id"], false)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["rule", "clause", "indicator_group", "indicator", "rubric_version", "rubric"]).await
    }
}
