//! Conversions between Unicode scalar offsets and UTF-16 offsets.
//!
//! Editing traces, agents and Rust `char` iteration count Unicode scalar
//! values; Yjs, yrs (with [`yrs::OffsetKind::Utf16`]) and the DOM count UTF-16
//! code units. The two agree except after an astral (non-BMP) character such
//! as most emoji, which is one scalar but two UTF-16 units (a surrogate pair).
//! Grapheme clusters play no part: a ZWJ emoji sequence or a letter with a
//! combining accent is several scalars, and each of them is converted on its
//! own.
//!
//! The pure functions ([`scalar_to_utf16`], [`utf16_to_scalar`]) scan the
//! text. [`ScalarIndex`] follows a text through its edits and converts in
//! `O(log k)` for `k` astral characters, without rescanning the text.
//!
//! ```
//! use atelier_doc::unicode_offsets::{ScalarIndex, scalar_to_utf16, utf16_to_scalar};
//! let s = "a😀b";
//! assert_eq!(scalar_to_utf16(s, 2).unwrap(), 3);
//! assert_eq!(utf16_to_scalar(s, 3).unwrap(), 2);
//! assert!(utf16_to_scalar(s, 2).is_err()); // inside the surrogate pair
//!
//! let mut index = ScalarIndex::from_text(s);
//! index.insert(0, "🎉").unwrap();
//! assert_eq!(index.to_utf16(3).unwrap(), 5);
//! ```

use crate::error::{Error, Result};

/// Number of Unicode scalar values in `s`, saturating at `u32::MAX`.
pub fn scalar_len(s: &str) -> u32 {
    u32::try_from(s.chars().count()).unwrap_or(u32::MAX)
}

/// Whether `c` is astral, i.e. takes two UTF-16 units.
fn is_astral(c: char) -> bool {
    c.len_utf16() == 2
}

/// The UTF-16 offset of scalar offset `n` in `s`; `n` may equal the length.
pub fn scalar_to_utf16(s: &str, n: u32) -> Result<u32> {
    let mut units: u32 = 0;
    let mut scalars: u32 = 0;
    for c in s.chars() {
        if scalars == n {
            return Ok(units);
        }
        scalars = scalars.saturating_add(1);
        units = units.saturating_add(c.len_utf16() as u32);
    }
    if scalars == n {
        Ok(units)
    } else {
        Err(Error::OutOfRange {
            pos: n,
            len: scalars,
        })
    }
}

/// The scalar offset of UTF-16 offset `n` in `s`; `n` may equal the UTF-16
/// length but must not fall between the two halves of a surrogate pair.
pub fn utf16_to_scalar(s: &str, n: u32) -> Result<u32> {
    let mut units: u32 = 0;
    let mut scalars: u32 = 0;
    for c in s.chars() {
        if units == n {
            return Ok(scalars);
        }
        let next = units.saturating_add(c.len_utf16() as u32);
        if next > n {
            return Err(inside_pair(n, c, scalars));
        }
        units = next;
        scalars = scalars.saturating_add(1);
    }
    if units == n {
        Ok(scalars)
    } else {
        Err(Error::OutOfRange { pos: n, len: units })
    }
}

fn inside_pair(utf16: u32, c: char, scalar: u32) -> Error {
    Error::InvalidOperation(format!(
        "UTF-16 offset {utf16} falls inside the surrogate pair of U+{:04X} \
         (scalar offset {scalar}); use {} or {}",
        c as u32,
        utf16.saturating_sub(1),
        utf16.saturating_add(1)
    ))
}

/// Scalar ↔ UTF-16 conversion for a text that changes, kept up to date by
/// the same edits as the text instead of rescanning it.
///
/// It stores the text's length in scalars and the sorted scalar positions of
/// its astral characters: the UTF-16 offset of scalar `n` is `n` plus the
/// number of astral characters before `n`. Conversions cost `O(log k)` for
/// `k` astral characters; an edit costs `O(log k)` plus the number of astral
/// characters after it (they shift).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScalarIndex {
    /// Length of the text in scalars.
    len: u32,
    /// Scalar positions of astral characters, strictly increasing.
    astral: Vec<u32>,
}

