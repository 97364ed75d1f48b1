//! `refugio serve | migrate | admin create | demo | audit export | audit verify`.

use clap::Parser;
use refugio::config::{AdminCommand, Cli, Command};
use refugio::{admin, demo, startup};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo's thousands of requests to its own server would bury the logins it prints.
    let level = if matches!(cli.command, Command::Demo(_)) {
        "warn"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        // One line per request when its span closes: method, route, status, request id, latency.
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .json()
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("refugio: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => actix_web::rt::System::new().block_on(async move {
            startup::Application::build(&args)?
                .run_until_stopped()
                .await
        }),
        Command::Migrate(db) => {
            startup::connect_and_migrate(&db.database_url()?)?;
            eprintln!("refugio: migrations are up to date");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create { email, name, db },
        } => {
            let id = admin::create(&db, &email, &name)?;
            #[allow(clippy::print_stdout)]
            {
                println!("{id}");
            }
            Ok(())
        }
        Command::Demo(db) => {
            let loaded = demo::run(&db)?;
            demo::print(&loaded, &db);
            Ok(())
        }
        Command::Audit { command } => refugio::audit_cli::run(&command),
    }
}
