//! `kaohe`: starts the server (`kaohe`), prints the GraphQL schema
//! (`kaohe schema`), manages migrations (`kaohe migrate up|down|status`),
//! checks every audit chain (`kaohe audit verify`), sets up an organisation
//! and its first admin (`kaohe admin bootstrap --organisation CODE --name
//! NAME --username U`), checks the settings and what they point at
//! (`kaohe check-config`), writes and restores backups (`kaohe backup
//! PATH`, `kaohe restore PATH`), or prepares the load script's data
//! (`kaohe seed-bench [units]`).

use std::process::ExitCode;

use kaohe_api::{Application, Settings};

/// mimalloc: a ranking answer allocates for each of its thousands of
/// values; glibc's allocator took a third of the time (perf, issue 18).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What `kaohe --help` prints.
const USAGE: &str = "\
usage: kaohe [COMMAND]

  (no command)            start the server (settings from the environment; see README)
  schema                  print the GraphQL schema (SDL)
  check-config            check every setting and what it points at
  migrate up|down|status  manage the database migrations
  audit verify            check every audit chain
  admin bootstrap --organisation CODE --name NAME --username U
                          create an organisation and its first admin
  backup PATH             write a backup archive
  restore PATH            restore a backup into an empty DATA_DIR
  seed-bench [UNITS]      prepare the load scripts' data
";

const COMMANDS: [&str; 8] = ["schema", "check-config", "migrate", "audit", "admin", "backup", "restore", "seed-bench"];

