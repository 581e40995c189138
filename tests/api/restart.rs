use entity::*;
use kaohe_api::Application;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::fresh;

async fn counts(db: &sea_orm::DatabaseConnection) -> Vec<(&'static str, u64)> {
    vec![
        ("organisation", organisation::Entity::find().count(db).await.unwrap()),
        ("department", department::Entity::find().count(db).await.unwrap()),
        ("unit", unit::Entity::find().count(db).await.unwrap()),
        ("rubric", rubric::Entity::find().count(db).await.unwrap()),
        ("rubric_version", rubric_version::Entity::find().count(db).await.unwrap()),
        ("indicator", indicator::Entity::find().count(db).await.unwrap()),
        ("indicator_group", indicator_group::Entity::find().count(db).await.unwrap()),
        ("clause", clause::Entity::find().count(db).await.unwrap()),
        ("rule", rule::Entity::find().count(db).await.unwrap()),
        ("audit_log", audit_log::Entity::find().count(db).await.unwrap()),
    ]
}

#[tokio::test]
async fn a_restart_on_the_same_database_adds_nothing() {
    let fresh = fresh().await;
    let first = Application::build(fresh.settings.clone()).await.unwrap();
    let before = counts(first.db()).await;
    assert!(before.iter().all(|(_, n)| *n > 0), "{before:?}");
    first.db().clone().close().await.unwrap();
    drop(first);

    let second = Application::build(fresh.settings.clone()).await.unwrap();
    let after = counts(second.db()).await;
    assert_eq!(before, after);
    second.db().clone().close().await.unwrap();
}

#[tokio::test]
async fn a_changed_rubric_file_becomes_a_new_version_and_retires_the_old() {
    let fresh = fresh().await;
    let first = Application::build(fresh.settings.clone()).await.unwrap();
    let versions = rubric_version::Entity::find().count(first.db()).await.unwrap();
    first.db().clone().close().await.unwrap();
    drop(first);

    let path = fresh.settings.rubrics_dir.join("xuchang-jyqs-2023.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n# a reviewer's comment\n")).unwrap();
    let second = Application::build(fresh.settings.clone()).await.unwrap();
    let all = rubric_version::Entity::find().all(second.db()).await.unwrap();
    assert_eq!(all.len() as u64, versions + 1);
    let xuchang: Vec<_> = all.iter().filter(|v| v.label == "2023").collect();
    let statuses: Vec<&str> = xuchang.iter().map(|v| v.status.as_str()).collect();
    assert_eq!(statuses, ["retired", "published"]);
    second.db().clone().close().await.unwrap();
}
