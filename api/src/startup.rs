//! Builds the application from settings: database, migrations, demo seed,
//! rubrics, the policy, schema, the HTTP server on its own listener, the
//! metrics listener (`METRICS_ADDR`) and the webhook delivery worker.
//!
//! Logs go to the `tracing` dispatcher current when `build` runs (the
//! binary's global one; a test's own), for every request and for the worker.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use sea_orm::{DatabaseConnection, DbErr};

use crate::audit::{self, ChainKey};
use crate::config::Settings;
use crate::evidence::EvidenceStore;
use crate::graphql::{SchemaData, build_schemas};
use crate::metrics::Metrics;
use crate::rubric::load::{self, LoadError};
use crate::webhooks::worker::Worker;
use crate::{db, http, seed};
use tracing::instrument::WithSubscriber;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[source] DbErr),
    #[error("migrations: {0}")]
    Migration(#[source] DbErr),
    #[error("demo seed: {0}")]
    Seed(#[source] DbErr),
    #[error("{0}")]
    Rubrics(#[from] LoadError),
    #[error("{0}")]
    Auth(String),
    #[error("audit key: {0}")]
    AuditKey(#[from] crate::audit::KeyError),
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::UpgradeError),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("webhooks: {0}")]
    Webhooks(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// A built, listening, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    metrics_port: Option<u16>,
    metrics_server: Option<Server>,
    worker: Option<Arc<Worker>>,
    dispatch: tracing::Dispatch,
    db: DatabaseConnection,
    /// An in-memory SQLite database has no pulse (`auth::pulse`).
    in_memory: bool,
    statements: db::StatementCounter,
    chain_key: ChainKey,
    auth: std::sync::Arc<crate::auth::AuthState>,
    gate: web::Data<http::Gate>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        let metrics =
            Arc::new(Metrics::new(settings.metrics_max_operations).map_err(|e| StartupError::Metrics(e.to_string()))?);
        let readiness = web::Data::new(http::health::Readiness::default());
        let mut db = db::connect(&settings.database_url).await.map_err(StartupError::Database)?;
        let statements = db::StatementCounter::default();
        db::instrument_timed(&mut db, &statements, Some((metrics.service.db_statements.clone(), "main")));
        db::migrate(&db).await.map_err(StartupError::Migration)?;
        readiness.migrated.store(true, Ordering::Release);
        // Before anything is written: a key that does not fit the log stops
        // the start, and chains of old entries are sealed first.
        let chain_key = ChainKey::load(settings.audit_key.as_ref(), &settings.data_dir)?;
        audit::prepare(&db, &chain_key).await?;
        if settings.seed_demo {
            let added = seed::seed_demo(&db).await.map_err(StartupError::Seed)?;
            if added != seed::SeedReport::default() {
                tracing::info!(?added, "demo organisations seeded");
            }
        }
        let auth = crate::auth::start(&db, &settings.auth, &settings.data_dir)
            .await
            .map_err(|e| StartupError::Auth(e.to_string()))?;

        if settings.seed_demo {
            let password = settings.auth.demo_password.as_ref().map(|p| p.expose());
            let created = crate::auth::demo::seed_logins(&db, password).await.map_err(StartupError::Seed)?;
            if !created.is_empty() && password.is_none() {
                // Shown once: only the hashes are kept.
                println!("Demo logins created (username / password), shown only now:");
                for (u, p) in &created {
                    println!("  {u:<16} {p}");
                }
            }
        }
        // Every start, whatever SEED_DEMO says now: demo accounts (with
        // passwords printed once, or DEMO_PASSWORD) have no place on a
        // server others can reach.
        let demo = crate::auth::demo::existing_logins(&db).await.map_err(StartupError::Seed)?;
        if !demo.is_empty() && !settings.binds_loopback() {
            tracing::warn!(
                bind_addr = %settings.bind_addr,
                accounts = ?demo,
                "demo accounts exist and the server listens beyond this machine: deactivate them (deactivateUser) \
                 or start from an empty database with SEED_DEMO=false (README, \"Going to production\")"
            );
        }
        let report = load::load_dir(&db, &chain_key, &settings.rubrics_dir).await?;
        readiness.rubrics_loaded.store(true, Ordering::Release);
        tracing::info!(
            dir = %settings.rubrics_dir.display(),
            stored = ?report.stored,
            unchanged = ?report.unchanged,
            "rubrics loaded"
        );
        if settings.seed_demo {
            // After the rubrics: the demo runs score against their versions.
            match crate::seed_runs::seed_demo_runs(&db, &chain_key).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, "demo score runs seeded and published"),
                Err(e) => tracing::warn!(error = %e, "demo score runs not seeded"),
            }
        }
        // The policy in place before the first request (and readiness): loaded
        // last, once the demo logins (whose memberships it holds) exist.
        auth.policy.invalidate().await;
        auth.policy.get(&db).await.map_err(|e| StartupError::Auth(e.to_string()))?;
        readiness.policy_loaded.store(true, Ordering::Release);
        let listener = TcpListener::bind(&settings.bind_addr)
            .map_err(|source| StartupError::Bind { addr: settings.bind_addr.clone(), source })?;
        let bind_err = |source| StartupError::Bind { addr: settings.bind_addr.clone(), source };
        let port = listener.local_addr().map_err(bind_err)?.port();
        // Evidence files live next to the default database, at most one upload's size each.
        let evidence = EvidenceStore::new(settings.data_dir.join("evidence"), settings.limits.max_upload_bytes);
        let webhook_addresses = Arc::new(crate::webhooks::address::AddressPolicy::new(&settings.webhooks));
        let schema = web::Data::new(build_schemas(Some(SchemaData {
            db: db.clone(),
            evidence: evidence.clone(),
            chain_key: chain_key.clone(),
            webhook_addresses,
            metrics: metrics.clone(),
        })));
        let evidence = web::Data::new(evidence);
        let db_data = web::Data::new(db.clone());
        let auth_data = web::Data::from(auth.clone());
        let mut expensive_db =
            db::connect_expensive(&settings.database_url, &db, settings.limits.expensive_concurrency)
                .await
                .map_err(StartupError::Database)?;
        db::instrument_timed(
            &mut expensive_db,
            &statements,
            Some((metrics.service.db_statements.clone(), "expensive")),
        );
        metrics.watch_pool("main", &db);
        if settings.database_url.is_memory() {
            tracing::debug!("in-memory database: the expensive requests share the main pool");
        } else {
            metrics.watch_pool("expensive", &expensive_db);
        }
        let gate = web::Data::new(http::Gate::new(settings.limits.clone(), expensive_db));
        let gate_handle = gate.clone();
        let responses = web::Data::new(http::Responses::new(
            settings.limits.response_cache_bytes,
            settings.limits.response_cache_ttl,
        ));
        let worker = if settings.webhooks.deliver {
            let w = Worker::new(db.clone(), settings.webhooks.clone(), Some(metrics.service.clone()))
                .map_err(|e| StartupError::Webhooks(e.to_string()))?;
            Some(Arc::new(w))
        } else {
            None
        };
        let metrics_data = web::Data::from(metrics.clone());
        let log_dispatch = web::Data::new(http::request_id::LogDispatch(dispatch.clone()));
        let cors_origins = settings.cors_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(http::catch_panic))
                .wrap(http::cors(&cors_origins))
                .wrap(tracing_actix_web::TracingLogger::<http::trace::KaoheRootSpan>::new())
                .wrap(actix_web::middleware::from_fn(http::request_id::middleware))
                .app_data(schema.clone())
                .app_data(db_data.clone())
                .app_data(auth_data.clone())
                .app_data(gate.clone())
                .app_data(responses.clone())
                .app_data(evidence.clone())
                .app_data(metrics_data.clone())
                .app_data(readiness.clone())
                .app_data(log_dispatch.clone())
                .configure(http::routes)
        })
        .listen(listener)
        .map_err(bind_err)?
        .run();
        let (metrics_port, metrics_server) = match settings.metrics_addr {
            None => (None, None),
            Some(addr) => {
                let bind_err = |source| StartupError::Bind { addr: addr.to_string(), source };
                let listener = TcpListener::bind(addr).map_err(bind_err)?;
                let port = listener.local_addr().map_err(bind_err)?.port();
                let metrics_data = web::Data::from(metrics.clone());
                let server = HttpServer::new(move || {
                    App::new().app_data(metrics_data.clone()).route("/metrics", web::get().to(crate::metrics::scrape))
                })
                .workers(1)
                .listen(listener)
                .map_err(bind_err)?
                .run();
                tracing::info!(%addr, port, "metrics served on their own listener");
                (Some(port), Some(server))
            }
        };
        Ok(Application {
            port,
            server,
            metrics_port,
            metrics_server,
            worker,
            dispatch,
            db,
            in_memory: settings.database_url.is_memory(),
            statements,
            chain_key,
            auth,
            gate: gate_handle,
        })
    }

    /// The port the server listens on (the real one when 0 was asked).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool the server uses.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The key this server seals the audit chain with.
    pub fn chain_key(&self) -> &ChainKey {
        &self.chain_key
    }

    /// The sign-in state the server uses (keys, limits, password-hashing slots).
    /// The request gate (tests watch its expensive slots).
    pub fn gate(&self) -> web::Data<http::Gate> {
        self.gate.clone()
    }

    /// The sign-in state the server uses (keys, limits, password-hashing slots).
    pub fn auth(&self) -> std::sync::Arc<crate::auth::AuthState> {
        self.auth.clone()
    }

    /// Counts the statements this server sends to its database.
    pub fn statements(&self) -> db::StatementCounter {
        self.statements.clone()
    }

    /// The port of the metrics listener, if `METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves (and delivers webhooks, unless `WEBHOOK_DELIVERY=off`) until
    /// the process is stopped. Dropping this future stops the delivery
    /// worker; deliveries it had in flight are sent again by the next one
    /// once their lease ends.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let servers = async move {
            match self.metrics_server {
                Some(m) => futures_util::future::try_join(self.server, m).await.map(|_| ()),
                None => self.server.await,
            }
        };
        // The pulse listens (PostgreSQL) or watches the file (SQLite) while
        // the server serves; on an in-memory database it returns at once and
        // is not waited for.
        let pulse = crate::auth::pulse::listen(self.db.clone(), self.auth.pulse.clone(), self.in_memory)
            .with_subscriber(self.dispatch.clone());
        let served = async move {
            tokio::pin!(servers);
            tokio::select! {
                served = &mut servers => served,
                () = pulse => servers.await,
            }
        };
        match self.worker {
            Some(worker) => {
                let worker = worker.run().with_subscriber(self.dispatch);
                tokio::select! {
                    served = served => served,
                    () = worker => Ok(()),
                }
            }
            None => served.await,
        }
    }
}
