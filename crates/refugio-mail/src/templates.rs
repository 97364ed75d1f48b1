//! The emails Refugio sends, rendered to a subject and a plain-text body.
//!
//! Adding an email means adding a `Message` variant; the compiler then asks for its template
//! name and its rendering.

use chrono::{DateTime, NaiveDate, Utc};
use refugio_core::audit_export::Checkpoint;
use refugio_core::{Locale, MembershipRole};

/// An email to send, with the data it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A single-use password reset token, in the user's language.
    PasswordReset {
        /// The token itself (not its hash), for `POST /auth/password-reset/confirm`.
        token: String,
        /// How long the token stays valid.
        expires_in_minutes: i64,
    },
    /// An invitation to join a shelter's staff, in Spanish and English alike: the invitee may
    /// have no account, hence no language, yet.
    Invitation {
        /// The shelter's display name.
        shelter_name: String,
        /// The membership the invitation grants.
        role: MembershipRole,
        /// The token itself (not its hash), for `POST /invitations/accept`.
        token: String,
        /// When the token stops working.
        expires_at: DateTime<Utc>,
    },
    /// A need of the reader's shelter entered the critical band, in the reader's language.
    NeedCritical {
        /// The shelter's display name.
        shelter_name: String,
        /// The need's title (an item's name, a bill's payee).
        title: String,
        /// The engine's reasons, one line each, already in the reader's language.
        drivers: Vec<String>,
    },
    /// A donor's money arrived, with where it went, in the donor's language.
    DonationReceived {
        /// The gift, formatted with its currency ("1725.00 MXN").
        amount: String,
        /// Where the gift was allocated, one line each; empty when nothing matched yet.
        allocations: Vec<AllocatedLine>,
        /// The part still waiting for a matching need, formatted like `amount`.
        unallocated: Option<String>,
    },
    /// Money from a donor's gift was spent on a need, in the donor's language.
    NeedSpent {
        /// The shelter's display name.
        shelter_name: String,
        /// The need's title (an item's name, a bill's payee).
        need_title: String,
        /// The part paid from the donor's gift, formatted in the shelter's currency.
        amount: String,
        /// The day the money was spent.
        spent_on: NaiveDate,
    },
    /// A need a donor funded is now fully met, in the donor's language.
    NeedFulfilled {
        /// The shelter's display name.
        shelter_name: String,
        /// The need's title (an item's name, a bill's payee).
        need_title: String,
    },
    /// The need a donor's gift was restricted to ended before the money was used up; the rest
    /// now goes to the shelter's other needs of the same category. In the donor's language.
    RestrictionWidened {
        /// The shelter's display name.
        shelter_name: String,
        /// The title of the need that ended.
        need_title: String,
        /// The need category's API code (`food`, `bedding`, …).
        category: String,
    },
    /// A donor's in-kind pledge was not received in time and expired, in the donor's language.
    PledgeExpired {
        /// The shelter's display name.
        shelter_name: String,
        /// The need's title (an item's name).
        need_title: String,
        /// The pledged quantity, formatted with its unit ("40 kg").
        quantity: String,
    },
    /// The day's audit chain heads, for an auditor to keep: each a `<chain> <seq> <hash>` line
    /// that `refugio audit verify --checkpoints` reads straight from the saved email.
    AuditCheckpoints {
        /// The UTC day anchored.
        day: NaiveDate,
        /// Every chain's head that has events, platform first.
        heads: Vec<Checkpoint>,
    },
}

/// One allocation of a donation, for `Message::DonationReceived`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocatedLine {
    /// The shelter's display name.
    pub shelter_name: String,
    /// The need's title (an item's name, a bill's payee).
    pub need_title: String,
    /// The amount allocated, formatted in the donation's currency ("100.00 USD").
    pub amount: String,
}

/// A message ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line, without control characters.
    pub subject: String,
    /// Plain text.
    pub body: String,
}

