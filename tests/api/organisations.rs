use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn both_demo_organisations_are_seeded_with_departments_and_units() {
    let app = spawn_app().await;
    let data = app
        .query("{ organisations { code name departments { name } units { code name kind attributes organisation { code } parent { id } children { id } } } }")
        .await;
    let orgs = data["organisations"].as_array().unwrap();
    let codes: Vec<&str> = orgs.iter().map(|o| o["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["chengkou", "xuchang"]);

    let ck = &orgs[0];
    assert_eq!(ck["name"], "城口县教委");
    let depts: Vec<&str> = ck["departments"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(depts, ["秘书科", "办公室", "电教中心", "督导室(考核办)"]);
    let units = ck["units"].as_array().unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["name"], "城口县教师进修学校");
    assert_eq!(units[0]["kind"], "teacher_training_school");
    assert_eq!(units[0]["attributes"]["subordinate_to_education_authority"], true);
    assert!(units[0]["parent"].is_null());
    assert_eq!(units[0]["children"], json!([]));

    let xc = &orgs[1];
    assert_eq!(xc["name"], "许昌市委教育工作领导小组");
    assert_eq!(xc["departments"].as_array().unwrap().len(), 10);
    let units = xc["units"].as_array().unwrap();
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
    let data = app.query("{ organisations { code departments { id name organisation { code } } } }").await;
    let mut secretariats = Vec::new();
    for org in data["organisations"].as_array().unwrap() {
        for d in org["departments"].as_array().unwrap() {
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
    let data = app.query(r#"{ organisation(code: "xuchang") { units(kind: "city_department") { id name } } }"#).await;
    let units = data["organisation"]["units"].as_array().unwrap();
    assert_eq!(units.len(), 3);
    let id = units[0]["id"].as_str().unwrap();
    let one =
        app.query_with("query($id: ID!) { unit(id: $id) { name organisation { code } } }", json!({ "id": id })).await;
    assert_eq!(one["unit"]["name"], units[0]["name"]);
    assert_eq!(one["unit"]["organisation"]["code"], "xuchang");
}
