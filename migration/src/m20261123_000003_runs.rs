//! Score runs (考核批次), submissions, observations, claims, evidence, results.

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
                .table("score_run")
                .col(id())
                .col(big("organisation_id"))
                .col(big("rubric_version_id"))
                .col(text("period_kind"))
                .col(text("period"))
                .col(text("title"))
                .col(text("status"))
                .col(int_default("revision", 1))
                .col(big_null("replaces_run_id"))
                .col(big_null("created_by"))
                .col(ts("created_at"))
                .col(ts_null("published_at"))
                .col(int_default("version", 1))
                .foreign_key(&mut fk("score_run", "organisation_id", "organisation"))
                .foreign_key(&mut fk("score_run", "rubric_version_id", "rubric_version"))
                .foreign_key(&mut fk("score_run", "replaces_run_id", "score_run"))
                .foreign_key(&mut fk("score_run", "created_by", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("score_run", &["organisation_id", "rubric_version_id", "period", "revision"], true))
            .await?;
        m.create_table(
            Table::create()
                .table("score_run_unit")
                .col(id())
                .col(big("score_run_id"))
                .col(big("unit_id"))
                .foreign_key(&mut fk("score_run_unit", "score_run_id", "score_run"))
                .foreign_key(&mut fk("score_run_unit", "unit_id", "unit"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("score_run_unit", &["score_run_id", "unit_id"], true)).await?;
        m.create_table(
            Table::create()
                .table("section_submission")
                .col(id())
                .col(big("score_run_id"))
                .col(big("indicator_id"))
                .col(text("status"))
                .col(big_null("submitted_by"))
                .col(ts_null("submitted_at"))
                .col(int_default("version", 1))
                .foreign_key(&mut fk("section_submission", "score_run_id", "score_run"))
                .foreign_key(&mut fk("section_submission", "indicator_id", "indicator"))
                .foreign_key(&mut fk("section_submission", "submitted_by", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("section_submission", &["score_run_id", "indicator_id"], true)).await?;
        m.create_table(
            Table::create()
                .table("observation")
                .col(id())
                .col(big("score_run_id"))
                .col(big("unit_id"))
                .col(big("rule_id"))
                .col(text("facts"))
                .col(text_null("note"))
                .col(text("status"))
                .col(big_null("supersedes_id"))
                .col(text_null("work_key"))
                .col(date_null("document_date"))
                .col(big_null("entered_by"))
                .col(ts("entered_at"))
                .col(text_null("idempotency_key"))
                .col(int_default("version", 1))
                .foreign_key(&mut fk("observation", "score_run_id", "score_run"))
                .foreign_key(&mut fk("observation", "unit_id", "unit"))
                .foreign_key(&mut fk("observation", "rule_id", "rule"))
                .foreign_key(&mut fk("observation", "supersedes_id", "observation"))
                .foreign_key(&mut fk("observation", "entered_by", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("observation", &["score_run_id", "idempotency_key"], true)).await?;
        m.create_index(index("observation", &["score_run_id", "unit_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("claim")
                .col(id())
                .col(big("score_run_id"))
                .col(big("unit_id"))
                .col(big("rule_id"))
                .col(text("facts"))
                .col(text("status"))
                .col(big_null("filed_by"))
                .col(big_null("decided_by"))
                .col(text_null("decision_reason"))
                .col(big_null("observation_id"))
                .col(int_default("version", 1))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("claim", "score_run_id", "score_run"))
                .foreign_key(&mut fk("claim", "unit_id", "unit"))
                .foreign_key(&mut fk("claim", "rule_id", "rule"))
                .foreign_key(&mut fk("claim", "filed_by", "app_user"))
                .foreign_key(&mut fk("claim", "decided_by", "app_user"))
                .foreign_key(&mut fk("claim", "observation_id", "observation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("claim", &["score_run_id", "unit_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("evidence")
                .col(id())
                .col(big("organisation_id"))
                .col(big_null("unit_id"))
                .col(text("kind"))
                .col(text_null("sha256"))
                .col(big_null("size"))
                .col(text_null("media_type"))
                .col(text_null("filename"))
                .col(text_null("doc_number"))
                .col(date_null("doc_date"))
                .col(text_null("url"))
                .col(big_null("uploaded_by"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("evidence", "organisation_id", "organisation"))
                .foreign_key(&mut fk("evidence", "unit_id", "unit"))
                .foreign_key(&mut fk("evidence", "uploaded_by", "app_user"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("evidence_link")
                .col(id())
                .col(big("evidence_id"))
                .col(big_null("observation_id"))
                .col(big_null("claim_id"))
                .foreign_key(&mut fk("evidence_link", "evidence_id", "evidence"))
                .foreign_key(&mut fk("evidence_link", "observation_id", "observation"))
                .foreign_key(&mut fk("evidence_link", "claim_id", "claim"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("evidence_link", &["evidence_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("result")
                .col(id())
                .col(big("score_run_id"))
                .col(big("unit_id"))
                .col(exact(b, "final_score"))
                .col(exact(b, "base"))
                .col(exact(b, "bonus"))
                .col(exact(b, "penalty"))
                .col(int("rank"))
                .col(text("explanation"))
                .col(ts("computed_at"))
                .foreign_key(&mut fk("result", "score_run_id", "score_run"))
                .foreign_key(&mut fk("result", "unit_id", "unit"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("result", &["score_run_id", "unit_id"], true)).await?;
        m.create_table(
            Table::create()
                .table("result_section")
                .col(id())
                .col(big("score_run_id"))
                .col(big("unit_id"))
                .col(big("indicator_id"))
                .col(exact(b, "score"))
                .foreign_key(&mut fk("result_section", "score_run_id", "score_run"))
                .foreign_key(&mut fk("result_section", "unit_id", "unit"))
                .foreign_key(&mut fk("result_section", "indicator_id", "indicator"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("result_section", &["score_run_id", "unit_id", "indicator_id"], true)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(
            m,
            &[
                "result_section",
                "result",
                "evidence_link",
                "evidence",
                "claim",
                "observation",
                "section_submission",
                "score_run_unit",
                "score_run",
            ],
        )
        .await
    }
}
