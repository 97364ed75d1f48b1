//! Accounts, shelters and their catalogs, made through the API as an admin and managers would.

use super::client::{money, quantity, text, Api};
use super::clock::Clock;
use super::data::{self, Person, ShelterPlan, Stocked, PASSWORD};
use super::world::{Shelter, Stock, Tally, World};
use serde_json::{json, Value};
use std::collections::HashMap;

pub async fn build(api: Api, clock: Clock) -> anyhow::Result<World> {
    let admin = api.login(data::ADMIN.email, PASSWORD).await?;
    create_user(&api, &admin, &data::AUDITOR, "auditor", None).await?;
    let mut shelters = Vec::new();
    for plan in &data::SHELTERS {
        shelters.push(shelter(&api, &admin, plan).await?);
    }
    let mut donors = Vec::new();
    for donor in &data::DONORS {
        api.register(
            json!({"email": donor.email, "password": PASSWORD, "name": donor.name,
                            "locale": donor.locale}),
        )
        .await?;
        donors.push(api.login(donor.email, PASSWORD).await?);
    }
    Ok(World {
        api,
        clock,
        admin,
        donors,
        shelters,
        pledges: HashMap::new(),
        manual_needs: HashMap::new(),
        tally: Tally::default(),
    })
}

async fn create_user(
    api: &Api,
    admin: &str,
    person: &Person,
    role: &str,
    membership: Option<(&str, &str)>,
) -> anyhow::Result<()> {
    let mut body = json!({"email": person.email, "password": PASSWORD, "name": person.name,
                          "role": role, "locale": person.locale});
    if let Some((shelter_id, role)) = membership {
        body["memberships"] = json!([{"shelter_id": shelter_id, "role": role}]);
    }
    api.create("/users", admin, body).await.map(drop)
}

async fn shelter(api: &Api, admin: &str, plan: &'static ShelterPlan) -> anyhow::Result<Shelter> {
    let created = api
        .create(
            "/shelters",
            admin,
            json!({"name": plan.name, "city": plan.city, "region": plan.region, "country": "MX",
                   "timezone": data::TIMEZONE, "currency": "MXN", "bed_capacity": plan.bed_capacity,
                   "public_location": plan.public_location}),
        )
        .await?;
    let id = text(&created, "id")?;
    create_user(api, admin, &plan.manager, "staff", Some((&id, "manager"))).await?;
    create_user(
        api,
        admin,
        &plan.coordinator,
        "staff",
        Some((&id, "coordinator")),
    )
    .await?;
    let manager = api.login(plan.manager.email, PASSWORD).await?;
    let coordinator = api.login(plan.coordinator.email, PASSWORD).await?;
    let catalog = api
        .get(&format!("/shelters/{id}/items?limit=500"), &manager)
        .await?;
    let mut stock = Vec::new();
    for item in plan.items {
        let existing = catalog["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["name"] == item.name));
        let saved = match existing {
            Some(found) => {
                let path = format!("/shelters/{id}/items/{}", text(found, "id")?);
                api.patch(&path, &manager, settings(item)).await?
            }
            None => new_item(api, &manager, &id, item).await?,
        };
        stock.push(Stock {
            plan: item,
            id: text(&saved, "id")?,
            category: text(&saved, "category")?,
            unit: text(&saved, "unit")?,
            on_hand: 0,
            unrecorded_use: 0,
        });
    }
    Ok(Shelter {
        plan,
        id,
        manager,
        coordinator,
        stock,
        bills: HashMap::new(),
        incoming: None,
        invoices: 0,
        occupied: 0,
    })
}

/// The shelter's prices and norms for a catalog item.
fn settings(item: &Stocked) -> Value {
    let mut body = json!({"unit_cost": money(item.unit_cost, "MXN")});
    if let Some(norm) = item.per_person {
        body["per_person"] = refugio_core::quantity::norm_to_json(norm);
    }
    if let Some((min, target)) = item.par {
        body["min_quantity"] = quantity(min);
        body["target_quantity"] = quantity(target);
    }
    body
}

async fn new_item(api: &Api, token: &str, sid: &str, item: &Stocked) -> anyhow::Result<Value> {
    let custom = item
        .custom
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("{} is not in the default catalog", item.name))?;
    let mut body = settings(item);
    body["name"] = json!(item.name);
    body["category"] = json!(custom.category);
    body["unit"] = json!(custom.unit);
    body["criticality"] = json!(custom.criticality);
    body["basis"] = json!("consumable");
    api.create(&format!("/shelters/{sid}/items"), token, body)
        .await
}
