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
        organisation_type -> Text,
        department_code -> Text,
        region_code -> Text,
        demarches -> Text,
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
        charter_signed_at -> Nullable<Timestamp>,
        active -> Bool,
        created_at -> Timestamp,
        training_date -> Nullable<Text>,
        pix_date -> Nullable<Text>,
        charter_version -> Nullable<Text>,
        last_sign_in_at -> Nullable<Timestamp>,
        deactivated_at -> Nullable<Timestamp>,
        deactivation_reason -> Nullable<Text>,
    }
}

diesel::table! {
    aidant_organisations (aidant_id, organisation_id) {
        aidant_id -> Text,
        organisation_id -> Text,
        is_manager -> Bool,
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
        erased_at -> Nullable<Timestamp>,
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
        attestation_salt -> Nullable<Text>,
        template_version -> Nullable<Text>,
        renewed_from_id -> Nullable<Text>,
        revoked_by_usager -> Bool,
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
        revoked_by_usager -> Bool,
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

diesel::table! {
    /// Entries recorded but not yet chained (decision 0020): `journal::sequence_pending` moves
    /// them into `journal_entries` in `id` order.
    journal_queue (id) {
        id -> BigInt,
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

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        auth_method -> Text,
        jwks -> Nullable<Text>,
        jwks_uri -> Nullable<Text>,
        id_token_signed_response_alg -> Text,
        userinfo_signed_response_alg -> Nullable<Text>,
        subject_type -> Text,
        sector_identifier -> Text,
        demarches -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        sid -> Text,
        aidant_id -> Nullable<Text>,
        organisation_id -> Nullable<Text>,
        password_verified_at -> Nullable<Timestamp>,
        authenticated_at -> Nullable<Timestamp>,
        second_factor_at -> Nullable<Timestamp>,
        last_seen_at -> Timestamp,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    authorization_requests (id) {
        id -> Text,
        session_sid -> Text,
        client_id -> Text,
        params -> Text,
        usager_id -> Nullable<Text>,
        demarche -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        client_id -> Text,
        session_sid -> Text,
        aidant_id -> Text,
        organisation_id -> Text,
        usager_id -> Text,
        demarche -> Text,
        authorisation_id -> Text,
        mandate_id -> Text,
        scope -> Text,
        claims -> Nullable<Text>,
        nonce -> Nullable<Text>,
        auth_time -> Timestamp,
        acr -> Text,
        amr -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        grant_id -> Text,
        redirect_uri -> Text,
        code_challenge -> Nullable<Text>,
        code_challenge_method -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tokens (token_hash) {
        token_hash -> Text,
        grant_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    client_assertion_jtis (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(authorization_codes -> grants (grant_id));
diesel::joinable!(tokens -> grants (grant_id));
diesel::allow_tables_to_appear_in_same_query!(grants, authorization_codes, tokens, sessions);

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sign_in_delays (step, account, source) {
        step -> Text,
        account -> Text,
        source -> Text,
        failures -> Integer,
        held_until -> Nullable<Timestamp>,
        last_failure_at -> Timestamp,
    }
}

diesel::table! {
    mandate_drafts (id) {
        id -> Text,
        session_sid -> Text,
        aidant_id -> Text,
        organisation_id -> Text,
        demarches -> Text,
        duration_kind -> Nullable<Text>,
        usager_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    upstream_logins (state_hash) {
        state_hash -> Text,
        session_sid -> Text,
        draft_id -> Nullable<Text>,
        nonce -> Text,
        code_verifier -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    second_factors (id) {
        id -> Text,
        aidant_id -> Text,
        kind -> Text,
        secret -> Text,
        step_seconds -> Integer,
        card_serial -> Nullable<Text>,
        last_step -> Nullable<BigInt>,
        confirmed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    totp_cards (serial) {
        serial -> Text,
        secret -> Text,
        step_seconds -> Integer,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    enrolment_links (token_hash) {
        token_hash -> Text,
        aidant_id -> Text,
        created_by_aidant_id -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(second_factors -> aidants (aidant_id));
diesel::joinable!(enrolment_links -> aidants (aidant_id));
diesel::allow_tables_to_appear_in_same_query!(aidants, second_factors, enrolment_links, totp_cards);
diesel::allow_tables_to_appear_in_same_query!(organisations, second_factors);
diesel::allow_tables_to_appear_in_same_query!(aidant_organisations, second_factors);

diesel::table! {
    usager_sessions (id_hash) {
        id_hash -> Text,
        sid -> Text,
        usager_id -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}
