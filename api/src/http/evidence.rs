//! `GET /evidence/{id}/file`: the stored bytes of an uploaded evidence file
//! (佐证材料附件), for the bearer caller `evidence::by_id` lets see it.

use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::auth::AuthState;
use crate::evidence::{self, EvidenceStore};
use crate::graphql::IdKind;

pub async fn download(
    db: web::Data<DatabaseConnection>,
    auth: web::Data<AuthState>,
    store: web::Data<EvidenceStore>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let id = match super::path_id(path.into_inner(), IdKind::Evidence) {
        Ok(id) => id,
        Err(e) => return super::api_refusal(e),
    };
    let caller = match super::graphql::caller_of(&req, &db, &auth).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    match evidence::files::download(&db, &caller, &store, id).await {
        Ok((row, bytes)) => {
            let name = row.filename.unwrap_or_else(|| "evidence".into());
            let media_type = row.media_type.unwrap_or_else(|| "application/octet-stream".into());
            HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, media_type))
                .insert_header(attachment(&name))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .insert_header((header::CACHE_CONTROL, "private, no-store"))
                .body(bytes)
        }
        Err(e) => super::api_refusal(e),
    }
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`
/// (RFC 6266 with RFC 5987 encoding: 佐证.pdf reaches the browser intact).
fn attachment(name: &str) -> ContentDisposition {
    let plain = |c: char| c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\');
    let fallback: String = name.chars().map(|c| if plain(c) { c } else { '_' }).collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(fallback),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_encoded_for_any_browser() {
        let h = attachment("佐证 材料\"1\".pdf").to_string();
        assert!(h.starts_with("attachment; "), "{h}");
        assert!(h.contains("filename=\"__ ___1_.pdf\""), "{h}");
        assert!(h.contains("filename*=UTF-8''%E4%BD%90%E8%AF%81%20%E6%9D%90%E6%96%99%221%22.pdf"), "{h}");
    }
}
