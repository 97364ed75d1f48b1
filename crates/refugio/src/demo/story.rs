//! The 60 days, oldest first: each morning's occupancy, the day's events (rates, bills, gifts,
//! purchases), then each shelter's stock routine; today's events last, at the current time.

use super::client::{money, quantity, text, thousandths};
use super::clock::{draw, round_to};
use super::data::{self, Event, Restriction, HISTORY_DAYS};
use super::stock::{self, Day, Move};
use super::world::{Shelter, World};
use serde_json::{json, Value};

pub async fn replay(world: &mut World) -> anyhow::Result<()> {
    for d in (0..=HISTORY_DAYS).rev() {
        if d > 0 {
            for s in 0..world.shelters.len() {
                occupancy(world, s, d).await?;
            }
        }
        for (_, event) in data::EVENTS.iter().filter(|(day, _)| *day == d) {
            happen(world, d, event).await?;
        }
        if d > 0 {
            for shelter in &mut world.shelters {
                let day = Day {
                    api: &world.api,
                    clock: &world.clock,
                    days_ago: d,
                };
                stock::run(&day, shelter, &mut world.tally).await?;
            }
        }
    }
    Ok(())
}

/// Beds taken at 7:00: the plan's line through its points, give or take two beds.
async fn occupancy(world: &mut World, s: usize, d: i64) -> anyhow::Result<()> {
    let shelter = &mut world.shelters[s];
    let plan = shelter.plan;
    let mut capacity = plan.bed_capacity;
    let mut body = json!({"as_of": world.clock.at(d, 7)?});
    if let Some((from, beds)) = plan.beds_added {
        if d <= from {
            capacity = beds;
        }
        if d == from {
            body["bed_capacity"] = json!(beds);
        }
    }
    let line = interpolate(plan.occupancy, d);
    let noise = draw(plan.code, d) % 5 - 2;
    let beds = (line + noise).clamp(0, capacity);
    body["occupied_beds"] = json!(beds);
    let path = format!("/shelters/{}/occupancy", shelter.id);
    world.api.put(&path, &shelter.coordinator, body).await?;
    shelter.occupied = beds;
    world.tally.occupancy += 1;
    Ok(())
}

/// The value on the straight line through `points` (days ago, value) at `d`.
fn interpolate(points: &[(i64, i64)], d: i64) -> i64 {
    let mut previous = points.first().copied().unwrap_or((d, 0));
    for &(day, value) in points {
        if day <= d {
            let (d0, v0) = previous;
            if d0 == day {
                return value;
            }
            return v0 + (value - v0) * (d0 - d) / (d0 - day);
        }
        previous = (day, value);
    }
    previous.1
}

fn day(world: &World, d: i64) -> Day<'_> {
    Day {
        api: &world.api,
        clock: &world.clock,
        days_ago: d,
    }
}

/// The shelter that has the bill with this key, and the bill's plan.
fn bill_plan(world: &World, key: &str) -> anyhow::Result<(usize, &'static data::Bill)> {
    world
        .shelters
        .iter()
        .enumerate()
        .find_map(|(s, shelter)| {
            shelter
                .plan
                .bills
                .iter()
                .find(|b| b.key == key)
                .map(|b| (s, b))
        })
        .ok_or_else(|| anyhow::anyhow!("no bill {key}"))
}

