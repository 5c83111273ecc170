//! Crossing threads: [`Wake`] delivers a Rust message from any thread to one JS thread's event
//! loop (an N-API threadsafe function with no JS function behind it), [`Deferred`] settles a
//! promise made on that thread, and [`at_teardown`] runs Rust code when a JS environment (the
//! main thread at exit, or a worker that exits or is terminated) goes away.
//!
//! # Why these calls are sound
//! - A threadsafe function may be called from any thread until it is finalized. Node finalizes
//!   it in its own cleanup hook when the env tears down; [`Wake::close`] runs from our cleanup
//!   hook, which is registered after the threadsafe function was made and so runs before Node's
//!   (cleanup hooks run in reverse order), and it clears the handle under the same mutex every
//!   caller holds while calling. No call can reach a finalized threadsafe function.
//! - [`deliver`] runs on the env's JS thread with a handle scope open (Node dispatches queued
//!   calls that way), so the `Env` it makes obeys `raw/mod.rs`'s rule; a null env means the
//!   queue is being drained at teardown, and the message is only dropped.
//! - A `napi_deferred` is used once, on the thread that made it ([`Deferred`] is neither `Send`
//!   nor `Sync`, and `settle` consumes it).
use super::{made, Env, Js, JsResult, Thrown};
use napi::sys;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::ptr::null_mut;
use std::sync::{Arc, Mutex};

/// A message a [`Wake`] carries to its JS thread, where `deliver` runs with that thread's env.
pub(crate) trait Message: Send + 'static {
    /// Runs on the receiving JS thread.
    fn deliver(self, env: Env);
}

