//! The public board's order: band (critical first), score descending, opened first, id.

use super::priority::Band;
use std::cmp::Ordering;

/// The sort key of a need on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardKey {
    pub band: Band,
    /// Tenths.
    pub score: i64,
    /// Any totally ordered timestamp text or number; RFC 3339 UTC text sorts correctly.
    pub opened_at: String,
    pub id: String,
}

impl Ord for BoardKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.band
            .cmp(&other.band)
            .then(other.score.cmp(&self.score))
            .then(self.opened_at.cmp(&other.opened_at))
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for BoardKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(band: Band, score: i64, opened: &str, id: &str) -> BoardKey {
        BoardKey {
            band,
            score,
            opened_at: opened.into(),
            id: id.into(),
        }
    }

    #[test]
    fn critical_first_then_score_then_age_then_id() {
        let mut keys = [
            key(Band::High, 900, "2026-01-02", "a"),
            key(Band::Critical, 500, "2026-01-03", "b"),
            key(Band::High, 950, "2026-01-05", "c"),
            key(Band::High, 900, "2026-01-01", "d"),
            key(Band::High, 900, "2026-01-01", "c"),
        ];
        keys.sort();
        let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "c", "d", "a"]);
    }
}
