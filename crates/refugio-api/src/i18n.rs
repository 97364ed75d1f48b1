//! Spanish and English texts of errors: problem titles, details and field messages.

use crate::error::{ApiError, Conflict};
pub use refugio_core::Locale as Lang;

/// Why a field was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldIssue {
    Required,
    /// The JSON value has the wrong type; names the expected one.
    WrongType(&'static str),
    UnknownField,
    Empty,
    TooShort(usize),
    TooLong(usize),
    ControlCharacters,
    InvalidEmail,
    OneOf(&'static [&'static str]),
    InvalidTimezone,
    InvalidCurrency,
    Range {
        min: i64,
        max: i64,
    },
    NotForRole,
    InvalidIdempotencyKey,
    /// A number with more decimals than the field keeps.
    TooPrecise(u32),
    /// Money in another currency than the one required.
    CurrencyMustBe(String),
    /// A timestamp or date in the future.
    InFuture,
    /// Not an RFC 3339 timestamp or `YYYY-MM-DD` date.
    InvalidDate,
    /// Must be above zero (or not zero).
    MustBePositive,
    NotZero,
    /// References something that is not in this shelter.
    UnknownReference,
    /// The need has ended (fulfilled or cancelled).
    NeedEnded,
    /// Money for a need that can only be covered in kind (no unit cost).
    NeedWithoutUnitCost,
    /// Goods for a need that is not an item need.
    NotAnItemNeed,
    /// A field that only applies to expenses on item needs.
    OnlyForItemNeeds,
    /// More than what is left (to pledge, to pay, to receive), which is given as text.
    AtMost(String),
    /// Differs from what the linked need or bill says (given).
    MustMatchLink(String),
    Invalid,
}

