//! Per-statement timing of the real `record_movement`, through diesel's instrumentation hook:
//! every statement the transaction runs, whatever the code runs today, labelled by its SQL.

use diesel::connection::{Connection, InstrumentationEvent};
use refugio_db::DbConnection;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Time spent per statement label, in the order statements were first seen.
#[derive(Debug, Default)]
pub struct Timings {
    open: Option<(String, Instant)>,
    pub statements: Vec<(String, u64, Duration)>,
}

impl Timings {
    fn add(&mut self, label: String, took: Duration) {
        match self.statements.iter_mut().find(|(l, _, _)| *l == label) {
            Some((_, n, d)) => {
                *n += 1;
                *d += took;
            }
            None => self.statements.push((label, 1, took)),
        }
    }

    /// Adds another worker's timings.
    pub fn merge(&mut self, other: &[(String, u64, Duration)]) {
        for (label, n, d) in other {
            match self.statements.iter_mut().find(|(l, _, _)| l == label) {
                Some((_, n0, d0)) => {
                    *n0 += n;
                    *d0 += *d;
                }
                None => self.statements.push((label.clone(), *n, *d)),
            }
        }
    }
}

pub type Shared = Arc<Mutex<Timings>>;

/// Times every statement `conn` runs from now on.
pub fn attach(conn: &mut DbConnection) -> Shared {
    let shared = Shared::default();
    let timings = shared.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        let mut t = timings.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                // Label first, so formatting the SQL is not counted as the statement's time.
                let l = label(&query.to_string());
                t.open = Some((l, Instant::now()));
            }
            InstrumentationEvent::FinishQuery { .. } => {
                if let Some((l, at)) = t.open.take() {
                    t.add(l, at.elapsed());
                }
            }
            _ => {}
        }
    });
    shared
}

/// A short name for a statement: `SELECT items.on_hand FROM items`, `UPDATE audit_heads SET
/// seq`, `INSERT INTO stock_movements`, `BEGIN IMMEDIATE`, …
pub fn label(sql: &str) -> String {
    let sql = sql
        .split(" -- binds")
        .next()
        .unwrap_or(sql)
        .replace(['"', '`'], "");
    let w: Vec<&str> = sql.split_whitespace().collect();
    let word = |i: usize| w.get(i).copied().unwrap_or("");
    let after = |key: &str| {
        w.iter()
            .position(|x| x.eq_ignore_ascii_case(key))
            .map_or("?", |i| word(i + 1))
    };
    match word(0).to_ascii_uppercase().as_str() {
        "SELECT" if word(1).to_ascii_uppercase().starts_with("EXISTS") => {
            format!("SELECT EXISTS FROM {}", after("FROM"))
        }
        "SELECT" => {
            let first = word(1).trim_end_matches(',');
            let more = if word(1).ends_with(',') { ", …" } else { "" };
            format!(
                "SELECT {first}{more} FROM {}",
                after("FROM").trim_start_matches('(')
            )
        }
        "UPDATE" => format!("UPDATE {} SET {}", word(1), word(3)),
        "INSERT" => format!("INSERT INTO {}", word(2)),
        _ => w.iter().take(2).copied().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn labels_name_verb_table_and_first_column() {
        assert_eq!(
            label(
                r#"SELECT "items"."on_hand" FROM "items" WHERE ("items"."id" = $1) LIMIT $2 -- binds: ["x", 1]"#
            ),
            "SELECT items.on_hand FROM items"
        );
        assert_eq!(
            label(r#"SELECT "items"."id", "items"."name" FROM "items" WHERE 1"#),
            "SELECT items.id, … FROM items"
        );
        assert_eq!(
            label(r#"SELECT EXISTS (SELECT "shelters"."id" FROM "shelters" WHERE 1)"#),
            "SELECT EXISTS FROM shelters"
        );
        assert_eq!(
            label(r#"UPDATE "audit_heads" SET "seq" = ("audit_heads"."seq" + $1)"#),
            "UPDATE audit_heads SET seq"
        );
        assert_eq!(
            label(r#"INSERT INTO "stock_movements" ("id") VALUES ($1)"#),
            "INSERT INTO stock_movements"
        );
        assert_eq!(label("BEGIN IMMEDIATE"), "BEGIN IMMEDIATE");
        assert_eq!(label("COMMIT"), "COMMIT");
    }
}
