//! `GET /healthz` (liveness: the process answers, and says whether the
//! database does) and `GET /readyz` (readiness: send traffic here). Ready
//! means the start-up finished its steps (migrations, rubrics, the policy)
//! and, now: the database answers, no migration is pending (someone ran
//! `kaohe migrate down` under a running instance) and the policy loads.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{HttpResponse, web};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::auth::AuthState;

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(db: web::Data<DatabaseConnection>) -> HttpResponse {
    match db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable", "database": "unreachable"}))
        }
    }
}

/// The start-up steps readiness waits for, set by `Application::build`.
#[derive(Default)]
pub struct Readiness {
    pub migrated: AtomicBool,
    pub rubrics_loaded: AtomicBool,
    pub policy_loaded: AtomicBool,
}

/// `GET /readyz`: 200 `{"status":"ready", "checks": {…}}` when every check
/// passes, else 503 with the failing ones named.
pub async fn readyz(
    db: web::Data<DatabaseConnection>,
    auth: web::Data<AuthState>,
    ready: web::Data<Readiness>,
) -> HttpResponse {
    let flag = |f: &AtomicBool| if f.load(Ordering::Acquire) { "ok" } else { "starting" };
    let database = match db.ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unreachable"
        }
    };
    let migrations = match (flag(&ready.migrated), database) {
        ("ok", "ok") => match Migrator::get_pending_migrations(db.get_ref()).await {
            Ok(p) if p.is_empty() => "ok",
            Ok(_) => "pending",
            Err(_) => "unknown",
        },
        (f, _) => f,
    };
    let policy = match (flag(&ready.policy_loaded), database) {
        ("ok", "ok") => match auth.policy.get(db.get_ref()).await {
            Ok(_) => "ok",
            Err(e) => {
                tracing::warn!(error = %e, "readiness: the policy does not load");
                "unavailable"
            }
        },
        (f, _) => f,
    };
    let rubrics = flag(&ready.rubrics_loaded);
    let checks = json!({ "database": database, "migrations": migrations, "rubrics": rubrics, "policy": policy });
    if [database, migrations, rubrics, policy].iter().all(|c| *c == "ok") {
        HttpResponse::Ok().json(json!({ "status": "ready", "checks": checks }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "checks": checks }))
    }
}
