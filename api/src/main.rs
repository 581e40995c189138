//! `kaohe`: starts the server (`kaohe`), or prints the GraphQL schema
//! (`kaohe schema`).

use std::process::ExitCode;

use kaohe_api::{Application, Settings};
use tracing_subscriber::EnvFilter;

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
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
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
