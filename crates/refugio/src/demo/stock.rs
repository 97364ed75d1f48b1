//! A shelter's stock routine for one day: the opening count, food-bank deliveries, purchases
//! against the needs the engine opened, and the evening's use.
//!
//! On hand is the running total in recording order, so each day is recorded in order and use
//! never takes more than is on the shelf.

use super::client::{money, quantity, text, thousandths, Api};
use super::clock::{draw, round_to, wobble, Clock};
use super::data::{Record, HISTORY_DAYS};
use super::world::{Shelter, Tally};
use serde_json::{json, Value};

/// Shared by every step of a day.
pub struct Day<'a> {
    pub api: &'a Api,
    pub clock: &'a Clock,
    pub days_ago: i64,
}

impl Day<'_> {
    /// `occurred_at` for `hour` o'clock on this day; today's events happen now.
    pub fn at(&self, hour: u32) -> anyhow::Result<Option<String>> {
        if self.days_ago == 0 {
            return Ok(None);
        }
        self.clock.at(self.days_ago, hour).map(Some)
    }

    pub fn date(&self) -> String {
        self.clock.date(self.days_ago).to_string()
    }
}

/// A movement to record: what, how much, at what hour of the day, why.
pub struct Move<'n> {
    kind: &'static str,
    quantity: i64,
    hour: u32,
    note: Option<&'n str>,
}

impl Move<'_> {
    pub fn new<'n>(
        kind: &'static str,
        quantity: i64,
        hour: u32,
        note: Option<&'n str>,
    ) -> Move<'n> {
        Move {
            kind,
            quantity,
            hour,
            note,
        }
    }
}

/// Records a movement of item `index` and keeps its on hand in step with the ledger.
pub async fn movement(
    day: &Day<'_>,
    shelter: &mut Shelter,
    tally: &mut Tally,
    index: usize,
    m: Move<'_>,
) -> anyhow::Result<()> {
    let mut body = json!({"item_id": shelter.stock[index].id, "kind": m.kind,
                          "quantity": quantity(m.quantity)});
    if let Some(at) = day.at(m.hour)? {
        body["occurred_at"] = json!(at);
    }
    if let Some(note) = m.note {
        body["note"] = json!(note);
    }
    let path = format!("/shelters/{}/stock/movements", shelter.id);
    let recorded = day.api.create(&path, &shelter.coordinator, body).await?;
    shelter.stock[index].on_hand = thousandths(&recorded, "on_hand_after")?;
    tally.movements += 1;
    Ok(())
}

pub async fn run(day: &Day<'_>, shelter: &mut Shelter, tally: &mut Tally) -> anyhow::Result<()> {
    let d = day.days_ago;
    let elapsed = HISTORY_DAYS - d;
    if d == HISTORY_DAYS {
        for i in 0..shelter.stock.len() {
            let start = shelter.stock[i].plan.start;
            movement(
                day,
                shelter,
                tally,
                i,
                Move::new("count", start, 8, Some("Inventario inicial")),
            )
            .await?;
        }
    }
    for i in 0..shelter.stock.len() {
        let plan = shelter.stock[i].plan;
        if let Some((every, days)) = plan.food_bank {
            if elapsed % every == every - 1 {
                let amount = round_to(shelter.occupied * plan.use_pp * days, plan.step);
                let note = Some("Entrega del banco de alimentos");
                movement(
                    day,
                    shelter,
                    tally,
                    i,
                    Move::new("receipt", amount, 10, note),
                )
                .await?;
            }
        }
    }
    for i in 0..shelter.stock.len() {
        let plan = shelter.stock[i].plan;
        let daily = shelter.occupied * plan.use_pp;
        if plan.record != Record::Durable && shelter.stock[i].left() < daily * plan.buy_below_days {
            restock(day, shelter, tally, i).await?;
        }
    }
    for i in 0..shelter.stock.len() {
        use_up(day, shelter, tally, i).await?;
    }
    if d == HISTORY_DAYS / 2 {
        stocktaking(day, shelter, tally).await?;
    }
    Ok(())
}

/// The evening's use, recorded as the shelter records it.
async fn use_up(
    day: &Day<'_>,
    shelter: &mut Shelter,
    tally: &mut Tally,
    i: usize,
) -> anyhow::Result<()> {
    let plan = shelter.stock[i].plan;
    let elapsed = HISTORY_DAYS - day.days_ago;
    let key = format!("{}/{}", shelter.plan.code, plan.name);
    let used = round_to(
        wobble(shelter.occupied * plan.use_pp, 150, &key, day.days_ago),
        plan.step,
    )
    .clamp(0, shelter.stock[i].left());
    match plan.record {
        Record::Durable => {}
        Record::Daily => {
            if used > 0 {
                movement(
                    day,
                    shelter,
                    tally,
                    i,
                    Move::new("consumption", used, 20, None),
                )
                .await?;
            }
        }
        Record::HandedOut(every, note) => {
            shelter.stock[i].unrecorded_use += used;
            let due = shelter.stock[i].unrecorded_use;
            if elapsed % every == every - 1 && due > 0 {
                movement(
                    day,
                    shelter,
                    tally,
                    i,
                    Move::new("consumption", due, 20, Some(note)),
                )
                .await?;
                shelter.stock[i].unrecorded_use = 0;
            }
        }
    }
    Ok(())
}

