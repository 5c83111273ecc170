//! The LFU counter, as Redis keeps it: a logarithmic 8-bit counter that starts at
//! [`LFU_INIT`], grows with probability `1 / ((c - LFU_INIT) * 10 + 1)` per access and drops
//! one step per idle [`LFU_DECAY_MS`]. Pure functions; the entry header stores the counter.

/// LFU counter of a new entry (Redis's LFU_INIT_VAL), so newcomers are not evicted at once.
pub(crate) const LFU_INIT: u8 = 5;
/// Redis's lfu-log-factor: how fast the counter saturates (255 after about 1M hits).
const LFU_LOG_FACTOR: u64 = 10;
/// Redis's lfu-decay-time in ms: the counter drops by one per idle minute.
pub(crate) const LFU_DECAY_MS: u64 = 60_000;

/// The LFU counter `counter`, last touched at `last_ms`, after decaying one step per idle
/// `LFU_DECAY_MS` until `now_ms`.
#[inline]
pub(crate) fn lfu_decayed(counter: u8, last_ms: u64, now_ms: u64) -> u8 {
    let periods = now_ms.saturating_sub(last_ms) / LFU_DECAY_MS;
    counter.saturating_sub(periods.min(255) as u8)
}

/// For each counter value, Redis's increment probability `1 / ((c - LFU_INIT) * factor + 1)`
/// scaled to 2^32: a counter grows when a uniform 32-bit draw falls below its entry. Integer
/// compares instead of a floating-point division on every read.
const LFU_GROW_BELOW: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut c = 0;
    while c < 255 {
        let base = if c > LFU_INIT as usize {
            (c - LFU_INIT as usize) as u64
        } else {
            0
        };
        t[c] = (1u64 << 32) / (base * LFU_LOG_FACTOR + 1);
        c += 1;
    }
    t // t[255] = 0: a saturated counter stays put
};

/// Redis's logarithmic increment: the higher the counter, the less likely it grows. `draw` is
/// a uniform 32-bit number.
#[inline]
pub(crate) fn lfu_incr(counter: u8, draw: u32) -> u8 {
    counter + u8::from(u64::from(draw) < LFU_GROW_BELOW[counter as usize])
}

/// A uniform 32-bit draw from an access stamp (Fibonacci hashing): stamps are distinct and
/// consecutive, and the high bits of their golden-ratio multiples are evenly spread. No state,
/// no thread-local lookup, a multiply per read.
#[inline]
pub(crate) fn draw_from(stamp: u64) -> u32 {
    (stamp.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays() {
        let mut c = LFU_INIT;
        for stamp in 1..=1_000 {
            c = lfu_incr(c, draw_from(stamp));
        }
        assert!(c > LFU_INIT + 5 && c < 60, "1000 hits gave {c}");
        assert_eq!(
            lfu_incr(LFU_INIT, u32::MAX),
            LFU_INIT + 1,
            "certain at the start"
        );
        assert_eq!(lfu_incr(u8::MAX, 0), u8::MAX, "saturates");
        // Probability 1 / ((20 - 5) * 10 + 1) = 1/151 at counter 20.
        let grew = (0..151_000u64)
            .filter(|&i| lfu_incr(20, draw_from(i)) == 21)
            .count();
        assert!(
            (900..1_100).contains(&grew),
            "{grew} of 151000 draws grew the counter"
        );
        assert_eq!(lfu_decayed(20, 0, LFU_DECAY_MS - 1), 20);
        assert_eq!(lfu_decayed(20, 0, 3 * LFU_DECAY_MS), 17);
        assert_eq!(lfu_decayed(20, 0, 1_000 * LFU_DECAY_MS), 0);
        assert_eq!(
            lfu_decayed(20, 5_000, 1_000),
            20,
            "a clock behind the stamp decays nothing"
        );
    }
}