impl FieldIssue {
    pub fn message(&self, lang: Lang) -> String {
        let es = lang == Lang::Es;
        match self {
            FieldIssue::Required => pick(es, "es obligatorio", "is required"),
            FieldIssue::WrongType(t) => {
                if es {
                    format!("debe ser de tipo {}", type_es(t))
                } else {
                    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    format!("must be {article} {t}")
                }
            }
            FieldIssue::UnknownField => pick(es, "no es un campo conocido", "is not a known field"),
            FieldIssue::Empty => pick(es, "no puede estar vacío", "must not be empty"),
            FieldIssue::TooShort(n) => {
                if es {
                    format!("debe tener al menos {n} caracteres")
                } else {
                    format!("must be at least {n} characters long")
                }
            }
            FieldIssue::TooLong(n) => {
                if es {
                    format!("debe tener como máximo {n} caracteres")
                } else {
                    format!("must be at most {n} characters long")
                }
            }
            FieldIssue::ControlCharacters => pick(
                es,
                "no puede contener caracteres de control",
                "must not contain control characters",
            ),
            FieldIssue::InvalidEmail => pick(
                es,
                "no es un correo electrónico válido",
                "is not a valid email address",
            ),
            FieldIssue::OneOf(values) => {
                let list = values.join(", ");
                if es {
                    format!("debe ser uno de: {list}")
                } else {
                    format!("must be one of: {list}")
                }
            }
            FieldIssue::InvalidTimezone => pick(
                es,
                "no es una zona horaria IANA (p. ej. America/Mexico_City)",
                "is not an IANA time zone (e.g. America/Mexico_City)",
            ),
            FieldIssue::InvalidCurrency => pick(
                es,
                "debe ser una moneda admitida: MXN, USD, GTQ, EUR",
                "must be a supported currency: MXN, USD, GTQ, EUR",
            ),
            FieldIssue::Range { min, max } => {
                if es {
                    format!("debe estar entre {min} y {max}")
                } else {
                    format!("must be between {min} and {max}")
                }
            }
            FieldIssue::NotForRole => pick(
                es,
                "solo se admite para cuentas de personal (staff)",
                "is only allowed for staff accounts",
            ),
            FieldIssue::InvalidIdempotencyKey => pick(
                es,
                "debe tener de 1 a 255 caracteres ASCII visibles",
                "must be 1 to 255 visible ASCII characters",
            ),
            FieldIssue::TooPrecise(n) => {
                if es {
                    format!("admite como máximo {n} decimales")
                } else {
                    format!("allows at most {n} decimals")
                }
            }
            FieldIssue::CurrencyMustBe(c) => {
                if es {
                    format!("debe estar en {c}, la moneda del albergue")
                } else {
                    format!("must be in {c}, the shelter's currency")
                }
            }
            FieldIssue::InFuture => pick(
                es,
                "no puede estar en el futuro",
                "must not be in the future",
            ),
            FieldIssue::InvalidDate => pick(
                es,
                "debe ser una fecha AAAA-MM-DD o una marca de tiempo RFC 3339",
                "must be a YYYY-MM-DD date or an RFC 3339 timestamp",
            ),
            FieldIssue::MustBePositive => {
                pick(es, "debe ser mayor que cero", "must be greater than zero")
            }
            FieldIssue::NotZero => pick(es, "no puede ser cero", "must not be zero"),
            FieldIssue::UnknownReference => pick(
                es,
                "no existe en este albergue",
                "does not exist in this shelter",
            ),
            FieldIssue::NeedEnded => pick(
                es,
                "la necesidad ya terminó (cubierta o cancelada)",
                "the need has ended (fulfilled or cancelled)",
            ),
            FieldIssue::NeedWithoutUnitCost => pick(
                es,
                "la necesidad no tiene costo unitario: solo se puede cubrir en especie",
                "the need has no unit cost: it can only be covered in kind",
            ),
            FieldIssue::NotAnItemNeed => pick(
                es,
                "solo las necesidades de artículos reciben donativos en especie",
                "only item needs take in-kind gifts",
            ),
            FieldIssue::OnlyForItemNeeds => pick(
                es,
                "solo aplica a gastos en necesidades de artículos",
                "only applies to expenses on item needs",
            ),
            FieldIssue::AtMost(limit) => {
                if es {
                    format!("no puede ser más de {limit}")
                } else {
                    format!("must be at most {limit}")
                }
            }
            FieldIssue::MustMatchLink(value) => {
                if es {
                    format!("debe ser {value}, como la necesidad o el recibo vinculado")
                } else {
                    format!("must be {value}, as the linked need or bill says")
                }
            }
            FieldIssue::Invalid => pick(es, "no es válido", "is not valid"),
        }
    }
}

fn type_es(t: &str) -> &str {
    match t {
        "string" => "texto",
        "integer" => "entero",
        "number" => "número",
        "boolean" => "booleano",
        "object" => "objeto",
        "array" => "lista",
        other => other,
    }
}

fn pick(es: bool, spanish: &str, english: &str) -> String {
    if es { spanish } else { english }.to_owned()
}

