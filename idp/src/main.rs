use std::process::ExitCode;

use clap::Parser;
use idp::cli::{exit, run_admin, Cli, Command, JournalCommand, Outcome};
use idp::configuration::{ConfigError, Settings};
use idp::startup::Application;

fn main() -> ExitCode {
    // Usage errors exit with clap's status 2 (`exit::USAGE`).
    let cli = Cli::parse();
    // Checking a bundle needs no configuration (nor database): anyone runs it, anywhere.
    if let Command::Journal(JournalCommand::VerifyBundle(args)) = &cli.command {
        return exit_code(Ok(idp::cli::verify_bundle(args)));
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("idp: {e}");
            return ExitCode::from(exit::CONFIGURATION);
        }
    };
    let result = match cli.command {
        Command::Serve => serve(settings).map(|()| Outcome::Success),
        other => run_admin(other, &settings),
    };
    exit_code(result)
}

fn exit_code(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::JournalBroken) => ExitCode::from(exit::JOURNAL_BROKEN),
        Ok(Outcome::AttestationDiffers) => ExitCode::from(exit::ATTESTATION_DIFFERS),
        Ok(Outcome::UsageError) => ExitCode::from(exit::USAGE),
        Err(e) => {
            eprintln!("idp: {e:#}");
            // Some settings are only found wrong when serving (the design system's folder).
            if e.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(exit::CONFIGURATION)
            } else {
                ExitCode::from(exit::FAILURE)
            }
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    idp::telemetry::init(&settings.log);
    idp::allocator::return_large_buffers_to_the_system();
    idp::allocator::give_back_freed_memory_when_idle();
    actix_web::rt::System::new().block_on(async move {
        let Some(application) = Application::build(settings).await? else {
            tracing::info!("stopped before the database answered");
            return Ok(());
        };
        tracing::info!(port = application.port(), "listening");
        application.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}
