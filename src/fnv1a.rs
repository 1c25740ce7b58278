//! FNV-1a (64 bits): a stable fingerprint of bytes, the same in every version and on every
//! machine (unlike `std`'s hasher). `--shard` puts suites in shards by it, and `history import`
//! names a run by it. Not for anything an adversary chooses to collide.

/// A running FNV-1a hash: feed it bytes with [`Fnv1a::add`], read it with [`Fnv1a::value`].
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// The hash of `bytes` alone.
    pub fn of(bytes: &[u8]) -> u64 {
        let mut hash = Self::default();
        hash.add(bytes);
        hash.value()
    }

    /// Adds `bytes` to what is hashed so far.
    pub fn add(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The hash of everything added so far.
    pub fn value(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Fnv1a;

    #[test]
    fn known_values() {
        // The published FNV-1a 64-bit test vectors.
        assert_eq!(Fnv1a::of(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv1a::of(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(Fnv1a::of(b"foobar"), 0x8594_4171_f739_67e8);
        let mut split = Fnv1a::default();
        split.add(b"foo");
        split.add(b"bar");
        assert_eq!(split.value(), Fnv1a::of(b"foobar"));
    }
}
