//! `kaohe`: starts the server (`kaohe`), prints the GraphQL schema
//! (`kaohe schema`), manages migrations (`kaohe migrate up|down|status`),
//! checks every audit chain (`kaohe audit verify`), or prepares the load
//! script's data (`kaohe seed-bench [units]`).

use std::process::ExitCode;

use kaohe_api::{Application, Settings};

#[actix_web::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("schema") {
        print!("{}", kaohe_api::graphql::sdl());
        return ExitCode::SUCCESS;
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
