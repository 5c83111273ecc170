//! The daemon's HTTP endpoint (`--metrics-addr`): `GET /metrics` (Prometheus text),
//! `GET /healthz` (200 while the process serves), `GET /readyz` (200 once the listeners are up,
//! 503 from the moment shutdown starts). Anything else is 404; a method other than GET/HEAD on a
//! known path is 405.
//!
//! HTTP/1.1 through hyper 1 (with hyper-util's tokio adapter): a scraper or a load balancer's
//! health check is a peer that deserves a real HTTP parser, keep-alive and error handling, and
//! hyper is the maintained one. Each scrape builds the text from collectors that read the live
//! counters, so there is no second copy of any number to keep in step.
//!
//! Invariants: nothing here writes to the store or the daemon state; it only reads. At most
//! [`MAX_CONNECTIONS`] HTTP connections are served at once (more are closed at accept), and a
//! peer has [`HEADER_TIMEOUT`] to send its request head, so a stuck or hostile scraper cannot
//! pile up tasks.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::collector::DaemonCollector;
use super::state::ServerState;
use crate::metrics::{encode, StatsCollector, CONTENT_TYPE};

/// Most HTTP connections served at once; scrapers and health checks need a handful.
const MAX_CONNECTIONS: usize = 64;

/// How long a peer may take to send a request head.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the endpoint until `stop` changes or is dropped. `run` fires it only after the
/// connections have drained, so `/readyz` answers 503 for the whole shutdown.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<ServerState>,
    stop: watch::Receiver<bool>,
) {
    let registry = Arc::new(registry(&shared));
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut stop_accept = stop.clone();
    loop {
        let accepted = tokio::select! {
            _ = stop_accept.changed() => return,
            a = listener.accept() => a,
        };
        let (sock, _) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            tracing::warn!(
                "metrics endpoint: {MAX_CONNECTIONS} connections open; closing a new one"
            );
            continue;
        };
        let shared = Arc::clone(&shared);
        let registry = Arc::clone(&registry);
        let mut stop_conn = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let reply = respond(&req, &shared, &registry);
                async move { Ok::<_, Infallible>(reply) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(sock), service);
            tokio::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, "metrics endpoint: connection error");
                    }
                }
                _ = stop_conn.changed() => {}
            }
            drop(permit);
        });
    }
}

/// The registry `/metrics` encodes: the store's stats and the daemon's own metrics.
fn registry(shared: &Arc<ServerState>) -> Registry {
    let mut registry = Registry::default();
    let store = Arc::clone(&shared.store);
    registry.register_collector(Box::new(StatsCollector::new(move || store.stats())));
    registry.register_collector(Box::new(DaemonCollector::new(Arc::clone(shared))));
    registry
}

fn respond(
    req: &Request<Incoming>,
    shared: &ServerState,
    registry: &Registry,
) -> Response<Full<Bytes>> {
    let known = matches!(req.uri().path(), "/metrics" | "/healthz" | "/readyz");
    if !known {
        return text(StatusCode::NOT_FOUND, "not found\n");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
    }
    match req.uri().path() {
        "/metrics" => {
            let body = encode(registry);
            let mut r = Response::new(Full::new(Bytes::from(body)));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(CONTENT_TYPE),
            );
            r
        }
        "/healthz" => text(StatusCode::OK, "ok\n"),
        _ => {
            if shared.ready.load(Ordering::Acquire) {
                text(StatusCode::OK, "ready\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }
        }
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
