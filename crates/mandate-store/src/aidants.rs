//! Aidants (helpers): who they are, where they work, and their credentials as stored values.
//! Hashing passwords and checking TOTP codes is the server's job; this module keeps state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::{Email, Role};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, actor, JournalAction, NewEntry};
use crate::organisations::{self, require_text, Organisation};
use crate::schema::{aidant_organisations, aidants, organisations as organisations_table};
use crate::second_factors;
use crate::sign_in_delays;

#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = aidants)]
pub struct Aidant {
    pub id: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub profession: String,
    pub phone: Option<String>,
    pub current_organisation_id: String,
    pub role: Role,
    pub password_hash: String,
    pub charter_signed_at: Option<NaiveDateTime>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    /// Habilitation: the training day attended and the PIX certification passed (YYYY-MM-DD).
    pub training_date: Option<String>,
    pub pix_date: Option<String>,
    /// The version of the ethics charter last accepted (`charter_signed_at` says when).
    pub charter_version: Option<String>,
    pub last_sign_in_at: Option<NaiveDateTime>,
    pub deactivated_at: Option<NaiveDateTime>,
    /// `manager` or `inactivity`; none while the account is active.
    pub deactivation_reason: Option<String>,
}

// Credentials never reach a log line through `{:?}`.
impl std::fmt::Debug for Aidant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aidant")
            .field("id", &self.id)
            .field("current_organisation_id", &self.current_organisation_id)
            .field("role", &self.role)
            .field("active", &self.active)
            .field("password_hash", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Aidant {
    /// Until when the helper is held back from signing in after failures, at `now`, if they
    /// are (from any address, at either step: see [`sign_in_delays`]).
    pub fn held_back_until(&self, conn: &mut DbConnection, now: NaiveDateTime) -> StoreResult<Option<NaiveDateTime>> {
        sign_in_delays::account_held_until(conn, &sign_in_delays::account_key(&self.email), now)
    }
}

pub struct NewAidant {
    pub email: Email,
    pub given_name: String,
    pub family_name: String,
    pub profession: String,
    pub phone: Option<String>,
    /// The first one becomes the current organisation.
    pub organisation_ids: Vec<String>,
    pub role: Role,
    pub password_hash: String,
    /// The authenticator app the operator hands over (base32), made the helper's first confirmed
    /// second factor; empty for none.
    pub totp_secret: String,
    pub totp_step_seconds: i32,
    pub charter_signed_at: Option<NaiveDateTime>,
}

/// `keys` seal the TOTP secret of `new`, if it has one.
pub fn create(
    conn: &mut DbConnection,
    keys: &dyn crate::sealing::SealingKeys,
    new: NewAidant,
    now: NaiveDateTime,
) -> StoreResult<Aidant> {
    let Some(current) = new.organisation_ids.first().cloned() else {
        return Err(StoreError::InvalidField { field: "organisations", reason: "at least one is required".into() });
    };
    if new.totp_step_seconds != 30 && new.totp_step_seconds != 60 {
        return Err(StoreError::InvalidField { field: "totp_step_seconds", reason: "30 or 60".into() });
    }
    let aidant = Aidant {
        id: new_id(),
        email: new.email.as_str().to_owned(),
        given_name: require_text("given_name", &new.given_name)?,
        family_name: require_text("family_name", &new.family_name)?,
        profession: require_text("profession", &new.profession)?,
        phone: new.phone.filter(|p| !p.trim().is_empty()),
        current_organisation_id: current,
        role: new.role,
        password_hash: new.password_hash,
        charter_signed_at: new.charter_signed_at,
        active: true,
        created_at: now,
        training_date: None,
        pix_date: None,
        charter_version: None,
        last_sign_in_at: None,
        deactivated_at: None,
        deactivation_reason: None,
    };
    write_transaction(conn, |conn| {
        if find_by_email(conn, &new.email)?.is_some() {
            return Err(StoreError::DuplicateEmail(new.email.as_str().to_owned()));
        }
        for organisation_id in &new.organisation_ids {
            organisations::find(conn, organisation_id)?;
        }
        diesel::insert_into(aidants::table).values(&aidant).execute(conn)?;
        if !new.totp_secret.is_empty() {
            second_factors::add_confirmed_app(conn, keys, &aidant.id, &new.totp_secret, new.totp_step_seconds, now)?;
        }
        for organisation_id in &new.organisation_ids {
            insert_membership(conn, &aidant.id, organisation_id)?;
            if aidant.role == Role::Manager {
                set_manager(conn, &aidant.id, organisation_id, true)?;
            }
        }
        Ok(aidant.clone())
    })
}

/// A helper added by a manager (or the operator): no password and no second factor yet, both
/// chosen through an enrolment link; not habilitated yet.
pub struct NewPendingAidant {
    pub email: Email,
    pub given_name: String,
    pub family_name: String,
    pub profession: String,
    pub organisation_id: String,
}

/// Adds a pending helper to one organisation. Journalled `aidant_created` (ids only) with who
/// added them.
pub fn create_pending(
    conn: &mut DbConnection,
    new: NewPendingAidant,
    by: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<Aidant> {
    let aidant = Aidant {
        id: new_id(),
        email: new.email.as_str().to_owned(),
        given_name: require_text("given_name", &new.given_name)?,
        family_name: require_text("family_name", &new.family_name)?,
        profession: require_text("profession", &new.profession)?,
        phone: None,
        current_organisation_id: new.organisation_id.clone(),
        role: Role::Aidant,
        password_hash: String::new(),
        charter_signed_at: None,
        active: true,
        created_at: now,
        training_date: None,
        pix_date: None,
        charter_version: None,
        last_sign_in_at: None,
        deactivated_at: None,
        deactivation_reason: None,
    };
    write_transaction(conn, |conn| {
        if find_by_email(conn, &new.email)?.is_some() {
            return Err(StoreError::DuplicateEmail(new.email.as_str().to_owned()));
        }
        organisations::find(conn, &new.organisation_id)?;
        diesel::insert_into(aidants::table).values(&aidant).execute(conn)?;
        insert_membership(conn, &aidant.id, &new.organisation_id)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::AidantCreated)
                .aidant(&aidant.id)
                .organisation(&new.organisation_id)
                .details(serde_json::json!({ "by": actor(by) })),
            now,
        )?;
        Ok(aidant.clone())
    })
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<Aidant> {
    aidants::table.find(id).select(Aidant::as_select()).first(conn).optional()?.ok_or(StoreError::NotFound("aidant"))
}

pub fn find_by_email(conn: &mut DbConnection, email: &Email) -> StoreResult<Option<Aidant>> {
    Ok(aidants::table.filter(aidants::email.eq(email.as_str())).select(Aidant::as_select()).first(conn).optional()?)
}

pub fn is_member(conn: &mut DbConnection, aidant_id: &str, organisation_id: &str) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        aidant_organisations::table
            .filter(aidant_organisations::aidant_id.eq(aidant_id))
            .filter(aidant_organisations::organisation_id.eq(organisation_id)),
    ))
    .get_result(conn)?)
}