/// The `(title, detail)` of an error in `lang`.
pub fn problem_text(error: &ApiError, lang: Lang) -> (String, String) {
    let es = lang == Lang::Es;
    let (title_es, title_en, detail_es, detail_en): (&str, &str, String, String) = match error {
        ApiError::Validation(_) => (
            "Datos no válidos",
            "Invalid data",
            "Uno o más campos no son válidos; vea `errors`.".into(),
            "One or more fields are not valid; see `errors`.".into(),
        ),
        ApiError::MalformedJson => (
            "JSON mal formado",
            "Malformed JSON",
            "El cuerpo de la solicitud no es JSON válido.".into(),
            "The request body is not valid JSON.".into(),
        ),
        ApiError::BadQuery(what) => (
            "Parámetros de consulta no válidos",
            "Invalid query string",
            format!("La cadena de consulta no es válida: {what}."),
            format!("The query string is not valid: {what}."),
        ),
        ApiError::UnsupportedMediaType => (
            "Tipo de contenido no admitido",
            "Unsupported media type",
            "Envíe el cuerpo como application/json.".into(),
            "Send the body as application/json.".into(),
        ),
        ApiError::PayloadTooLarge => (
            "Cuerpo demasiado grande",
            "Payload too large",
            "El cuerpo de la solicitud supera 1 MiB.".into(),
            "The request body is larger than 1 MiB.".into(),
        ),
        ApiError::Unauthorized => (
            "No autenticado",
            "Unauthorized",
            "Falta el token de acceso, no es válido o ha caducado; inicie sesión de nuevo.".into(),
            "The access token is missing, invalid or expired; log in again.".into(),
        ),
        ApiError::Forbidden => (
            "Prohibido",
            "Forbidden",
            "Su función no permite esta acción.".into(),
            "Your role does not allow this action.".into(),
        ),
        ApiError::NotFound => (
            "No encontrado",
            "Not found",
            "El recurso no existe o no tiene acceso a él.".into(),
            "The resource does not exist or you have no access to it.".into(),
        ),
        ApiError::Conflict(kind) => {
            let (es_d, en_d) = match kind {
                Conflict::DuplicateEmail => {
                    ("Ya existe una cuenta con ese correo.", "An account with that email already exists.")
                }
                Conflict::IdempotencyInProgress => (
                    "Una solicitud con la misma Idempotency-Key aún está en curso; reintente en unos segundos.",
                    "A request with the same Idempotency-Key is still running; retry in a few seconds.",
                ),
                Conflict::AlreadyMember => {
                    ("La cuenta ya es miembro de este albergue.", "The account is already a member of this shelter.")
                }
                Conflict::NotStaffAccount => (
                    "Solo una cuenta de personal puede aceptar una invitación.",
                    "Only a staff account can accept an invitation.",
                ),
                Conflict::InsufficientStock => (
                    "No hay existencias suficientes: el inventario no puede quedar en negativo.",
                    "Not enough stock: on hand cannot go below zero.",
                ),
                Conflict::DuplicateName => {
                    ("Ya existe un artículo con ese nombre en este albergue.", "This shelter already has an item with that name.")
                }
                Conflict::InvalidTransition => (
                    "El estado actual no permite esta acción.",
                    "The current state does not allow this action.",
                ),
                Conflict::ConcurrentChange => (
                    "Otra solicitud cambió lo mismo al mismo tiempo; puede reintentar.",
                    "Another request changed the same thing at the same time; retrying is safe.",
                ),
            };
            ("Conflicto", "Conflict", es_d.into(), en_d.into())
        }
        ApiError::IdempotencyKeyReused => (
            "Idempotency-Key reutilizada",
            "Idempotency-Key reused",
            "Esta Idempotency-Key ya se usó con otra solicitud.".into(),
            "This Idempotency-Key was already used for a different request.".into(),
        ),
        ApiError::Gone => (
            "Ya no es válido",
            "Gone",
            "El enlace o token no existe, ya se usó o ha caducado.".into(),
            "The link or token is unknown, already used or expired.".into(),
        ),
        ApiError::Throttled { retry_after_secs } => (
            "Demasiadas solicitudes",
            "Too many requests",
            format!("Demasiados intentos; espere {retry_after_secs} segundos."),
            format!("Too many attempts; wait {retry_after_secs} seconds."),
        ),
        ApiError::Unavailable => (
            "Servicio no disponible",
            "Service unavailable",
            "La base de datos no responde; intente más tarde.".into(),
            "The database is not answering; try again later.".into(),
        ),
        ApiError::Internal(_) => (
            "Error interno",
            "Internal error",
            "Algo falló de nuestro lado; el error quedó registrado.".into(),
            "Something went wrong on our side; the error was logged.".into(),
        ),
    };
    if es {
        (title_es.to_owned(), detail_es)
    } else {
        (title_en.to_owned(), detail_en)
    }
}
