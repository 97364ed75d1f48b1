//! The vocabulary of a shelter's stock: item categories, criticality, basis, movement kinds,
//! and bill categories, as the API spells them.

use crate::roles::api_enum;

api_enum! {
    /// What kind of goods an item is.
    ItemCategory { Food => "food", Water => "water", Medical => "medical", Hygiene => "hygiene",
        Bedding => "bedding", Clothing => "clothing", Other => "other" }
}

api_enum! {
    /// How much going without hurts (VEN: vital, essential, non-essential).
    Criticality { Vital => "vital", Essential => "essential", Desirable => "desirable" }
}

api_enum! {
    /// `consumable`: `per_person` per person per day; `durable`: `per_person` units per person.
    Basis { Consumable => "consumable", Durable => "durable" }
}

api_enum! {
    /// What a stock movement records.
    MovementKind { Receipt => "receipt", Consumption => "consumption", Waste => "waste",
        Adjustment => "adjustment", Count => "count" }
}

api_enum! {
    /// What a bill is for.
    BillCategory { Rent => "rent", Electricity => "electricity", Water => "water", Gas => "gas",
        Internet => "internet", Phone => "phone", Medical => "medical", Transport => "transport", Other => "other" }
}

api_enum! {
    /// Where a bill stands.
    BillStatus { Unpaid => "unpaid", PartiallyPaid => "partially_paid", Paid => "paid", Void => "void" }
}

/// Every spelling of an enum, for validation messages.
pub fn spellings<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| as_str(*v)).collect()
}