/// Mid-period stocktaking of everything used up: a little has always gone missing.
async fn stocktaking(
    day: &Day<'_>,
    shelter: &mut Shelter,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    for i in 0..shelter.stock.len() {
        let plan = shelter.stock[i].plan;
        let unlogged = shelter.stock[i].unrecorded_use;
        match plan.record {
            Record::Durable => continue,
            Record::HandedOut(_, note) if unlogged > 0 => {
                let m = Move::new("consumption", unlogged, 20, Some(note));
                movement(day, shelter, tally, i, m).await?;
                shelter.stock[i].unrecorded_use = 0;
            }
            _ => {}
        }
        let on_hand = shelter.stock[i].on_hand;
        let key = format!("{}/{}/count", shelter.plan.code, plan.name);
        let shrink = round_to(on_hand * (5 + draw(&key, 0) % 20) / 1000, plan.step);
        let note = Some("Inventario mensual");
        movement(
            day,
            shelter,
            tally,
            i,
            Move::new("count", on_hand - shrink, 21, note),
        )
        .await?;
    }
    Ok(())
}

/// The shelter's live needs (open, partially funded or funded), in board order.
pub async fn live_needs(day: &Day<'_>, shelter: &Shelter) -> anyhow::Result<Vec<Value>> {
    let path = format!(
        "/shelters/{}/needs?status=open,partially_funded,funded&limit=500",
        shelter.id
    );
    let page = day.api.get(&path, &shelter.manager).await?;
    Ok(page["items"].as_array().cloned().unwrap_or_default())
}

/// The live need of item `i` that still asks for goods.
pub async fn item_need(
    day: &Day<'_>,
    shelter: &Shelter,
    i: usize,
) -> anyhow::Result<Option<Value>> {
    let item_id = &shelter.stock[i].id;
    Ok(live_needs(day, shelter)
        .await?
        .into_iter()
        .find(|n| n["item_id"] == item_id.as_str() && n["quantity"].as_f64() > Some(0.0)))
}

/// Buys item `i` when it runs low: what its need asks for, else two weeks' worth unlinked.
async fn restock(
    day: &Day<'_>,
    shelter: &mut Shelter,
    tally: &mut Tally,
    i: usize,
) -> anyhow::Result<()> {
    if let Some(need) = item_need(day, shelter, i).await? {
        return buy(day, shelter, tally, i, &need, true).await;
    }
    let plan = shelter.stock[i].plan;
    let amount = round_to(
        shelter.occupied * plan.use_pp * 14 - shelter.stock[i].left(),
        plan.step,
    );
    if amount <= 0 {
        return Ok(());
    }
    let invoice = shelter.invoice();
    let mut body = json!({"amount": money(cost(shelter, i, amount, day.days_ago), "MXN"),
                          "category": shelter.stock[i].category,
                          "description": purchase(shelter, i, amount), "spent_on": day.date()});
    if let Some(invoice) = &invoice {
        body["receipt_ref"] = json!(invoice);
    }
    let path = format!("/shelters/{}/expenses", shelter.id);
    day.api.create(&path, &shelter.manager, body).await?;
    tally.expenses += 1;
    let note = invoice.map(|f| format!("Compra, factura {f}"));
    movement(
        day,
        shelter,
        tally,
        i,
        Move::new("receipt", amount, 11, note.as_deref()),
    )
    .await
}

/// An expense on an item need for what it asks for, received now or on its way.
pub async fn buy(
    day: &Day<'_>,
    shelter: &mut Shelter,
    tally: &mut Tally,
    i: usize,
    need: &Value,
    received: bool,
) -> anyhow::Result<()> {
    let step = shelter.stock[i].plan.step;
    // Whole units of the item's step, rounded up: shops do not sell 0.3 of a jug.
    let amount = (thousandths(need, "quantity")? + step - 1) / step * step;
    let mut body = json!({"amount": money(cost(shelter, i, amount, day.days_ago), "MXN"),
                          "description": purchase(shelter, i, amount), "spent_on": day.date(),
                          "need_id": text(need, "id")?, "quantity": quantity(amount),
                          "received": received});
    if let Some(invoice) = shelter.invoice() {
        body["receipt_ref"] = json!(invoice);
    }
    let path = format!("/shelters/{}/expenses", shelter.id);
    let expense = day.api.create(&path, &shelter.manager, body).await?;
    tally.expenses += 1;
    if received {
        shelter.stock[i].on_hand += amount;
        tally.movements += 1;
    } else {
        shelter.incoming = Some((text(&expense, "id")?, i));
    }
    Ok(())
}

/// What `amount` of item `i` cost: its unit cost give or take a few percent, in centavos.
fn cost(shelter: &Shelter, i: usize, amount: i64, days_ago: i64) -> i64 {
    let item = &shelter.stock[i];
    let key = format!("{}/{}/price", shelter.plan.code, item.plan.name);
    let price = wobble(item.plan.unit_cost * 1000, 40, &key, days_ago);
    (amount * price / 1000 + 500) / 1000
}

fn purchase(shelter: &Shelter, i: usize, amount: i64) -> String {
    let item = &shelter.stock[i];
    let amount = refugio_core::Quantity(amount);
    format!("Compra de {amount} {} de {}", item.unit, item.plan.name)
}