/// Whether the aidant manages the organisation (managing is per membership).
pub fn is_manager(conn: &mut DbConnection, aidant_id: &str, organisation_id: &str) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        aidant_organisations::table
            .filter(aidant_organisations::aidant_id.eq(aidant_id))
            .filter(aidant_organisations::organisation_id.eq(organisation_id))
            .filter(aidant_organisations::is_manager.eq(true)),
    ))
    .get_result(conn)?)
}

/// Makes the aidant a manager of the organisation, or not; they must belong to it.
pub fn set_manager(conn: &mut DbConnection, aidant_id: &str, organisation_id: &str, manager: bool) -> StoreResult<()> {
    let updated = diesel::update(
        aidant_organisations::table
            .filter(aidant_organisations::aidant_id.eq(aidant_id))
            .filter(aidant_organisations::organisation_id.eq(organisation_id)),
    )
    .set(aidant_organisations::is_manager.eq(manager))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotMember { organisation_id: organisation_id.to_owned() });
    }
    Ok(())
}

/// A helper of an organisation, as its manager sees them: the account and whether they manage it.
#[derive(Debug, Clone)]
pub struct Member {
    pub aidant: Aidant,
    pub is_manager: bool,
}

/// The helpers of an organisation, by family then given name.
pub fn members(conn: &mut DbConnection, organisation_id: &str) -> StoreResult<Vec<Member>> {
    Ok(aidant_organisations::table
        .inner_join(aidants::table)
        .filter(aidant_organisations::organisation_id.eq(organisation_id))
        .order((aidants::family_name.asc(), aidants::given_name.asc(), aidants::id.asc()))
        .select((Aidant::as_select(), aidant_organisations::is_manager))
        .load::<(Aidant, bool)>(conn)?
        .into_iter()
        .map(|(aidant, is_manager)| Member { aidant, is_manager })
        .collect())
}

