//! [`Text`]: the bytes of a name, value or comment as jail(8) holds them.
//!
//! jail(8) reads jail.conf as bytes and passes them on
//! (freebsd/freebsd-src usr.sbin/jail/jaillex.l keeps each piece as a C
//! string): a value may be ISO 8859-1 (`"caf\351"`) or any other bytes but
//! NUL. Text that must be shown (diagnostics, snapshots) is [`escaped`]:
//! UTF-8 as it is, every other byte as `\xHH`.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};
use smallvec::SmallVec;

/// Bytes, up to 16 of them kept in place (as many names and short values
/// are): the size of a `String`.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(SmallVec<[u8; 16]>);

impl Text {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, when it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn push_bytes(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

impl std::ops::Deref for Text {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for Text {
    fn from(bytes: &[u8]) -> Self {
        Text(SmallVec::from_slice(bytes))
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Text::from(text.as_bytes())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::from(text.as_bytes())
    }
}

impl From<Vec<u8>> for Text {
    fn from(bytes: Vec<u8>) -> Self {
        Text(SmallVec::from_vec(bytes))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&escaped(self), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escaped(self))
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&escaped(self))
    }
}

/// `bytes` as text to show: UTF-8 as it is, any other byte as `\xHH`.
pub fn escaped(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_are_shown_escaped() {
        assert_eq!(escaped(b"Gef\xe4ngnis f\xfcr"), "Gef\\xe4ngnis f\\xfcr");
        assert_eq!(escaped("Gefängnis".as_bytes()), "Gefängnis");
        assert_eq!(
            format!("{:?}", Text::from(&b"caf\xe9"[..])),
            "\"caf\\\\xe9\""
        );
    }

    #[test]
    fn short_text_is_kept_in_place() {
        assert_eq!(size_of::<Text>(), size_of::<String>());
    }
}