#[actix_web::main]
async fn main() -> ExitCode {
    // Before the server allocates its working set (api/src/memory.rs).
    kaohe_api::memory::without_huge_pages();
    // Help, or a command this binary does not have, never starts the server
    // (nor creates a database where it was run).
    match std::env::args().nth(1).as_deref() {
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) if !COMMANDS.contains(&other) => {
            eprint!("kaohe: unknown command `{other}`\n{USAGE}");
            return ExitCode::from(2);
        }
        _ => {}
    }
    if std::env::args().nth(1).as_deref() == Some("schema") {
        print!("{}", kaohe_api::graphql::sdl());
        return ExitCode::SUCCESS;
    }
    if std::env::args().nth(1).as_deref() == Some("check-config") {
        return check_config().await;
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kaohe: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _telemetry = kaohe_api::telemetry::init(&settings);
    if std::env::args().nth(1).as_deref() == Some("migrate") {
        return migrate(&settings, std::env::args().nth(2).as_deref()).await;
    }
    if std::env::args().nth(1).as_deref() == Some("audit") {
        return audit(&settings, std::env::args().nth(2).as_deref()).await;
    }
    let args: Vec<String> = std::env::args().skip(2).collect();
    match std::env::args().nth(1).as_deref() {
        Some("admin") => return admin(&settings, &args).await,
        Some("backup") => return backup(&settings, args.first()).await,
        Some("restore") => return restore(&settings, args.first()).await,
        _ => {}
    }
    if std::env::args().nth(1).as_deref() == Some("seed-bench") {
        return seed_bench(settings, std::env::args().nth(2).as_deref()).await;
    }
    let app = match Application::build(settings.clone()).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            eprintln!("kaohe: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host = settings.bind_addr.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
    tracing::info!("kaohe listening on http://{host}:{}/graphql", app.port());
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `kaohe seed-bench [units]`: prepares the database the server would use
/// (migrations, demo data, rubrics), adds the load script's units and run,
/// and prints their ids as `RUN=… UNIT=…`.
async fn seed_bench(mut settings: Settings, units: Option<&str>) -> ExitCode {
    let Some(units) = units.unwrap_or("1000").parse::<usize>().ok().filter(|n| (1..=100_000).contains(n)) else {
        eprintln!("kaohe seed-bench: the unit count must be 1..=100000");
        return ExitCode::FAILURE;
    };
    settings.bind_addr = "127.0.0.1:0".into();
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("kaohe seed-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match kaohe_api::bench_seed::seed(app.db(), app.chain_key(), units).await {
        Ok(ids) => {
            println!("RUN={} UNIT={}", ids.run, ids.unit);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kaohe seed-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `kaohe audit verify`: checks every audit chain of `DATABASE_URL` (the
/// platform's and each organisation's) with the audit key, which it never
/// generates; prints one line per chain and fails if any is not whole.
async fn audit(settings: &Settings, action: Option<&str>) -> ExitCode {
    if action != Some("verify") {
        eprintln!("kaohe audit: unknown action `{}` (verify)", action.unwrap_or(""));
        return ExitCode::FAILURE;
    }
    let key = match kaohe_api::audit::ChainKey::existing(settings.audit_key.as_ref(), &settings.data_dir) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("kaohe audit: {e}");
            return ExitCode::FAILURE;
        }
    };
    let db = match kaohe_api::db::connect(&settings.database_url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("kaohe: database: {e}");
            return ExitCode::FAILURE;
        }
    };
    match kaohe_api::audit::check_all(&db, &key).await {
        Ok(reports) => {
            for r in &reports {
                println!("{r}");
            }
            if reports.iter().all(|r| r.ok()) { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("kaohe audit: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `kaohe migrate up|down|status` against `DATABASE_URL` (the server itself
/// migrates up on start; `down` reverts the last migration).
async fn migrate(settings: &Settings, action: Option<&str>) -> ExitCode {
    use migration::{Migrator, MigratorTrait};
    let db = match kaohe_api::db::connect(&settings.database_url).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!("kaohe: database: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match action.unwrap_or("status") {
        "up" => Migrator::up(&db, None).await,
        "down" => Migrator::down(&db, Some(1)).await,
        "status" => Migrator::get_pending_migrations(&db).await.map(|pending| {
            let names: Vec<String> = pending.iter().map(|m| m.name().to_string()).collect();
            println!("{} of {} migrations pending: {names:?}", names.len(), Migrator::migrations().len());
        }),
        other => {
            eprintln!("kaohe migrate: unknown action `{other}` (up, down, status)");
            return ExitCode::FAILURE;
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaohe migrate: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `kaohe: <what>: <error>` and fails.
fn fail(what: &str, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("kaohe {what}: {e}");
    ExitCode::FAILURE
}

/// The value after `--name` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// `kaohe admin bootstrap --organisation CODE --name NAME --username U`:
/// migrates the database, creates the organisation with its standard policy
/// lines and its first admin, and prints the admin's one-time password once.
/// Refused (non-zero) when the organisation exists: it runs once.
async fn admin(settings: &Settings, args: &[String]) -> ExitCode {
    const USAGE: &str = "usage: kaohe admin bootstrap --organisation CODE --name NAME --username USERNAME";
    if args.first().map(String::as_str) != Some("bootstrap") {
        return fail("admin", USAGE);
    }
    let (Some(code), Some(name), Some(username)) =
        (flag(args, "--organisation"), flag(args, "--name"), flag(args, "--username"))
    else {
        return fail("admin", USAGE);
    };
    let db = match kaohe_api::db::connect(&settings.database_url).await {
        Ok(db) => db,
        Err(e) => return fail("admin: database", e),
    };
    if let Err(e) = kaohe_api::db::migrate(&db).await {
        return fail("admin: migrations", e);
    }
    let key = match kaohe_api::audit::ChainKey::load(settings.audit_key.as_ref(), &settings.data_dir) {
        Ok(k) => k,
        Err(e) => return fail("admin: audit key", e),
    };
    if let Err(e) = kaohe_api::audit::prepare(&db, &key).await {
        return fail("admin: audit log", e);
    }
    match kaohe_service::bootstrap::bootstrap(&db, &key, code, name, username).await {
        Ok(b) => {
            println!("Organisation {} ({}) created.", b.organisation.code, b.organisation.name);
            println!("Its admin, shown only now (it must be changed at the first sign-in):");
            println!("  username: {}", b.admin.username);
            println!("  one-time password: {}", b.password);
            ExitCode::SUCCESS
        }
        Err(e) => fail("admin bootstrap", e.public_message()),
    }
}

/// `kaohe check-config`: reads every setting, then checks what they point at
/// (data folder, rubrics, keys, database, audit chains); lists every problem
/// and fails if there is any. Secrets print as `***`.
async fn check_config() -> ExitCode {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let (settings, errors) = Settings::problems(env);
    let mut problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let mut notes: Vec<String> = Vec::new();
    if let Some(s) = &settings {
        println!("settings: {s:#?}");
        check_resources(s, &mut problems, &mut notes).await;
    }
    for n in &notes {
        println!("note: {n}");
    }
    if problems.is_empty() {
        println!("check-config: no problem found");
        return ExitCode::SUCCESS;
    }
    eprintln!("check-config: {} problem(s):", problems.len());
    for p in &problems {
        eprintln!("  - {p}");
    }
    ExitCode::FAILURE
}

async fn check_resources(s: &Settings, problems: &mut Vec<String>, notes: &mut Vec<String>) {
    if s.data_dir.is_dir() {
        if let Err(e) = tempfile::tempfile_in(&s.data_dir) {
            problems.push(format!("DATA_DIR {}: not writable ({e})", s.data_dir.display()));
        }
    } else {
        notes.push(format!("DATA_DIR {} does not exist yet; the server creates it", s.data_dir.display()));
    }
    match std::fs::read_dir(&s.rubrics_dir) {
        Err(e) => problems.push(format!("RUBRICS_DIR {}: {e}", s.rubrics_dir.display())),
        Ok(entries) => {
            for path in entries.filter_map(Result::ok).map(|e| e.path()) {
                if path.extension().is_none_or(|x| x != "toml") {
                    continue;
                }
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                match std::fs::read_to_string(&path) {
                    Err(e) => problems.push(format!("RUBRICS_DIR: {name}: {e}")),
                    Ok(text) => {
                        if let Err(e) = kaohe_engine::Rubric::from_toml(&name, &text) {
                            problems.push(format!("RUBRICS_DIR: {name}: {e}"));
                        }
                    }
                }
            }
        }
    }
    match kaohe_service::auth::keys::fingerprint(&s.auth, &s.data_dir) {
        Err(e) => problems.push(format!("JWT keys: {e}")),
        Ok(None) => notes.push("no JWT secret yet: the server generates DATA_DIR/jwt-secret at first start".into()),
        Ok(Some(kid)) => match kaohe_service::auth::keys::key_set(&s.auth, &s.data_dir) {
            Ok(_) => notes.push(format!("JWT signing key {kid}")),
            Err(e) => problems.push(format!("JWT keys: {e}")),
        },
    }
    let key = match kaohe_api::audit::ChainKey::existing(s.audit_key.as_ref(), &s.data_dir) {
        Ok(k) => {
            notes.push(format!("audit key fingerprint {}", k.fingerprint()));
            Some(k)
        }
        Err(e) => {
            notes.push(format!("audit key: {e}"));
            None
        }
    };
    if s.seed_demo && !s.binds_loopback() {
        problems.push(format!(
            "SEED_DEMO is on and BIND_ADDR {} is reachable beyond this machine: set SEED_DEMO=false in production",
            s.bind_addr
        ));
    }
    let db = match kaohe_api::db::connect(&s.database_url).await {
        Ok(db) => db,
        Err(e) => {
            problems.push(format!("DATABASE_URL {}: {e}", s.database_url.redacted()));
            return;
        }
    };
    use migration::MigratorTrait;
    match migration::Migrator::get_pending_migrations(&db).await {
        Ok(p) if !p.is_empty() => notes.push(format!("{} migration(s) pending; the server applies them", p.len())),
        Ok(_) => {}
        Err(e) => problems.push(format!("DATABASE_URL {}: {e}", s.database_url.redacted())),
    }
    if let Ok(demo) = kaohe_service::auth::demo::existing_logins(&db).await
        && !demo.is_empty()
        && !s.binds_loopback()
    {
        problems.push(format!("demo accounts exist ({}) and BIND_ADDR is not loopback", demo.join(", ")));
    }
    if let Some(key) = key
        && let Ok(reports) = kaohe_api::audit::check_all(&db, &key).await
    {
        for r in reports.iter().filter(|r| !r.ok()) {
            problems.push(format!("audit chain: {r}"));
        }
    }
}

/// The fingerprints of the secrets this installation uses (never the secrets).
fn fingerprints(settings: &Settings) -> kaohe_service::backup::Fingerprints {
    kaohe_service::backup::Fingerprints {
        audit_key: kaohe_api::audit::ChainKey::existing(settings.audit_key.as_ref(), &settings.data_dir)
            .ok()
            .map(|k| k.fingerprint()),
        jwt: kaohe_service::auth::keys::fingerprint(&settings.auth, &settings.data_dir).ok().flatten(),
    }
}

/// `kaohe backup PATH`: the database (SQLite: `VACUUM INTO`; PostgreSQL:
/// `pg_dump`), the evidence files and the secrets' fingerprints, in one tar archive.
async fn backup(settings: &Settings, path: Option<&String>) -> ExitCode {
    let Some(path) = path else { return fail("backup", "usage: kaohe backup PATH") };
    let db = match kaohe_api::db::connect(&settings.database_url).await {
        Ok(db) => db,
        Err(e) => return fail("backup: database", e),
    };
    let out = std::path::Path::new(path);
    match kaohe_service::backup::backup(&db, &settings.database_url, &settings.data_dir, fingerprints(settings), out)
        .await
    {
        Ok(m) => {
            println!(
                "backup written to {path}: {} database, {} evidence file(s), audit key {}, JWT key {}",
                m.database,
                m.evidence_files,
                m.fingerprints.audit_key.as_deref().unwrap_or("(none)"),
                m.fingerprints.jwt.as_deref().unwrap_or("(none)")
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail("backup", e),
    }
}

/// `kaohe restore PATH`: into an empty `DATA_DIR` (and database), then
/// checks every audit chain with this installation's key and every evidence
/// file against its hash; fails if anything does not verify.
async fn restore(settings: &Settings, path: Option<&String>) -> ExitCode {
    let Some(path) = path else { return fail("restore", "usage: kaohe restore PATH") };
    let m = match kaohe_service::backup::restore(std::path::Path::new(path), &settings.database_url, &settings.data_dir)
        .await
    {
        Ok(m) => m,
        Err(e) => return fail("restore", e),
    };
    println!("restored {} database and {} evidence file(s) from {path}", m.database, m.evidence_files);
    let db = match kaohe_api::db::connect(&settings.database_url).await {
        Ok(db) => db,
        Err(e) => return fail("restore: database", e),
    };
    let mut ok = true;
    let here = fingerprints(settings);
    if here.jwt != m.fingerprints.jwt {
        println!("note: another JWT key than the backup's: sessions of the backup end; users sign in again");
    }
    match kaohe_api::audit::ChainKey::existing(settings.audit_key.as_ref(), &settings.data_dir) {
        Err(e) => {
            ok = false;
            eprintln!(
                "kaohe restore: {e}; the log needs the audit key with fingerprint {}",
                m.fingerprints.audit_key.as_deref().unwrap_or("(none)")
            );
        }
        Ok(key) => {
            if m.fingerprints.audit_key.as_deref().is_some_and(|f| f != key.fingerprint()) {
                ok = false;
                eprintln!(
                    "kaohe restore: this audit key ({}) is not the backup's ({})",
                    key.fingerprint(),
                    m.fingerprints.audit_key.as_deref().unwrap_or("")
                );
            }
            match kaohe_api::audit::check_all(&db, &key).await {
                Ok(reports) => {
                    for r in &reports {
                        println!("{r}");
                    }
                    ok &= reports.iter().all(|r| r.ok());
                }
                Err(e) => return fail("restore: audit", e),
            }
        }
    }
    match kaohe_service::backup::verify_evidence(&db, &settings.data_dir).await {
        Ok(check) => {
            println!(
                "evidence: {} file(s) checked, {} missing, {} altered",
                check.checked,
                check.missing.len(),
                check.altered.len()
            );
            ok &= check.ok();
        }
        Err(e) => return fail("restore: evidence", e),
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
