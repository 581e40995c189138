//! The audit chain against someone with write access to the database but
//! not the audit key: rewritten entries, a cut tail, moved anchors; each
//! organisation checks its own chain; the check is priced by its work.

use entity::{audit_anchor, audit_log};
use kaohe_api::audit::{ChainKey, KEY_FILE, LEGACY, VERIFY_COST, legacy_hash};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, db_id, expect_code, fresh, gid, nodes, spawn_app_as, spawn_app_with};

const CHECK: &str = "{ verifyAuditChain { ok entries firstBrokenId tailMissing invalidAnchors
    head { entryId hash } anchoredHead { entryId hash runId } } }";

async fn check(app: &TestApp) -> Value {
    app.query(CHECK).await["verifyAuditChain"].clone()
}

async fn organisation_id(app: &TestApp, code: &str) -> i64 {
    let org = entity::organisation::Entity::find().filter(entity::organisation::Column::Code.eq(code));
    org.one(&app.db).await.unwrap().unwrap().id
}

/// One organisation's chain, oldest first.
async fn chain_of(app: &TestApp, organisation_id: i64) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::OrganisationId.eq(organisation_id))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

const OPEN: &str = "mutation($i: OpenScoreRunInput!) { openScoreRun(input: $i) { id version } }";
const RECORD: &str = "mutation($i: RecordObservationInput!) { recordObservation(input: $i) { id } }";
const PUBLISH: &str = "mutation($r: ID!, $v: Int!) { publishRun(runId: $r, expectedVersion: $v) { status } }";

/// Opens a run of 许昌's rubric for 魏都区 in `period`; returns its id.
async fn open_run(app: &TestApp, period: &str) -> String {
    let weidu = entity::unit::Entity::find().filter(entity::unit::Column::Code.eq("xc-weidu"));
    let weidu = gid("Unit", weidu.one(&app.db).await.unwrap().unwrap().id);
    let version = app.version_id("xuchang").await.unwrap();
    let input = json!({ "i": { "rubricVersionId": version, "period": period, "unitIds": [weidu], "title": "审计" } });
    let run = app.query_with(OPEN, input).await["openScoreRun"]["id"].as_str().unwrap().to_string();
    let record = json!({ "i": { "runId": run, "unitId": weidu, "ruleCode": "1.1-1", "facts": { "count": 1 } } });
    app.query_with(RECORD, record).await;
    run
}

async fn publish(app: &TestApp, run: &str) {
    let v = app.query_with("query($r: ID!) { scoreRun(id: $r) { version } }", json!({ "r": run })).await;
    app.query_with(PUBLISH, json!({ "r": run, "v": v["scoreRun"]["version"] })).await;
}

