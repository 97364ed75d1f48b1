//! Why a need is what it is, in words a coordinator reads in Spanish or English, e.g.
//! "40 personas × 0.4 kg/día = 16 kg/día; quedan 3.1 días; plazo de reposición 3 días".

use crate::decimal::{div_round_half_up, format_trimmed};
use crate::inventory::Criticality;
use crate::Locale;

/// One reason behind a need's figures (quantities in thousandths, norms in millionths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    NormDemand {
        people: i64,
        per_person: i64,
        daily: i64,
    },
    ObservedDemand {
        daily: i64,
    },
    PerPersonStock {
        people: i64,
        needed: i64,
        on_hand: i64,
    },
    DaysLeft {
        thousandths: i64,
    },
    LeadTime {
        days: i64,
    },
    BelowReorderPoint {
        on_hand: i64,
        reorder_point: i64,
        target: i64,
    },
    InKindOnly,
    DueIn {
        days: i64,
    },
    Overdue {
        days: i64,
    },
    NeededBy {
        days: i64,
    },
    Criticality(Criticality),
}

fn qty(thousandths: i64) -> String {
    format_trimmed(thousandths, 3)
}

/// Days to one decimal, for reading (the exact value is in `days_left`).
fn days_1dp(thousandths: i64) -> String {
    format_trimmed(div_round_half_up(i128::from(thousandths), 100) as i64, 1)
}

impl Driver {
    /// A stable code clients can switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Driver::NormDemand { .. } => "demand_norm",
            Driver::ObservedDemand { .. } => "demand_observed",
            Driver::PerPersonStock { .. } => "per_person_stock",
            Driver::DaysLeft { .. } => "days_left",
            Driver::LeadTime { .. } => "lead_time",
            Driver::BelowReorderPoint { .. } => "below_reorder_point",
            Driver::InKindOnly => "in_kind_only",
            Driver::DueIn { .. } => "due_in",
            Driver::Overdue { .. } => "overdue",
            Driver::NeededBy { .. } => "needed_by",
            Driver::Criticality(_) => "criticality",
        }
    }

    /// The driver in words; `unit` is the item's unit ("kg").
    pub fn text(&self, lang: Locale, unit: &str) -> String {
        let es = lang == Locale::Es;
        match *self {
            Driver::NormDemand {
                people,
                per_person,
                daily,
            } => {
                let p = format_trimmed(per_person, 6);
                if es {
                    format!(
                        "{people} personas × {p} {unit}/día = {} {unit}/día",
                        qty(daily)
                    )
                } else {
                    format!(
                        "{people} people × {p} {unit}/day = {} {unit}/day",
                        qty(daily)
                    )
                }
            }
            Driver::ObservedDemand { daily } => {
                if es {
                    format!("consumo observado: {} {unit}/día", qty(daily))
                } else {
                    format!("observed use: {} {unit}/day", qty(daily))
                }
            }
            Driver::PerPersonStock {
                people,
                needed,
                on_hand,
            } => {
                if es {
                    format!(
                        "{people} personas necesitan {} {unit}; hay {}",
                        qty(needed),
                        qty(on_hand)
                    )
                } else {
                    format!(
                        "{people} people need {} {unit}; {} on hand",
                        qty(needed),
                        qty(on_hand)
                    )
                }
            }
            Driver::DaysLeft { thousandths } => {
                if es {
                    format!("quedan {} días", days_1dp(thousandths))
                } else {
                    format!("{} days left", days_1dp(thousandths))
                }
            }
            Driver::LeadTime { days } => {
                if es {
                    format!("plazo de reposición {days} días")
                } else {
                    format!("restocking takes {days} days")
                }
            }
            // A need stays open until its target is reached, so stock may be back above the
            // reorder point while it is.
            Driver::BelowReorderPoint {
                on_hand,
                reorder_point,
                target,
            } => match (es, on_hand < reorder_point) {
                (true, true) => format!(
                    "hay {} {unit}, menos que el punto de pedido {}; meta {}",
                    qty(on_hand),
                    qty(reorder_point),
                    qty(target)
                ),
                (true, false) => format!("hay {} {unit}; meta {}", qty(on_hand), qty(target)),
                (false, true) => format!(
                    "{} {unit} on hand, below the reorder point {}; target {}",
                    qty(on_hand),
                    qty(reorder_point),
                    qty(target)
                ),
                (false, false) => {
                    format!("{} {unit} on hand; target {}", qty(on_hand), qty(target))
                }
            },
            Driver::InKindOnly => {
                if es {
                    "sin costo unitario: solo se cubre en especie".into()
                } else {
                    "no unit cost: covered in kind only".into()
                }
            }
            Driver::DueIn { days } => {
                if es {
                    format!("vence en {days} días")
                } else {
                    format!("due in {days} days")
                }
            }
            Driver::Overdue { days } => {
                if es {
                    format!("vencido hace {days} días")
                } else {
                    format!("overdue by {days} days")
                }
            }
            Driver::NeededBy { days } => match (es, days < 0) {
                (true, false) => format!("se necesita en {days} días"),
                (true, true) => format!("se necesitaba hace {} días", -days),
                (false, false) => format!("needed in {days} days"),
                (false, true) => format!("needed {} days ago", -days),
            },
            Driver::Criticality(c) => {
                let (es_c, en_c) = match c {
                    Criticality::Vital => ("vital", "vital"),
                    Criticality::Essential => ("esencial", "essential"),
                    Criticality::Desirable => ("deseable", "desirable"),
                };
                if es {
                    format!("criticidad: {es_c}")
                } else {
                    format!("criticality: {en_c}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_read_naturally_in_both_languages() {
        let d = Driver::NormDemand {
            people: 40,
            per_person: 400_000,
            daily: 16_000,
        };
        assert_eq!(
            d.text(Locale::Es, "kg"),
            "40 personas × 0.4 kg/día = 16 kg/día"
        );
        assert_eq!(
            d.text(Locale::En, "kg"),
            "40 people × 0.4 kg/day = 16 kg/day"
        );
        assert_eq!(
            Driver::DaysLeft { thousandths: 3_125 }.text(Locale::Es, "kg"),
            "quedan 3.1 días"
        );
        assert_eq!(
            Driver::LeadTime { days: 3 }.text(Locale::Es, "kg"),
            "plazo de reposición 3 días"
        );
        assert_eq!(
            Driver::Overdue { days: 2 }.text(Locale::En, ""),
            "overdue by 2 days"
        );
    }
}
