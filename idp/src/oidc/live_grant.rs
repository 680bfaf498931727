//! A grant, with everything needed to speak about it, re-checked against the mandate store:
//! a revoked or expired authorisation stops every token at once.

use mandate_store::aidants::{self, Aidant};
use mandate_store::clients::{self, Client};
use mandate_store::grants::Grant;
use mandate_store::mandates::{self, LiveAuthorisation, Permission, Refusal};
use mandate_store::organisations::{self, Organisation};
use mandate_store::usagers::{self, Usager};
use mandate_store::{now, DbConnection, Demarche, StoreError, StoreResult};

use super::claims::Subject;

pub struct LiveGrant {
    pub grant: Grant,
    pub client: Client,
    pub usager: Usager,
    pub aidant: Aidant,
    pub organisation: Organisation,
    pub authorisation: LiveAuthorisation,
}

impl LiveGrant {
    pub fn subject(&self) -> Subject<'_> {
        Subject {
            grant: &self.grant,
            client: &self.client,
            usager: &self.usager,
            aidant: &self.aidant,
            organisation: &self.organisation,
            mandate_expires_at: self.authorisation.expires_at,
        }
    }
}

/// The grant's context if the helper may still act for the usager for the grant's démarche
/// under the very authorisation the grant was made with; otherwise why not.
pub fn check(conn: &mut DbConnection, grant: Grant) -> StoreResult<Result<LiveGrant, Refusal>> {
    let demarche: Demarche = grant.demarche.parse()?;
    let permission =
        mandates::may_act(conn, &grant.aidant_id, &grant.organisation_id, &grant.usager_id, demarche, now())?;
    let authorisation = match permission {
        Permission::Granted(live) if live.authorisation_id == grant.authorisation_id => live,
        // A newer mandate replaced the one this grant was made under.
        Permission::Granted(_) => return Ok(Err(Refusal::AuthorisationRevoked)),
        Permission::Denied(refusal) => return Ok(Err(refusal)),
    };
    let client = clients::find(conn, &grant.client_id)?.ok_or(StoreError::NotFound("client"))?;
    Ok(Ok(LiveGrant {
        usager: usagers::find(conn, &grant.usager_id)?,
        aidant: aidants::find(conn, &grant.aidant_id)?,
        organisation: organisations::find(conn, &grant.organisation_id)?,
        client,
        grant,
        authorisation,
    }))
}
