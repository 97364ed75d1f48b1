//! The demo data set: invented people and shelters modelled on real kinds of shelter in Mexico,
//! their stock habits, bills, donors and the events of 60 days. Quantities are thousandths of
//! the item's unit and money is centavos/cents, as the API stores them; days count back from
//! today (0 is today, 1 yesterday).

/// Days of history before today.
pub const HISTORY_DAYS: i64 = 60;
/// Every demo account's password (printed with the logins).
pub const PASSWORD: &str = "refugio-demo-2026";
pub const TIMEZONE: &str = "America/Mexico_City";

pub struct Person {
    pub email: &'static str,
    pub name: &'static str,
    pub locale: &'static str,
}

pub const ADMIN: Person = Person {
    email: "fondo@example.org",
    name: "Mariana Ortiz",
    locale: "es",
};

pub const AUDITOR: Person = Person {
    email: "auditoria@example.org",
    name: "Jorge Villanueva",
    locale: "es",
};

/// Donors; the first two are the ones printed (USD in English, MXN in Spanish).
pub const DONORS: [Person; 4] = [
    Person {
        email: "sarah.whitfield@example.org",
        name: "Sarah Whitfield",
        locale: "en",
    },
    Person {
        email: "lucia.hernandez@example.org",
        name: "Lucía Hernández",
        locale: "es",
    },
    Person {
        email: "becker.family@example.org",
        name: "Tom y Ana Becker",
        locale: "en",
    },
    Person {
        email: "comite.coyoacan@example.org",
        name: "Comité Vecinal de Coyoacán",
        locale: "es",
    },
];
pub const SARAH: usize = 0;
pub const LUCIA: usize = 1;
pub const BECKER: usize = 2;
pub const COMITE: usize = 3;

/// How an item's use gets into the ledger.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A consumption movement every evening (the kitchen's log).
    Daily,
    /// A consumption movement every n days, with this note (what was handed out).
    HandedOut(i64, &'static str),
    /// Durable goods: nothing is used up.
    Durable,
}

/// A new catalog item (when the name is not in the default catalog).
pub struct Custom {
    pub category: &'static str,
    pub unit: &'static str,
    pub criticality: &'static str,
}

/// An item a shelter keeps track of.
pub struct Stocked {
    pub name: &'static str,
    pub custom: Option<Custom>,
    /// The unit cost set on the item, centavos.
    pub unit_cost: i64,
    /// A norm that replaces the catalog's, millionths per person.
    pub per_person: Option<i64>,
    /// Par levels for items without a norm: (min_quantity, target_quantity).
    pub par: Option<(i64, i64)>,
    /// On hand at the first count, 60 days ago.
    pub start: i64,
    /// What is really used per person per day.
    pub use_pp: i64,
    /// The smallest amount handled (a 20 L jug, half a kilo).
    pub step: i64,
    pub record: Record,
    /// A food-bank delivery every n days of this many days of use.
    pub food_bank: Option<(i64, i64)>,
    /// The shelter buys when fewer days of use than this are left.
    pub buy_below_days: i64,
}

const fn item(name: &'static str, unit_cost: i64, start: i64, use_pp: i64, step: i64) -> Stocked {
    Stocked {
        name,
        custom: None,
        unit_cost,
        per_person: None,
        par: None,
        start,
        use_pp,
        step,
        record: Record::Daily,
        food_bank: None,
        buy_below_days: 4,
    }
}

const KG: i64 = 1000;

/// Drinking water in 20 L jugs: tap water covers cooking and washing, so the norm is 3.5 L.
const fn water(start: i64) -> Stocked {
    Stocked {
        per_person: Some(3_500_000),
        buy_below_days: 3,
        ..item("Agua", 225, start, 3_200, 20 * KG)
    }
}

/// Hygiene items, handed out to the families twice a week.
const fn handed_out(s: Stocked) -> Stocked {
    Stocked {
        record: Record::HandedOut(3, "Entregado a las familias"),
        buy_below_days: 5,
        ..s
    }
}

