use std::process::ExitCode;

use clap::Parser;
use idp::cli::{run_admin, Cli, Command, Outcome};
use idp::configuration::Settings;
use idp::startup::Application;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("idp: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Serve => serve(settings).map(|()| Outcome::Success),
        other => run_admin(other, &settings),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::JournalBroken) => ExitCode::from(3),
        Err(e) => {
            eprintln!("idp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    idp::telemetry::init(&settings.log);
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings).await?;
        tracing::info!(port = application.port(), "listening");
        application.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}
