//! The REPL over a daemon: [`Client`] as a [`Backend`], so the same REPL (and one-shot
//! commands) run against a daemon as against an in-process store. It lives here, not in
//! `client`, so the transport knows nothing of the REPL.

use std::io;

use super::repl::Backend;
use crate::client::Client;
use crate::command::Reply;

impl Backend for Client {
    fn name(&self) -> String {
        // host:port as redis-cli's prompt shows it, or unix:PATH.
        self.address().to_string()
    }

    fn describe(&self) -> String {
        format!("connected to the daemon at {}", self.address())
    }

    fn call(&mut self, argv: Vec<Vec<u8>>) -> Reply {
        let shutdown = argv
            .first()
            .is_some_and(|c| c.eq_ignore_ascii_case(b"SHUTDOWN"));
        match self.request(&argv) {
            Ok(r) => r,
            // SHUTDOWN succeeds by closing the connection without a reply (as redis-cli knows).
            Err(e) if shutdown && e.kind() == io::ErrorKind::UnexpectedEof => Reply::ok(),
            Err(e) => Reply::Error(format!("ERR connection to {} failed: {e}", self.address())),
        }
    }
}
