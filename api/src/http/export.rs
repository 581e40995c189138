//! `GET /runs/{id}/export.csv` and `/runs/{id}/export.xlsx`: a run's results
//! and ranking as a 月讲评 report, downloaded as an attachment.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;

use super::refusal;
use crate::auth::AuthState;
use crate::graphql::IdKind;
use crate::runs::export::{self, Format};

pub async fn run_export(
    db: web::Data<DatabaseConnection>,
    auth: web::Data<AuthState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, ext) = path.into_inner();
    let Some(format) = Format::parse(&ext) else {
        return refusal(StatusCode::NOT_FOUND, "NOT_FOUND", "export as export.csv or export.xlsx");
    };
    let id = match super::path_id(id, IdKind::ScoreRun) {
        Ok(id) => id,
        Err(e) => return super::api_refusal(e),
    };
    let caller = match super::graphql::caller_of(&req, &db, &auth).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    match export::export(&db, &caller, id, format).await {
        Ok((bytes, name)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, format.content_type()))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(bytes),
        Err(e) => super::api_refusal(e),
    }
}
