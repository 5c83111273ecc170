//! Entry memory: a size-class allocator that carves the store's entries out of 2 MiB chunks the
//! kernel can back with transparent huge pages.
//!
//! Entries are the store's only per-key allocations, so a cache of a million keys makes a
//! million of them. From glibc malloc they come out of 4 KiB pages: filling a store takes one
//! page fault per 28 entries of 144 bytes, and each random read walks a page table far bigger
//! than the TLB. Here:
//! - an entry of up to [`MAX_SMALL`] bytes gets a block of its size rounded up to 8 bytes
//!   (at least 32); bigger entries go to the global allocator;
//! - blocks of one size come from a 16 KiB span, which keeps a list of its freed blocks and a
//!   bump offset for the ones never used;
//! - spans come from 2 MiB chunks, aligned to 2 MiB and marked `MADV_HUGEPAGE` (all but the
//!   process's first, so a small store stays small), so one fault maps 14,000 such entries;
//! - a chunk whose spans are all free again stays mapped for [`DECAY_MS`], so a store that is
//!   flushed and refilled (or dropped and replaced) reuses its pages instead of faulting in and
//!   zeroing fresh ones; after that it goes back to the OS. The check runs on the allocator's
//!   own span traffic, on every store's reaper wake-up ([`purge_idle`]), as jemalloc's decay
//!   does, and on a janitor thread that sleeps until the oldest idle chunk is due, so a dropped
//!   store's memory goes back even when no store and no allocation is left.
//!
//! Four heaps, picked per thread in turn, each own their spans, so threads that write at once
//! mostly take different locks. A block is freed into the span it came from, whichever thread
//! frees it: a span's header at the span-aligned address below the block says where it belongs.
//!
//! Invariants: a span is in exactly one state (current span of one size class, on that class's
//! partial list, full, or in the pool); its `used` count is the number of its blocks handed out
//! and not freed; the pool holds every free span of every chunk still mapped, except the fresh
//! chunk's never-used tail; `SpanPool::idle` lists, oldest first, exactly the mapped chunks whose
//! spans are all free (the fresh chunk aside). Lock order: a class lock, then the pool lock.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;

/// The biggest allocation served from spans; bigger ones go to the global allocator.
const MAX_SMALL: usize = 1024;
/// Block sizes are multiples of this (and so blocks are 8-aligned).
const GRAIN: usize = 8;
/// The smallest block (an entry is at least a header and a namespace id: 26 bytes).
const MIN_BLOCK: usize = 32;
/// Bytes in a span, a power of two: a span's header is at the block address rounded down.
const SPAN: usize = 16 << 10;
/// Bytes in a chunk: the size of a transparent huge page on x86-64 and arm64.
const CHUNK: usize = 2 << 20;
/// Spans in a chunk.
const SPANS: u32 = (CHUNK / SPAN) as u32;
/// Bytes at the start of each span that hold its header (one cache line).
const HEADER: usize = 64;
/// Size classes, indexed by block size / GRAIN.
const CLASSES: usize = MAX_SMALL / GRAIN + 1;
/// Heaps, each with its own class locks.
const HEAPS: usize = 4;
/// Spans from mmap on Unix; elsewhere every entry comes from the global allocator.
const SLAB: bool = cfg!(unix);
/// How long a chunk whose spans are all free stays mapped for reuse, in ms.
const DECAY_MS: u64 = 1000;

/// Bytes an allocation of `n` bytes really takes: its block for a small entry, else glibc
/// malloc's chunk, `max(32, round_up(n + 8, 16))`; 0 for nothing.
#[inline]
pub const fn alloc_size(n: usize) -> usize {
    if n == 0 {
        0
    } else if SLAB && n <= MAX_SMALL {
        block_size(n)
    } else {
        let chunk = (n + 8 + 15) & !15;
        if chunk < 32 {
            32
        } else {
            chunk
        }
    }
}

/// The block size for a small allocation of `n` bytes.
#[inline]
const fn block_size(n: usize) -> usize {
    if n <= MIN_BLOCK {
        MIN_BLOCK
    } else {
        (n + GRAIN - 1) & !(GRAIN - 1)
    }
}

/// Span states.
const POOLED: u8 = 0;
const CURRENT: u8 = 1;
const PARTIAL: u8 = 2;
const FULL: u8 = 3;