impl ScalarIndex {
    /// The index of an empty text.
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `text` (one scan).
    pub fn from_text(text: &str) -> Self {
        let mut index = Self::new();
        index.push_scalars(0, text);
        index
    }

    /// The index of a text of `len` scalars known to hold no astral character.
    pub fn without_astral(len: u32) -> Self {
        ScalarIndex {
            len,
            astral: Vec::new(),
        }
    }

    /// Length of the text in Unicode scalar values.
    pub fn scalar_len(&self) -> u32 {
        self.len
    }

    /// Length of the text in UTF-16 units.
    pub fn utf16_len(&self) -> u32 {
        self.len.saturating_add(self.astral_count())
    }

    /// Number of astral characters in the text.
    pub fn astral_count(&self) -> u32 {
        u32::try_from(self.astral.len()).unwrap_or(u32::MAX)
    }

    /// Number of astral characters strictly before scalar offset `n`.
    fn astral_before(&self, n: u32) -> u32 {
        u32::try_from(self.astral.partition_point(|&p| p < n)).unwrap_or(u32::MAX)
    }

    /// The UTF-16 offset of scalar offset `n` (which may equal the length).
    pub fn to_utf16(&self, n: u32) -> Result<u32> {
        if n > self.len {
            return Err(Error::OutOfRange {
                pos: n,
                len: self.len,
            });
        }
        Ok(n + self.astral_before(n))
    }

    /// The UTF-16 start and length of the scalar range `start..start + len`.
    pub fn to_utf16_range(&self, start: u32, len: u32) -> Result<(u32, u32)> {
        let end = start.checked_add(len).ok_or(Error::OutOfRange {
            pos: u32::MAX,
            len: self.len,
        })?;
        let a = self.to_utf16(start)?;
        let b = self.to_utf16(end)?;
        Ok((a, b - a))
    }