async fn happen(world: &mut World, d: i64, event: &Event) -> anyhow::Result<()> {
    match event {
        Event::Fx(rate) => {
            let body = json!({"base": "USD", "quote": "MXN", "rate": rate,
                              "as_of": world.clock.date(d).to_string()});
            world.api.put("/fx-rates", &world.admin, body).await?;
            world.tally.fx_rates += 1;
        }
        Event::BillArrives(key) => {
            let (s, bill) = bill_plan(world, key)?;
            let shelter = &world.shelters[s];
            let body = json!({"payee": bill.payee, "category": bill.category,
                              "amount": money(bill.amount, "MXN"),
                              "due_on": world.clock.date(bill.due_days_ago).to_string(),
                              "description": bill.description});
            let path = format!("/shelters/{}/bills", shelter.id);
            let created = world.api.create(&path, &shelter.coordinator, body).await?;
            world.shelters[s]
                .bills
                .insert(bill.key, (text(&created, "id")?, bill.amount));
            world.tally.bills += 1;
        }
        Event::PayBill {
            bill,
            amount,
            receipt,
        } => pay_bill(world, d, bill, *amount, *receipt).await?,
        Event::Money {
            donor,
            amount,
            currency,
            restriction,
            note,
            pending,
        } => {
            let mut body = json!({"kind": "money", "amount": money(*amount, currency)});
            if let Some(r) = restriction_json(world, d, restriction).await? {
                body["restriction"] = r;
            }
            if !note.is_empty() {
                body["note"] = json!(note);
            }
            let pledged = world
                .api
                .create("/donations", &world.donors[*donor], body)
                .await?;
            if !pending {
                let path = format!("/donations/{}/receive", text(&pledged, "id")?);
                let body = json!({"received_on": world.clock.date(d).to_string()});
                world.api.act(&path, &world.admin, body).await?;
            }
            world.tally.money_gifts += 1;
        }
        Event::InKindPledge {
            key,
            donor,
            shelter,
            item,
            quantity: wanted,
        } => {
            let need = needed_goods(world, d, *shelter, item).await?;
            let open = thousandths(&need, "quantity")?;
            let body = json!({"kind": "in_kind", "need_id": text(&need, "id")?,
                              "quantity": quantity((*wanted).min(open))});
            let pledged = world
                .api
                .create("/donations", &world.donors[*donor], body)
                .await?;
            world.pledges.insert(key, (text(&pledged, "id")?, *shelter));
            world.tally.in_kind += 1;
        }
        Event::InKindReceive { key, quantity: q } => {
            let (id, s) = world
                .pledges
                .get(key)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no pledge {key}"))?;
            let path = format!("/donations/{id}/receive");
            let shelter = &world.shelters[s];
            let received = world
                .api
                .act(
                    &path,
                    &shelter.coordinator,
                    json!({"quantity": quantity(*q)}),
                )
                .await?;
            let item_id = text(&received, "item_id")?;
            let got = thousandths(&received, "received_quantity")?;
            if let Some(stock) = world.shelters[s].stock.iter_mut().find(|i| i.id == item_id) {
                stock.on_hand += got;
            }
            world.tally.movements += 1;
        }
        Event::Buy {
            shelter,
            item,
            received,
        } => {
            let need = needed_goods(world, d, *shelter, item).await?;
            let item_id = text(&need, "item_id")?;
            let i = world.shelters[*shelter]
                .stock
                .iter()
                .position(|s| s.id == item_id)
                .ok_or_else(|| anyhow::anyhow!("a need for an item the demo does not track"))?;
            let day = Day {
                api: &world.api,
                clock: &world.clock,
                days_ago: d,
            };
            let shelter = &mut world.shelters[*shelter];
            stock::buy(&day, shelter, &mut world.tally, i, &need, *received).await?;
        }
        Event::Arrives {
            shelter,
            quantity: q,
        } => {
            let s = &mut world.shelters[*shelter];
            let (expense_id, i) = s
                .incoming
                .take()
                .ok_or_else(|| anyhow::anyhow!("nothing is on its way to {}", s.plan.name))?;
            let mut body = json!({"item_id": s.stock[i].id, "kind": "receipt",
                                  "quantity": quantity(*q), "expense_id": expense_id,
                                  "note": "Primera entrega del proveedor"});
            if d > 0 {
                body["occurred_at"] = json!(world.clock.at(d, 12)?);
            }
            let path = format!("/shelters/{}/stock/movements", s.id);
            let recorded = world.api.create(&path, &s.coordinator, body).await?;
            s.stock[i].on_hand = thousandths(&recorded, "on_hand_after")?;
            world.tally.movements += 1;
        }
        Event::Waste {
            shelter,
            item,
            per_mille,
            note,
        } => {
            let day = Day {
                api: &world.api,
                clock: &world.clock,
                days_ago: d,
            };
            let s = &mut world.shelters[*shelter];
            let i = s.item(item)?;
            let lost = round_to(s.stock[i].left() * per_mille / 1000, s.stock[i].plan.step)
                .min(s.stock[i].left());
            if lost > 0 {
                let m = Move::new("waste", lost, 12, Some(note));
                stock::movement(&day, s, &mut world.tally, i, m).await?;
            }
        }
        Event::ManualNeed {
            key,
            shelter,
            title,
            category,
            amount,
            criticality,
            needed_in_days,
        } => {
            let s = &world.shelters[*shelter];
            let mut body = json!({"title": title, "category": category,
                                  "amount_needed": money(*amount, "MXN"),
                                  "criticality": criticality});
            if let Some(days) = needed_in_days {
                body["needed_by"] = json!(world.clock.date(d - days).to_string());
            }
            let path = format!("/shelters/{}/needs", s.id);
            let need = world.api.create(&path, &s.coordinator, body).await?;
            world
                .manual_needs
                .insert(key, (text(&need, "id")?, *shelter));
        }
        Event::SpendOnNeed {
            key,
            amount,
            description,
        } => {
            let (need_id, s) = world
                .manual_needs
                .get(key)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no manual need {key}"))?;
            let body = json!({"amount": money(*amount, "MXN"), "description": description,
                              "spent_on": world.clock.date(d).to_string(), "need_id": need_id});
            expense(world, s, body, true).await?;
        }
        Event::OwnExpense {
            shelter,
            amount,
            category,
            description,
        } => {
            let body = json!({"amount": money(*amount, "MXN"), "category": category,
                              "description": description,
                              "spent_on": world.clock.date(d).to_string()});
            expense(world, *shelter, body, true).await?;
        }
    }
    Ok(())
}

