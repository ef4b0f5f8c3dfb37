//! A setting's value that must never be printed, on its own so that every settings module
//! can hold one without importing another.

use std::fmt;

/// A value that must never be printed (a client secret, a header shared secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(pub String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