#[tokio::test]
async fn an_edit_rehashed_without_the_key_is_found() {
    let app = spawn_app_as("xc-admin").await;
    assert!(app.settings.data_dir.join(KEY_FILE).exists(), "the key is generated beside the data");
    assert_eq!(check(&app).await["ok"], true);
    let xuchang = organisation_id(&app, "xuchang").await;
    let chain = chain_of(&app, xuchang).await;
    assert!(chain.len() >= 4, "rubric publications and the seeded run");
    // The attacker edits an entry and recomputes every later hash of the
    // chain, relinked, with plain SHA-256: all anyone without the key can do.
    let victim = chain[1].id;
    let mut prev = chain[0].hash.clone();
    for original in &chain[1..] {
        let mut forged = original.clone();
        if forged.id == victim {
            forged.after = Some(r#"{"status":"forged"}"#.into());
        }
        forged.prev_hash = Some(prev);
        forged.hash = legacy_hash(&forged);
        prev = forged.hash.clone();
        let mut row: audit_log::ActiveModel = original.clone().into();
        row.after = Set(forged.after);
        row.prev_hash = Set(forged.prev_hash);
        row.hash = Set(forged.hash);
        row.update(&app.db).await.unwrap();
    }
    let found = check(&app).await;
    assert_eq!(found["ok"], false);
    assert_eq!(db_id(found["firstBrokenId"].as_str().unwrap()), victim);
    assert_eq!(found["entries"], chain.len());

    // Declared entries of the old kind, whose rule plain SHA-256 is: still found.
    let demoted = audit_log::Entity::update_many()
        .col_expr(audit_log::Column::ChainVersion, sea_orm::sea_query::Expr::value(LEGACY))
        .filter(audit_log::Column::OrganisationId.eq(xuchang))
        .filter(audit_log::Column::Id.gte(victim))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(demoted.rows_affected as usize, chain.len() - 1);
    let found = check(&app).await;
    assert_eq!(found["ok"], false);
    assert_eq!(db_id(found["firstBrokenId"].as_str().unwrap()), victim);

    // 城口's chain is its own and still verifies.
    app.sign_in("ck-admin").await;
    assert_eq!(check(&app).await["ok"], true);
}

#[tokio::test]
async fn a_cut_tail_behind_a_publication_is_reported() {
    let app = spawn_app_as("xc-admin").await;
    let xuchang = organisation_id(&app, "xuchang").await;
    let run = open_run(&app, "2026-07").await;
    publish(&app, &run).await;
    let published = check(&app).await;
    assert_eq!((published["ok"].clone(), published["tailMissing"].clone()), (json!(true), json!(false)));
    let chain = chain_of(&app, xuchang).await;
    let newest = chain.last().unwrap();
    assert_eq!(newest.action, "score_run.publish");
    // The publication anchored its own entry, the head it left.
    let anchored = &published["anchoredHead"];
    assert_eq!(db_id(anchored["entryId"].as_str().unwrap()), newest.id);
    assert_eq!(anchored["hash"], newest.hash.as_str());
    assert_eq!(anchored["runId"], run.as_str());
    assert_eq!(published["head"]["entryId"], anchored["entryId"]);

    // Later writes move the head, not the anchor.
    open_run(&app, "2026-08").await;
    let later = check(&app).await;
    assert_eq!(later["ok"], true);
    assert_eq!(later["anchoredHead"], published["anchoredHead"]);
    assert!(db_id(later["head"]["entryId"].as_str().unwrap()) > newest.id);

    // The newest entries, the anchored one among them, deleted by hand:
    // every remaining link holds, the anchor tells.
    let before_run = chain.iter().rev().find(|e| e.action == "score_run.open").unwrap().id;
    let cut = audit_log::Entity::delete_many()
        .filter(audit_log::Column::OrganisationId.eq(xuchang))
        .filter(audit_log::Column::Id.gte(before_run))
        .exec(&app.db)
        .await
        .unwrap();
    assert!(cut.rows_affected >= 5, "open, record, publish, open, record");
    let found = check(&app).await;
    assert_eq!(found["ok"], false, "{found:#}");
    assert_eq!(found["tailMissing"], true);
    assert!(found["firstBrokenId"].is_null(), "no link is broken: {found:#}");
    assert_eq!(found["anchoredHead"], published["anchoredHead"]);
    assert!(db_id(found["head"]["entryId"].as_str().unwrap()) < before_run);

    // An anchor moved back to the entry now at the head: its seal no longer holds.
    let head = chain_of(&app, xuchang).await.pop().unwrap();
    let newest_anchor = audit_anchor::Entity::find()
        .filter(audit_anchor::Column::OrganisationId.eq(xuchang))
        .order_by_desc(audit_anchor::Column::AuditLogId)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut moved: audit_anchor::ActiveModel = newest_anchor.into();
    moved.audit_log_id = Set(head.id);
    moved.hash = Set(head.hash);
    moved.update(&app.db).await.unwrap();
    let found = check(&app).await;
    assert_eq!(found["invalidAnchors"], 1);
    assert_eq!(found["ok"], false);
    // The seeded publication's anchor, older, still holds and is now the newest valid.
    assert_ne!(found["anchoredHead"], published["anchoredHead"]);
}

#[tokio::test]
async fn verification_and_the_log_cover_only_the_callers_organisation() {
    let app = spawn_app_as("ck-admin").await;
    let (chengkou, xuchang) = (organisation_id(&app, "chengkou").await, organisation_id(&app, "xuchang").await);
    let count = |org: i64| audit_log::Entity::find().filter(audit_log::Column::OrganisationId.eq(org)).count(&app.db);
    let own = count(chengkou).await.unwrap();
    assert!(own > 0 && count(xuchang).await.unwrap() > 0);
    let seen = app
        .query("{ verifyAuditChain { ok entries } auditLog(first: 100) { totalCount edges { node { id } } } }")
        .await;
    assert_eq!(seen["verifyAuditChain"]["entries"], own);
    assert_eq!(seen["auditLog"]["totalCount"], own);
    for node in nodes(&seen["auditLog"]) {
        let e = audit_log::Entity::find_by_id(db_id(node["id"].as_str().unwrap())).one(&app.db).await.unwrap().unwrap();
        assert_eq!(e.organisation_id, Some(chengkou));
    }

    // 许昌's entries, asked for through run, unit or id: not there for 城口's admin.
    let xc_run = entity::score_run::Entity::find().filter(entity::score_run::Column::OrganisationId.eq(xuchang));
    let xc_run = gid("ScoreRun", xc_run.one(&app.db).await.unwrap().unwrap().id);
    let weidu = entity::unit::Entity::find().filter(entity::unit::Column::Code.eq("xc-weidu"));
    let weidu = gid("Unit", weidu.one(&app.db).await.unwrap().unwrap().id);
    let by_run = "query($r: ID!) { auditLog(runId: $r, first: 10) { totalCount } }";
    expect_code(&app, by_run, json!({ "r": xc_run }), "NOT_FOUND").await;
    let by_unit = "query($u: ID!) { auditLog(unitId: $u, first: 10) { totalCount } }";
    assert_eq!(app.query_with(by_unit, json!({ "u": weidu })).await["auditLog"]["totalCount"], 0);
    let xc_entry = chain_of(&app, xuchang).await.remove(0);
    let node = "query($id: ID!) { node(id: $id) { id } }";
    expect_code(&app, node, json!({ "id": gid("AuditEntry", xc_entry.id) }), "NOT_FOUND").await;

    // Tampering with 许昌's chain shows to 许昌 only.
    app.db
        .execute_unprepared(&format!("UPDATE audit_log SET actor_label = 'nobody' WHERE id = {}", xc_entry.id))
        .await
        .unwrap();
    assert_eq!(app.query("{ verifyAuditChain { ok } }").await["verifyAuditChain"]["ok"], true);
    app.sign_in("xc-admin").await;
    let found = check(&app).await;
    assert_eq!(found["ok"], false);
    assert_eq!(db_id(found["firstBrokenId"].as_str().unwrap()), xc_entry.id);
    // A unit user is not staff: no check, no log.
    app.sign_in("xc-weidu").await;
    expect_code(&app, "{ verifyAuditChain { ok } }", json!({}), "FORBIDDEN").await;
}

#[tokio::test]
async fn the_check_is_priced_by_its_work() {
    // A budget of two checks and a bit.
    let app = spawn_app_with(|s| s.limits.rate_budget = 2 * VERIFY_COST + 20).await;
    app.sign_in("xc-admin").await;
    let one = app.post("{ verifyAuditChain { ok } }", json!({})).await;
    assert_eq!(one["extensions"]["cost"]["requested"], VERIFY_COST);
    let aliased = app.post("{ a: verifyAuditChain { ok } }", json!({})).await;
    assert_eq!(aliased["extensions"]["cost"]["requested"], VERIFY_COST, "an alias costs the same");
    let token = app.token.lock().unwrap().clone().unwrap();
    let third = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(token)
        .json(&json!({ "query": "{ verifyAuditChain { ok } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 429, "the budget holds two checks");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
}

#[tokio::test]
async fn writers_of_two_organisations_at_once_keep_both_chains_whole() {
    let app = spawn_app_as("ck-admin").await;
    let ck_token = app.token.lock().unwrap().clone().unwrap();
    app.sign_in("xc-admin").await;
    let xc_token = app.token.lock().unwrap().clone().unwrap();
    let unit = |code: &'static str| {
        let q = entity::unit::Entity::find().filter(entity::unit::Column::Code.eq(code));
        async { gid("Unit", q.one(&app.db).await.unwrap().unwrap().id) }
    };
    let (jxx, weidu) = (unit("ck-jxx").await, unit("xc-weidu").await);
    let (ck_version, xc_version) =
        (app.version_id("chengkou").await.unwrap(), app.version_id("xuchang").await.unwrap());
    let mut writes = tokio::task::JoinSet::new();
    for i in 0..4 {
        for (token, version, period, unit) in [
            (&ck_token, &ck_version, format!("{}", 2030 + i), &jxx),
            (&xc_token, &xc_version, format!("2027-0{}", i + 1), &weidu),
        ] {
            let input =
                json!({ "i": { "rubricVersionId": version, "period": period, "unitIds": [unit], "title": "并发" } });
            let req = app.client.post(format!("{}/graphql", app.address)).bearer_auth(token);
            writes.spawn(req.json(&json!({ "query": OPEN, "variables": input })).send());
        }
    }
    while let Some(sent) = writes.join_next().await {
        let body: Value = sent.unwrap().unwrap().json().await.unwrap();
        assert!(body.get("errors").is_none(), "a concurrent write failed: {body:#}");
    }
    let reports = kaohe_api::audit::check_all(&app.db, &app.chain_key).await.unwrap();
    assert!(reports.iter().all(|r| r.ok()), "{reports:#?}");
    for org in ["chengkou", "xuchang"] {
        let id = organisation_id(&app, org).await;
        let opened = chain_of(&app, id).await.into_iter().filter(|e| e.action == "score_run.open").count();
        assert!(opened >= 4, "{org}: {opened}");
    }
}

#[tokio::test]
async fn an_instance_with_another_key_does_not_start() {
    let app = spawn_app_as("xc-admin").await;
    let mut other = app.settings.clone();
    other.audit_key = Some(ChainKey::new(b"another-key-another-key-another-key").unwrap());
    let refused = kaohe_api::Application::build(other).await.err().expect("started with another key");
    assert!(refused.to_string().contains("audit key"), "{refused}");
    // The same key given as AUDIT_KEY (what a second machine would set): it starts.
    let generated = std::fs::read(app.settings.data_dir.join(KEY_FILE)).unwrap();
    let mut same = app.settings.clone();
    same.audit_key = Some(ChainKey::new(&generated).unwrap());
    same.data_dir = app.settings.data_dir.join("elsewhere");
    let started = kaohe_api::Application::build(same).await.unwrap_or_else(|e| panic!("{e}"));
    started.db().clone().close().await.unwrap();
    assert_eq!(check(&app).await["ok"], true, "no entry was written with the other key");
}

#[tokio::test]
async fn an_upgraded_database_seals_its_old_entries() {
    use kaohe_api::audit::{Chain, SEAL_ACTION, check_all, check_chain};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::sea_query::Query;
    let fresh = fresh().await;
    let db = kaohe_api::db::connect(&fresh.settings.database_url).await.unwrap();
    let all = Migrator::migrations();
    let keyed_chain = all.iter().position(|m| m.name() == "m20261202_000060_audit_chain").unwrap();
    Migrator::up(&db, Some(keyed_chain as u32)).await.unwrap();
    kaohe_api::seed::seed_demo(&db).await.unwrap();
    let orgs: Vec<i64> =
        entity::organisation::Entity::find().all(&db).await.unwrap().into_iter().map(|o| o.id).collect();
    // Entries as the server wrote them before: one chain over both
    // organisations, plain SHA-256, no chain version yet.
    let mut old = Vec::new();
    for n in 0..6 {
        let mut e = audit_log::Model {
            id: 0,
            organisation_id: Some(orgs[n % 2]),
            actor_id: None,
            actor_label: "system".into(),
            action: "old.write".into(),
            entity: "thing".into(),
            entity_id: Some(n.to_string()),
            before: None,
            after: Some(format!("{{\"n\":{n}}}")),
            at: chrono::DateTime::from_timestamp(1_780_000_000 + n as i64, 0).unwrap(),
            prev_hash: old.last().map(|p: &audit_log::Model| p.hash.clone()),
            hash: String::new(),
            score_run_id: None,
            unit_id: None,
            chain_version: LEGACY,
            shared_data: true,
        };
        e.hash = legacy_hash(&e);
        let insert = Query::insert()
            .into_table("audit_log")
            .columns([
                "organisation_id",
                "actor_label",
                "action",
                "entity",
                "entity_id",
                "after",
                "at",
                "prev_hash",
                "hash",
            ])
            .values_panic([
                e.organisation_id.into(),
                e.actor_label.clone().into(),
                e.action.clone().into(),
                e.entity.clone().into(),
                e.entity_id.clone().into(),
                e.after.clone().into(),
                e.at.into(),
                e.prev_hash.clone().into(),
                e.hash.clone().into(),
            ])
            .to_owned();
        db.execute(&insert).await.unwrap();
        old.push(e);
    }
    db.close().await.unwrap();

    // The first start with a key migrates, seals each organisation's old
    // entries, then writes as usual (rubrics, demo runs).
    let app = kaohe_api::Application::build(fresh.settings.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    let (db, key) = (app.db().clone(), app.chain_key().clone());
    let reports = check_all(&db, &key).await.unwrap();
    assert!(reports.iter().all(|r| r.ok()), "{reports:#?}");
    for (i, org) in orgs.iter().enumerate() {
        let chain = audit_log::Entity::find()
            .filter(audit_log::Column::OrganisationId.eq(*org))
            .order_by_asc(audit_log::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let seal = &chain[3];
        assert_eq!(seal.action, SEAL_ACTION);
        // It links to the organisation's last old entry, which an old entry of
        // the other organisation links to as well.
        assert_eq!(seal.prev_hash.as_deref(), Some(old[4 + i].hash.as_str()));
        assert!(chain.len() > 4, "keyed entries follow the seal");
    }
    // Going back is refused, and changes nothing: the schema before would
    // read the seal and the other organisation's old entry as a fork.
    // (The migrations after 60 go down first; 60 is the one that refuses.)
    let after_60 = Migrator::migrations().iter().rev().take_while(|m| !m.name().contains("000060")).count();
    Migrator::down(&db, Some(after_60 as u32)).await.unwrap();
    let refused = Migrator::down(&db, Some(1)).await.unwrap_err();
    assert!(refused.to_string().contains("same old entry"), "{refused}");
    assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), after_60);
    Migrator::up(&db, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());

    // An old entry edited and its plain hash recomputed: its seal tells.
    let victim = audit_log::Entity::find()
        .filter(audit_log::Column::Hash.eq(old[2].hash.as_str()))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let mut changed = victim.clone();
    changed.after = Some("{\"n\":200}".into());
    let mut row: audit_log::ActiveModel = victim.into();
    row.hash = Set(legacy_hash(&changed));
    row.after = Set(changed.after);
    row.update(&db).await.unwrap();
    let report = check_chain(&db, &key, Chain::Organisation(orgs[0])).await.unwrap();
    let seal = audit_log::Entity::find().filter(audit_log::Column::Action.eq(SEAL_ACTION));
    let seal = seal.filter(audit_log::Column::OrganisationId.eq(orgs[0])).one(&db).await.unwrap().unwrap();
    assert_eq!(report.first_broken, Some(seal.id));
    assert!(check_chain(&db, &key, Chain::Organisation(orgs[1])).await.unwrap().ok());
    db.close().await.unwrap();
}

/// A recording and a correction answer their rows as stored (on PostgreSQL
/// each row is written in the statement of its audit entry, from an id the
/// turn reserved, and answered as built), and their entries chain and name
/// them.
#[tokio::test]
async fn a_recorded_and_a_corrected_row_are_answered_as_stored_and_named_by_their_entries() {
    let app = spawn_app_as("ck-admin").await;
    let (run, unit) = crate::accounts::open_ck_run(&app).await;
    const FIELDS: &str = "id version status ruleCode facts { count } note supersedesId enteredAt unit { id }";
    let record = format!("mutation($i: RecordObservationInput!) {{ recordObservation(input: $i) {{ {FIELDS} }} }}");
    let input = json!({ "i": { "runId": run, "unitId": unit, "ruleCode": "2.1.1-1", "facts": { "count": 1 }, "note": "首次" } });
    let recorded = app.query_with(&record, input).await["recordObservation"].clone();
    let correct = format!("mutation($i: CorrectObservationInput!) {{ correctObservation(input: $i) {{ {FIELDS} }} }}");
    let input = json!({ "i": { "id": recorded["id"], "expectedVersion": recorded["version"], "facts": { "count": 2 }, "reason": "录入有误" } });
    let corrected = app.query_with(&correct, input).await["correctObservation"].clone();
    assert_eq!(corrected["supersedesId"], recorded["id"]);
    assert_eq!(corrected["note"], "首次", "the note carried over");
    assert!(db_id(corrected["id"].as_str().unwrap()) > db_id(recorded["id"].as_str().unwrap()));
    let read = format!("query($id: ID!) {{ node(id: $id) {{ ... on Observation {{ {FIELDS} }} }} }}");
    let again = app.query_with(&read, json!({ "id": corrected["id"] })).await["node"].clone();
    assert_eq!(again, corrected, "the correction's answer is the row as stored");
    let mut first = app.query_with(&read, json!({ "id": recorded["id"] })).await["node"].clone();
    assert_eq!(first["status"], "SUPERSEDED");
    assert_eq!(first["version"], recorded["version"].as_i64().unwrap() + 1);
    first["status"] = recorded["status"].clone();
    first["version"] = recorded["version"].clone();
    assert_eq!(first, recorded, "the recording's answer is the row as stored");

    let chengkou = organisation_id(&app, "chengkou").await;
    let chain = chain_of(&app, chengkou).await;
    let [.., r, c] = chain.as_slice() else { panic!("two entries at least") };
    assert_eq!(
        (r.action.as_str(), r.entity_id.clone()),
        ("observation.record", Some(db_id(recorded["id"].as_str().unwrap()).to_string()))
    );
    assert_eq!(
        (c.action.as_str(), c.entity_id.clone()),
        ("observation.correct", Some(db_id(corrected["id"].as_str().unwrap()).to_string()))
    );
    assert_eq!(c.prev_hash.as_deref(), Some(r.hash.as_str()), "the correction's entry follows the recording's");
    let after: Value = serde_json::from_str(c.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["observation"]["facts"]["count"], 2);
    assert_eq!(check(&app).await["ok"], true, "the chain verifies");
}
