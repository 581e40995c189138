//! Webhooks (推送): endpoints an organisation's admin registers, the
//! transactional outbox of events written by the publishing transaction
//! (`webhook_event`, one `webhook_delivery` per subscribed endpoint), and
//! every delivery attempt. An endpoint row also holds the lease of its one
//! delivery in flight (`sending_delivery_id`, `sending_until`), so that
//! several instances never send to one endpoint at once.

use sea_orm_migration::prelude::*;

use crate::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("webhook_endpoint")
                .col(id())
                .col(big("organisation_id"))
                .col(text("url"))
                .col(text_null("description"))
                // JSON array of event types, e.g. ["run.published"].
                .col(text("events"))
                // `whsec_<base64>`; the previous one signs too until `previous_secret_until`.
                .col(text("secret"))
                .col(text_null("previous_secret"))
                .col(ts_null("previous_secret_until"))
                .col(boolean("active", true))
                .col(big_null("created_by"))
                .col(ts("created_at"))
                .col(ts_null("disabled_at"))
                .col(int_default("version", 1))
                .col(big_null("sending_delivery_id"))
                .col(ts_null("sending_until"))
                .foreign_key(&mut fk("webhook_endpoint", "organisation_id", "organisation"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("webhook_endpoint", &["organisation_id"], false)).await?;
        m.create_table(
            Table::create()
                .table("webhook_event")
                .col(id())
                .col(big("organisation_id"))
                // The `webhook-id` header: the same for every attempt and endpoint.
                .col(text("public_id"))
                .col(text("event_type"))
                .col(text("payload"))
                .col(big("score_run_id"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("webhook_event", "organisation_id", "organisation"))
                .foreign_key(&mut fk("webhook_event", "score_run_id", "score_run"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("webhook_event", &["public_id"], true)).await?;
        m.create_table(
            Table::create()
                .table("webhook_delivery")
                .col(id())
                .col(big("event_id"))
                .col(big("endpoint_id"))
                .col(big("organisation_id"))
                // pending, sending, succeeded, failed, cancelled
                .col(text("status"))
                .col(int_default("attempts", 0))
                // Position in the retry schedule (reset by a resend).
                .col(int_default("step", 0))
                .col(ts("next_attempt_at"))
                .col(ts_null("last_attempt_at"))
                .col(ts_null("completed_at"))
                .col(ts("created_at"))
                .foreign_key(&mut fk("webhook_delivery", "event_id", "webhook_event"))
                .foreign_key(&mut fk("webhook_delivery", "endpoint_id", "webhook_endpoint"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("webhook_delivery", &["event_id", "endpoint_id"], true)).await?;
        m.create_index(index("webhook_delivery", &["endpoint_id", "status", "next_attempt_at"], false)).await?;
        m.create_index(index("webhook_delivery", &["status", "next_attempt_at"], false)).await?;
        m.create_index(index("webhook_delivery", &["organisation_id", "id"], false)).await?;
        m.create_table(
            Table::create()
                .table("webhook_attempt")
                .col(id())
                .col(big("delivery_id"))
                .col(ts("at"))
                .col(big("duration_ms"))
                .col(ColumnDef::new("status_code").integer().null().to_owned())
                // succeeded, http_error, timeout, network, refused, interrupted
                .col(text("outcome"))
                .col(text_null("error"))
                .col(text_null("response_body"))
                .foreign_key(&mut fk("webhook_attempt", "delivery_id", "webhook_delivery"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("webhook_attempt", &["delivery_id", "id"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_all(m, &["webhook_attempt", "webhook_delivery", "webhook_event", "webhook_endpoint"]).await
    }
}
