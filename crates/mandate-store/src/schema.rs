//! The one diesel schema, hand-kept, restricted to types both backends share.
//! Must match `migrations/sqlite` and `migrations/postgres`.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        siret -> Text,
        address -> Text,
        postcode -> Text,
        city -> Text,
        region -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    aidants (id) {
        id -> Text,
        email -> Text,
        given_name -> Text,
        family_name -> Text,
        profession -> Text,
        phone -> Nullable<Text>,
        current_organisation_id -> Text,
        role -> Text,
        password_hash -> Text,
        totp_secret -> Text,
        totp_step_seconds -> Integer,
        charter_signed_at -> Nullable<Timestamp>,
        active -> Bool,
        failed_attempts -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    aidant_organisations (aidant_id, organisation_id) {
        aidant_id -> Text,
        organisation_id -> Text,
    }
}

diesel::table! {
    usagers (id) {
        id -> Text,
        given_name -> Text,
        family_name -> Text,
        birthdate -> Text,
        gender -> Text,
        birthplace -> Text,
        birthcountry -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        preferred_username -> Nullable<Text>,
        street_address -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        locality -> Nullable<Text>,
        country -> Nullable<Text>,
        upstream_issuer -> Text,
        upstream_subject -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mandates (id) {
        id -> Text,
        organisation_id -> Text,
        usager_id -> Text,
        created_by_aidant_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        duration_kind -> Text,
        is_remote -> Bool,
        consent_proof -> Nullable<Text>,
        attestation_hash -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
        revoked_by_aidant_id -> Nullable<Text>,
    }
}

diesel::table! {
    authorisations (id) {
        id -> Text,
        mandate_id -> Text,
        demarche -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by_aidant_id -> Nullable<Text>,
    }
}

diesel::table! {
    journal_entries (seq) {
        seq -> BigInt,
        created_at -> Timestamp,
        action -> Text,
        aidant_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        usager_id -> Nullable<Text>,
        mandate_id -> Nullable<Text>,
        authorisation_id -> Nullable<Text>,
        demarche -> Nullable<Text>,
        client_id -> Nullable<Text>,
        details -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(aidants -> organisations (current_organisation_id));
diesel::joinable!(aidant_organisations -> aidants (aidant_id));
diesel::joinable!(aidant_organisations -> organisations (organisation_id));
diesel::joinable!(mandates -> organisations (organisation_id));
diesel::joinable!(mandates -> usagers (usager_id));
diesel::joinable!(authorisations -> mandates (mandate_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    aidants,
    aidant_organisations,
    usagers,
    mandates,
    authorisations,
    journal_entries,
);
