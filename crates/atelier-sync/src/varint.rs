//! lib0's binary primitives (`varUint`, `varInt`, `varUint8Array`,
//! `varString`), read without panics and without unbounded allocation.
//!
//! `yrs::encoding::read::Cursor` is not used for peer bytes: its bounds check
//! adds a peer-controlled length to the position and can overflow on 32-bit
//! targets (wasm32), and its integer readers accept overlong encodings. This
//! reader only ever compares lengths with the bytes that are left.
//!
//! Decoding is strict: integers must be in lib0's canonical (shortest) form,
//! as every lib0 and `yrs` encoder writes them, so that a decoded message
//! re-encodes to exactly the bytes it came from.

use crate::error::{Result, SyncError};

/// A cursor over a peer's bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails unless every byte has been read.
    pub(crate) fn finish(&self, what: &'static str) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(SyncError::TrailingBytes { what, count }),
        }
    }

    /// Reads one raw byte.
    pub(crate) fn read_u8(&mut self, what: &'static str) -> Result<u8> {
        let byte = self
            .buf
            .get(self.pos)
            .copied()
            .ok_or(SyncError::Truncated {
                what,
                needed: 1,
                remaining: 0,
            })?;
        self.pos += 1;
        Ok(byte)
    }

    /// Takes the next `len` bytes.
    pub(crate) fn take(&mut self, len: u64, what: &'static str) -> Result<&'a [u8]> {
        let remaining = self.remaining();
        let len_usize = usize::try_from(len).ok().filter(|&l| l <= remaining);
        let len = len_usize.ok_or(SyncError::Truncated {
            what,
            needed: len,
            remaining,
        })?;
        let slice = self
            .buf
            .get(self.pos..self.pos + len)
            .ok_or(SyncError::Truncated {
                what,
                needed: len as u64,
                remaining,
            })?;
        self.pos += len;
        Ok(slice)
    }

    /// Reads a canonical lib0 `varUint` that fits in a `u64`.
    pub(crate) fn read_var_u64(&mut self, what: &'static str) -> Result<u64> {
        let mut value: u64 = 0;
        let mut shift: u32 = 0;
        loop {
            let byte = self.read_u8(what)?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(SyncError::BadVarInt { what });
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                // A final zero byte after continuation bytes is an overlong encoding.
                if byte == 0 && shift > 0 {
                    return Err(SyncError::BadVarInt { what });
                }
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(SyncError::BadVarInt { what });
            }
        }
    }

    /// Reads a canonical `varUint` that fits in a `u32` (clocks, lengths in `yrs`).
    pub(crate) fn read_var_u32(&mut self, what: &'static str) -> Result<u32> {
        let value = self.read_var_u64(what)?;
        u32::try_from(value).map_err(|_| SyncError::BadVarInt { what })
    }

    /// Reads a Yjs client id: a `varUint` below 2^53 (a JavaScript safe
    /// integer; `yrs` asserts it in debug builds).
    pub(crate) fn read_client_id(&mut self, what: &'static str) -> Result<u64> {
        let value = self.read_var_u64(what)?;
        if value >= 1 << 53 {
            return Err(SyncError::malformed(what, "client id is not below 2^53"));
        }
        Ok(value)
    }

    /// Skips a lib0 signed `varInt` (sign in bit 6 of the first byte).
    pub(crate) fn skip_var_int(&mut self, what: &'static str) -> Result<()> {
        let first = self.read_u8(what)?;
        if first & 0x80 == 0 {
            return Ok(());
        }
        // 6 bits in the first byte, 7 in each following one: 64 bits fit in 10 bytes.
        for _ in 0..9 {
            if self.read_u8(what)? & 0x80 == 0 {
                return Ok(());
            }
        }
        Err(SyncError::BadVarInt { what })
    }

    /// Reads a length prefix and checks it against the bytes left and `limit`.
    fn read_len(&mut self, limit: usize, what: &'static str) -> Result<u64> {
        let len = self.read_var_u64(what)?;
        if len > limit as u64 {
            return Err(SyncError::TooLarge {
                what,
                size: len,
                limit: limit as u64,
            });
        }
        Ok(len)
    }

    /// Reads a `varUint8Array` of at most `limit` bytes, without copying.
    pub(crate) fn read_bytes(&mut self, limit: usize, what: &'static str) -> Result<&'a [u8]> {
        let len = self.read_len(limit, what)?;
        self.take(len, what)
    }

    /// Reads a `varString` of at most `limit` bytes, without copying.
    pub(crate) fn read_str(&mut self, limit: usize, what: &'static str) -> Result<&'a str> {
        let bytes = self.read_bytes(limit, what)?;
        std::str::from_utf8(bytes).map_err(|_| SyncError::InvalidUtf8 { what })
    }

    /// Reads a count of items that each take at least `min_item_bytes`, and
    /// checks it against the bytes left and `limit`, so that a caller may
    /// reserve that many items.
    pub(crate) fn read_count(
        &mut self,
        min_item_bytes: usize,
        limit: usize,
        what: &'static str,
    ) -> Result<usize> {
        let count = self.read_var_u64(what)?;
        if count > limit as u64 {
            return Err(SyncError::TooMany {
                what,
                count,
                limit: limit as u64,
            });
        }
        let fits = (self.remaining() / min_item_bytes.max(1)) as u64;
        if count > fits {
            return Err(SyncError::Truncated {
                what,
                needed: count.saturating_mul(min_item_bytes as u64),
                remaining: self.remaining(),
            });
        }
        // count <= limit, which is a usize.
        Ok(count as usize)
    }
}

/// Appends a lib0 `varUint`.
pub(crate) fn write_var_u64(out: &mut Vec<u8>, mut value: u64) {
    while value > 0x7f {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a lib0 `varUint8Array` (length, then bytes).
pub(crate) fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_var_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a lib0 `varString` (UTF-8 length, then bytes).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    write_bytes(out, s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_var_u64(&mut out, v);
        out
    }

    #[test]
    fn var_uint_round_trips_at_the_edges() {
        for v in [
            0,
            1,
            127,
            128,
            255,
            16_383,
            16_384,
            u32::MAX as u64,
            1 << 53,
            u64::MAX,
        ] {
            let bytes = encode(v);
            let mut r = Reader::new(&bytes);
            assert_eq!(r.read_var_u64("v").expect("decodes"), v);
            assert!(r.is_empty());
        }
        assert_eq!(encode(300), vec![0xac, 0x02]);
        assert_eq!(encode(u64::MAX).len(), 10);
    }

    #[test]
    fn overlong_and_overflowing_var_uints_are_rejected() {
        for bad in [
            &[0x80, 0x00][..],
            &[0xff, 0x80, 0x00],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            &[0x80; 11],
        ] {
            assert!(matches!(
                Reader::new(bad).read_var_u64("v"),
                Err(SyncError::BadVarInt { .. })
            ));
        }
        assert!(matches!(
            Reader::new(&[0x80, 0x80]).read_var_u64("v"),
            Err(SyncError::Truncated { .. })
        ));
    }

    #[test]
    fn lengths_are_checked_before_slicing() {
        // Declares 2^63 bytes: rejected by the limit, nothing allocated.
        let mut huge = Vec::new();
        write_var_u64(&mut huge, 1 << 63);
        assert!(matches!(
            Reader::new(&huge).read_bytes(usize::MAX, "b"),
            Err(SyncError::Truncated { .. })
        ));
        assert!(matches!(
            Reader::new(&huge).read_bytes(10, "b"),
            Err(SyncError::TooLarge { .. })
        ));
        let mut r = Reader::new(&[3, b'a', b'b']);
        assert!(matches!(
            r.read_str(10, "s"),
            Err(SyncError::Truncated { .. })
        ));
        let mut r = Reader::new(&[2, 0xc3, 0x28]);
        assert!(matches!(
            r.read_str(10, "s"),
            Err(SyncError::InvalidUtf8 { .. })
        ));
    }

    #[test]
    fn counts_are_bounded_by_remaining_bytes() {
        let mut r = Reader::new(&[100, 1, 2, 3]);
        assert!(matches!(
            r.read_count(2, 1000, "n"),
            Err(SyncError::Truncated { .. })
        ));
        let mut r = Reader::new(&[2, 1, 2, 3, 4]);
        assert_eq!(r.read_count(2, 1000, "n").expect("fits"), 2);
        let mut r = Reader::new(&[5, 0, 0, 0, 0, 0]);
        assert!(matches!(
            r.read_count(1, 4, "n"),
            Err(SyncError::TooMany { .. })
        ));
    }

    #[test]
    fn client_ids_stay_below_2_pow_53() {
        let ok = encode((1 << 53) - 1);
        assert!(Reader::new(&ok).read_client_id("c").is_ok());
        let bad = encode(1 << 53);
        assert!(Reader::new(&bad).read_client_id("c").is_err());
    }
}
