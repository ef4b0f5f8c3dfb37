//! A stream entry's id, `<milliseconds>-<sequence>`, ordered as Redis orders them.

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, derive_more::Display)]
#[display("{ms}-{seq}")]
pub struct EntryId {
    ms: u64,
    seq: u64,
}

impl EntryId {
    /// `0-0`: before every entry (a stream that does not exist yet).
    pub const ZERO: EntryId = EntryId { ms: 0, seq: 0 };
}

impl FromStr for EntryId {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (ms, seq) = text.split_once('-').ok_or(())?;
        Ok(EntryId { ms: ms.parse().map_err(|_| ())?, seq: seq.parse().map_err(|_| ())? })
    }
}

#[cfg(test)]
mod tests {
    use super::EntryId;

    #[test]
    fn ids_compare_by_time_then_sequence() {
        let id = |text: &str| text.parse::<EntryId>().unwrap();
        assert!(id("1700000000000-0") < id("1700000000000-1"));
        assert!(id("1700000000000-9") < id("1700000000001-0"));
        assert!(id("9-0") < id("10-0"), "numbers, not text");
        assert_eq!(id("0-0"), EntryId::ZERO);
        assert_eq!(id("5-3").to_string(), "5-3");
        assert!("5".parse::<EntryId>().is_err());
        assert!("a-1".parse::<EntryId>().is_err());
    }
}