/// Records an expense by the shelter's manager, with the next invoice number when `invoiced`
/// and it has one (some payments come without: the report flags them for auditors).
async fn expense(
    world: &mut World,
    s: usize,
    mut body: Value,
    invoiced: bool,
) -> anyhow::Result<()> {
    let shelter = &mut world.shelters[s];
    if let Some(invoice) = shelter.invoice().filter(|_| invoiced) {
        body["receipt_ref"] = json!(invoice);
    }
    let path = format!("/shelters/{}/expenses", shelter.id);
    world.api.create(&path, &shelter.manager, body).await?;
    world.tally.expenses += 1;
    Ok(())
}

async fn pay_bill(
    world: &mut World,
    d: i64,
    key: &str,
    amount: Option<i64>,
    receipt: bool,
) -> anyhow::Result<()> {
    let (s, plan) = bill_plan(world, key)?;
    let (id, left) = world.shelters[s]
        .bills
        .get(key)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("bill {key} paid before it arrived"))?;
    let paid = amount.unwrap_or(left).min(left);
    let body = json!({"amount": money(paid, "MXN"),
                      "description": format!("Pago: {}", plan.description),
                      "spent_on": world.clock.date(d).to_string(), "bill_id": id});
    expense(world, s, body, receipt).await?;
    world.shelters[s].bills.insert(plan.key, (id, left - paid));
    Ok(())
}

async fn restriction_json(
    world: &World,
    d: i64,
    restriction: &Restriction,
) -> anyhow::Result<Option<Value>> {
    let shelter_id = |s: usize| world.shelters[s].id.clone();
    Ok(match restriction {
        Restriction::None => None,
        Restriction::Shelter(s) => Some(json!({"shelter_id": shelter_id(*s)})),
        Restriction::ShelterCategory(s, category) => {
            Some(json!({"shelter_id": shelter_id(*s), "category": category}))
        }
        Restriction::Category(category) => Some(json!({"category": category})),
        Restriction::ItemNeed(s, item) => Some(match goods_need(world, d, *s, item).await? {
            Some(need) => json!({"need_id": text(&need, "id")?}),
            None => json!({"shelter_id": shelter_id(*s)}),
        }),
    })
}

/// The live need asking for goods of `item` in the shelter, or else its first such need.
async fn goods_need(world: &World, d: i64, s: usize, item: &str) -> anyhow::Result<Option<Value>> {
    let shelter: &Shelter = &world.shelters[s];
    let i = shelter.item(item)?;
    if let Some(need) = stock::item_need(&day(world, d), shelter, i).await? {
        return Ok(Some(need));
    }
    let tracked: Vec<&str> = shelter.stock.iter().map(|s| s.id.as_str()).collect();
    Ok(stock::live_needs(&day(world, d), shelter)
        .await?
        .into_iter()
        .find(|n| {
            n["item_id"]
                .as_str()
                .is_some_and(|id| tracked.contains(&id))
                && n["quantity"].as_f64() > Some(0.0)
        }))
}

/// [`goods_need`], which the event cannot do without.
async fn needed_goods(world: &World, d: i64, s: usize, item: &str) -> anyhow::Result<Value> {
    goods_need(world, d, s, item)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{} has no need for goods", world.shelters[s].plan.name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn occupancy_follows_the_line_between_points() {
        let points = [(60, 40), (50, 60), (10, 20)];
        assert_eq!(super::interpolate(&points, 60), 40);
        assert_eq!(super::interpolate(&points, 55), 50);
        assert_eq!(super::interpolate(&points, 50), 60);
        assert_eq!(super::interpolate(&points, 30), 40);
        assert_eq!(super::interpolate(&points, 3), 20);
    }
}
