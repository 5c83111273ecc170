//! Values: the owned [`Value`] reads hand out, the borrowed [`ValueRef`] writes take, and
//! Redis's integer rules (`string2ll` parsing, decimal length) that decide when a value is
//! kept as an integer.

/// An owned value as handed out by reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text or binary bytes.
    Bytes(Vec<u8>),
    /// A 64-bit integer, kept as such so INCR needs no parsing.
    Int(i64),
}

impl Value {
    /// The value as bytes; integers become decimal text.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b.clone(),
            Value::Int(n) => n.to_string().into_bytes(),
        }
    }

    /// The value, borrowed.
    pub fn view(&self) -> ValueRef<'_> {
        match self {
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Int(n) => ValueRef::Int(*n),
        }
    }

    /// Length in bytes of the value's byte form.
    pub fn byte_len(&self) -> usize {
        match self {
            Value::Bytes(b) => b.len(),
            Value::Int(n) => decimal_len(*n),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Bytes(s.into_bytes())
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

/// A borrowed view of a stored value, for zero-copy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// Text or binary bytes.
    Bytes(&'a [u8]),
    /// A 64-bit integer.
    Int(i64),
}

impl ValueRef<'_> {
    /// Copy into an owned [`Value`].
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::Int(n) => Value::Int(n),
        }
    }
}

/// Number of bytes in the decimal form of `n`.
pub(crate) fn decimal_len(n: i64) -> usize {
    let mut len = if n < 0 { 2 } else { 1 };
    let mut m = n.unsigned_abs();
    while m >= 10 {
        m /= 10;
        len += 1;
    }
    len
}

/// Parse bytes as an i64 the way Redis's `string2ll` does: optional '-', no '+', no spaces,
/// no leading zeros, within range.
pub(crate) fn parse_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    if b == b"0" {
        return Some(0);
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut acc: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let v = i64::from(d - b'0');
        acc = acc.checked_mul(10)?;
        acc = if neg {
            acc.checked_sub(v)?
        } else {
            acc.checked_add(v)?
        };
    }
    Some(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_follows_redis() {
        for (input, expected) in [
            ("0", Some(0)),
            ("42", Some(42)),
            ("-42", Some(-42)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("+1", None),
            (" 1", None),
            ("01", None),
            ("-0", None),
            ("1.5", None),
            ("", None),
            ("abc", None),
        ] {
            assert_eq!(parse_i64(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn decimal_len_matches_to_string() {
        for n in [0, 9, 10, -1, -10, 12345, i64::MAX, i64::MIN] {
            assert_eq!(decimal_len(n), n.to_string().len(), "{n}");
        }
    }
}