/// The header at the start of every span.
#[repr(C, align(64))]
struct Span {
    /// First freed block; each free block holds the address of the next.
    free: *mut u8,
    /// Links in the class's partial list or in the pool.
    prev: *mut Span,
    next: *mut Span,
    /// Offset of the first never-used byte.
    bump: u32,
    /// Blocks handed out and not freed.
    used: u32,
    /// Block size while the span serves a class.
    block: u32,
    /// Free spans in this chunk, never-used ones included; kept only in a chunk's first span.
    chunk_free: u32,
    /// One of POOLED, CURRENT, PARTIAL, FULL.
    state: u8,
    /// The heap whose class lists hold this span.
    heap: u8,
    /// When every span of this chunk became free (ms on [`now_ms`]'s clock); kept only in a
    /// chunk's first span, and meaningful only while the chunk is on `SpanPool::idle`.
    idle_since: u64,
}

const _: () = assert!(std::mem::size_of::<Span>() == HEADER);

/// One size class of one heap.
struct Class {
    /// The span new blocks come from (null before the first).
    current: *mut Span,
    /// Spans that are neither current nor full nor empty.
    partial: *mut Span,
}

// SAFETY: the pointers are to span headers, which are only touched under this class's lock
// (or, for pooled spans, the pool's); they are not tied to a thread.
unsafe impl Send for Class {}

/// Spans not serving any class.
struct SpanPool {
    /// Free spans of mapped chunks, linked through their headers.
    free: *mut Span,
    /// Next never-used span of the newest chunk, and that chunk's end.
    fresh: usize,
    fresh_end: usize,
    /// Chunks mapped.
    chunks: usize,
    /// Mapped chunks whose spans are all free, oldest first: reused before a new chunk is
    /// mapped, and unmapped once idle for [`DECAY_MS`].
    idle: Vec<usize>,
}

// SAFETY: as for `Class`.
unsafe impl Send for SpanPool {}

#[allow(clippy::declare_interior_mutable_const)]
const CLASS: Mutex<Class> = Mutex::new(Class {
    current: null_mut(),
    partial: null_mut(),
});

static HEAP_CLASSES: [[Mutex<Class>; CLASSES]; HEAPS] = [const { [CLASS; CLASSES] }; HEAPS];
static POOL: Mutex<SpanPool> = Mutex::new(SpanPool {
    free: null_mut(),
    fresh: 0,
    fresh_end: 0,
    chunks: 0,
    idle: Vec::new(),
});
static NEXT_HEAP: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's heap, assigned in turn on first use.
    static HEAP: Cell<u8> = const { Cell::new(u8::MAX) };
}

/// Takes a lock; no code panics while holding one, but a poisoned lock is still sound to use.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn heap_index() -> usize {
    HEAP.try_with(|h| {
        let v = h.get();
        if v != u8::MAX {
            return v as usize;
        }
        let v = NEXT_HEAP.fetch_add(1, Ordering::Relaxed) % HEAPS;
        h.set(v as u8);
        v
    })
    .unwrap_or(0)
}

fn large_layout(n: usize) -> Layout {
    match Layout::from_size_align(n, GRAIN) {
        Ok(l) => l,
        // Entry sizes are bounded by the store's limits, far below isize::MAX.
        Err(_) => handle_alloc_error(Layout::new::<u64>()),
    }
}

/// Allocates `n > 0` bytes, 8-aligned. Never returns null: out of memory aborts, as `alloc` does.
#[inline]
pub(crate) fn allocate(n: usize) -> *mut u8 {
    debug_assert!(n > 0);
    let p = if SLAB && n <= MAX_SMALL {
        let size = block_size(n);
        // SAFETY: the class lock is held for every span it reaches.
        unsafe { alloc_small(heap_index(), size) }
    } else {
        // SAFETY: the layout is non-zero.
        unsafe { alloc(large_layout(n)) }
    };
    if p.is_null() {
        handle_alloc_error(large_layout(n));
    }
    p
}

/// Frees `p`, an allocation of `n` bytes from [`allocate`].
///
/// # Safety
/// `p` came from `allocate(n)` with this same `n` and is freed once.
#[inline]
pub(crate) unsafe fn release(p: *mut u8, n: usize) {
    if SLAB && n <= MAX_SMALL {
        free_small(p, block_size(n))
    } else {
        dealloc(p, large_layout(n))
    }
}

/// The span holding block `p`.
#[inline]
fn span_of(p: *mut u8) -> *mut Span {
    p.map_addr(|a| a & !(SPAN - 1)) as *mut Span
}