impl Message {
    /// The stable name stored with the outbox row (`password_reset`, `invitation`).
    pub fn template(&self) -> &'static str {
        match self {
            Message::PasswordReset { .. } => "password_reset",
            Message::Invitation { .. } => "invitation",
            Message::NeedCritical { .. } => "need_critical",
            Message::DonationReceived { .. } => "donation_received",
            Message::NeedSpent { .. } => "need_spent",
            Message::NeedFulfilled { .. } => "need_fulfilled",
            Message::RestrictionWidened { .. } => "restriction_widened",
            Message::PledgeExpired { .. } => "pledge_expired",
            Message::AuditCheckpoints { .. } => "audit_checkpoints",
        }
    }

    /// The subject and body for a reader of `locale` (bilingual messages ignore it).
    pub fn render(&self, locale: Locale) -> Rendered {
        let (subject, body) = match self {
            Message::PasswordReset {
                token,
                expires_in_minutes,
            } => password_reset(locale, token, *expires_in_minutes),
            Message::Invitation {
                shelter_name,
                role,
                token,
                expires_at,
            } => invitation(shelter_name, *role, token, expires_at),
            Message::NeedCritical {
                shelter_name,
                title,
                drivers,
            } => need_critical(locale, shelter_name, title, drivers),
            Message::DonationReceived {
                amount,
                allocations,
                unallocated,
            } => donation_received(locale, amount, allocations, unallocated.as_deref()),
            Message::NeedSpent {
                shelter_name,
                need_title,
                amount,
                spent_on,
            } => need_spent(locale, shelter_name, need_title, amount, *spent_on),
            Message::NeedFulfilled {
                shelter_name,
                need_title,
            } => need_fulfilled(locale, shelter_name, need_title),
            Message::RestrictionWidened {
                shelter_name,
                need_title,
                category,
            } => restriction_widened(locale, shelter_name, need_title, category),
            Message::PledgeExpired {
                shelter_name,
                need_title,
                quantity,
            } => pledge_expired(locale, shelter_name, need_title, quantity),
            Message::AuditCheckpoints { day, heads } => audit_checkpoints(locale, *day, heads),
        };
        Rendered {
            subject: one_line(&subject),
            body,
        }
    }
}

fn need_critical(
    locale: Locale,
    shelter: &str,
    title: &str,
    drivers: &[String],
) -> (String, String) {
    let reasons: String = drivers.iter().map(|d| format!("  - {d}\n")).collect();
    match locale {
        Locale::Es => (
            format!("Necesidad crítica en {shelter}: {title}"),
            format!(
                "La necesidad «{title}» de {shelter} entró en la banda crítica:\n\n{reasons}\n\
                 Revise el tablero de necesidades del albergue y registre las entradas en cuanto \
                 lleguen. No recibirá otro aviso por esta necesidad mientras siga siendo crítica.\n"
            ),
        ),
        Locale::En => (
            format!("Critical need at {shelter}: {title}"),
            format!(
                "The need \"{title}\" of {shelter} entered the critical band:\n\n{reasons}\n\
                 Check the shelter's needs board and record receipts as soon as they arrive. \
                 You will not be alerted again for this need while it stays critical.\n"
            ),
        ),
    }
}

fn donation_received(
    locale: Locale,
    amount: &str,
    allocations: &[AllocatedLine],
    unallocated: Option<&str>,
) -> (String, String) {
    match locale {
        Locale::Es => {
            let placed = if allocations.is_empty() {
                "Lo asignaremos en cuanto aparezca una necesidad que coincida con tu donativo.\n"
                    .to_owned()
            } else {
                let lines: String = allocations
                    .iter()
                    .map(|a| {
                        format!(
                            "  - {}: «{}» de {}\n",
                            a.amount, a.need_title, a.shelter_name
                        )
                    })
                    .collect();
                format!("Así lo asignamos:\n\n{lines}")
            };
            let waiting = match unallocated {
                Some(rest) if !allocations.is_empty() => format!(
                    "\nQuedan {rest} en espera de una necesidad que coincida con tu donativo; se \
                     asignarán automáticamente en cuanto aparezca una.\n"
                ),
                _ => String::new(),
            };
            (
                format!("Recibimos tu donativo de {amount}"),
                format!(
                    "Hola:\n\
                     \n\
                     Recibimos tu donativo de {amount}. ¡Gracias!\n\
                     \n\
                     {placed}{waiting}\
                     \n\
                     Te avisaremos cuando se use.\n\
                     \n\
                     — Refugio\n"
                ),
            )
        }
        Locale::En => {
            let placed = if allocations.is_empty() {
                "We will allocate it as soon as a need that matches your gift appears.\n".to_owned()
            } else {
                let lines: String = allocations
                    .iter()
                    .map(|a| {
                        format!(
                            "  - {}: \"{}\" at {}\n",
                            a.amount, a.need_title, a.shelter_name
                        )
                    })
                    .collect();
                format!("This is where it went:\n\n{lines}")
            };
            let waiting = match unallocated {
                Some(rest) if !allocations.is_empty() => format!(
                    "\n{rest} is still waiting for a need that matches your gift; it will be \
                     allocated automatically as soon as one appears.\n"
                ),
                _ => String::new(),
            };
            (
                format!("We received your donation of {amount}"),
                format!(
                    "Hello,\n\
                     \n\
                     We received your donation of {amount}. Thank you!\n\
                     \n\
                     {placed}{waiting}\
                     \n\
                     We will let you know when it is used.\n\
                     \n\
                     — Refugio\n"
                ),
            )
        }
    }
}

