//! The emails Refugio sends, rendered to a subject and a plain-text body.
//!
//! Adding an email means adding a `Message` variant; the compiler then asks for its template
//! name and its rendering.

use chrono::{DateTime, Utc};
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

    #[test]
    fn tokens_are_quoted_as_json_strings() {
        assert_eq!(json_string("a\"b"), r#""a\"b""#);
    }
}
