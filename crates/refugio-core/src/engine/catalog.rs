//! The default catalog a new shelter starts with (ENGINE.md; sources in docs/catalog.md).
//! Every item is editable; none has a unit cost (prices are local); none is tracked until its
//! first movement, so a new shelter's board is not flooded with needs for uncounted stock.

use crate::inventory::{Basis, Criticality, ItemCategory};

/// One default item: name, category, unit, criticality, basis, per-person norm in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogItem {
    pub name: &'static str,
    pub category: ItemCategory,
    pub unit: &'static str,
    pub criticality: Criticality,
    pub basis: Basis,
    pub per_person: Option<i64>,
}

const fn item(
    name: &'static str,
    category: ItemCategory,
    unit: &'static str,
    criticality: Criticality,
    basis: Basis,
    per_person: Option<i64>,
) -> CatalogItem {
    CatalogItem {
        name,
        category,
        unit,
        criticality,
        basis,
        per_person,
    }
}

use Basis::{Consumable as C, Durable as D};
use Criticality::{Desirable, Essential, Vital};
use ItemCategory::{Bedding, Clothing, Food, Hygiene, Medical, Other, Water};

pub const DEFAULT_CATALOG: &[CatalogItem] = &[
    item("Agua", Water, "L", Vital, C, Some(15_000_000)),
    item("Arroz o maíz", Food, "kg", Essential, C, Some(420_000)),
    item("Frijol", Food, "kg", Essential, C, Some(50_000)),
    item("Aceite", Food, "L", Essential, C, Some(25_000)),
    item("Azúcar", Food, "kg", Desirable, C, Some(15_000)),
    item("Sal", Food, "kg", Essential, C, Some(5_000)),
    item("Fórmula infantil", Food, "lata", Vital, C, None),
    item("Suero oral", Medical, "sobre", Vital, C, None),
    item("Paracetamol 500 mg", Medical, "tableta", Essential, C, None),
    item("Amoxicilina 500 mg", Medical, "cápsula", Vital, C, None),
    item(
        "Botiquín de primeros auxilios",
        Medical,
        "pieza",
        Essential,
        D,
        None,
    ),
    item("Jabón de baño", Hygiene, "g", Essential, C, Some(8_333_000)),
    item(
        "Jabón para ropa",
        Hygiene,
        "g",
        Essential,
        C,
        Some(6_667_000),
    ),
    item(
        "Papel higiénico",
        Hygiene,
        "rollo",
        Essential,
        C,
        Some(250_000),
    ),
    item("Toallas sanitarias", Hygiene, "paquete", Essential, C, None),
    item("Pañales", Hygiene, "pieza", Essential, C, None),
    item(
        "Cepillo de dientes",
        Hygiene,
        "pieza",
        Desirable,
        D,
        Some(1_000_000),
    ),
    item("Pasta dental", Hygiene, "tubo", Desirable, C, Some(11_000)),
    item("Cloro", Hygiene, "L", Essential, C, Some(20_000)),
    item("Colchoneta", Bedding, "pieza", Vital, D, Some(1_000_000)),
    item("Cobija", Bedding, "pieza", Essential, D, Some(1_000_000)),
    item("Sábana", Bedding, "pieza", Desirable, D, Some(1_000_000)),
    item(
        "Muda de ropa interior",
        Clothing,
        "muda",
        Essential,
        D,
        Some(2_000_000),
    ),
    item("Calzado", Clothing, "par", Desirable, D, Some(1_000_000)),
    item("Gas LP", Other, "kg", Essential, C, None),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_the_documented_items_with_unique_names() {
        assert_eq!(DEFAULT_CATALOG.len(), 25);
        let mut names: Vec<_> = DEFAULT_CATALOG.iter().map(|i| i.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 25);
        let water = DEFAULT_CATALOG[0];
        assert_eq!((water.name, water.per_person), ("Agua", Some(15_000_000)));
    }
}
