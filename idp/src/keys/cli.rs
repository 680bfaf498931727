//! `idp keys …`: the operator's side of the keys folder. No database is opened.

use crate::configuration::Settings;

use super::SigningAlg;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Make a new active signing key; prints it as JSON.
    Generate {
        /// RS256 or ES256.
        #[arg(long, default_value = "RS256")]
        alg: SigningAlg,
    },
    /// Make a new active key; the previous one stays published as retiring.
    ///
    /// Tokens the previous key signed still verify until `idp keys retire KID`. Prints the new
    /// key as JSON.
    Rotate {
        /// RS256 or ES256.
        #[arg(long, default_value = "RS256")]
        alg: SigningAlg,
    },
    /// Stop publishing a key and delete it.
    Retire {
        /// The key's id as `idp keys list` shows it; it may start with `-` (an RFC 7638
        /// thumbprint is base64url), which is taken as the id, not as an option.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// List the keys as JSON, newest first.
    List,
}

pub fn run(command: KeysCommand, settings: &Settings) -> anyhow::Result<()> {
    let dir = &settings.keys.dir;
    let out = match command {
        KeysCommand::Generate { alg } => serde_json::to_value(super::generate(dir, alg)?)?,
        KeysCommand::Rotate { alg } => serde_json::to_value(super::rotate(dir, alg)?)?,
        KeysCommand::Retire { kid } => {
            super::retire(dir, &kid)?;
            eprintln!("key {kid} retired");
            return Ok(());
        }
        KeysCommand::List => serde_json::to_value(super::list(dir)?)?,
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::KeysCommand;

    #[derive(Parser)]
    struct Keys {
        #[command(subcommand)]
        command: KeysCommand,
    }

    #[test]
    fn a_key_id_starting_with_a_hyphen_is_taken_as_the_id() {
        let parsed = Keys::try_parse_from(["keys", "retire", "-lQx3_thumbprint"]).unwrap();
        assert!(matches!(parsed.command, KeysCommand::Retire { kid } if kid == "-lQx3_thumbprint"));
    }
}
