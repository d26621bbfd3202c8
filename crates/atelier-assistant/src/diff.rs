//! What changed between two texts, as spans kept, deleted and inserted:
//! the preview marks a proposal's insertions and deletions with them.
//!
//! Texts are compared word by word ([`tokens`]: runs of letters and
//! digits, runs of spaces, single other characters), so a rephrased
//! sentence reads as whole words struck out and added rather than letters
//! scattered through them. The comparison is Myers' O((N+M)·D) shortest
//! edit script ([`diff`], generic over any comparable items: the preview
//! also aligns block id sequences with it) after the common head and tail
//! are set aside. Past [`MAX_EDIT_DISTANCE`] differing items the middle
//! is shown as one deletion and one insertion: still correct, and the
//! work stays bounded whatever a model answers. Replaced words with only
//! spaces kept between them read as one replacement.
//!
//! ```
//! use atelier_assistant::diff::{text_diff, Span};
//! let spans = text_diff("The meeting is on Monday.", "The meeting moves to Tuesday.");
//! assert_eq!(
//!     spans,
//!     [
//!         Span::Same("The meeting ".into()),
//!         Span::Deleted("is on Monday".into()),
//!         Span::Inserted("moves to Tuesday".into()),
//!         Span::Same(".".into()),
//!     ]
//! );
//! // A word added beside kept ones stays on its own.
//! let spans = text_diff("See you on Monday.", "See you early on Monday.");
//! assert!(spans.contains(&Span::Inserted("early ".into())));
//! ```

/// One piece of a text diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Text in both.
    Same(String),
    /// Text only in the old one.
    Deleted(String),
    /// Text only in the new one.
    Inserted(String),
}

impl Span {
    /// The span's text.
    pub fn text(&self) -> &str {
        match self {
            Span::Same(t) | Span::Deleted(t) | Span::Inserted(t) => t,
        }
    }
}

/// One step of an edit script over items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Item `old[i]` equals `new[j]`.
    Keep(usize, usize),
    /// Item `old[i]` is deleted.
    Delete(usize),
    /// Item `new[j]` is inserted.
    Insert(usize),
}

/// Most differing items [`diff`] searches through before it reports the
/// differing middle as one deletion and one insertion.
pub const MAX_EDIT_DISTANCE: usize = 1_000;

/// A shortest edit script from `old` to `new` (up to
/// [`MAX_EDIT_DISTANCE`]); in each changed region deletions come before
/// insertions.
pub fn diff<T: PartialEq>(old: &[T], new: &[T]) -> Vec<Edit> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out: Vec<Edit> = (0..head).map(|i| Edit::Keep(i, i)).collect();
    let (a, b) = (&old[head..old.len() - tail], &new[head..new.len() - tail]);
    match myers(a, b, MAX_EDIT_DISTANCE) {
        Some(middle) => out.extend(middle.into_iter().map(|e| match e {
            Edit::Keep(i, j) => Edit::Keep(i + head, j + head),
            Edit::Delete(i) => Edit::Delete(i + head),
            Edit::Insert(j) => Edit::Insert(j + head),
        })),
        None => {
            out.extend((0..a.len()).map(|i| Edit::Delete(i + head)));
            out.extend((0..b.len()).map(|j| Edit::Insert(j + head)));
        }
    }
    let (oi, ni) = (old.len() - tail, new.len() - tail);
    out.extend((0..tail).map(|k| Edit::Keep(oi + k, ni + k)));
    order_changes(out)
}

/// Myers' greedy forward search, keeping each round's furthest points to
/// walk the script back; `None` past `max_d` differences.
fn myers<T: PartialEq>(a: &[T], b: &[T], max_d: usize) -> Option<Vec<Edit>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    if n == 0 || m == 0 {
        let mut out: Vec<Edit> = (0..a.len()).map(Edit::Delete).collect();
        out.extend((0..b.len()).map(Edit::Insert));
        return Some(out);
    }
    let max = (n + m) as usize;
    let limit = max.min(max_d);
    let offset = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    // Round d's furthest points before it ran, for diagonals -(d-1)..=d-1
    // (all the walk back reads): memory grows with D², not D·(N+M).
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let idx = |k: isize| (k + offset) as usize;
    let mut found = None;
    'outer: for d in 0..=limit as isize {
        trace.push(if d == 0 {
            Vec::new()
        } else {
            v[idx(-(d - 1))..=idx(d - 1)].to_vec()
        });
        let mut k = -d;
        while k <= d {
            let mut x = if k == -d || (k != d && v[idx(k - 1)] < v[idx(k + 1)]) {
                v[idx(k + 1)]
            } else {
                v[idx(k - 1)] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[idx(k)] = x;
            if x >= n && y >= m {
                found = Some(d);
                break 'outer;
            }
            k += 2;
        }
    }
    let found = found?;
    // Walk back from (n, m) through the saved rounds.
    let mut out = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (1..=found).rev() {
        let saved = &trace[d as usize];
        let at = |k: isize| saved[(k + d - 1) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = at(prev_k);
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            x -= 1;
            y -= 1;
            out.push(Edit::Keep(x as usize, y as usize));
        }
        if x == prev_x {
            y -= 1;
            out.push(Edit::Insert(y as usize));
        } else {
            x -= 1;
            out.push(Edit::Delete(x as usize));
        }
    }
    while x > 0 && y > 0 {
        x -= 1;
        y -= 1;
        out.push(Edit::Keep(x as usize, y as usize));
    }
    out.reverse();
    Some(out)
}