const fn medicine(name: &'static str, unit_cost: i64, par: (i64, i64), use_pp: i64) -> Stocked {
    Stocked {
        par: Some(par),
        record: Record::HandedOut(2, "Entregado en el consultorio"),
        ..item(name, unit_cost, par.1, use_pp, KG)
    }
}

const fn durable(name: &'static str, unit_cost: i64, start: i64) -> Stocked {
    Stocked {
        record: Record::Durable,
        buy_below_days: 0,
        ..item(name, unit_cost, start, 0, KG)
    }
}

pub struct Bill {
    pub key: &'static str,
    pub payee: &'static str,
    pub category: &'static str,
    pub amount: i64,
    /// Negative: due in that many days from today.
    pub due_days_ago: i64,
    pub description: &'static str,
}

pub struct ShelterPlan {
    /// Prefix of the receipt numbers.
    pub code: &'static str,
    pub name: &'static str,
    pub city: &'static str,
    pub region: &'static str,
    pub bed_capacity: i64,
    pub public_location: bool,
    pub manager: Person,
    pub coordinator: Person,
    /// Beds taken: (days ago, beds), straight lines between the points.
    pub occupancy: &'static [(i64, i64)],
    /// (days ago, new bed capacity): beds added in an emergency.
    pub beds_added: Option<(i64, i64)>,
    pub items: &'static [Stocked],
    pub bills: &'static [Bill],
}

pub const TLATELOLCO: usize = 0;
pub const HERMANAS: usize = 1;
pub const SAN_CRISTOBAL: usize = 2;

