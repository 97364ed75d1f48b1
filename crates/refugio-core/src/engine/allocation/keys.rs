//! Dense numbering, table sizes and sort keys shared by the allocator's paths.

use crate::engine::needs::NeedCategory;
use crate::engine::priority::Band;
use crate::money::Currency;

/// An index as `u32`: the allocator numbers needs and shelters in 32 bits.
pub(super) fn index_u32(index: usize) -> u32 {
    u32::try_from(index).expect("fewer than 2^32 needs")
}

/// Marks a free slot.
pub(super) const NONE: u32 = u32::MAX;

/// How many currencies there are (indexable by `currency as usize`).
pub(super) const CURRENCIES: usize = Currency::ALL.len();

/// How many need categories there are (indexable by `category as usize`).
pub(super) const CATEGORIES: usize = NeedCategory::ALL.len();

/// How many bands there are (indexable by `band.rank()`).
pub(super) const BANDS: usize = Band::ALL.len();

pub(super) fn band_index(band: Band) -> usize {
    usize::try_from(band.rank()).unwrap_or(0)
}

/// A key that sorts scores descending: `score_key(a) < score_key(b)` iff `a > b`.
pub(super) fn score_key(score: i64) -> u64 {
    !((score as u64) ^ (1 << 63))
}

/// The length of the longest prefix all `texts` share.
pub(super) fn common_prefix_len<'t>(mut texts: impl Iterator<Item = &'t str>) -> usize {
    let Some(first) = texts.next() else {
        return 0;
    };
    let first = first.as_bytes();
    let mut len = first.len();
    for text in texts {
        len = first[..len]
            .iter()
            .zip(text.as_bytes())
            .take_while(|(a, b)| a == b)
            .count();
        if len == 0 {
            break;
        }
    }
    len
}

/// Sixteen bytes of `text` after the first `skip` (padded with zeros), as a big-endian number.
/// For texts sharing their first `skip` bytes, `text_key(a) < text_key(b)` implies `a < b`; equal
/// keys say nothing.
pub(super) fn text_key(text: &str, skip: usize) -> u128 {
    let rest = text.as_bytes().get(skip..).unwrap_or_default();
    let mut bytes = [0u8; 16];
    let n = rest.len().min(16);
    bytes[..n].copy_from_slice(&rest[..n]);
    u128::from_be_bytes(bytes)
}