/// The first span of the chunk holding span `s`, where the chunk's free count lives.
#[inline]
fn chunk_of(s: *mut Span) -> *mut Span {
    s.map_addr(|a| a & !(CHUNK - 1))
}

unsafe fn alloc_small(heap: usize, size: usize) -> *mut u8 {
    let mut class = lock(&HEAP_CLASSES[heap][size / GRAIN]);
    loop {
        let s = class.current;
        if !s.is_null() {
            let b = (*s).free;
            if !b.is_null() {
                (*s).free = *(b as *mut *mut u8);
                (*s).used += 1;
                return b;
            }
            let at = (*s).bump as usize;
            if at + size <= SPAN {
                (*s).bump = (at + size) as u32;
                (*s).used += 1;
                return (s as *mut u8).add(at);
            }
            (*s).state = FULL;
        }
        let next = if !class.partial.is_null() {
            let p = class.partial;
            unlink(&mut class.partial, p);
            p
        } else {
            let p = lock(&POOL).take();
            if p.is_null() {
                class.current = null_mut();
                return null_mut();
            }
            (*p).free = null_mut();
            (*p).bump = HEADER as u32;
            (*p).used = 0;
            (*p).block = size as u32;
            (*p).heap = heap as u8;
            p
        };
        (*next).state = CURRENT;
        class.current = next;
    }
}

unsafe fn free_small(p: *mut u8, size: usize) {
    let s = span_of(p);
    debug_assert_eq!((*s).block as usize, size);
    let mut class = lock(&HEAP_CLASSES[(*s).heap as usize][size / GRAIN]);
    *(p as *mut *mut u8) = (*s).free;
    (*s).free = p;
    (*s).used -= 1;
    match (*s).state {
        FULL if (*s).used == 0 => lock(&POOL).give(s),
        FULL => {
            (*s).state = PARTIAL;
            push(&mut class.partial, s);
        }
        PARTIAL if (*s).used == 0 => {
            unlink(&mut class.partial, s);
            lock(&POOL).give(s);
        }
        // An empty current span goes back too: kept, it would pin its chunk in memory after
        // the store is flushed. (Idle chunks stay mapped for a while, so this costs no syscall.)
        CURRENT if (*s).used == 0 => {
            class.current = null_mut();
            lock(&POOL).give(s);
        }
        _ => {}
    }
}

impl SpanPool {
    /// A span for a class: a free one, else the next of the newest chunk; null when the OS
    /// refuses a new chunk.
    unsafe fn take(&mut self) -> *mut Span {
        let s = if !self.free.is_null() {
            let s = self.free;
            unlink(&mut self.free, s);
            s
        } else {
            if self.fresh == self.fresh_end {
                let base = map_chunk(self.chunks > 0);
                if base.is_null() {
                    return null_mut();
                }
                (*(base as *mut Span)).chunk_free = SPANS;
                self.fresh = base as usize;
                self.fresh_end = base as usize + CHUNK;
                self.chunks += 1;
            }
            let s = self.fresh as *mut Span;
            self.fresh += SPAN;
            s
        };
        let c = chunk_of(s);
        if (*c).chunk_free == SPANS {
            // An idle chunk is in use again (a no-op for a fresh chunk's first span).
            self.idle.retain(|&i| i != c as usize);
        }
        (*c).chunk_free -= 1;
        s
    }

    /// Takes back an empty span. When that frees its whole chunk, the chunk goes on the idle
    /// list; chunks idle for longer than [`DECAY_MS`] are unmapped.
    unsafe fn give(&mut self, s: *mut Span) {
        (*s).state = POOLED;
        (*s).block = 0;
        push(&mut self.free, s);
        let c = chunk_of(s);
        (*c).chunk_free += 1;
        let fresh_here = self.fresh != self.fresh_end && self.fresh_end == c as usize + CHUNK;
        if (*c).chunk_free == SPANS && !fresh_here {
            let now = now_ms();
            (*c).idle_since = now;
            self.idle.push(c as usize);
            self.purge(now);
            wake_janitor();
        }
    }

    /// Unmaps every idle chunk that became idle at or before `now - DECAY_MS`.
    unsafe fn purge(&mut self, now: u64) {
        // `idle` is oldest first, so the chunks due are a prefix of it.
        let due = self
            .idle
            .iter()
            .take_while(|&&c| (*(c as *mut Span)).idle_since.saturating_add(DECAY_MS) <= now)
            .count();
        for c in self.idle.drain(..due) {
            let c = c as *mut Span;
            for i in 0..SPANS as usize {
                unlink(&mut self.free, (c as *mut u8).add(i * SPAN) as *mut Span);
            }
            unmap_chunk(c as *mut u8);
            self.chunks -= 1;
        }
    }
}

