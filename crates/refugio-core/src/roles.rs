//! Platform roles, shelter membership roles and user locales, as the API spells them.

/// Error for a string that is not one of an enum's API spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::roles::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($text => Ok($name::$variant),)+ other => Err($crate::roles::UnknownValue(other.to_owned())) }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

pub(crate) use api_enum;

api_enum! {
    /// What a user is on the platform.
    Role { Admin => "admin", Auditor => "auditor", Staff => "staff", Donor => "donor" }
}

api_enum! {
    /// What a staff member may do in one shelter.
    MembershipRole { Manager => "manager", Coordinator => "coordinator" }
}

api_enum! {
    /// The language a user reads errors and emails in.
    Locale { Es => "es", En => "en" }
}

impl Locale {
    /// The first supported language of an `Accept-Language` header, `en` when none is.
    pub fn from_accept_language(header: Option<&str>) -> Option<Locale> {
        let header = header?;
        let mut best: Option<(Locale, u32)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u32);
            let primary = tag.split('-').next().unwrap_or_default();
            let Ok(locale) = primary.parse::<Locale>() else {
                continue;
            };
            if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((locale, quality));
            }
        }
        best.map(|(l, _)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_api_spelling() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(
            Locale::from_accept_language(Some("es-MX,es;q=0.9,en;q=0.8")),
            Some(Locale::Es)
        );
        assert_eq!(
            Locale::from_accept_language(Some("fr, en;q=0.5, es;q=0.7")),
            Some(Locale::Es)
        );
        assert_eq!(Locale::from_accept_language(Some("de")), None);
        assert_eq!(Locale::from_accept_language(Some("es;q=0")), None);
        assert_eq!(Locale::from_accept_language(None), None);
    }
}
