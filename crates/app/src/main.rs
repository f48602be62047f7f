use toolhub_app::{
    Application, Cli,
    config::{Command, KeysCommand, LogFormat, ServeArgs},
};
use toolhub_domain::{
    ports::SystemClock,
    services::{AuthService, NewApiKey},
};

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_with_default();
    match cli.command.unwrap_or_else(|| Command::Serve(Box::default())) {
        Command::Serve(serve) => serve_forever(&cli.storage, &serve).await,
        Command::Migrate => {
            init_tracing(LogFormat::Text);
            toolhub_app::open_store(&cli.storage).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys(KeysCommand::Create(args)) => {
            let auth = operator_auth(&cli.storage).await?;
            let (key, secret) = auth
                .create_key(NewApiKey {
                    tenant: args.tenant,
                    principal_id: args.subject,
                    role: args.role.into(),
                    name: args.name,
                    expires_at: args.expires_in_days.map(|d| chrono_now() + chrono::Duration::days(d.into())),
                })
                .await?;
            eprintln!(
                "API key {} for {} ({}) in tenant {}; shown only now:",
                key.id, key.principal_id, key.role, key.tenant
            );
            println!("{}", secret.expose());
            Ok(())
        }
        Command::Keys(KeysCommand::List { tenant }) => {
            let auth = operator_auth(&cli.storage).await?;
            for key in auth.list_keys(&operator(&tenant)).await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}  {}  {}  {}  {}  {state}", key.id, key.key_prefix, key.principal_id, key.role, key.name);
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Revoke { id, tenant }) => {
            let key = operator_auth(&cli.storage).await?.revoke_key(&operator(&tenant), &id).await?;
            println!("revoked {} ({})", key.id, key.principal_id);
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate { id, tenant }) => {
            let (key, secret) = operator_auth(&cli.storage).await?.rotate_key(&operator(&tenant), &id).await?;
            eprintln!("API key {} replaces {id} for {}; shown only now:", key.id, key.principal_id);
            println!("{}", secret.expose());
            Ok(())
        }
        Command::Connect(args) => {
            // stdout is the MCP channel: log to stderr only, and only warnings.
            let filter = tracing_subscriber::EnvFilter::new("warn");
            tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
            toolhub_mcp::install_tls_provider();
            toolhub_app::connect::run(&args.endpoint(), &args.key).await
        }
        Command::Import(args) => {
            toolhub_mcp::install_tls_provider();
            toolhub_app::import::run(&args).await
        }
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&toolhub_http::openapi())?);
            Ok(())
        }
    }
}

/// The keys service over the configured database, for the key commands. A SQLite database
/// that does not exist yet is refused: a key written to a new one would not be the server's.
async fn operator_auth(storage: &toolhub_app::StorageArgs) -> anyhow::Result<AuthService> {
    init_tracing(LogFormat::Text);
    if let Some(file) = storage.sqlite_file()
        && !file.exists()
    {
        anyhow::bail!(
            "no Toolhub database at {}: pass the server's --data-dir (or DATABASE_URL), or start `toolhub serve` first",
            file.display()
        );
    }
    let store = std::sync::Arc::new(toolhub_app::open_store(storage).await?);
    Ok(AuthService::new(store.clone(), store, std::sync::Arc::new(SystemClock)))
}

/// Whoever runs the CLI on the host with the database is the operator, in the tenant named.
fn operator(tenant: &str) -> toolhub_domain::Principal {
    toolhub_domain::Principal {
        id: "operator".into(),
        tenant: tenant.into(),
        role: toolhub_domain::Role::SuperAdmin,
        groups: Vec::new(),
    }
}

fn chrono_now() -> toolhub_domain::Timestamp {
    use toolhub_domain::ports::Clock;
    SystemClock.now()
}

async fn serve_forever(storage: &toolhub_app::StorageArgs, serve: &ServeArgs) -> anyhow::Result<()> {
    init_tracing(serve.log_format);
    toolhub_app::forbid_inspection();
    let app = Application::build(storage, serve).await?;
    if let Some(key) = &app.bootstrap_admin_key {
        // Printed to stdout, never logged: this is the only time the key exists in clear.
        println!("Toolhub created the first administrator API key; it is shown only now:");
        println!("admin API key: {}", key.expose());
    }
    let host = serve.bind.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
    println!("Toolhub listening on http://{host}:{}", app.port());
    tracing::info!(port = app.port(), "serving");
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}