/// Milliseconds since the allocator first asked, on a monotonic clock.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Unmaps the chunks that have been idle for longer than [`DECAY_MS`]. Each store's reaper
/// calls it on every wake-up, so a flushed store's memory goes back to the OS even when
/// nothing allocates afterwards.
pub(crate) fn purge_idle() {
    if SLAB {
        // SAFETY: the pool lock is held for every span and chunk it reaches.
        unsafe { lock(&POOL).purge(now_ms()) }
    }
}

/// The thread that unmaps chunks idle past [`DECAY_MS`] when nothing else would: with no
/// allocator traffic and no store left (so no reaper), a dropped store's chunks would otherwise
/// stay mapped for good. Started the first time a chunk goes idle; parked while none is.
static JANITOR: OnceLock<Option<std::thread::Thread>> = OnceLock::new();

/// Wakes the janitor (starting it the first time): a chunk has just gone idle. Called with
/// the pool lock held; the janitor waits for it.
fn wake_janitor() {
    let janitor = JANITOR.get_or_init(|| {
        std::thread::Builder::new()
            .name("tinykv-slab".into())
            .spawn(janitor)
            .ok()
            .map(|h| h.thread().clone())
    });
    // Without the thread (spawn refused), reapers and allocations still purge.
    if let Some(t) = janitor {
        t.unpark();
    }
}

/// The janitor's loop: sleep until the oldest idle chunk is due, purge, repeat; park when no
/// chunk is idle. A wake-up that finds nothing due just looks again.
fn janitor() {
    loop {
        let due = {
            let pool = lock(&POOL);
            // SAFETY: an idle chunk is mapped and its first span's header is readable.
            pool.idle
                .first()
                .map(|&c| unsafe { (*(c as *mut Span)).idle_since }.saturating_add(DECAY_MS))
        };
        match due {
            None => std::thread::park(),
            Some(due) => {
                let now = now_ms();
                if due > now {
                    std::thread::sleep(std::time::Duration::from_millis(due - now));
                }
                purge_idle();
            }
        }
    }
}

/// Chunks mapped right now, for tests (which run where chunks are mapped: Unix).
#[cfg(all(test, unix))]
fn chunks_mapped() -> usize {
    lock(&POOL).chunks
}

unsafe fn push(head: &mut *mut Span, s: *mut Span) {
    (*s).prev = null_mut();
    (*s).next = *head;
    if !head.is_null() {
        (**head).prev = s;
    }
    *head = s;
}

unsafe fn unlink(head: &mut *mut Span, s: *mut Span) {
    let (prev, next) = ((*s).prev, (*s).next);
    if prev.is_null() {
        *head = next;
    } else {
        (*prev).next = next;
    }
    if !next.is_null() {
        (*next).prev = prev;
    }
    (*s).prev = null_mut();
    (*s).next = null_mut();
}

