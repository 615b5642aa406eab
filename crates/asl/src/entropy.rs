//! The randomness an execution consumes, passed in so that a run can be replayed exactly.

/// The source of `States.UUID()`, `States.MathRandom` without a seed, and retry jitter.
///
/// The engine records what it hands out, so a replayed step sees the same values.
pub trait Entropy {
    /// A version-4 UUID in its hyphenated lower-case form.
    fn uuid(&mut self) -> String;
    /// A uniformly distributed 64-bit number.
    fn random_u64(&mut self) -> u64;
}

/// A deterministic [`Entropy`] from a seed (SplitMix64), for the local runner and tests.
#[derive(Debug, Clone)]
pub struct SeededEntropy {
    state: u64,
}

impl SeededEntropy {
    /// A generator whose whole sequence is decided by `seed`.
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy { state: seed }
    }
}

/// One SplitMix64 step: advances `state` and returns the next output.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Entropy for SeededEntropy {
    fn uuid(&mut self) -> String {
        let high = splitmix64(&mut self.state);
        let low = splitmix64(&mut self.state);
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&high.to_be_bytes());
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    fn random_u64(&mut self) -> u64 {
        splitmix64(&mut self.state)
    }
}