pub const SHELTERS: [ShelterPlan; 3] = [
    // A civil-society house for migrants and asylum seekers; a caravan fills it mid-period.
    ShelterPlan {
        code: "CAT",
        name: "Casa de Acogida Tlatelolco",
        city: "Ciudad de México",
        region: "CDMX",
        bed_capacity: 90,
        public_location: true,
        manager: Person {
            email: "rosa.tlatelolco@example.org",
            name: "Rosa Martínez",
            locale: "es",
        },
        coordinator: Person {
            email: "luis.tlatelolco@example.org",
            name: "Luis Ramírez",
            locale: "es",
        },
        occupancy: &[
            (60, 58),
            (50, 61),
            (42, 63),
            (38, 79),
            (31, 84),
            (24, 76),
            (16, 68),
            (9, 64),
            (1, 71),
        ],
        beds_added: None,
        items: &[
            water(2_400 * KG),
            Stocked {
                food_bank: Some((7, 3)),
                ..item("Arroz o maíz", 2150, 260 * KG, 360, 500)
            },
            Stocked {
                food_bank: Some((7, 3)),
                ..item("Frijol", 3400, 45 * KG, 75, 500)
            },
            item("Aceite", 4200, 20 * KG, 22, 500),
            Stocked {
                buy_below_days: 2,
                ..item("Azúcar", 2900, 12 * KG, 14, 500)
            },
            Stocked {
                par: Some((60 * KG, 0)),
                buy_below_days: 6,
                ..item("Gas LP", 2350, 240 * KG, 120, 500)
            },
            handed_out(item("Jabón de baño", 11, 6_000 * KG, 8_000, 100 * KG)),
            handed_out(item("Papel higiénico", 640, 160 * KG, 240, KG)),
            medicine("Suero oral", 1100, (40 * KG, 120 * KG), 50),
            medicine("Paracetamol 500 mg", 90, (100 * KG, 300 * KG), 120),
            durable("Colchoneta", 34_500, 90 * KG),
        ],
        bills: &[
            Bill {
                key: "cat-renta-1",
                payee: "Inmobiliaria Nonoalco, S.A. de C.V.",
                category: "rent",
                amount: 1_650_000,
                due_days_ago: 55,
                description: "Renta mensual de la casa",
            },
            Bill {
                key: "cat-luz",
                payee: "CFE",
                category: "electricity",
                amount: 314_000,
                due_days_ago: 34,
                description: "Recibo bimestral de luz",
            },
            Bill {
                key: "cat-renta-2",
                payee: "Inmobiliaria Nonoalco, S.A. de C.V.",
                category: "rent",
                amount: 1_650_000,
                due_days_ago: 25,
                description: "Renta mensual de la casa",
            },
            Bill {
                key: "cat-agua",
                payee: "SACMEX",
                category: "water",
                amount: 128_000,
                due_days_ago: -9,
                description: "Derechos de agua, bimestre",
            },
            Bill {
                key: "cat-renta-3",
                payee: "Inmobiliaria Nonoalco, S.A. de C.V.",
                category: "rent",
                amount: 1_650_000,
                due_days_ago: -5,
                description: "Renta mensual de la casa",
            },
        ],
    },
    // Women and their children, in a house of a religious congregation (no rent; hidden address).
    ShelterPlan {
        code: "AHM",
        name: "Albergue Hermanas de la Misericordia",
        city: "Ciudad de México",
        region: "CDMX",
        bed_capacity: 40,
        public_location: false,
        manager: Person {
            email: "hna.teresa@example.org",
            name: "Hna. Teresa Campos",
            locale: "es",
        },
        coordinator: Person {
            email: "carmen.misericordia@example.org",
            name: "Carmen Solís",
            locale: "es",
        },
        occupancy: &[
            (60, 24),
            (45, 26),
            (35, 29),
            (25, 31),
            (15, 33),
            (5, 30),
            (1, 32),
        ],
        beds_added: None,
        items: &[
            water(1_000 * KG),
            item("Arroz o maíz", 2150, 90 * KG, 330, 500),
            item("Frijol", 3400, 18 * KG, 60, 500),
            item("Aceite", 4200, 8 * KG, 20, 500),
            Stocked {
                custom: Some(Custom {
                    category: "food",
                    unit: "L",
                    criticality: "essential",
                }),
                per_person: Some(250_000),
                ..item("Leche", 2600, 70 * KG, 240, KG)
            },
            Stocked {
                par: Some((8 * KG, 24 * KG)),
                ..item("Fórmula infantil", 26_500, 20 * KG, 45, KG)
            },
            handed_out(Stocked {
                par: Some((150 * KG, 450 * KG)),
                ..item("Pañales", 420, 400 * KG, 600, 10 * KG)
            }),
            handed_out(Stocked {
                par: Some((20 * KG, 60 * KG)),
                ..item("Toallas sanitarias", 3600, 50 * KG, 50, KG)
            }),
            handed_out(item("Jabón de baño", 11, 2_600 * KG, 8_000, 100 * KG)),
            handed_out(item("Papel higiénico", 640, 70 * KG, 250, KG)),
            medicine("Paracetamol 500 mg", 90, (60 * KG, 180 * KG), 100),
        ],
        bills: &[
            Bill {
                key: "ahm-luz-1",
                payee: "CFE",
                category: "electricity",
                amount: 196_000,
                due_days_ago: 41,
                description: "Recibo bimestral de luz",
            },
            Bill {
                key: "ahm-agua",
                payee: "SACMEX",
                category: "water",
                amount: 86_000,
                due_days_ago: 21,
                description: "Derechos de agua, bimestre",
            },
            Bill {
                key: "ahm-gas",
                payee: "Gas del Valle, pipa",
                category: "gas",
                amount: 145_000,
                due_days_ago: 12,
                description: "Carga del tanque estacionario",
            },
            Bill {
                key: "ahm-luz-2",
                payee: "CFE",
                category: "electricity",
                amount: 218_000,
                due_days_ago: -2,
                description: "Recibo bimestral de luz",
            },
        ],
    },
    // An emergency network in the Chiapas highlands: displaced families arrive in waves.
    ShelterPlan {
        code: "RAS",
        name: "Red de Albergues San Cristóbal",
        city: "San Cristóbal de las Casas",
        region: "Chiapas",
        bed_capacity: 90,
        public_location: true,
        manager: Person {
            email: "pedro.sancristobal@example.org",
            name: "Pedro Gómez",
            locale: "es",
        },
        coordinator: Person {
            email: "xunka.sancristobal@example.org",
            name: "Xunka López",
            locale: "es",
        },
        occupancy: &[
            (60, 44),
            (50, 47),
            (40, 52),
            (39, 98),
            (34, 112),
            (28, 95),
            (20, 74),
            (12, 66),
            (6, 70),
            (3, 101),
            (1, 121),
        ],
        // The parish hall opens as a dormitory when the displaced families arrive.
        beds_added: Some((39, 130)),
        items: &[
            water(1_600 * KG),
            Stocked {
                food_bank: Some((7, 4)),
                ..item("Arroz o maíz", 1400, 180 * KG, 400, 500)
            },
            Stocked {
                food_bank: Some((7, 4)),
                ..item("Frijol", 3200, 30 * KG, 80, 500)
            },
            item("Aceite", 4000, 12 * KG, 22, 500),
            Stocked {
                buy_below_days: 2,
                ..item("Azúcar", 2700, 8 * KG, 15, 500)
            },
            handed_out(item("Jabón de baño", 10, 3_000 * KG, 7_000, 100 * KG)),
            handed_out(item("Papel higiénico", 600, 90 * KG, 220, KG)),
            medicine("Suero oral", 1000, (40 * KG, 150 * KG), 70),
            medicine("Paracetamol 500 mg", 85, (100 * KG, 300 * KG), 110),
            durable("Colchoneta", 33_000, 70 * KG),
            durable("Cobija", 17_500, 80 * KG),
        ],
        bills: &[
            Bill {
                key: "ras-renta-1",
                payee: "Arturo Gómez Pérez (arrendador)",
                category: "rent",
                amount: 880_000,
                due_days_ago: 55,
                description: "Renta de la bodega y la casa de tránsito",
            },
            Bill {
                key: "ras-luz",
                payee: "CFE",
                category: "electricity",
                amount: 124_000,
                due_days_ago: 26,
                description: "Recibo bimestral de luz",
            },
            Bill {
                key: "ras-renta-2",
                payee: "Arturo Gómez Pérez (arrendador)",
                category: "rent",
                amount: 880_000,
                due_days_ago: 25,
                description: "Renta de la bodega y la casa de tránsito",
            },
            Bill {
                key: "ras-agua",
                payee: "Sistema municipal de agua potable",
                category: "water",
                amount: 64_000,
                due_days_ago: 6,
                description: "Servicio de agua, bimestre",
            },
            Bill {
                key: "ras-internet",
                payee: "Telecable Los Altos",
                category: "internet",
                amount: 54_900,
                due_days_ago: -25,
                description: "Internet mensual de la oficina",
            },
        ],
    },
];