/// Maps a 2 MiB-aligned chunk (null on failure), asking for huge pages when `huge`.
#[cfg(unix)]
unsafe fn map_chunk(huge: bool) -> *mut u8 {
    let len = 2 * CHUNK;
    let p = libc::mmap(
        null_mut(),
        len,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
    );
    if p == libc::MAP_FAILED {
        return null_mut();
    }
    let p = p as *mut u8;
    let head = p.align_offset(CHUNK);
    let base = p.add(head);
    if head > 0 {
        libc::munmap(p as *mut libc::c_void, head);
    }
    let tail = len - head - CHUNK;
    if tail > 0 {
        libc::munmap(base.add(CHUNK) as *mut libc::c_void, tail);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if huge {
        // A hint: without transparent huge pages the chunk is served from small pages.
        libc::madvise(base as *mut libc::c_void, CHUNK, libc::MADV_HUGEPAGE);
    }
    let _ = huge;
    base
}

#[cfg(unix)]
unsafe fn unmap_chunk(base: *mut u8) {
    libc::munmap(base as *mut libc::c_void, CHUNK);
}

#[cfg(not(unix))]
unsafe fn map_chunk(_huge: bool) -> *mut u8 {
    null_mut()
}

#[cfg(not(unix))]
unsafe fn unmap_chunk(_base: *mut u8) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The tests share the process's pool, so the one that counts chunks runs alone.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn sizes_round_to_blocks_and_large_ones_to_malloc_chunks() {
        for (n, want) in [
            (1, 32),
            (26, 32),
            (32, 32),
            (33, 40),
            (136, 136),
            (137, 144),
            (1024, 1024),
            (1025, 1040),
        ] {
            assert_eq!(alloc_size(n), want, "n = {n}");
        }
        assert_eq!(alloc_size(0), 0);
    }

    // Each test below uses its own block size in 904..=1024, a range the proptest leaves out,
    // so tests running at once never share a span.

    #[test]
    fn blocks_of_one_size_are_packed_and_aligned() {
        let ps: Vec<_> = (0..1000).map(|_| allocate(1008)).collect();
        for p in &ps {
            assert_eq!(*p as usize % 8, 0);
            assert!(
                *p as usize % SPAN >= HEADER,
                "no block overlaps a span header"
            );
        }
        // Blocks from one span are handed out back to back: 16 to a span.
        let packed = ps
            .windows(2)
            .filter(|w| w[1] as usize == w[0] as usize + 1008)
            .count();
        assert!(packed >= 930, "{packed} of 999 neighbours adjacent");
        for p in ps {
            // SAFETY: allocated above with this size.
            unsafe { release(p, 1008) };
        }
    }

    #[test]
    fn a_freed_block_is_handed_out_again() {
        // Whole spans of 1000-byte blocks (16 to a span), so the last one is full.
        let per_span = (SPAN - HEADER) / 1000;
        let ps: Vec<_> = (0..per_span * 10).map(|_| allocate(1000)).collect();
        // SAFETY: allocated above with this size.
        unsafe { release(ps[3], 1000) };
        let again = allocate(1000);
        assert_eq!(again, ps[3]);
        for p in ps {
            // SAFETY: allocated above with this size; ps[3] was handed out again.
            unsafe { release(p, 1000) };
        }
    }

    /// Whether any byte of the chunk at `base` is still mapped.
    fn mapped(base: usize) -> bool {
        let mut pages = vec![0u8; CHUNK / 4096];
        // SAFETY: mincore only reports on the range; it fails with ENOMEM where it is unmapped.
        unsafe { libc::mincore(base as *mut libc::c_void, CHUNK, pages.as_mut_ptr()) == 0 }
    }

    /// The chunks holding `ps`, each once.
    fn chunk_bases(ps: &[*mut u8]) -> Vec<usize> {
        let mut bases: Vec<usize> = ps.iter().map(|&p| p as usize & !(CHUNK - 1)).collect();
        bases.sort_unstable();
        bases.dedup();
        bases
    }

    #[test]
    fn chunks_go_back_to_the_os_once_idle_past_the_decay() {
        let _g = lock(&SERIAL);
        // 40 MB of 960-byte blocks: about 20 chunks.
        let ps: Vec<_> = (0..42_000).map(|_| allocate(960)).collect();
        let bases = chunk_bases(&ps);
        assert!(bases.len() >= 19, "{} chunks", bases.len());
        assert!(chunks_mapped() >= bases.len());
        assert!(bases.iter().all(|&b| mapped(b)));
        for p in ps {
            // SAFETY: allocated above with this size.
            unsafe { release(p, 960) };
        }
        // Freed just now: idle, still mapped (a reaper of another test may purge older ones).
        let idle = bases.iter().filter(|&&b| mapped(b)).count();
        assert!(
            idle >= bases.len() - 3,
            "{idle} of {} chunks kept",
            bases.len()
        );
        // Past the decay, every chunk of ours that is idle goes back. Other tests allocate all
        // the while, and the pool hands out free spans of mapped chunks first, so some of ours
        // may be serving their blocks by now (or be the chunk fresh spans come from): those
        // stay. What must not stay is a chunk that is mapped with every span free. Checked
        // under the pool lock, right after the purge, so no span moves meanwhile.
        let (still, idle_left) = {
            let mut pool = lock(&POOL);
            // SAFETY: the pool lock is held.
            unsafe { pool.purge(now_ms() + DECAY_MS) };
            let fresh = pool.fresh & !(CHUNK - 1);
            let still: Vec<usize> = bases.iter().copied().filter(|&b| mapped(b)).collect();
            let idle_left: Vec<usize> = still
                .iter()
                .copied()
                .filter(|&b| b != fresh)
                // SAFETY: the chunk is mapped and, under the pool lock, its first span's header
                // is the chunk's (a chunk is only unmapped under this lock; were the range
                // reused by malloc, the count read is garbage and at worst hides a failure).
                .filter(|&b| unsafe { (*(b as *const Span)).chunk_free } == SPANS)
                .filter(|b| pool.idle.contains(b))
                .collect();
            (still.len(), idle_left)
        };
        assert!(
            idle_left.is_empty(),
            "{} of {} chunks idle past the decay and still mapped ({still} mapped in all)",
            idle_left.len(),
            bases.len()
        );
    }

    #[test]
    fn idle_chunks_go_back_on_their_own() {
        let _g = lock(&SERIAL);
        // Nothing here allocates after the frees or calls purge (run alone, no reaper runs
        // either; tests/store_memory_return.rs checks that case through a dropped store).
        let ps: Vec<_> = (0..42_000).map(|_| allocate(960)).collect();
        let bases = chunk_bases(&ps);
        for p in ps {
            // SAFETY: allocated above with this size.
            unsafe { release(p, 960) };
        }
        let freed = Instant::now();
        let kept = || bases.iter().filter(|&&b| mapped(b)).count();
        assert!(kept() >= bases.len() - 3, "unmapped before the decay");
        // Within a few decays all but the fresh chunk (and one a test running at the same
        // time may have mapped again) are gone.
        while kept() > 3 && freed.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            kept() <= 3,
            "{} of {} chunks still mapped",
            kept(),
            bases.len()
        );
    }

    #[test]
    fn blocks_freed_on_another_thread_go_home() {
        // Thread A allocates; thread B frees A's blocks while it allocates and fills its own of
        // the same size. B's blocks must come through intact.
        let theirs: Vec<usize> = std::thread::spawn(|| {
            let ps: Vec<usize> = (0..5000).map(|_| allocate(920) as usize).collect();
            // SAFETY: every span of A's blocks is live while A's blocks are.
            let heaps: Vec<u8> = ps
                .iter()
                .map(|&p| unsafe { (*span_of(p as *mut u8)).heap })
                .collect();
            assert!(
                heaps.iter().all(|&h| h == heaps[0]),
                "one thread's spans share a heap"
            );
            ps
        })
        .join()
        .unwrap();
        std::thread::spawn(move || {
            let mut mine = Vec::new();
            for (i, p) in theirs.into_iter().enumerate() {
                // SAFETY: allocated by thread A with this size, freed once.
                unsafe { release(p as *mut u8, 920) };
                let q = allocate(920);
                // SAFETY: q holds 920 writable bytes.
                unsafe { std::ptr::write_bytes(q, i as u8, 920) };
                mine.push((q, i as u8));
            }
            for (q, f) in mine {
                // SAFETY: q holds 920 bytes written above.
                let ok = unsafe { std::slice::from_raw_parts(q, 920) }
                    .iter()
                    .all(|&b| b == f);
                assert!(ok, "a block was handed out twice");
                // SAFETY: allocated above with this size.
                unsafe { release(q, 920) };
            }
        })
        .join()
        .unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Random allocations and frees of mixed sizes: every live block keeps its contents,
        /// so no two live blocks overlap and freeing one disturbs no other.
        #[test]
        fn live_blocks_never_overlap(ops in proptest::collection::vec((prop_oneof![1usize..904, 1025usize..1400], any::<bool>(), any::<u8>()), 1..600)) {
            let mut live: Vec<(*mut u8, usize, u8)> = Vec::new();
            for (n, free, fill) in ops {
                if free && !live.is_empty() {
                    let (p, len, f) = live.swap_remove(fill as usize % live.len());
                    // SAFETY: p holds len bytes from `allocate`.
                    let ok = unsafe { std::slice::from_raw_parts(p, len) }.iter().all(|&b| b == f);
                    prop_assert!(ok, "block of {} bytes was overwritten", len);
                    // SAFETY: allocated with this size, freed once.
                    unsafe { release(p, len) };
                } else {
                    let p = allocate(n);
                    // SAFETY: p holds n writable bytes.
                    unsafe { std::ptr::write_bytes(p, fill, n) };
                    live.push((p, n, fill));
                }
            }
            for (p, len, f) in live {
                // SAFETY: as above.
                let ok = unsafe { std::slice::from_raw_parts(p, len) }.iter().all(|&b| b == f);
                prop_assert!(ok, "block of {} bytes was overwritten", len);
                // SAFETY: as above.
                unsafe { release(p, len) };
            }
        }
    }
}
