//! `POST /graphql` (JSON only, one operation per request) and `GET /graphql`
//! (GraphiQL without a query; queries only with one).

use actix_web::http::{StatusCode, header};
use actix_web::{Either, HttpRequest, HttpResponse, web};
use async_graphql_actix_web::GraphQLResponse;
use serde::Deserialize;

use super::{document, graphiql, refusal};
use crate::caller::Caller;
use sea_orm::DatabaseConnection;

use crate::auth::AuthState;
use crate::graphql::{ClientIp, KaoheSchema, loader};

/// The caller of this request, from its bearer token (none: anonymous). A
/// token that does not verify is refused with 401, never read as anonymous.
pub(crate) async fn caller_of(req: &HttpRequest, db: &DatabaseConnection, auth: &AuthState) -> Result<Caller, Reply> {
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("invalid"));
    crate::auth::bearer::caller(db, &auth.keys, header)
        .await
        .map_err(|e| refuse(StatusCode::UNAUTHORIZED, e.code(), &e.to_string()))
}

pub(crate) fn client_ip(req: &HttpRequest) -> ClientIp {
    ClientIp(req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default())
}

pub async fn post(
    schema: web::Data<KaoheSchema>,
    db: web::Data<DatabaseConnection>,
    auth: web::Data<AuthState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Reply {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        // text/plain and form bodies are CSRF vectors: refuse them.
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_USER_INPUT", "send the request as application/json");
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "batched requests are not accepted; send one operation per request",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &format!("not a GraphQL request: {e}"));
        }
    };
    if let Err(message) = document::check(&request.query) {
        return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message);
    }
    let caller = match caller_of(&req, &db, &auth).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    execute(&schema, &db, caller, request.data(auth.into_inner()).data(client_ip(&req))).await
}

#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

pub async fn get(
    schema: web::Data<KaoheSchema>,
    db: web::Data<DatabaseConnection>,
    auth: web::Data<AuthState>,
    req: HttpRequest,
) -> Reply {
    let params = match web::Query::<GetParams>::from_query(req.query_string()) {
        Ok(p) => p.into_inner(),
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "bad query string"),
    };
    let Some(query) = params.query else {
        return Either::Left(graphiql::page());
    };
    let checked = match document::check(&query) {
        Ok(c) => c,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message),
    };
    if !checked.only_queries() {
        let refused = refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "only queries may run over GET; send mutations with POST",
        );
        let mut response = refused;
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return Either::Left(response);
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(v) => request = request.variables(async_graphql::Variables::from_json(v)),
            Err(_) => {
                return refuse(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "variables are not JSON");
            }
        }
    }
    let caller = match caller_of(&req, &db, &auth).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    execute(&schema, &db, caller, request.data(auth.into_inner()).data(client_ip(&req))).await
}

type Reply = Either<HttpResponse, GraphQLResponse>;

/// Runs one request with its caller and its own batch loader.
async fn execute(
    schema: &KaoheSchema,
    db: &DatabaseConnection,
    caller: Caller,
    request: async_graphql::Request,
) -> Reply {
    let loader = loader::for_request(db.clone(), caller.clone());
    let request = request.data(caller).data(loader);
    Either::Right(GraphQLResponse::from(schema.execute(request).await))
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Reply {
    Either::Left(refusal(status, code, message))
}
