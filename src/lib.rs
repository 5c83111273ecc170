//! TinyKV: fast local application memory.