    /// The scalar offset of UTF-16 offset `n`; errors past the end or inside
    /// a surrogate pair.
    pub fn to_scalar(&self, n: u32) -> Result<u32> {
        let utf16_len = self.utf16_len();
        if n > utf16_len {
            return Err(Error::OutOfRange {
                pos: n,
                len: utf16_len,
            });
        }
        // The i-th astral character starts at UTF-16 offset astral[i] + i, a
        // strictly increasing sequence: count those that end at or before n.
        let (mut lo, mut hi) = (0usize, self.astral.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let start = u64::from(self.astral[mid]) + mid as u64;
            if start + 2 <= u64::from(n) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        // `lo` astral characters end at or before n; the next one may straddle it.
        if let Some(&p) = self.astral.get(lo)
            && u64::from(p) + lo as u64 + 1 == u64::from(n)
        {
            return Err(Error::InvalidOperation(format!(
                "UTF-16 offset {n} falls inside a surrogate pair (scalar offset {p}); \
                 use {} or {}",
                n - 1,
                n + 1
            )));
        }
        Ok(n - lo as u32)
    }

    /// Records the insertion of `text` at scalar offset `at`.
    pub fn insert(&mut self, at: u32, text: &str) -> Result<()> {
        if at > self.len {
            return Err(Error::OutOfRange {
                pos: at,
                len: self.len,
            });
        }
        let added = scalar_len(text);
        let new_len = self.len.checked_add(added).ok_or(Error::OutOfRange {
            pos: u32::MAX,
            len: self.len,
        })?;
        let i = self.astral.partition_point(|&p| p < at);
        for p in &mut self.astral[i..] {
            *p += added;
        }
        let new: Vec<u32> = text
            .chars()
            .zip(at..)
            .filter_map(|(c, pos)| is_astral(c).then_some(pos))
            .collect();
        self.astral.splice(i..i, new);
        self.len = new_len;
        Ok(())
    }

    /// Records the deletion of `len` scalars at scalar offset `at`.
    pub fn delete(&mut self, at: u32, len: u32) -> Result<()> {
        let end = match at.checked_add(len) {
            Some(end) if end <= self.len => end,
            _ => {
                return Err(Error::OutOfRange {
                    pos: at.saturating_add(len),
                    len: self.len,
                });
            }
        };
        let lo = self.astral.partition_point(|&p| p < at);
        let hi = self.astral.partition_point(|&p| p < end);
        self.astral.drain(lo..hi);
        for p in &mut self.astral[lo..] {
            *p -= len;
        }
        self.len -= len;
        Ok(())
    }

    /// Appends the astral positions of `text`, which starts at scalar `start`
    /// and is the (new) end of the text.
    fn push_scalars(&mut self, start: u32, text: &str) {
        let mut pos = start;
        for c in text.chars() {
            if is_astral(c) {
                self.astral.push(pos);
            }
            pos = pos.saturating_add(1);
        }
        self.len = pos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Scalar → UTF-16 for every offset of `s`, computed the slow, obvious way.
    fn reference(s: &str) -> Vec<u32> {
        let mut out = vec![0];
        let mut units = 0;
        for c in s.chars() {
            units += c.len_utf16() as u32;
            out.push(units);
        }
        out
    }

    fn check_all(s: &str) {
        let table = reference(s);
        let index = ScalarIndex::from_text(s);
        assert_eq!(index.scalar_len() as usize, table.len() - 1, "{s:?}");
        assert_eq!(
            index.utf16_len() as usize,
            s.encode_utf16().count(),
            "{s:?}"
        );
        for (n, &u) in table.iter().enumerate() {
            let n = n as u32;
            assert_eq!(scalar_to_utf16(s, n), Ok(u), "{s:?} scalar {n}");
            assert_eq!(index.to_utf16(n), Ok(u), "{s:?} scalar {n}");
            assert_eq!(utf16_to_scalar(s, u), Ok(n), "{s:?} utf16 {u}");
            assert_eq!(index.to_scalar(u), Ok(n), "{s:?} utf16 {u}");
        }
        let scalars = table.len() as u32 - 1;
        let units = *table.last().unwrap_or(&0);
        assert!(matches!(
            scalar_to_utf16(s, scalars + 1),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            index.to_utf16(scalars + 1),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            utf16_to_scalar(s, units + 1),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            index.to_scalar(units + 1),
            Err(Error::OutOfRange { .. })
        ));
        // Every UTF-16 offset that is not a boundary is inside a pair.
        for u in 0..=units {
            if !table.contains(&u) {
                assert!(
                    matches!(utf16_to_scalar(s, u), Err(Error::InvalidOperation(_))),
                    "{s:?} utf16 {u}"
                );
                assert!(
                    matches!(index.to_scalar(u), Err(Error::InvalidOperation(_))),
                    "{s:?} utf16 {u}"
                );
            }
        }
    }

    #[test]
    fn empty_text() {
        check_all("");
        assert_eq!(scalar_to_utf16("", 0), Ok(0));
        assert_eq!(
            utf16_to_scalar("", 1),
            Err(Error::OutOfRange { pos: 1, len: 0 })
        );
    }

    #[test]
    fn ascii_offsets_are_equal() {
        check_all("hello world");
        assert_eq!(scalar_to_utf16("hello", 3), Ok(3));
    }

    #[test]
    fn emoji_take_two_units() {
        check_all("a😀b");
        assert_eq!(scalar_to_utf16("😀😀x", 2), Ok(4));
        assert_eq!(utf16_to_scalar("😀😀x", 4), Ok(2));
    }

    #[test]
    fn zwj_sequences_count_each_scalar() {
        // Family: man, ZWJ, woman, ZWJ, girl — five scalars, eight units.
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(scalar_len(family), 5);
        assert_eq!(scalar_to_utf16(family, 5), Ok(8));
        check_all(&format!("x{family}y"));
    }

    #[test]
    fn flags_are_two_astral_scalars() {
        let flag = "🇫🇷";
        assert_eq!(scalar_len(flag), 2);
        assert_eq!(scalar_to_utf16(flag, 1), Ok(2));
        assert!(matches!(
            utf16_to_scalar(flag, 3),
            Err(Error::InvalidOperation(_))
        ));
        check_all("Vive la 🇫🇷 !");
    }

    #[test]
    fn accents_precomposed_and_combining() {
        // "é" precomposed is one BMP scalar; "e" + U+0301 is two.
        check_all("café");
        check_all("cafe\u{301}");
        assert_eq!(scalar_to_utf16("cafe\u{301}!", 5), Ok(5));
    }

    #[test]
    fn cjk_is_bmp_except_extension_b() {
        check_all("中文字");
        // U+20BB7 (𠮷) is a CJK ideograph outside the BMP.
        check_all("𠮷野家");
        assert_eq!(scalar_to_utf16("𠮷野家", 2), Ok(3));
    }

    #[test]
    fn surrogate_split_is_refused_with_advice() {
        let err = utf16_to_scalar("a😀", 2).expect_err("inside the pair");
        assert!(err.to_string().contains("surrogate pair"), "{err}");
        let err = ScalarIndex::from_text("a😀")
            .to_scalar(2)
            .expect_err("inside the pair");
        assert!(err.to_string().contains("surrogate pair"), "{err}");
    }

    #[test]
    fn index_follows_edits() {
        let mut index = ScalarIndex::from_text("ab");
        index.insert(1, "😀é🇫🇷").expect("insert");
        // "a😀é🇫🇷b"
        assert_eq!(index, ScalarIndex::from_text("a😀é🇫🇷b"));
        index.delete(2, 2).expect("delete");
        // "a😀🇷b"
        assert_eq!(index, ScalarIndex::from_text("a😀🇷b"));
        assert_eq!(index.to_utf16_range(1, 2), Ok((1, 4)));
        assert!(matches!(
            index.delete(3, 2),
            Err(Error::OutOfRange { pos: 5, len: 4 })
        ));
        assert!(matches!(
            index.insert(5, "x"),
            Err(Error::OutOfRange { pos: 5, len: 4 })
        ));
        assert!(index.delete(u32::MAX, 2).is_err());
    }

    #[test]
    fn index_without_astral_is_identity() {
        let index = ScalarIndex::without_astral(3);
        assert_eq!(index, ScalarIndex::from_text("abc"));
        assert_eq!(index.to_scalar(2), Ok(2));
    }

    const PIECES: [&str; 10] = [
        "a",
        "😀",
        "é",
        "e\u{301}",
        "中文",
        "👨\u{200D}👩\u{200D}👧",
        "🇫🇷",
        "𠮷",
        " ",
        "xyz",
    ];

    #[derive(Debug, Clone)]
    enum Edit {
        Insert(u32, usize),
        Delete(u32, u32),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (any::<u32>(), 0..PIECES.len()).prop_map(|(at, p)| Edit::Insert(at, p)),
            (any::<u32>(), 0u32..6).prop_map(|(at, n)| Edit::Delete(at, n)),
        ]
    }

    proptest! {
        // Proptest prints the failing edits, shrinks them and keeps them in
        // `proptest-regressions/`; `PROPTEST_CASES` sets the number of cases.
        #[test]
        fn incremental_index_matches_pure_functions(edits in prop::collection::vec(edit(), 0..40)) {
            let mut text: Vec<char> = Vec::new();
            let mut index = ScalarIndex::new();
            for e in edits {
                let len = text.len() as u32;
                match e {
                    Edit::Insert(at, p) => {
                        let at = at % (len + 1);
                        index.insert(at, PIECES[p]).expect("insert in range");
                        let at = at as usize;
                        text.splice(at..at, PIECES[p].chars());
                    }
                    Edit::Delete(at, n) => {
                        let at = at % (len + 1);
                        let n = n.min(len - at);
                        index.delete(at, n).expect("delete in range");
                        text.drain(at as usize..(at + n) as usize);
                    }
                }
                let s: String = text.iter().collect();
                prop_assert_eq!(&index, &ScalarIndex::from_text(&s));
                prop_assert_eq!(index.utf16_len() as usize, s.encode_utf16().count());
                for n in 0..=index.scalar_len() + 1 {
                    prop_assert_eq!(index.to_utf16(n), scalar_to_utf16(&s, n));
                }
                for u in 0..=index.utf16_len() + 1 {
                    prop_assert_eq!(index.to_scalar(u).is_ok(), utf16_to_scalar(&s, u).is_ok());
                    if let Ok(n) = utf16_to_scalar(&s, u) {
                        prop_assert_eq!(index.to_scalar(u), Ok(n));
                    }
                }
            }
        }
    }
}