/// The raw threadsafe function pointer, which N-API allows calling from any thread.
struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: napi_call_threadsafe_function may be called from any thread (module docs say until
// when); ref/unref are called only on the owning JS thread (`Wake::hold`'s contract).
unsafe impl Send for Tsfn {}

/// A doorbell on one JS thread: `send` from any thread queues a message its event loop runs.
pub(crate) struct Wake<T: Message> {
    /// The threadsafe function, `None` once its env is tearing down (then `send` refuses).
    tsfn: Mutex<Option<Tsfn>>,
    /// The message type this doorbell carries.
    _msg: PhantomData<fn(T)>,
}

/// Runs a queued message on its JS thread (or drops it when the queue is drained at teardown).
unsafe extern "C" fn deliver<T: Message>(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is the `Box<T>` that `Wake::send` leaked for this one call.
    let msg = unsafe { Box::from_raw(data as *mut T) };
    if env.is_null() {
        return;
    }
    // SAFETY: Node calls this on the env's JS thread inside a handle scope (module docs).
    let env = unsafe { Env::from_raw(env) };
    // A panic must not unwind into Node; `guard` turns it into a JS exception.
    env.guard(|| {
        msg.deliver(env);
        Ok(env.undefined())
    });
}

impl<T: Message> Wake<T> {
    /// A doorbell on `env`'s thread, unreferenced (it keeps the event loop alive only while
    /// [`Wake::hold`] says so), closed when the env tears down.
    pub(crate) fn new(env: Env) -> JsResult<Arc<Wake<T>>> {
        let name = env.string(b"TinyKV.getOrSet")?;
        let mut raw = null_mut();
        // SAFETY: a live env and handle (raw/mod.rs); no JS function, so `deliver` is required
        // and given; an unbounded queue (0), one owning thread.
        let st = unsafe {
            sys::napi_create_threadsafe_function(
                env.raw,
                null_mut(),
                null_mut(),
                name.raw,
                0,
                1,
                null_mut(),
                None,
                null_mut(),
                Some(deliver::<T>),
                &mut raw,
            )
        };
        if st != sys::Status::napi_ok || raw.is_null() {
            return Err(env.throw(
                super::Kind::Error,
                "TinyKV: could not create a thread-safe function",
            ));
        }
        // SAFETY: on the owning thread, with the function just made.
        unsafe { sys::napi_unref_threadsafe_function(env.raw, raw) };
        let wake = Arc::new(Wake {
            tsfn: Mutex::new(Some(Tsfn(raw))),
            _msg: PhantomData,
        });
        let w = wake.clone();
        at_teardown(env, Box::new(move || w.close()))?;
        Ok(wake)
    }

    /// Queues `msg` for the JS thread; false (and `msg` dropped) once that thread is gone.
    pub(crate) fn send(&self, msg: T) -> bool {
        let guard = self.tsfn.lock().unwrap_or_else(|p| p.into_inner());
        let Some(t) = guard.as_ref() else {
            return false;
        };
        let data = Box::into_raw(Box::new(msg)) as *mut c_void;
        // SAFETY: the function is not finalized while the handle is `Some` (module docs).
        let st = unsafe {
            sys::napi_call_threadsafe_function(
                t.0,
                data,
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        if st != sys::Status::napi_ok {
            // SAFETY: N-API refused the call, so it never took `data`.
            drop(unsafe { Box::from_raw(data as *mut T) });
            return false;
        }
        true
    }

    /// Keeps `env`'s event loop alive (`true`) or not (`false`) while messages are awaited.
    /// Call on this doorbell's own JS thread, with its env.
    pub(crate) fn hold(&self, env: Env, on: bool) {
        let guard = self.tsfn.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = guard.as_ref() {
            // SAFETY: on the owning thread (the caller's contract), with a live function.
            unsafe {
                if on {
                    sys::napi_ref_threadsafe_function(env.raw, t.0);
                } else {
                    sys::napi_unref_threadsafe_function(env.raw, t.0);
                }
            }
        }
    }

    /// Stops every later `send`; Node finalizes the function itself after this.
    fn close(&self) {
        self.tsfn.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A boxed teardown action, the data of one env cleanup hook.
type Teardown = Box<dyn FnOnce()>;

unsafe extern "C" fn run_teardown(arg: *mut c_void) {
    // SAFETY: `arg` is the `Box<Teardown>` `at_teardown` leaked; Node runs each hook once.
    let f = unsafe { Box::from_raw(arg as *mut Teardown) };
    // No JS may run here and no panic may unwind into Node.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
}

/// Runs `f` when `env` tears down (its thread exits, is terminated, or the process exits).
/// Hooks run in reverse order of registration; `f` must not call into JS.
pub(crate) fn at_teardown(env: Env, f: Teardown) -> JsResult<()> {
    let data = Box::into_raw(Box::new(f)) as *mut c_void;
    // SAFETY: a live env; `run_teardown` frees `data` when it runs.
    let st = unsafe { sys::napi_add_env_cleanup_hook(env.raw, Some(run_teardown), data) };
    if st != sys::Status::napi_ok {
        // SAFETY: the hook was not registered, so nothing else holds `data`.
        drop(unsafe { Box::from_raw(data as *mut Teardown) });
        return Err(env.throw(
            super::Kind::Error,
            "TinyKV: could not register an env cleanup hook",
        ));
    }
    Ok(())
}

/// The settling side of a promise made on this JS thread.
pub(crate) struct Deferred {
    /// The N-API deferred, used once.
    raw: sys::napi_deferred,
    /// Not `Send`/`Sync`: a deferred belongs to its JS thread.
    _thread: PhantomData<*mut ()>,
}

impl Env {
    /// A new pending promise and the deferred that settles it.
    pub(crate) fn promise(self) -> JsResult<(Deferred, Js)> {
        let (mut d, mut p) = (null_mut(), null_mut());
        // SAFETY: a live env and out-pointers to locals.
        let st = unsafe { sys::napi_create_promise(self.raw, &mut d, &mut p) };
        let p = made(st, p).ok_or(Thrown)?;
        Ok((
            Deferred {
                raw: d,
                _thread: PhantomData,
            },
            p,
        ))
    }

    /// `new Error(msg)`, not thrown.
    pub(crate) fn error(self, msg: &str) -> JsResult {
        let m = self.string(msg.as_bytes())?;
        let mut e = null_mut();
        // SAFETY: a live env and handle.
        let st = unsafe { sys::napi_create_error(self.raw, null_mut(), m.raw, &mut e) };
        made(st, e).ok_or(Thrown)
    }

    /// Takes the pending exception, if any, so it can be passed on as a value.
    pub(crate) fn take_exception(self) -> Option<Js> {
        let mut e = null_mut();
        // SAFETY: a live env; an out-pointer to a local.
        let st = unsafe { sys::napi_get_and_clear_last_exception(self.raw, &mut e) };
        made(st, e).filter(|e| self.type_of(*e) != super::Type::Undefined)
    }
}

impl Deferred {
    /// Resolves (`ok`) or rejects the promise with `value`.
    pub(crate) fn settle(self, env: Env, ok: bool, value: Js) {
        // SAFETY: the deferred was made on this thread and is consumed here, once.
        unsafe {
            if ok {
                sys::napi_resolve_deferred(env.raw, self.raw, value.raw);
            } else {
                sys::napi_reject_deferred(env.raw, self.raw, value.raw);
            }
        }
    }
}
