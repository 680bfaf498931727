//! Relying parties (clients) registered with the provider.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::{ClientAuthMethod, Demarche, SigningAlg, SubjectType};
use crate::error::{StoreError, StoreResult};
use crate::schema::clients;

#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = clients)]
pub struct Client {
    pub id: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// Exact redirect URIs.
    pub redirect_uris: UriList,
    pub post_logout_redirect_uris: UriList,
    pub auth_method: ClientAuthMethod,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub id_token_signed_response_alg: SigningAlg,
    pub userinfo_signed_response_alg: Option<SigningAlg>,
    pub subject_type: SubjectType,
    pub sector_identifier: String,
    /// The démarches this service may be used for.
    pub demarches: DemarcheList,
    pub backchannel_logout_uri: Option<String>,
    pub created_at: NaiveDateTime,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("id", &self.id).field("auth_method", &self.auth_method).finish_non_exhaustive()
    }
}

crate::json_list_column! {
    /// A list of URIs, stored as a JSON array of strings.
    pub struct UriList(pub Vec<String>) in "clients.redirect_uris or post_logout_redirect_uris";
}

/// Named here too: clients were the first to hold a list of démarches.
pub use crate::domain::DemarcheList;

impl Client {
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris.0
    }
    pub fn post_logout_redirect_uris(&self) -> &[String] {
        &self.post_logout_redirect_uris.0
    }
    pub fn demarches(&self) -> &[Demarche] {
        &self.demarches.0
    }
    pub fn is_public(&self) -> bool {
        self.auth_method == ClientAuthMethod::None
    }
}

/// A client to register; the caller validated URIs and hashed the secret.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub auth_method: ClientAuthMethod,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub id_token_signed_response_alg: SigningAlg,
    pub userinfo_signed_response_alg: Option<SigningAlg>,
    pub subject_type: SubjectType,
    pub sector_identifier: String,
    pub demarches: Vec<Demarche>,
    pub backchannel_logout_uri: Option<String>,
}

pub fn create(conn: &mut DbConnection, new: NewClient, now: NaiveDateTime) -> StoreResult<Client> {
    if new.redirect_uris.is_empty() {
        return Err(StoreError::InvalidField { field: "redirect_uris", reason: "at least one is required".into() });
    }
    if new.demarches.is_empty() {
        return Err(StoreError::InvalidField { field: "demarches", reason: "at least one is required".into() });
    }
    if find(conn, &new.id)?.is_some() {
        return Err(StoreError::InvalidField {
            field: "client_id",
            reason: format!("{:?} is already registered", new.id),
        });
    }
    let client = Client {
        id: new.id,
        name: new.name,
        secret_hash: new.secret_hash,
        redirect_uris: UriList(new.redirect_uris),
        post_logout_redirect_uris: UriList(new.post_logout_redirect_uris),
        auth_method: new.auth_method,
        jwks: new.jwks,
        jwks_uri: new.jwks_uri,
        id_token_signed_response_alg: new.id_token_signed_response_alg,
        userinfo_signed_response_alg: new.userinfo_signed_response_alg,
        subject_type: new.subject_type,
        sector_identifier: new.sector_identifier,
        demarches: DemarcheList(new.demarches),
        backchannel_logout_uri: new.backchannel_logout_uri,
        created_at: now,
    };
    diesel::insert_into(clients::table).values(&client).execute(conn)?;
    Ok(client)
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Client>> {
    Ok(clients::table.find(id).select(Client::as_select()).first(conn).optional()?)
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<Client>> {
    Ok(clients::table.order(clients::name.asc()).select(Client::as_select()).load(conn)?)
}

/// Removes a client and, by cascade, its grants, codes and tokens.
pub fn remove(conn: &mut DbConnection, id: &str) -> StoreResult<()> {
    let n = diesel::delete(clients::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("client"));
    }
    Ok(())
}
