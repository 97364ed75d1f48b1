//! The stock ledger's invariant, on both backends, over random sequences of movements: after
//! every movement (accepted or refused) on hand equals the sum of the item's ledger and never
//! went below zero; a refused movement writes nothing.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use refugio_api::error::{ApiError, Conflict};
use refugio_api::services::stock::{record_movement, NewMovement};
use refugio_core::inventory::MovementKind;
use refugio_db::test_support::{Backend, TestDatabase};
use refugio_db::{backend_tests, write_transaction, DbConnection};

backend_tests!(on_hand_always_equals_the_ledger_sum);

fn movement() -> impl Strategy<Value = (MovementKind, i64)> {
    prop_oneof![
        (Just(MovementKind::Receipt), 1i64..50_000),
        (Just(MovementKind::Consumption), 1i64..50_000),
        (Just(MovementKind::Waste), 1i64..20_000),
        (
            Just(MovementKind::Adjustment),
            prop_oneof![-30_000i64..-1, 1i64..30_000]
        ),
        (Just(MovementKind::Count), 0i64..80_000),
    ]
}

/// A shelter, a user and an item to move, straight in the database.
fn fixture(conn: &mut DbConnection) -> (String, String, String) {
    let now = refugio_db::now();
    let user = refugio_core::new_id();
    let shelter = refugio_core::new_id();
    let item = refugio_core::new_id();
    write_transaction(conn, |c| -> Result<(), ApiError> {
        refugio_db::users::insert(
            c,
            &refugio_db::users::UserRow {
                id: user.clone(),
                email: format!("{user}@example.org"),
                name: "Prop".into(),
                password_hash: "x".into(),
                role: "admin".into(),
                locale: "en".into(),
                active: true,
                created_at: now,
                updated_at: now,
            },
        )?;
        refugio_db::shelters::insert(
            c,
            &refugio_db::shelters::ShelterRow {
                id: shelter.clone(),
                name: "Prop".into(),
                city: "C".into(),
                region: "R".into(),
                country: "MX".into(),
                timezone: "America/Mexico_City".into(),
                currency: "MXN".into(),
                bed_capacity: 10,
                occupied_beds: 0,
                public_location: false,
                created_at: now,
                updated_at: now,
            },
        )?;
        refugio_db::audit::create_chain(c, &shelter)?;
        refugio_db::items::insert(
            c,
            &[refugio_db::items::ItemRow {
                id: item.clone(),
                shelter_id: shelter.clone(),
                name: "Arroz".into(),
                category: "food".into(),
                unit: "kg".into(),
                criticality: "essential".into(),
                basis: "consumable".into(),
                per_person: None,
                unit_cost: None,
                reorder_days: 7,
                target_days: 14,
                lead_days: 3,
                min_quantity: 0,
                target_quantity: 0,
                on_hand: 0,
                first_movement_at: None,
                created_at: now,
                updated_at: now,
            }],
        )?;
        Ok(())
    })
    .expect("fixture");
    (user, shelter, item)
}

fn on_hand_always_equals_the_ledger_sum(backend: Backend) {
    let db = TestDatabase::new(backend);
    let mut conn = db.connect();
    let (user, shelter, item) = fixture(&mut conn);
    // proptest wants a `Fn`; the connection is used by one case at a time.
    let conn = std::cell::RefCell::new(conn);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(movement(), 1..25), |moves| {
        let mut conn = conn.borrow_mut();
        let conn = &mut *conn;
        for (kind, quantity) in moves {
            let before = refugio_db::stock::ledger_sum(conn, &item).expect("sum");
            let expected = match kind {
                MovementKind::Receipt | MovementKind::Adjustment => before + quantity,
                MovementKind::Consumption | MovementKind::Waste => before - quantity,
                MovementKind::Count => quantity,
            };
            let outcome = write_transaction(conn, |c| {
                record_movement(
                    c,
                    &user,
                    &shelter,
                    NewMovement {
                        item_id: item.clone(),
                        kind,
                        quantity,
                        occurred_at: refugio_db::now(),
                        note: Some("prop".into()),
                        donation_id: None,
                        expense_id: None,
                    },
                )
            });
            let on_hand = refugio_db::items::find(conn, &shelter, &item)
                .expect("item")
                .expect("exists")
                .on_hand;
            let sum = refugio_db::stock::ledger_sum(conn, &item).expect("sum");
            prop_assert_eq!(on_hand, sum);
            prop_assert!(on_hand >= 0);
            match outcome {
                Ok(row) => {
                    prop_assert!(expected >= 0);
                    prop_assert_eq!(row.on_hand_after, on_hand);
                    prop_assert_eq!(on_hand, expected);
                }
                Err(ApiError::Conflict(Conflict::InsufficientStock)) => {
                    prop_assert!(expected < 0);
                    prop_assert_eq!(sum, before, "a refused movement wrote nothing");
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
        Ok(())
    });
    result.expect("the ledger invariant holds");
}
