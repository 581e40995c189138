use serde_json::json;

use crate::helpers::{code, gid, spawn_app};

#[tokio::test]
async fn unknown_objects_answer_not_found_and_bad_ids_bad_user_input() {
    let app = spawn_app().await;
    let body = app.post(r#"{ organisation(code: "nowhere") { name } }"#, json!({})).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    assert!(body["data"]["organisation"].is_null());

    let missing = gid("RubricVersion", 999_999);
    let body = app.post("query($id: ID!) { rubricVersion(id: $id) { label } }", json!({ "id": missing })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    // A number is not an id of this API, nor is another kind's id.
    let body = app.post(r#"{ rubricVersion(id: "1") { label } }"#, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let body = app.post("query($id: ID!) { rubricVersion(id: $id) { label } }", json!({ "id": gid("Unit", 1) })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");

    let body = app.post(r#"{ rubricVersion(id: "abc") { label } }"#, json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn database_failures_answer_internal_without_details() {
    let app = spawn_app().await;
    // Closing the pool makes every query fail inside the service layer.
    app.db.clone().close().await.unwrap();
    let body = app.post("{ organisations(first: 10) { edges { node { code } } } }", json!({})).await;
    assert_eq!(code(&body), "INTERNAL", "{body}");
    assert_eq!(body["errors"][0]["message"], "internal error");
}

#[tokio::test]
async fn an_errored_nullable_field_is_null_in_data_with_its_error() {
    let app = crate::helpers::spawn_app().await;
    // Alone: `data` holds the field, null (async-graphql alone answered `data: null`).
    let one = app.post(r#"{ organisation(code: "nope") { code } }"#, serde_json::json!({})).await;
    assert_eq!(one["data"], serde_json::json!({ "organisation": null }), "{one}");
    assert_eq!(one["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(one["errors"][0]["path"], serde_json::json!(["organisation"]));
    // Beside another field: both keys are there (async-graphql alone left it out).
    let two = app
        .post(
            r#"{ a: organisation(code: "nope") { code } b: organisation(code: "xuchang") { code } }"#,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(two["data"], serde_json::json!({ "a": null, "b": { "code": "xuchang" } }), "{two}");
    assert_eq!(two["errors"].as_array().map(Vec::len), Some(1));
    // A non-null field's failure nulls its nearest nullable ancestor: here the
    // run's non-null `observations` for an integration (FORBIDDEN) nulls `scoreRun`.
    app.sign_in("xc-yuejiangping").await;
    let runs = app.query(r#"{ scoreRuns(organisationCode: "xuchang", first: 1) { edges { node { id } } } }"#).await;
    let run = runs["scoreRuns"]["edges"][0]["node"]["id"].clone();
    let q = "query($r: ID!) { scoreRun(id: $r) { id observations(first: 1) { totalCount } } other: scoreRun(id: $r) { id } }";
    let deep = app.post(q, serde_json::json!({ "r": run })).await;
    assert!(deep["data"]["scoreRun"].is_null(), "{deep}");
    assert_eq!(deep["data"]["other"]["id"], run, "{deep}");
    assert_eq!(deep["errors"][0]["extensions"]["code"], "FORBIDDEN", "{deep}");
}
