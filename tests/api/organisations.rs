use serde_json::json;

use crate::helpers::{nodes, spawn_app};

#[tokio::test]
async fn both_demo_organisations_are_seeded_with_departments_and_units() {
    let app = spawn_app().await;
    let data = app
        .query(
            "{ organisations(first: 2) { totalCount edges { node { code name
                departments(first: 10) { totalCount edges { node { name } } }
                units(first: 10) { totalCount edges { node { code name kind attributes active version
                  organisation { code } parent { id } children(first: 1) { totalCount edges { node { id } } } } } } } } } }",
        )
        .await;
    assert_eq!(data["organisations"]["totalCount"], 2);
    let orgs = nodes(&data["organisations"]);
    let codes: Vec<&str> = orgs.iter().map(|o| o["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["chengkou", "xuchang"]);

    let ck = orgs[0];
    assert_eq!(ck["name"], "城口县教委");
    let depts: Vec<&str> = nodes(&ck["departments"]).iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(depts, ["秘书科", "办公室", "电教中心", "督导室(考核办)"]);
    let units = nodes(&ck["units"]);
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["name"], "城口县教师进修学校");
    assert_eq!(units[0]["kind"], "teacher_training_school");
    assert_eq!(units[0]["attributes"]["subordinate_to_education_authority"], true);
    assert_eq!((units[0]["active"].clone(), units[0]["version"].clone()), (json!(true), json!(1)));
    assert!(units[0]["parent"].is_null());
    assert_eq!(units[0]["children"]["totalCount"], 0);
    assert_eq!(units[0]["children"]["edges"], json!([]));

    let xc = orgs[1];
    assert_eq!(xc["name"], "许昌市委教育工作领导小组");
    assert_eq!(xc["departments"]["totalCount"], 10);
    let units = nodes(&xc["units"]);
    let counties: Vec<&str> =
        units.iter().filter(|u| u["kind"] == "county").map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(counties, ["魏都区", "建安区", "东城区", "禹州市", "长葛市", "鄢陵县", "襄城县"]);
    assert_eq!(units.iter().filter(|u| u["kind"] == "city_department").count(), 3);
    // Each unit's organisation (batched by the per-request loader).
    assert!(units.iter().all(|u| u["organisation"]["code"] == "xuchang"));
}

#[tokio::test]
async fn departments_with_the_same_name_belong_to_their_own_organisation() {
    let app = spawn_app().await;
    let data = app
        .query(
            "{ organisations(first: 2) { edges { node { code
               departments(first: 20) { edges { node { id name organisation { code } } } } } } } }",
        )
        .await;
    let mut secretariats = Vec::new();
    for org in nodes(&data["organisations"]) {
        for d in nodes(&org["departments"]) {
            assert_eq!(d["organisation"]["code"], org["code"]);
            if d["name"] == "秘书科" {
                secretariats.push(d["id"].clone());
            }
        }
    }
    assert_eq!(secretariats.len(), 2);
    assert_ne!(secretariats[0], secretariats[1]);
}

#[tokio::test]
async fn units_can_be_filtered_by_kind_and_fetched_by_id() {
    let app = spawn_app().await;
    let data = app
        .query(
            r#"{ organisation(code: "xuchang") {
                 units(kind: "city_department", first: 10) { totalCount edges { node { id name } } } } }"#,
        )
        .await;
    assert_eq!(data["organisation"]["units"]["totalCount"], 3);
    let units = nodes(&data["organisation"]["units"]);
    assert_eq!(units.len(), 3);
    let id = units[0]["id"].as_str().unwrap();
    let one =
        app.query_with("query($id: ID!) { unit(id: $id) { name organisation { code } } }", json!({ "id": id })).await;
    assert_eq!(one["unit"]["name"], units[0]["name"]);
    assert_eq!(one["unit"]["organisation"]["code"], "xuchang");
}

#[tokio::test]
async fn rubrics_and_their_versions_are_pages() {
    let app = spawn_app().await;
    let data = app
        .query(
            r#"{ organisation(code: "xuchang") { rubrics(first: 1) { totalCount pageInfo { hasNextPage }
                 edges { node { code currentVersion { id }
                   versions(first: 100) { totalCount pageInfo { hasNextPage } edges { node { id status } } } } } } } }"#,
        )
        .await;
    let rubrics = &data["organisation"]["rubrics"];
    assert_eq!(rubrics["totalCount"], 1);
    assert_eq!(rubrics["pageInfo"]["hasNextPage"], false);
    let rubric = nodes(rubrics)[0];
    assert_eq!(rubric["code"], "xuchang-jyqs");
    let versions = nodes(&rubric["versions"]);
    assert_eq!(rubric["versions"]["totalCount"], versions.len());
    // The current version is the newest published one.
    let newest_published = versions.iter().rev().find(|v| v["status"] == "PUBLISHED").unwrap();
    assert_eq!(rubric["currentVersion"]["id"], newest_published["id"]);
}

/// An organisation found by code is kept while the pulse listens
/// (PostgreSQL) or watches (SQLite): a change to its row, made by any
/// instance or by hand, is heard or seen and read again within the pulse
/// delay.
#[tokio::test]
async fn a_renamed_organisation_is_read_again_when_the_change_is_heard() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let name = |app: &crate::helpers::TestApp| {
        let req = app.client.post(format!("{}/graphql", app.address)).header("Cache-Control", "no-cache");
        async move {
            let body: serde_json::Value = req
                .json(&json!({ "query": "{ organisation(code: \"xuchang\") { name } }" }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["data"]["organisation"]["name"].as_str().unwrap_or_default().to_string()
        }
    };
    assert_eq!(name(&app).await, "许昌市委教育工作领导小组");
    assert_eq!(name(&app).await, "许昌市委教育工作领导小组");
    app.db.execute_unprepared("UPDATE organisation SET name = '许昌市教育局' WHERE code = 'xuchang'").await.unwrap();
    assert!(crate::helpers::within_pulse(|| async { name(&app).await == "许昌市教育局" }).await);
}
