//! The diesel schema, one for both backends (the migrations keep them identical).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        locale -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shelters (id) {
        id -> Text,
        name -> Text,
        city -> Text,
        region -> Text,
        country -> Text,
        timezone -> Text,
        currency -> Text,
        bed_capacity -> BigInt,
        occupied_beds -> BigInt,
        public_location -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        needs_computed_on -> Nullable<Date>,
    }
}

diesel::table! {
    memberships (user_id, shelter_id) {
        user_id -> Text,
        shelter_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_resets (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        shelter_id -> Text,
        email -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        accepted_by -> Nullable<Text>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        email -> Text,
        address -> Text,
        at -> Timestamp,
        cleared -> Bool,
    }
}

diesel::table! {
    rate_events (id) {
        id -> Text,
        bucket -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> Text,
        idem_key -> Text,
        method -> Text,
        path -> Text,
        request_hash -> Text,
        status -> Nullable<BigInt>,
        response_body -> Nullable<Text>,
        locked_until -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_heads (chain) {
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_events (chain, seq) {
        chain -> Text,
        seq -> BigInt,
        at -> Text,
        actor_id -> Nullable<Text>,
        shelter_id -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        data -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_anchors (day) {
        day -> Date,
        sent_at -> Timestamp,
        recipients -> BigInt,
    }
}

diesel::table! {
    audit_anchor_heads (day, chain) {
        day -> Date,
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        to_email -> Text,
        template -> Text,
        subject -> Text,
        body -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    items (id) {
        id -> Text,
        shelter_id -> Text,
        name -> Text,
        category -> Text,
        unit -> Text,
        criticality -> Text,
        basis -> Text,
        per_person -> Nullable<BigInt>,
        unit_cost -> Nullable<BigInt>,
        reorder_days -> BigInt,
        target_days -> BigInt,
        lead_days -> BigInt,
        min_quantity -> BigInt,
        target_quantity -> BigInt,
        on_hand -> BigInt,
        first_movement_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        needs_suppressed -> Bool,
        observed_demand -> Nullable<BigInt>,
        observed_on -> Nullable<Date>,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> Text,
        shelter_id -> Text,
        item_id -> Text,
        kind -> Text,
        quantity -> BigInt,
        delta -> BigInt,
        on_hand_after -> BigInt,
        occurred_at -> Timestamp,
        recorded_at -> Timestamp,
        recorded_by -> Text,
        note -> Nullable<Text>,
        donation_id -> Nullable<Text>,
        expense_id -> Nullable<Text>,
    }
}

diesel::table! {
    occupancy_records (id) {
        id -> Text,
        shelter_id -> Text,
        occupied_beds -> BigInt,
        bed_capacity -> BigInt,
        as_of -> Timestamp,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    bills (id) {
        id -> Text,
        shelter_id -> Text,
        payee -> Text,
        category -> Text,
        amount -> BigInt,
        currency -> Text,
        due_on -> Date,
        description -> Nullable<Text>,
        paid -> BigInt,
        status -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    needs (id) {
        id -> Text,
        shelter_id -> Text,
        kind -> Text,
        item_id -> Nullable<Text>,
        bill_id -> Nullable<Text>,
        category -> Text,
        title -> Text,
        unit -> Nullable<Text>,
        criticality -> Text,
        currency -> Text,
        quantity -> Nullable<BigInt>,
        amount_needed -> Nullable<BigInt>,
        amount_covered -> Nullable<BigInt>,
        amount_open -> Nullable<BigInt>,
        status -> Text,
        score -> BigInt,
        band -> Text,
        band_rank -> BigInt,
        days_left -> Nullable<BigInt>,
        drivers -> Text,
        manual_amount -> Nullable<BigInt>,
        spent -> BigInt,
        needed_by -> Nullable<Date>,
        alerted -> Bool,
        created_by -> Nullable<Text>,
        opened_at -> Timestamp,
        updated_at -> Timestamp,
        computed_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    fx_rates (base, quote, as_of) {
        base -> Text,
        quote -> Text,
        as_of -> Date,
        rate -> BigInt,
        set_by -> Text,
        set_at -> Timestamp,
    }
}

diesel::table! {
    donations (id) {
        id -> Text,
        donor_id -> Text,
        kind -> Text,
        status -> Text,
        currency -> Nullable<Text>,
        amount -> Nullable<BigInt>,
        unallocated -> Nullable<BigInt>,
        restriction_need_id -> Nullable<Text>,
        restriction_shelter_id -> Nullable<Text>,
        restriction_category -> Nullable<Text>,
        shelter_id -> Nullable<Text>,
        need_id -> Nullable<Text>,
        item_id -> Nullable<Text>,
        quantity -> Nullable<BigInt>,
        received_quantity -> Nullable<BigInt>,
        note -> Nullable<Text>,
        pledged_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        received_on -> Nullable<Date>,
        received_at -> Nullable<Timestamp>,
        received_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    allocations (id) {
        id -> Text,
        donation_id -> Text,
        need_id -> Text,
        shelter_id -> Text,
        amount -> BigInt,
        currency -> Text,
        amount_local -> BigInt,
        local_currency -> Text,
        fx_rate -> BigInt,
        released -> BigInt,
        spent -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    expenses (id) {
        id -> Text,
        shelter_id -> Text,
        amount -> BigInt,
        currency -> Text,
        category -> Text,
        description -> Text,
        spent_on -> Date,
        need_id -> Nullable<Text>,
        bill_id -> Nullable<Text>,
        item_id -> Nullable<Text>,
        quantity -> Nullable<BigInt>,
        received -> Nullable<Bool>,
        received_quantity -> BigInt,
        receipt_ref -> Nullable<Text>,
        own_funds -> BigInt,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    expense_funding (id) {
        id -> Text,
        expense_id -> Text,
        allocation_id -> Text,
        donation_id -> Text,
        amount -> BigInt,
    }
}

diesel::joinable!(memberships -> shelters (shelter_id));
diesel::joinable!(needs -> shelters (shelter_id));
diesel::joinable!(needs -> bills (bill_id));
diesel::joinable!(stock_movements -> items (item_id));
diesel::joinable!(allocations -> needs (need_id));
diesel::joinable!(allocations -> donations (donation_id));
diesel::joinable!(expense_funding -> expenses (expense_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(audit_anchor_heads -> audit_anchors (day));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    shelters,
    memberships,
    sessions,
    refresh_tokens,
    password_resets,
    invitations,
    login_failures,
    rate_events,
    idempotency_keys,
    audit_heads,
    audit_events,
    audit_anchors,
    audit_anchor_heads,
    outbox,
    items,
    stock_movements,
    occupancy_records,
    bills,
    needs,
    fx_rates,
    donations,
    allocations,
    expenses,
    expense_funding,
);
