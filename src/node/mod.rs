//! The Node.js addon (feature `node`): the only module that imports napi.
mod proto;
mod raw;