/// What a money gift may pay for.
pub enum Restriction {
    None,
    Shelter(usize),
    ShelterCategory(usize, &'static str),
    Category(&'static str),
    /// The live need of this item (or else the shelter's first need for goods).
    ItemNeed(usize, &'static str),
}

/// One thing that happens on a day, besides occupancy and the daily stock routine.
pub enum Event {
    /// An admin puts a USD→MXN rate on file, as of that day.
    Fx(&'static str),
    BillArrives(&'static str),
    /// A payment by expense: `None` pays what is left.
    PayBill {
        bill: &'static str,
        amount: Option<i64>,
        receipt: bool,
    },
    /// A money gift pledged and, unless `pending`, received the same day.
    Money {
        donor: usize,
        amount: i64,
        currency: &'static str,
        restriction: Restriction,
        note: &'static str,
        pending: bool,
    },
    /// Goods pledged against the item's live need (or the shelter's first live item need).
    InKindPledge {
        key: &'static str,
        donor: usize,
        shelter: usize,
        item: &'static str,
        quantity: i64,
    },
    /// The shelter receives a pledge, perhaps short.
    InKindReceive {
        key: &'static str,
        quantity: i64,
    },
    /// The shelter buys what the item's need asks for (received at once or later).
    Buy {
        shelter: usize,
        item: &'static str,
        received: bool,
    },
    /// Part of the goods bought with `received: false` arrive.
    Arrives {
        shelter: usize,
        quantity: i64,
    },
    Waste {
        shelter: usize,
        item: &'static str,
        per_mille: i64,
        note: &'static str,
    },
    ManualNeed {
        key: &'static str,
        shelter: usize,
        title: &'static str,
        category: &'static str,
        amount: i64,
        criticality: &'static str,
        needed_in_days: Option<i64>,
    },
    SpendOnNeed {
        key: &'static str,
        amount: i64,
        description: &'static str,
    },
    /// An expense tied to nothing, paid from the shelter's own money.
    OwnExpense {
        shelter: usize,
        amount: i64,
        category: &'static str,
        description: &'static str,
    },
}

use Event::*;

/// The events, by days ago (several on a day run in this order).
pub const EVENTS: &[(i64, Event)] = &[
    (60, Fx("17.18")),
    (58, BillArrives("cat-renta-1")),
    (57, BillArrives("ras-renta-1")),
    (
        56,
        Money {
            donor: SARAH,
            amount: 150_000,
            currency: "USD",
            restriction: Restriction::None,
            note: "For whatever is most urgent.",
            pending: false,
        },
    ),
    (56, Fx("17.05")),
    (
        55,
        PayBill {
            bill: "cat-renta-1",
            amount: None,
            receipt: true,
        },
    ),
    (
        54,
        PayBill {
            bill: "ras-renta-1",
            amount: None,
            receipt: true,
        },
    ),
    (50, BillArrives("ahm-luz-1")),
    (
        50,
        Money {
            donor: LUCIA,
            amount: 800_000,
            currency: "MXN",
            restriction: Restriction::ShelterCategory(HERMANAS, "food"),
            note: "Para la despensa de las mamás y sus hijos.",
            pending: false,
        },
    ),
    (49, Fx("17.32")),
    (
        45,
        Money {
            donor: BECKER,
            amount: 200_000,
            currency: "USD",
            restriction: Restriction::Shelter(SAN_CRISTOBAL),
            note: "For the families in the highlands.",
            pending: false,
        },
    ),
    (44, BillArrives("cat-luz")),
    (
        42,
        PayBill {
            bill: "ahm-luz-1",
            amount: None,
            receipt: true,
        },
    ),
    (42, Fx("17.61")),
    (
        40,
        Money {
            donor: COMITE,
            amount: 1_200_000,
            currency: "MXN",
            restriction: Restriction::Category("housing"),
            note: "Colecta vecinal para las rentas.",
            pending: false,
        },
    ),
    (
        38,
        Money {
            donor: SARAH,
            amount: 60_000,
            currency: "USD",
            restriction: Restriction::ItemNeed(SAN_CRISTOBAL, "Colchoneta"),
            note: "Sleeping mats for the new arrivals.",
            pending: false,
        },
    ),
    (
        37,
        InKindPledge {
            key: "cobijas",
            donor: COMITE,
            shelter: SAN_CRISTOBAL,
            item: "Cobija",
            quantity: 30 * KG,
        },
    ),
    (
        36,
        Buy {
            shelter: SAN_CRISTOBAL,
            item: "Colchoneta",
            received: true,
        },
    ),
    (36, BillArrives("ras-luz")),
    (
        35,
        InKindReceive {
            key: "cobijas",
            quantity: 26 * KG,
        },
    ),
    (
        35,
        PayBill {
            bill: "cat-luz",
            amount: None,
            receipt: true,
        },
    ),
    (35, Fx("17.44")),
    (30, BillArrives("ahm-agua")),
    (
        30,
        Money {
            donor: LUCIA,
            amount: 500_000,
            currency: "MXN",
            restriction: Restriction::None,
            note: "Donde más se necesite.",
            pending: false,
        },
    ),
    (29, BillArrives("cat-renta-2")),
    (28, Fx("17.87")),
    (
        27,
        Waste {
            shelter: SAN_CRISTOBAL,
            item: "Arroz o maíz",
            per_mille: 300,
            note: "Costales mojados por la lluvia",
        },
    ),
    (27, BillArrives("ras-renta-2")),
    (
        27,
        PayBill {
            bill: "ras-luz",
            amount: None,
            receipt: false,
        },
    ),
    (
        26,
        PayBill {
            bill: "cat-renta-2",
            amount: Some(1_000_000),
            receipt: true,
        },
    ),
    (
        25,
        PayBill {
            bill: "ras-renta-2",
            amount: None,
            receipt: true,
        },
    ),
    (
        24,
        Money {
            donor: SARAH,
            amount: 30_000,
            currency: "USD",
            restriction: Restriction::Category("medical"),
            note: "Medicine for the shelters.",
            pending: false,
        },
    ),
    (
        24,
        PayBill {
            bill: "cat-renta-2",
            amount: None,
            receipt: true,
        },
    ),
    (
        22,
        PayBill {
            bill: "ahm-agua",
            amount: None,
            receipt: false,
        },
    ),
    (21, Fx("18.02")),
    (
        21,
        Money {
            donor: BECKER,
            amount: 75_000,
            currency: "USD",
            restriction: Restriction::None,
            note: "",
            pending: false,
        },
    ),
    (
        20,
        OwnExpense {
            shelter: TLATELOLCO,
            amount: 85_000,
            category: "other",
            description: "Reparación de la regadera del baño de hombres",
        },
    ),
    (20, BillArrives("cat-agua")),
    (
        18,
        Waste {
            shelter: TLATELOLCO,
            item: "Aceite",
            per_mille: 60,
            note: "Botella rota al descargar",
        },
    ),
    (18, BillArrives("ras-agua")),
    (15, BillArrives("ahm-gas")),
    (
        14,
        Money {
            donor: COMITE,
            amount: 600_000,
            currency: "MXN",
            restriction: Restriction::Shelter(TLATELOLCO),
            note: "Segunda colecta vecinal.",
            pending: false,
        },
    ),
    (14, Fx("17.79")),
    (
        12,
        PayBill {
            bill: "ahm-gas",
            amount: None,
            receipt: true,
        },
    ),
    (12, BillArrives("ras-internet")),
    (
        10,
        Money {
            donor: SARAH,
            amount: 100_000,
            currency: "USD",
            restriction: Restriction::None,
            note: "Monthly gift.",
            pending: false,
        },
    ),
    (8, BillArrives("ahm-luz-2")),
    (7, Fx("17.93")),
    (
        6,
        ManualNeed {
            key: "calentador",
            shelter: HERMANAS,
            title: "Reparar el calentador de agua",
            category: "other",
            amount: 480_000,
            criticality: "essential",
            needed_in_days: Some(21),
        },
    ),
    (
        4,
        SpendOnNeed {
            key: "calentador",
            amount: 150_000,
            description: "Anticipo al plomero por el calentador",
        },
    ),
    (1, BillArrives("cat-renta-3")),
    (
        1,
        Buy {
            shelter: SAN_CRISTOBAL,
            item: "Cobija",
            received: false,
        },
    ),
    (0, Fx("18.05")),
    (
        0,
        Money {
            donor: LUCIA,
            amount: 300_000,
            currency: "MXN",
            restriction: Restriction::ItemNeed(HERMANAS, "Fórmula infantil"),
            note: "Para la fórmula de los bebés.",
            pending: false,
        },
    ),
    (
        0,
        Arrives {
            shelter: SAN_CRISTOBAL,
            quantity: 10 * KG,
        },
    ),
    (
        0,
        ManualNeed {
            key: "traslados",
            shelter: SAN_CRISTOBAL,
            title: "Traslado de familias a Tuxtla para sus trámites",
            category: "transport",
            amount: 260_000,
            criticality: "essential",
            needed_in_days: Some(8),
        },
    ),
    (
        0,
        ManualNeed {
            key: "pintura",
            shelter: TLATELOLCO,
            title: "Pintura para los dormitorios",
            category: "other",
            amount: 320_000,
            criticality: "desirable",
            needed_in_days: None,
        },
    ),
    (
        0,
        InKindPledge {
            key: "despensa",
            donor: LUCIA,
            shelter: HERMANAS,
            item: "Arroz o maíz",
            quantity: 50 * KG,
        },
    ),
    (
        0,
        Money {
            donor: SARAH,
            amount: 25_000,
            currency: "USD",
            restriction: Restriction::None,
            note: "Next month's gift, on its way.",
            pending: true,
        },
    ),
];

/// Every demo account.
pub fn people() -> impl Iterator<Item = &'static Person> {
    [&ADMIN, &AUDITOR]
        .into_iter()
        .chain(SHELTERS.iter().flat_map(|s| [&s.manager, &s.coordinator]))
        .chain(DONORS.iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use refugio_core::engine::catalog::DEFAULT_CATALOG;
    use std::collections::HashSet;

    fn tracks(shelter: usize, item: &str) -> bool {
        SHELTERS[shelter].items.iter().any(|i| i.name == item)
    }

    #[test]
    fn accounts_are_distinct_and_not_real() {
        let emails: Vec<&str> = people().map(|p| p.email).collect();
        assert_eq!(emails.iter().collect::<HashSet<_>>().len(), emails.len());
        assert!(emails.iter().all(|e| e.ends_with("@example.org")));
        assert!((10..=128).contains(&PASSWORD.len()));
    }

    #[test]
    fn items_are_in_the_catalog_or_made_and_beds_fit() {
        for shelter in &SHELTERS {
            for item in shelter.items {
                let known = DEFAULT_CATALOG.iter().any(|c| c.name == item.name);
                assert!(known != item.custom.is_some(), "{}", item.name);
                assert!(item.unit_cost > 0 && item.step > 0 && item.start >= 0);
            }
            for &(day, beds) in shelter.occupancy {
                let capacity = match shelter.beds_added {
                    Some((from, more)) if day <= from => more,
                    _ => shelter.bed_capacity,
                };
                assert!(beds + 2 <= capacity, "{} on day {day}", shelter.name);
            }
        }
    }

    #[test]
    fn events_run_in_order_and_name_what_exists_before_them() {
        let mut bills = HashSet::new();
        let mut keys = HashSet::new();
        let mut incoming = false;
        let mut last = HISTORY_DAYS;
        for (day, event) in EVENTS {
            assert!(*day <= last, "events out of order at day {day}");
            last = *day;
            match event {
                Event::BillArrives(key) => {
                    assert!(SHELTERS
                        .iter()
                        .any(|s| s.bills.iter().any(|b| b.key == *key)));
                    bills.insert(*key);
                }
                Event::PayBill { bill, .. } => assert!(bills.contains(bill), "{bill}"),
                Event::InKindPledge {
                    key, shelter, item, ..
                } => {
                    assert!(tracks(*shelter, item), "{item}");
                    keys.insert(*key);
                }
                Event::ManualNeed { key, .. } => {
                    keys.insert(*key);
                }
                Event::InKindReceive { key, .. } | Event::SpendOnNeed { key, .. } => {
                    assert!(keys.contains(key), "{key}");
                }
                Event::Buy {
                    shelter,
                    item,
                    received,
                } => {
                    assert!(tracks(*shelter, item), "{item}");
                    incoming |= !received;
                }
                Event::Arrives { .. } => assert!(incoming),
                Event::Waste { shelter, item, .. } => assert!(tracks(*shelter, item), "{item}"),
                Event::Money {
                    restriction: Restriction::ItemNeed(shelter, item),
                    ..
                } => assert!(tracks(*shelter, item), "{item}"),
                _ => {}
            }
        }
    }
}