fn need_spent(
    locale: Locale,
    shelter: &str,
    title: &str,
    amount: &str,
    spent_on: NaiveDate,
) -> (String, String) {
    let day = spent_on.format("%Y-%m-%d");
    match locale {
        Locale::Es => (
            format!("Tu donativo se usó en {shelter}: {title}"),
            format!(
                "Hola:\n\
                 \n\
                 El {day}, {shelter} usó {amount} de tu donativo para la necesidad «{title}».\n\
                 \n\
                 Gracias por hacerlo posible.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
        Locale::En => (
            format!("Your gift was put to use at {shelter}: {title}"),
            format!(
                "Hello,\n\
                 \n\
                 On {day}, {shelter} spent {amount} of your donation on the need \"{title}\".\n\
                 \n\
                 Thank you for making it possible.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
    }
}

fn need_fulfilled(locale: Locale, shelter: &str, title: &str) -> (String, String) {
    match locale {
        Locale::Es => (
            format!("Necesidad cubierta en {shelter}: {title}"),
            format!(
                "Hola:\n\
                 \n\
                 La necesidad «{title}» de {shelter}, a la que contribuiste, ya está cubierta por \
                 completo.\n\
                 \n\
                 Gracias por tu ayuda.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
        Locale::En => (
            format!("Need met at {shelter}: {title}"),
            format!(
                "Hello,\n\
                 \n\
                 The need \"{title}\" of {shelter}, which you helped fund, is now fully met.\n\
                 \n\
                 Thank you for your help.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
    }
}

fn restriction_widened(
    locale: Locale,
    shelter: &str,
    title: &str,
    category: &str,
) -> (String, String) {
    let category = category_word(locale, category);
    match locale {
        Locale::Es => (
            format!("Tu donativo para «{title}» seguirá ayudando en {shelter}"),
            format!(
                "Hola:\n\
                 \n\
                 La necesidad «{title}» de {shelter}, a la que destinaste tu donativo, terminó \
                 antes de que se usara todo el dinero.\n\
                 \n\
                 Lo que queda se destinará a otras necesidades de {shelter} de la misma \
                 categoría: {category}.\n\
                 \n\
                 Gracias por tu ayuda.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
        Locale::En => (
            format!("Your gift for \"{title}\" will keep helping at {shelter}"),
            format!(
                "Hello,\n\
                 \n\
                 The need \"{title}\" of {shelter}, which your donation was restricted to, ended \
                 before all the money was used.\n\
                 \n\
                 The rest will go to other needs of {shelter} in the same category: {category}.\n\
                 \n\
                 Thank you for your help.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
    }
}

fn pledge_expired(locale: Locale, shelter: &str, title: &str, quantity: &str) -> (String, String) {
    match locale {
        Locale::Es => (
            format!("Tu compromiso para {shelter} caducó: {title}"),
            format!(
                "Hola:\n\
                 \n\
                 No recibimos dentro del plazo los {quantity} que te comprometiste a entregar \
                 para la necesidad «{title}» de {shelter}, así que tu compromiso caducó.\n\
                 \n\
                 Gracias por ofrecer tu ayuda. Si todavía puedes, vuelve a comprometerte.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
        Locale::En => (
            format!("Your pledge to {shelter} has expired: {title}"),
            format!(
                "Hello,\n\
                 \n\
                 Your pledge of {quantity} for the need \"{title}\" of {shelter} was not \
                 received within the pledge period and has expired.\n\
                 \n\
                 Thank you for offering your help. If you still can, please pledge again.\n\
                 \n\
                 — Refugio\n"
            ),
        ),
    }
}

fn audit_checkpoints(locale: Locale, day: NaiveDate, heads: &[Checkpoint]) -> (String, String) {
    let day = day.format("%Y-%m-%d");
    // One checkpoint per line, unindented, exactly as `refugio audit verify` reads them.
    let lines: String = heads.iter().map(|h| format!("{h}\n")).collect();
    match locale {
        Locale::Es => {
            let lines = if heads.is_empty() {
                "(Aún no hay eventos en ninguna cadena.)\n".to_owned()
            } else {
                lines
            };
            (
                format!("Puntos de control de auditoría del {day}"),
                format!(
                    "Hola:\n\
                     \n\
                     Estas son las cabezas de las cadenas de auditoría de Refugio el {day} (UTC): \
                     una línea por cadena, con su nombre (platform o el id de un albergue), su \
                     último número de secuencia y el hash de ese evento.\n\
                     \n\
                     {lines}\
                     \n\
                     Guarde este correo tal cual y, para comprobar que una exportación posterior \
                     del registro de auditoría extiende estas cabezas sin reescribir la historia, \
                     ejecute: refugio audit verify --file EXPORTACION --checkpoints ESTE-CORREO\n\
                     \n\
                     — Refugio\n"
                ),
            )
        }
        Locale::En => {
            let lines = if heads.is_empty() {
                "(No chain has any events yet.)\n".to_owned()
            } else {
                lines
            };
            (
                format!("Audit checkpoints for {day}"),
                format!(
                    "Hello,\n\
                     \n\
                     These are the heads of Refugio's audit chains on {day} (UTC): one line per \
                     chain, with its name (platform or a shelter id), its last sequence number and \
                     that event's hash.\n\
                     \n\
                     {lines}\
                     \n\
                     Keep this email as it is; to check that a later export of the audit log \
                     extends these heads without rewriting history, run: refugio audit verify \
                     --file EXPORT --checkpoints THIS-EMAIL\n\
                     \n\
                     — Refugio\n"
                ),
            )
        }
    }
}

/// A need category's API code as a word in `locale`; an unknown code is returned as is.
fn category_word(locale: Locale, code: &str) -> &str {
    let (es, en) = match code {
        "food" => ("comida", "food"),
        "water" => ("agua", "water"),
        "medical" => ("salud", "medical"),
        "hygiene" => ("higiene", "hygiene"),
        "bedding" => ("ropa de cama", "bedding"),
        "clothing" => ("ropa", "clothing"),
        "housing" => ("vivienda", "housing"),
        "utilities" => ("servicios", "utilities"),
        "transport" => ("transporte", "transport"),
        "other" => ("otros", "other"),
        _ => return code,
    };
    match locale {
        Locale::Es => es,
        Locale::En => en,
    }
}

fn password_reset(locale: Locale, token: &str, minutes: i64) -> (String, String) {
    let token_json = json_string(token);
    match locale {
        Locale::Es => (
            "Restablece tu contraseña de Refugio".to_owned(),
            format!(
                "Hola:\n\
                 \n\
                 Recibimos una solicitud para restablecer la contraseña de tu cuenta de Refugio.\n\
                 \n\
                 Tu código de restablecimiento es:\n\
                 \n\
                 \x20   {token}\n\
                 \n\
                 Caduca en {minutes} {minute_word} y solo puede usarse una vez. Para elegir una \
                 contraseña nueva (de 10 a 128 caracteres), envía:\n\
                 \n\
                 \x20   POST /api/v1/auth/password-reset/confirm\n\
                 \x20   {{\"token\": {token_json}, \"password\": \"tu contraseña nueva\"}}\n\
                 \n\
                 Si no lo solicitaste tú, ignora este mensaje: tu contraseña no cambiará.\n\
                 \n\
                 — Refugio\n",
                minute_word = if minutes == 1 { "minuto" } else { "minutos" },
            ),
        ),
        Locale::En => (
            "Reset your Refugio password".to_owned(),
            format!(
                "Hello,\n\
                 \n\
                 We received a request to reset the password of your Refugio account.\n\
                 \n\
                 Your reset code is:\n\
                 \n\
                 \x20   {token}\n\
                 \n\
                 It expires in {minutes} {minute_word} and can be used only once. To choose a \
                 new password (10 to 128 characters), send:\n\
                 \n\
                 \x20   POST /api/v1/auth/password-reset/confirm\n\
                 \x20   {{\"token\": {token_json}, \"password\": \"your new password\"}}\n\
                 \n\
                 If you did not ask for this, ignore this message: your password will not change.\n\
                 \n\
                 — Refugio\n",
                minute_word = if minutes == 1 { "minute" } else { "minutes" },
            ),
        ),
    }
}

fn invitation(
    shelter: &str,
    role: MembershipRole,
    token: &str,
    expires_at: &DateTime<Utc>,
) -> (String, String) {
    let token_json = json_string(token);
    let expires = expires_at.format("%Y-%m-%d %H:%M UTC");
    let (role_es, role_en) = match role {
        MembershipRole::Manager => ("responsable", "manager"),
        MembershipRole::Coordinator => ("coordinador", "coordinator"),
    };
    let subject = format!(
        "Invitación al refugio «{shelter}» en Refugio / Invitation to the shelter \"{shelter}\" on Refugio"
    );
    let body = format!(
        "[Español — English below]\n\
         \n\
         Te invitaron a unirte al equipo del refugio «{shelter}» en Refugio con el rol de \
         {role_es}.\n\
         \n\
         Tu código de invitación es:\n\
         \n\
         \x20   {token}\n\
         \n\
         Es válido hasta el {expires} y solo puede usarse una vez.\n\
         \n\
         Si aún no tienes cuenta, créala y acepta la invitación enviando:\n\
         \n\
         \x20   POST /api/v1/invitations/accept\n\
         \x20   {{\"token\": {token_json}, \"name\": \"Tu nombre\", \"password\": \"una contraseña de 10 a 128 caracteres\"}}\n\
         \n\
         Si ya tienes una cuenta de personal, inicia sesión con ella y envía a la misma dirección \
         solo {{\"token\": {token_json}}}.\n\
         \n\
         Si no esperabas esta invitación, ignora este mensaje.\n\
         \n\
         ----------------------------------------\n\
         \n\
         [English]\n\
         \n\
         You have been invited to join the team of the shelter \"{shelter}\" on Refugio as \
         {role_en}.\n\
         \n\
         Your invitation code is:\n\
         \n\
         \x20   {token}\n\
         \n\
         It is valid until {expires} and can be used only once.\n\
         \n\
         If you do not have an account yet, create it and accept the invitation by sending:\n\
         \n\
         \x20   POST /api/v1/invitations/accept\n\
         \x20   {{\"token\": {token_json}, \"name\": \"Your name\", \"password\": \"a password of 10 to 128 characters\"}}\n\
         \n\
         If you already have a staff account, sign in with it and send just \
         {{\"token\": {token_json}}} to the same address.\n\
         \n\
         If you were not expecting this invitation, ignore this message.\n\
         \n\
         — Refugio\n"
    );
    (subject, body)
}

/// `s` as a JSON string literal, quotes included, for the request examples.
fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// `s` with control characters (line breaks included) turned into spaces, fit for a header.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const TOKEN: &str = "Zm9vYmFyLWJhei1xdXV4LXRva2VuLTAxMjM0NTY3ODk";

    fn reset() -> Message {
        Message::PasswordReset {
            token: TOKEN.into(),
            expires_in_minutes: 60,
        }
    }

    fn invitation() -> Message {
        Message::Invitation {
            shelter_name: "Albergue San José".into(),
            role: MembershipRole::Coordinator,
            token: TOKEN.into(),
            expires_at: Utc
                .with_ymd_and_hms(2026, 12, 5, 14, 30, 0)
                .single()
                .expect("a valid date"),
        }
    }

    #[test]
    fn template_names_are_stable() {
        assert_eq!(reset().template(), "password_reset");
        assert_eq!(invitation().template(), "invitation");
    }

    #[test]
    fn password_reset_renders_in_spanish() {
        let r = reset().render(Locale::Es);
        assert_eq!(r.subject, "Restablece tu contraseña de Refugio");
        assert!(r.body.contains("contraseña"), "{}", r.body);
        assert!(r.body.contains("Caduca en 60 minutos"), "{}", r.body);
        assert!(r.body.contains(&format!("    {TOKEN}\n")), "{}", r.body);
        assert!(r.body.contains("POST /api/v1/auth/password-reset/confirm"));
        assert!(r
            .body
            .contains(&format!("{{\"token\": \"{TOKEN}\", \"password\": ")));
        assert!(!r.body.contains("password reset code"));
    }

    #[test]
    fn password_reset_renders_in_english() {
        let r = reset().render(Locale::En);
        assert_eq!(r.subject, "Reset your Refugio password");
        assert!(r.body.contains("It expires in 60 minutes"), "{}", r.body);
        assert!(r.body.contains(TOKEN));
        assert!(r.body.contains("POST /api/v1/auth/password-reset/confirm"));
        assert!(!r.body.contains("contraseña"));
    }

    #[test]
    fn one_minute_is_singular() {
        let m = Message::PasswordReset {
            token: TOKEN.into(),
            expires_in_minutes: 1,
        };
        assert!(m.render(Locale::Es).body.contains("Caduca en 1 minuto "));
        assert!(m.render(Locale::En).body.contains("expires in 1 minute "));
    }

    #[test]
    fn invitation_is_bilingual_whatever_the_locale() {
        let es = invitation().render(Locale::Es);
        assert_eq!(es, invitation().render(Locale::En));
        assert!(es
            .subject
            .starts_with("Invitación al refugio «Albergue San José»"));
        assert!(es
            .subject
            .contains("Invitation to the shelter \"Albergue San José\""));
        let spanish = es
            .body
            .find("Tu código de invitación es")
            .expect("Spanish part");
        let english = es
            .body
            .find("Your invitation code is")
            .expect("English part");
        assert!(spanish < english, "Spanish comes first");
        assert!(es.body.contains("con el rol de coordinador."));
        assert!(es.body.contains("as coordinator."));
        assert!(es.body.contains("2026-12-05 14:30 UTC"));
        assert_eq!(es.body.matches(&format!("    {TOKEN}\n")).count(), 2);
        assert_eq!(
            es.body.matches("POST /api/v1/invitations/accept").count(),
            2
        );
        assert!(es.body.contains(&format!(
            "{{\"token\": \"{TOKEN}\", \"name\": \"Tu nombre\", \"password\": "
        )));
        assert!(es.body.contains(&format!(
            "{{\"token\": \"{TOKEN}\", \"name\": \"Your name\", \"password\": "
        )));
    }

    #[test]
    fn subjects_are_one_non_empty_line() {
        let tricky = Message::Invitation {
            shelter_name: "Refugio\r\nBcc: x@example.com".into(),
            role: MembershipRole::Manager,
            token: TOKEN.into(),
            expires_at: Utc::now(),
        };
        for m in [reset(), invitation(), tricky] {
            for locale in Locale::ALL {
                let r = m.render(*locale);
                assert!(!r.subject.trim().is_empty());
                assert!(!r.subject.contains(['\r', '\n']), "{:?}", r.subject);
            }
        }
    }

    fn donation_received() -> Message {
        Message::DonationReceived {
            amount: "1725.00 MXN".into(),
            allocations: vec![
                AllocatedLine {
                    shelter_name: "Albergue San José".into(),
                    need_title: "Frijol negro".into(),
                    amount: "1000.00 MXN".into(),
                },
                AllocatedLine {
                    shelter_name: "Casa Esperanza".into(),
                    need_title: "Recibo de luz".into(),
                    amount: "500.00 MXN".into(),
                },
            ],
            unallocated: Some("225.00 MXN".into()),
        }
    }

    fn need_spent() -> Message {
        Message::NeedSpent {
            shelter_name: "Albergue San José".into(),
            need_title: "Frijol negro".into(),
            amount: "640.50 MXN".into(),
            spent_on: NaiveDate::from_ymd_opt(2026, 3, 14).expect("a valid date"),
        }
    }

    fn need_fulfilled() -> Message {
        Message::NeedFulfilled {
            shelter_name: "Albergue San José".into(),
            need_title: "Frijol negro".into(),
        }
    }

    fn restriction_widened() -> Message {
        Message::RestrictionWidened {
            shelter_name: "Albergue San José".into(),
            need_title: "Cobijas".into(),
            category: "bedding".into(),
        }
    }

    fn pledge_expired() -> Message {
        Message::PledgeExpired {
            shelter_name: "Albergue San José".into(),
            need_title: "Arroz".into(),
            quantity: "40 kg".into(),
        }
    }

    fn need_critical() -> Message {
        Message::NeedCritical {
            shelter_name: "Albergue San José".into(),
            title: "Agua embotellada".into(),
            drivers: vec!["Quedan 2 días".into()],
        }
    }

    /// Every variant, with the data its body must show.
    fn donor_messages() -> Vec<(Message, Vec<&'static str>)> {
        vec![
            (
                donation_received(),
                vec![
                    "1725.00 MXN",
                    "1000.00 MXN",
                    "500.00 MXN",
                    "225.00 MXN",
                    "Frijol negro",
                    "Recibo de luz",
                    "Albergue San José",
                    "Casa Esperanza",
                ],
            ),
            (
                need_spent(),
                vec![
                    "640.50 MXN",
                    "Frijol negro",
                    "Albergue San José",
                    "2026-03-14",
                ],
            ),
            (need_fulfilled(), vec!["Frijol negro", "Albergue San José"]),
            (restriction_widened(), vec!["Cobijas", "Albergue San José"]),
            (
                pledge_expired(),
                vec!["40 kg", "Arroz", "Albergue San José"],
            ),
        ]
    }

    fn audit_checkpoints() -> Message {
        Message::AuditCheckpoints {
            day: NaiveDate::from_ymd_opt(2026, 12, 3).expect("a valid date"),
            heads: vec![
                Checkpoint {
                    chain: "platform".into(),
                    seq: 42,
                    hash: "ab".repeat(32),
                },
                Checkpoint {
                    chain: "0190f5e2-0000-7000-8000-000000000001".into(),
                    seq: 7,
                    hash: "0c".repeat(32),
                },
            ],
        }
    }

    #[test]
    fn audit_checkpoints_list_one_readable_line_per_chain() {
        let m = audit_checkpoints();
        let heads = match &m {
            Message::AuditCheckpoints { heads, .. } => heads.clone(),
            _ => Vec::new(),
        };
        let es = m.render(Locale::Es);
        let en = m.render(Locale::En);
        assert_eq!(en.subject, "Audit checkpoints for 2026-12-03");
        assert_eq!(es.subject, "Puntos de control de auditoría del 2026-12-03");
        for r in [&es, &en] {
            for h in &heads {
                assert!(r.body.contains(&format!("\n{h}\n")), "{}", r.body);
            }
            assert!(r.body.contains("refugio audit verify"), "{}", r.body);
            assert!(r.body.contains("--checkpoints"), "{}", r.body);
            assert!(r.body.ends_with("— Refugio\n"), "{}", r.body);
            // The verifier reads exactly these checkpoints back from the body.
            let read: Vec<Checkpoint> = refugio_core::audit_export::parse_checkpoints(&r.body)
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            assert_eq!(read, heads);
        }
        let none = Message::AuditCheckpoints {
            day: NaiveDate::from_ymd_opt(2026, 12, 3).expect("a valid date"),
            heads: Vec::new(),
        };
        assert!(none
            .render(Locale::En)
            .body
            .contains("No chain has any events yet"));
        assert!(none.render(Locale::Es).body.contains("Aún no hay eventos"));
    }

    #[test]
    fn template_names_are_distinct() {
        let mut names: Vec<&str> = [reset(), invitation(), need_critical(), audit_checkpoints()]
            .into_iter()
            .chain(donor_messages().into_iter().map(|(m, _)| m))
            .map(|m| m.template())
            .collect();
        assert_eq!(names.len(), 9);
        assert_eq!(names[3], "audit_checkpoints");
        assert_eq!(
            names[4..],
            [
                "donation_received",
                "need_spent",
                "need_fulfilled",
                "restriction_widened",
                "pledge_expired"
            ]
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 9, "{names:?}");
    }

    #[test]
    fn donor_messages_render_in_both_languages() {
        for (m, data) in donor_messages() {
            let es = m.render(Locale::Es);
            let en = m.render(Locale::En);
            assert_ne!(es.subject, en.subject, "{}", m.template());
            assert_ne!(es.body, en.body, "{}", m.template());
            for r in [&es, &en] {
                assert!(!r.subject.trim().is_empty(), "{}", m.template());
                assert!(!r.subject.contains(['\r', '\n']), "{:?}", r.subject);
                assert!(r.body.ends_with("— Refugio\n"), "{}", r.body);
                for d in &data {
                    assert!(
                        r.body.contains(d),
                        "{} lacks {d}:\n{}",
                        m.template(),
                        r.body
                    );
                }
            }
            assert!(es.body.starts_with("Hola:"), "{}", es.body);
            assert!(en.body.starts_with("Hello,"), "{}", en.body);
        }
    }

    #[test]
    fn donation_lists_one_line_per_allocation() {
        let es = donation_received().render(Locale::Es);
        assert!(es
            .body
            .contains("  - 1000.00 MXN: «Frijol negro» de Albergue San José\n"));
        assert!(es
            .body
            .contains("  - 500.00 MXN: «Recibo de luz» de Casa Esperanza\n"));
        assert!(
            es.body.contains("Quedan 225.00 MXN en espera"),
            "{}",
            es.body
        );
        let en = donation_received().render(Locale::En);
        assert!(en
            .body
            .contains("  - 1000.00 MXN: \"Frijol negro\" at Albergue San José\n"));
        assert!(
            en.body.contains("225.00 MXN is still waiting"),
            "{}",
            en.body
        );
        assert!(en.body.contains("allocated automatically"), "{}", en.body);
    }

    #[test]
    fn donation_without_allocations_waits_for_a_need() {
        let m = Message::DonationReceived {
            amount: "100.00 USD".into(),
            allocations: Vec::new(),
            unallocated: Some("100.00 USD".into()),
        };
        let es = m.render(Locale::Es);
        assert!(
            es.body.contains("en cuanto aparezca una necesidad"),
            "{}",
            es.body
        );
        assert!(!es.body.contains("  - "), "{}", es.body);
        let en = m.render(Locale::En);
        assert!(en.body.contains("as soon as a need"), "{}", en.body);
        assert!(!en.body.contains("  - "), "{}", en.body);
    }

    #[test]
    fn donation_fully_allocated_has_nothing_waiting() {
        let m = Message::DonationReceived {
            amount: "100.00 USD".into(),
            allocations: vec![AllocatedLine {
                shelter_name: "Casa Esperanza".into(),
                need_title: "Pañales".into(),
                amount: "100.00 USD".into(),
            }],
            unallocated: None,
        };
        assert!(!m.render(Locale::Es).body.contains("en espera"));
        assert!(!m.render(Locale::En).body.contains("waiting"));
    }

    #[test]
    fn categories_read_as_words() {
        let es = restriction_widened().render(Locale::Es);
        assert!(es.body.contains("categoría: ropa de cama."), "{}", es.body);
        let en = restriction_widened().render(Locale::En);
        assert!(en.body.contains("category: bedding."), "{}", en.body);
        assert_eq!(category_word(Locale::Es, "utilities"), "servicios");
        assert_eq!(category_word(Locale::Es, "medical"), "salud");
        assert_eq!(category_word(Locale::En, "transport"), "transport");
        assert_eq!(category_word(Locale::Es, "mystery"), "mystery");
    }

    #[test]
    fn tokens_are_quoted_as_json_strings() {
        assert_eq!(json_string("a\"b"), r#""a\"b""#);
    }
}
