//! Identifiers: UUIDv7 strings, generated in the application so inserts need no `RETURNING`.

/// A new, time-ordered, opaque id (UUIDv7, lowercase hyphenated).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether `s` looks like an id this service could have issued; anything else is a `404`.
pub fn is_well_formed(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sortable_by_creation() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert!(!is_well_formed("not-an-id"));
    }
}
