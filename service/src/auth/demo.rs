//! One demo login per role in the embedded default, so a newcomer can try each
//! role in GraphiQL. Passwords come from `DEMO_PASSWORD` or are generated at
//! first start and printed once; they are stored only as argon2 hashes.

use entity::{app_user, department, organisation, unit};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set};

/// (username, organisation code, role, department name, unit code)
type DemoLogin = (&'static str, &'static str, &'static str, Option<&'static str>, Option<&'static str>);

const LOGINS: &[DemoLogin] = &[
    ("ck-admin", "chengkou", "admin", Some("督导室(考核办)"), None),
    ("ck-mishuke", "chengkou", "department", Some("秘书科"), None),
    ("ck-bangongshi", "chengkou", "department", Some("办公室"), None),
    ("ck-dianjiao", "chengkou", "department", Some("电教中心"), None),
    ("ck-jxx", "chengkou", "unit", None, Some("ck-jxx")),
    ("xc-admin", "xuchang", "admin", None, None),
    ("xc-mishuke", "xuchang", "department", Some("秘书科"), None),
    ("xc-xueqian", "xuchang", "department", Some("学前教育科"), None),
    ("xc-weidu", "xuchang", "unit", None, Some("xc-weidu")),
    ("xc-yuejiangping", "xuchang", "service", None, None),
];

/// Creates the demo logins that are missing; returns `(username, password)` of
/// the ones created now (to print once).
pub async fn seed_logins(db: &DatabaseConnection, password: Option<&str>) -> Result<Vec<(String, String)>, DbErr> {
    let mut created = Vec::new();
    for &(username, org_code, role, dept, unit_code) in LOGINS {
        if app_user::Entity::find().filter(app_user::Column::Username.eq(username)).one(db).await?.is_some() {
            continue;
        }
        let Some(org) = organisation::Entity::find().filter(organisation::Column::Code.eq(org_code)).one(db).await?
        else {
            continue;
        };
        let department_id = match dept {
            Some(name) => department::Entity::find()
                .filter(department::Column::OrganisationId.eq(org.id))
                .filter(department::Column::Name.eq(name))
                .one(db)
                .await?
                .map(|d| d.id),
            None => None,
        };
        let unit_id = match unit_code {
            Some(code) => unit::Entity::find()
                .filter(unit::Column::OrganisationId.eq(org.id))
                .filter(unit::Column::Code.eq(code))
                .one(db)
                .await?
                .map(|u| u.id),
            None => None,
        };
        let pw = password.map(str::to_string).unwrap_or_else(|| kaohe_auth::refresh::new_secret()[..16].to_string());
        let hash = kaohe_auth::password::hash(&pw).map_err(|e| DbErr::Custom(e.to_string()))?;
        app_user::ActiveModel {
            organisation_id: Set(org.id),
            department_id: Set(department_id),
            unit_id: Set(unit_id),
            username: Set(username.into()),
            display_name: Set(username.into()),
            password_hash: Set(Some(hash)),
            role: Set(role.into()),
            active: Set(true),
            version: Set(1),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        created.push((username.to_string(), pw));
    }
    Ok(created)
}

/// The demo logins that exist and are active (a production server should
/// have none: the start warns while they exist on a non-loopback address).
pub async fn existing_logins(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let names: Vec<&str> = LOGINS.iter().map(|l| l.0).collect();
    Ok(app_user::Entity::find()
        .filter(app_user::Column::Username.is_in(names))
        .filter(app_user::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect())
}