/// Within each run of changes, deletions first, then insertions: the
/// preview reads "old words, then new words".
fn order_changes(script: Vec<Edit>) -> Vec<Edit> {
    let mut out = Vec::with_capacity(script.len());
    let mut dels = Vec::new();
    let mut ins = Vec::new();
    for e in script {
        match e {
            Edit::Delete(_) => dels.push(e),
            Edit::Insert(_) => ins.push(e),
            Edit::Keep(..) => {
                out.append(&mut dels);
                out.append(&mut ins);
                out.push(e);
            }
        }
    }
    out.append(&mut dels);
    out.append(&mut ins);
    out
}

/// Splits text into the units the preview compares: runs of alphanumeric
/// characters, runs of whitespace, and every other character alone.
pub fn tokens(text: &str) -> Vec<&str> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Word,
        Space,
        Other,
    }
    let class = |c: char| {
        if c.is_alphanumeric() {
            Class::Word
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Other
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<Class> = None;
    for (i, c) in text.char_indices() {
        let cl = class(c);
        if let Some(p) = prev
            && (p != cl || cl == Class::Other)
        {
            out.push(&text[start..i]);
            start = i;
        }
        prev = Some(cl);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The spans that turn `old` into `new`, word by word, adjacent spans of
/// one kind joined.
pub fn text_diff(old: &str, new: &str) -> Vec<Span> {
    let (a, b) = (tokens(old), tokens(new));
    let mut out: Vec<Span> = Vec::new();
    let mut push = |span: Span| match (out.last_mut(), span) {
        (Some(Span::Same(t)), Span::Same(s))
        | (Some(Span::Deleted(t)), Span::Deleted(s))
        | (Some(Span::Inserted(t)), Span::Inserted(s)) => t.push_str(&s),
        (_, span) => out.push(span),
    };
    for e in diff(&a, &b) {
        match e {
            Edit::Keep(i, _) => push(Span::Same(a[i].to_owned())),
            Edit::Delete(i) => push(Span::Deleted(a[i].to_owned())),
            Edit::Insert(j) => push(Span::Inserted(b[j].to_owned())),
        }
    }
    join_replacements(out)
}

/// Reads `is on Monday` → `moves to Tuesday` as one replacement rather
/// than three (the spaces between the replaced words are kept by the
/// shortest script): a run of spaces between two parts of a replacement
/// (something deleted and something inserted) joins them.
fn join_replacements(spans: Vec<Span>) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len());
    let (mut del, mut ins) = (String::new(), String::new());
    let flush = |out: &mut Vec<Span>, del: &mut String, ins: &mut String| {
        if !del.is_empty() {
            out.push(Span::Deleted(std::mem::take(del)));
        }
        if !ins.is_empty() {
            out.push(Span::Inserted(std::mem::take(ins)));
        }
    };
    let mut iter = spans.into_iter().peekable();
    while let Some(span) = iter.next() {
        match span {
            Span::Deleted(t) => del.push_str(&t),
            Span::Inserted(t) => ins.push_str(&t),
            Span::Same(t) => {
                let replacing = !del.is_empty() && !ins.is_empty();
                let more = matches!(iter.peek(), Some(Span::Deleted(_) | Span::Inserted(_)));
                if replacing && more && t.chars().all(char::is_whitespace) {
                    del.push_str(&t);
                    ins.push_str(&t);
                } else {
                    flush(&mut out, &mut del, &mut ins);
                    out.push(Span::Same(t));
                }
            }
        }
    }
    flush(&mut out, &mut del, &mut ins);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    // proptest does not build for wasm32 (its fork support needs
    // processes); the property runs natively.
    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;

    fn old_of(spans: &[Span]) -> String {
        spans
            .iter()
            .filter(|s| !matches!(s, Span::Inserted(_)))
            .map(Span::text)
            .collect()
    }

    fn new_of(spans: &[Span]) -> String {
        spans
            .iter()
            .filter(|s| !matches!(s, Span::Deleted(_)))
            .map(Span::text)
            .collect()
    }

    #[test]
    fn words_are_compared_whole() {
        let spans = text_diff("Bonjour à tous.", "Bonjour à toutes et à tous !");
        assert_eq!(old_of(&spans), "Bonjour à tous.");
        assert_eq!(new_of(&spans), "Bonjour à toutes et à tous !");
        assert_eq!(spans[0], Span::Same("Bonjour à ".into()));
        assert!(
            spans
                .iter()
                .all(|s| !s.text().is_empty() && s.text() != "tou"),
            "{spans:?}"
        );
    }

    #[test]
    fn identical_empty_and_disjoint_texts() {
        assert_eq!(text_diff("same", "same"), vec![Span::Same("same".into())]);
        assert_eq!(text_diff("", ""), Vec::<Span>::new());
        assert_eq!(text_diff("", "new"), vec![Span::Inserted("new".into())]);
        assert_eq!(text_diff("old", ""), vec![Span::Deleted("old".into())]);
        assert_eq!(
            text_diff("abc", "xyz"),
            vec![Span::Deleted("abc".into()), Span::Inserted("xyz".into())]
        );
    }

    #[test]
    fn deletions_come_before_insertions_in_a_change() {
        let spans = text_diff("a b c", "a x y c");
        assert_eq!(
            spans,
            vec![
                Span::Same("a ".into()),
                Span::Deleted("b".into()),
                Span::Inserted("x y".into()),
                Span::Same(" c".into()),
            ]
        );
    }

    #[test]
    fn tokens_split_words_spaces_and_punctuation() {
        assert_eq!(
            tokens("Hé, l'été 2026!  ok"),
            vec![
                "Hé", ",", " ", "l", "'", "été", " ", "2026", "!", "  ", "ok"
            ]
        );
        assert_eq!(tokens("🙂🙂"), vec!["🙂", "🙂"]);
    }

    #[test]
    fn past_the_cap_the_middle_is_one_change() {
        let a: Vec<u32> = (0..3_000).collect();
        let b: Vec<u32> = (10_000..13_000).collect();
        let script = diff(&a, &b);
        assert_eq!(script.len(), 6_000);
        assert!(matches!(script[0], Edit::Delete(0)));
        assert!(matches!(script[3_000], Edit::Insert(0)));
        // Just under the cap, the search still finds the shortest script.
        let mut c = a.clone();
        for i in (0..3_000).step_by(7) {
            c[i] += 50_000;
        }
        let kept = diff(&a, &c)
            .iter()
            .filter(|e| matches!(e, Edit::Keep(..)))
            .count();
        assert_eq!(kept, 3_000 - 429);
    }

    #[test]
    fn ids_align_around_inserted_and_deleted_items() {
        let script = diff(&["a", "b", "c"], &["a", "n", "c", "d"]);
        assert_eq!(
            script,
            vec![
                Edit::Keep(0, 0),
                Edit::Delete(1),
                Edit::Insert(1),
                Edit::Keep(2, 2),
                Edit::Insert(3)
            ]
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// The spans always rebuild both texts, and the script is minimal
        /// for small alphabets (checked against an LCS table).
        #[test]
        fn spans_rebuild_both_texts(old in "[ab ,é]{0,40}", new in "[ab ,é]{0,40}") {
            let spans = text_diff(&old, &new);
            prop_assert_eq!(old_of(&spans), old.clone());
            prop_assert_eq!(new_of(&spans), new.clone());
            let (a, b) = (tokens(&old), tokens(&new));
            let kept = diff(&a, &b).iter().filter(|e| matches!(e, Edit::Keep(..))).count();
            prop_assert_eq!(kept, lcs(&a, &b));
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn lcs<T: PartialEq>(a: &[T], b: &[T]) -> usize {
        let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                t[i][j] = if a[i] == b[j] {
                    t[i + 1][j + 1] + 1
                } else {
                    t[i + 1][j].max(t[i][j + 1])
                };
            }
        }
        t[0][0]
    }
}