pub fn organisations_of(conn: &mut DbConnection, aidant_id: &str) -> StoreResult<Vec<Organisation>> {
    Ok(aidant_organisations::table
        .inner_join(organisations_table::table)
        .filter(aidant_organisations::aidant_id.eq(aidant_id))
        .order(organisations_table::name.asc())
        .select(Organisation::as_select())
        .load(conn)?)
}

pub fn add_to_organisation(conn: &mut DbConnection, aidant_id: &str, organisation_id: &str) -> StoreResult<()> {
    find(conn, aidant_id)?;
    organisations::find(conn, organisation_id)?;
    write_transaction(conn, |conn| insert_membership(conn, aidant_id, organisation_id))
}

/// Adds a membership unless it exists (`ON CONFLICT` is not in the dialect both backends share).
fn insert_membership(conn: &mut DbConnection, aidant_id: &str, organisation_id: &str) -> StoreResult<()> {
    if !is_member(conn, aidant_id, organisation_id)? {
        diesel::insert_into(aidant_organisations::table)
            .values((
                aidant_organisations::aidant_id.eq(aidant_id),
                aidant_organisations::organisation_id.eq(organisation_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Makes `organisation_id` the aidant's current organisation; they must belong to it.
pub fn switch_organisation(conn: &mut DbConnection, aidant_id: &str, organisation_id: &str) -> StoreResult<()> {
    if !is_member(conn, aidant_id, organisation_id)? {
        return Err(StoreError::NotMember { organisation_id: organisation_id.to_owned() });
    }
    diesel::update(aidants::table.find(aidant_id))
        .set(aidants::current_organisation_id.eq(organisation_id))
        .execute(conn)?;
    Ok(())
}

pub fn set_active(conn: &mut DbConnection, aidant_id: &str, active: bool) -> StoreResult<()> {
    let n = diesel::update(aidants::table.find(aidant_id)).set(aidants::active.eq(active)).execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("aidant"));
    }
    Ok(())
}

/// Why an account was deactivated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeactivationReason {
    /// By a manager of one of its organisations, or by the operator.
    Manager,
    /// No sign-in for six months (`idp maintenance`).
    Inactivity,
}

impl DeactivationReason {
    pub fn key(self) -> &'static str {
        match self {
            DeactivationReason::Manager => "manager",
            DeactivationReason::Inactivity => "inactivity",
        }
    }
}

/// Deactivates an account: it can no longer sign in, and its sessions stop being accepted.
/// Journalled once; deactivating an inactive account changes nothing and returns `false`.
pub fn deactivate(
    conn: &mut DbConnection,
    aidant_id: &str,
    reason: DeactivationReason,
    by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    write_transaction(conn, |conn| {
        find(conn, aidant_id)?;
        let updated = diesel::update(aidants::table.find(aidant_id).filter(aidants::active.eq(true)))
            .set((
                aidants::active.eq(false),
                aidants::deactivated_at.eq(Some(now)),
                aidants::deactivation_reason.eq(Some(reason.key())),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        let mut entry = NewEntry::new(JournalAction::AidantDeactivated).aidant(aidant_id);
        entry.organisation_id = organisation_id.map(str::to_owned);
        entry.details = Some(serde_json::json!({ "reason": reason.key(), "by": actor(by) }));
        journal::record(conn, entry, now)?;
        Ok(true)
    })
}

/// Reactivates an account, as if it had just signed in (so that the six-month rule does not
/// deactivate it again at once). Returns `false` if it was active.
pub fn reactivate(
    conn: &mut DbConnection,
    aidant_id: &str,
    by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    write_transaction(conn, |conn| {
        find(conn, aidant_id)?;
        let updated = diesel::update(aidants::table.find(aidant_id).filter(aidants::active.eq(false)))
            .set((
                aidants::active.eq(true),
                aidants::deactivated_at.eq(None::<NaiveDateTime>),
                aidants::deactivation_reason.eq(None::<String>),
                aidants::last_sign_in_at.eq(Some(now)),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        // A fresh start: failures from before the deactivation no longer hold the helper back.
        let aidant = find(conn, aidant_id)?;
        sign_in_delays::lift(conn, &sign_in_delays::account_key(&aidant.email))?;
        let mut entry = NewEntry::new(JournalAction::AidantReactivated).aidant(aidant_id);
        entry.organisation_id = organisation_id.map(str::to_owned);
        entry.details = Some(serde_json::json!({ "by": actor(by) }));
        journal::record(conn, entry, now)?;
        Ok(true)
    })
}

/// Lets a helper held back after failed sign-ins try again at once, from every address and at
/// both steps. Returns `false` if no wait was running.
pub fn unlock(
    conn: &mut DbConnection,
    aidant_id: &str,
    by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    write_transaction(conn, |conn| {
        let aidant = find(conn, aidant_id)?;
        if aidant.held_back_until(conn, now)?.is_none() {
            return Ok(false);
        }
        sign_in_delays::lift(conn, &sign_in_delays::account_key(&aidant.email))?;
        let mut entry = NewEntry::new(JournalAction::AidantUnlocked).aidant(aidant_id);
        entry.organisation_id = organisation_id.map(str::to_owned);
        entry.details = Some(serde_json::json!({ "by": actor(by) }));
        journal::record(conn, entry, now)?;
        Ok(true)
    })
}

/// Records a successful sign-in (both factors): the six-month inactivity rule counts from it.
pub fn record_sign_in(conn: &mut DbConnection, aidant_id: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(aidants::table.find(aidant_id)).set(aidants::last_sign_in_at.eq(Some(now))).execute(conn)?;
    Ok(())
}

/// Replaces the helper's password (argon2id hash made by the caller, the current password
/// checked by the caller) and ends every other session of theirs: a browser left signed in
/// elsewhere, perhaps by whoever learnt the old password, is signed out. The session the change
/// is made from (`keep_session`, its id hash) stays. Journalled `password_changed` with the
/// number of sessions ended. Returns that number.
pub fn change_password(
    conn: &mut DbConnection,
    aidant_id: &str,
    password_hash: &str,
    keep_session: &str,
    now: NaiveDateTime,
) -> StoreResult<usize> {
    use crate::schema::sessions;
    write_transaction(conn, |conn| {
        let updated = diesel::update(aidants::table.find(aidant_id))
            .set(aidants::password_hash.eq(password_hash))
            .execute(conn)?;
        if updated == 0 {
            return Err(StoreError::NotFound("aidant"));
        }
        let ended = diesel::update(
            sessions::table
                .filter(sessions::aidant_id.eq(aidant_id))
                .filter(sessions::id_hash.ne(keep_session))
                .filter(sessions::ended_at.is_null()),
        )
        .set(sessions::ended_at.eq(Some(now)))
        .execute(conn)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::PasswordChanged)
                .aidant(aidant_id)
                .details(serde_json::json!({ "by": aidant_id, "sessions_ended": ended })),
            now,
        )?;
        Ok(ended)
    })
}
