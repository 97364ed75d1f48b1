//! `refugio admin create`: the first administrator, from the command line (and the demo's).

use crate::config::DatabaseArgs;
use crate::startup::connect_and_migrate;
use anyhow::{bail, Context};
use refugio_core::{Email, Locale, Role};
use refugio_db::Pool;

pub const PASSWORD_ENV: &str = "REFUGIO_ADMIN_PASSWORD";

/// Creates an admin and returns its id; an existing email is an error.
pub fn create(db: &DatabaseArgs, email: &str, name: &str) -> anyhow::Result<String> {
    let email = Email::parse(email)
        .map_err(|_| anyhow::anyhow!("{email:?} is not a valid email address"))?;
    let name =
        refugio_core::text::clean_name(name, refugio_api::validate::NAME_MAX).map_err(|_| {
            anyhow::anyhow!("the name must be 1 to 200 characters without control characters")
        })?;
    let password = match std::env::var(PASSWORD_ENV) {
        Ok(p) => p,
        Err(_) => rpassword::prompt_password("Password for the new admin: ")
            .context("cannot read the password")?,
    };
    let length = password.chars().count();
    if !(refugio_api::validate::PASSWORD_MIN..=refugio_api::validate::PASSWORD_MAX)
        .contains(&length)
    {
        bail!("the password must be 10 to 128 characters long");
    }
    let pool = connect_and_migrate(&db.database_url()?)?;
    insert(&pool, email, name, &password)
}

/// Creates an admin in `pool`'s database; an existing email is an error.
pub fn insert(pool: &Pool, email: Email, name: String, password: &str) -> anyhow::Result<String> {
    let hash = refugio_api::auth::password::hash(password)?;
    let mut conn = pool.get()?;
    let result = refugio_db::write_transaction(&mut conn, |c| {
        refugio_api::services::accounts::create(
            c,
            None,
            refugio_api::services::accounts::NewUser {
                email: email.clone(),
                password_hash: hash,
                name,
                role: Role::Admin,
                locale: Locale::Es,
                memberships: Vec::new(),
            },
        )
    });
    match result {
        Ok(user) => Ok(user.id),
        Err(refugio_api::error::ApiError::Conflict(_)) => {
            bail!("an account with the email {email} already exists")
        }
        Err(e) => Err(anyhow::anyhow!("could not create the admin: {e}")),
    }
}
