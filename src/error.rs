//! The crate's one error type. Display strings use Redis's wording where Redis has one, so the
//! daemon can send them to clients unchanged and the REPL and the addon show the same text.

/// Everything that can go wrong in a TinyKV operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// INCR-family command on a value that is not a 64-bit integer.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// INCR-family command whose result would leave the i64 range.
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    /// A key longer than the configured `max_key_len`.
    #[error("ERR key is {len} bytes, larger than the limit of {max} bytes")]
    KeyTooLarge {
        /// Length of the rejected key in bytes.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// A value longer than the configured `max_value_len`.
    #[error("ERR value is {len} bytes, larger than the limit of {max} bytes")]
    ValueTooLarge {
        /// Length of the rejected value in bytes.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// A write that the caps cannot make room for (policy `noeviction`, or an entry larger
    /// than the whole memory cap).
    #[error("OOM command not allowed when used memory > 'maxmemory'.")]
    OutOfMemory,
    /// A namespace name that cannot be registered (SELECT, the addon's `namespace()`): empty,
    /// longer than 256 bytes, or with whitespace or a control character. The message says which.
    #[error("ERR invalid namespace name: {0}")]
    InvalidNamespace(String),
    /// An argument a user can fix; the message says how.
    #[error("ERR {0}")]
    InvalidArgument(String),
}

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;
