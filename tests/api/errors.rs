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
