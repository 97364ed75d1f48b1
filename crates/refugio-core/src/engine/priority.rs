//! Priority of a need (ENGINE.md "Priority"): days left, criticality, urgency, gap, score and
//! band, all in exact rational arithmetic; `score` is rounded half up to one decimal.

use crate::decimal::div_round_half_up;
use crate::inventory::{BillCategory, Criticality};

/// Days left before the need bites, as an exact fraction `num / den` of days (`den > 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaysLeft {
    pub num: i128,
    pub den: i128,
}

impl DaysLeft {
    pub fn whole(days: i64) -> DaysLeft {
        DaysLeft {
            num: i128::from(days),
            den: 1,
        }
    }

    /// In thousandths of a day, rounded half up (for display).
    pub fn thousandths(self) -> i64 {
        div_round_half_up(self.num * 1000, self.den) as i64
    }

    /// Whether `self ≤ days`.
    pub fn at_most(self, days: i64) -> bool {
        self.num <= i128::from(days) * self.den
    }
}

/// An exact fraction in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub num: i128,
    pub den: i128,
}

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };
    pub const ONE: Ratio = Ratio { num: 1, den: 1 };

    /// `num / den`, clamped to [0, 1]; 0 when `den` is 0.
    pub fn clamped(num: i128, den: i128) -> Ratio {
        if den <= 0 || num <= 0 {
            Ratio::ZERO
        } else if num >= den {
            Ratio::ONE
        } else {
            Ratio { num, den }
        }
    }
}

/// Criticality weight `C` in tenths: vital 1.0, essential 0.6, desirable 0.2.
pub fn criticality_tenths(c: Criticality) -> i128 {
    match c {
        Criticality::Vital => 10,
        Criticality::Essential => 6,
        Criticality::Desirable => 2,
    }
}

/// How critical a bill is: rent, electricity, water, gas and medical keep people housed and well.
pub fn bill_criticality(category: BillCategory) -> Criticality {
    match category {
        BillCategory::Rent
        | BillCategory::Electricity
        | BillCategory::Water
        | BillCategory::Gas
        | BillCategory::Medical => Criticality::Vital,
        BillCategory::Internet | BillCategory::Phone | BillCategory::Transport => {
            Criticality::Essential
        }
        BillCategory::Other => Criticality::Desirable,
    }
}

/// Urgency `U`: 1 when `days_left ≤ L`, 0 when unknown, else `clamp(1 − (days_left − L)/30, 0, 1)`.
pub fn urgency(days_left: Option<DaysLeft>, lead_days: i64) -> Ratio {
    match days_left {
        None => Ratio::ZERO,
        Some(d) if d.at_most(lead_days) => Ratio::ONE,
        // 1 − (n/d − L)/30 = (30d − n + L·d) / 30d
        Some(d) => Ratio::clamped(
            30 * d.den - d.num + i128::from(lead_days) * d.den,
            30 * d.den,
        ),
    }
}

/// Band of a need, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Band {
    Critical,
    High,
    Medium,
    Low,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Critical, Band::High, Band::Medium, Band::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Critical => "critical",
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }

    /// 0 for critical … 3 for low: the board's first sort key.
    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn parse(s: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// `round(100 × (0.5 C + 0.3 U + 0.2 G), 1)` in tenths, exactly, rounded half up.
pub fn score_tenths(criticality: Criticality, u: Ratio, g: Ratio) -> i64 {
    // 1000 × (0.5 c/10 + 0.3 U + 0.2 G) = 50c + 300U + 200G, over the common denominator.
    let c = criticality_tenths(criticality);
    let num = 50 * c * u.den * g.den + 300 * u.num * g.den + 200 * g.num * u.den;
    div_round_half_up(num, u.den * g.den) as i64
}

/// The band: critical when vital, due within the lead time (overdue included) and still open.
pub fn band(
    criticality: Criticality,
    days_left: Option<DaysLeft>,
    lead_days: i64,
    still_open: bool,
    score: i64,
) -> Band {
    let due = days_left.is_some_and(|d| d.at_most(lead_days));
    if criticality == Criticality::Vital && due && still_open {
        Band::Critical
    } else if score >= 700 {
        Band::High
    } else if score >= 400 {
        Band::Medium
    } else {
        Band::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_score_is_79_9_high() {
        // H = 50, D = 16: days left 3.125; L = 3; G = 1; essential.
        let d = DaysLeft {
            num: 50_000,
            den: 16_000,
        };
        let u = urgency(Some(d), 3);
        assert_eq!(d.thousandths(), 3_125);
        let s = score_tenths(Criticality::Essential, u, Ratio::ONE);
        assert_eq!(s, 799);
        assert_eq!(
            band(Criticality::Essential, Some(d), 3, true, s),
            Band::High
        );
    }

    #[test]
    fn ties_round_half_up() {
        // 100 × (0.5 × 0.2 + 0.2 × 1/8) = 12.5 exactly: no rounding.
        assert_eq!(
            score_tenths(
                Criticality::Desirable,
                Ratio::ZERO,
                Ratio { num: 1, den: 8 }
            ),
            125
        );
        // 100 × (0.1 + 0.2 × 1/400) = 10.05 → 10.1, not 10.0.
        assert_eq!(
            score_tenths(
                Criticality::Desirable,
                Ratio::ZERO,
                Ratio { num: 1, den: 400 }
            ),
            101
        );
        // 100 × (0.1 + 0.2 × 3/16) = 13.75 → 13.8: a .x5 tie rounds up.
        assert_eq!(
            score_tenths(
                Criticality::Desirable,
                Ratio::ZERO,
                Ratio { num: 3, den: 16 }
            ),
            138
        );
    }

    #[test]
    fn urgency_is_full_inside_the_lead_time_and_fades_over_30_days() {
        assert_eq!(urgency(Some(DaysLeft::whole(3)), 3), Ratio::ONE);
        assert_eq!(urgency(Some(DaysLeft::whole(-5)), 3), Ratio::ONE);
        assert_eq!(urgency(Some(DaysLeft::whole(33)), 3), Ratio::ZERO);
        assert_eq!(
            urgency(Some(DaysLeft::whole(18)), 3),
            Ratio { num: 15, den: 30 }
        );
        assert_eq!(urgency(None, 3), Ratio::ZERO);
    }

    #[test]
    fn overdue_vital_bills_are_critical_but_not_when_covered() {
        let overdue = Some(DaysLeft::whole(-2));
        assert_eq!(
            band(bill_criticality(BillCategory::Rent), overdue, 3, true, 900),
            Band::Critical
        );
        assert_eq!(
            band(bill_criticality(BillCategory::Rent), overdue, 3, false, 800),
            Band::High
        );
        assert_eq!(
            band(
                bill_criticality(BillCategory::Internet),
                overdue,
                3,
                true,
                690
            ),
            Band::Medium
        );
        assert_eq!(
            band(
                bill_criticality(BillCategory::Other),
                Some(DaysLeft::whole(20)),
                3,
                true,
                300
            ),
            Band::Low
        );
    }

    #[test]
    fn scores_stay_within_0_and_100() {
        assert_eq!(
            score_tenths(Criticality::Vital, Ratio::ONE, Ratio::ONE),
            1000
        );
        assert_eq!(
            score_tenths(Criticality::Desirable, Ratio::ZERO, Ratio::ZERO),
            100
        );
    }
}
