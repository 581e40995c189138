//! `GET /runs/{id}/sections/{code}/entry.xlsx`: a section's entry sheet (录入表)
//! for the signed-in caller, as an attachment. A run or section the caller may
//! not see, or may not score anything in, is the same 404 as a missing one.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::auth::AuthState;
use crate::graphql::IdKind;
use crate::runs::entry_sheet;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub async fn download(
    db: web::Data<DatabaseConnection>,
    auth: web::Data<AuthState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, section) = path.into_inner();
    let caller = match super::graphql::caller_of(&req, &db, &auth).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    // A malformed id is a missing run, like a run of another organisation.
    let Ok(id) = super::path_id(id, IdKind::ScoreRun) else {
        return super::api_refusal(crate::error::ServiceError::not_found("entry sheet"));
    };
    match entry_sheet::download(&db, &caller, id, &section).await {
        Ok((bytes, name)) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, XLSX))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(bytes),
        Err(e) => super::api_refusal(e),
    }
}
