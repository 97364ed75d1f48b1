//! Rows for the raw runs, written straight through the repositories in one transaction: a
//! staff user, shelters with their audit chains, items with a large opening receipt each.

use refugio_api::services::stock::{record_movement, NewMovement};
use refugio_core::inventory::MovementKind;
use refugio_db::items::ItemRow;
use refugio_db::shelters::ShelterRow;
use refugio_db::users::UserRow;
use refugio_db::DbConnection;

/// What a raw worker needs: who records, and each shelter's item ids.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub actor: String,
    pub shelters: Vec<(String, Vec<String>)>,
}

/// Opening stock in thousandths (a million units).
const OPENING: i64 = 1_000_000_000;

pub fn seed(conn: &mut DbConnection, shelters: usize, items: usize) -> anyhow::Result<Seeded> {
    let done = refugio_db::write_transaction(conn, |c| -> refugio_api::error::ApiResult<Seeded> {
        let now = refugio_db::now();
        let actor = refugio_core::new_id();
        refugio_db::users::insert(
            c,
            &UserRow {
                id: actor.clone(),
                email: format!("raw-{actor}@bench.example"),
                name: "Raw bench".into(),
                password_hash: "not-a-login".into(),
                role: "staff".into(),
                locale: "en".into(),
                active: true,
                created_at: now,
                updated_at: now,
            },
        )?;
        let mut out = Vec::with_capacity(shelters);
        for s in 0..shelters {
            let sid = refugio_core::new_id();
            refugio_db::shelters::insert(c, &shelter_row(&sid, s, now))?;
            refugio_db::audit::create_chain(c, &sid)?;
            let rows: Vec<ItemRow> = (0..items).map(|k| item_row(&sid, k, now)).collect();
            refugio_db::items::insert(c, &rows)?;
            for row in &rows {
                let opening = NewMovement {
                    item_id: row.id.clone(),
                    kind: MovementKind::Receipt,
                    quantity: OPENING,
                    occurred_at: now,
                    note: None,
                    donation_id: None,
                    expense_id: None,
                };
                record_movement(c, &actor, &sid, opening)?;
            }
            out.push((sid, rows.into_iter().map(|r| r.id).collect()));
        }
        Ok(Seeded {
            actor,
            shelters: out,
        })
    });
    done.map_err(|e| anyhow::anyhow!("seeding failed: {e:?}"))
}

fn shelter_row(id: &str, n: usize, now: chrono::NaiveDateTime) -> ShelterRow {
    ShelterRow {
        id: id.into(),
        name: format!("Raw bench #{n:02}"),
        city: "Oaxaca".into(),
        region: "Oaxaca".into(),
        country: "MX".into(),
        timezone: "America/Mexico_City".into(),
        currency: "MXN".into(),
        bed_capacity: 200,
        occupied_beds: 120,
        public_location: false,
        created_at: now,
        updated_at: now,
    }
}

fn item_row(shelter: &str, k: usize, now: chrono::NaiveDateTime) -> ItemRow {
    ItemRow {
        id: refugio_core::new_id(),
        shelter_id: shelter.into(),
        name: format!("Raw item {k:03}"),
        category: "other".into(),
        unit: "unit".into(),
        criticality: "desirable".into(),
        basis: "consumable".into(),
        per_person: Some(50_000),
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
    }
}
