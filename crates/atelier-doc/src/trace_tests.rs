//! Tests of [`super`]: parsing, replays against the naive reference,
//! mismatches.

use super::*;

fn seq(start: &str, end: &str, txns: &[&[(u32, u32, &str)]]) -> SequentialTrace {
    SequentialTrace {
        start_content: start.into(),
        end_content: end.into(),
        txns: txns
            .iter()
            .map(|ps| SequentialTxn {
                time: None,
                patches: ps
                    .iter()
                    .map(|&(p, d, s)| Patch(p, d, s.to_owned()))
                    .collect(),
            })
            .collect(),
    }
}

/// (parents, agent, patches) of one concurrent transaction.
type TestTxn<'a> = (&'a [usize], u32, &'a [(u32, u32, &'a str)]);

fn conc(end: &str, agents: u32, txns: &[TestTxn]) -> Trace {
    Trace::Concurrent(ConcurrentTrace {
        kind: "concurrent".into(),
        end_content: end.into(),
        num_agents: agents,
        txns: txns
            .iter()
            .map(|&(parents, agent, ps)| ConcurrentTxn {
                parents: parents.to_vec(),
                num_children: 0,
                agent,
                time: None,
                patches: ps
                    .iter()
                    .map(|&(p, d, s)| Patch(p, d, s.to_owned()))
                    .collect(),
            })
            .collect(),
    })
}

fn both_blocks() -> [ReplayOptions; 2] {
    [
        ReplayOptions::default(),
        ReplayOptions {
            block: BlockKind::Paragraph,
            max_txns: None,
        },
    ]
}

#[test]
fn parses_both_formats_and_timestamp_spellings() {
    let s = Trace::from_json(
        r#"{"startContent":"x","endContent":"ax","txns":[{"timestamp":"t","patches":[[0,0,"a"]]}]}"#,
    )
    .expect("sequential");
    assert_eq!(s.kind(), TraceKind::Sequential);
    assert_eq!(s.patch_count(), 1);
    let Trace::Sequential(st) = &s else {
        panic!("not sequential")
    };
    assert_eq!(st.txns[0].time.as_deref(), Some("t"));
    let c = Trace::from_json(
        r#"{"kind":"concurrent","endContent":"a","numAgents":1,
            "txns":[{"parents":[],"numChildren":0,"agent":0,"patches":[[0,0,"a"]]}]}"#,
    )
    .expect("concurrent");
    assert_eq!(c.kind(), TraceKind::Concurrent);
}

#[test]
fn one_transaction_paste_and_repeated_match_the_per_keystroke_replay() {
    let t = seq(
        "ab",
        "a😀xyb!",
        &[
            &[(1, 0, "xy")],
            &[(1, 0, "😀"), (5, 0, "!")],
            &[(4, 0, "q")],
            &[(4, 1, "")],
        ],
    );
    let options = ReplayOptions::default();
    let each = replay_sequential(&t, &options).expect("per keystroke");
    let once = replay_sequential_one_transaction(&t, &options).expect("one transaction");
    assert_eq!(once.text, t.end_content);
    assert_eq!(once.text, each.text);
    assert_eq!(once.stats.local_transactions, 1);
    let pasted = paste(&t.end_content, &options).expect("paste");
    assert_eq!(pasted.text, t.end_content);
    let (doc, block) = repeated_document("a😀", 3, &options).expect("repeated");
    let loaded = Document::from_update_v1(&doc.encode_state_v1()).expect("load");
    assert_eq!(loaded.block_plain_text(&block).expect("text"), "a😀a😀a😀");
}

#[test]
fn malformed_traces_are_errors_not_panics() {
    for bad in [
        "",
        "{}",
        r#"{"endContent":"","txns":[{"patches":[[0,0]]}]}"#,
        r#"{"kind":"weird","endContent":"","txns":[]}"#,
        r#"{"kind":"concurrent","endContent":"","txns":[]}"#,
        r#"{"kind":"concurrent","endContent":"","numAgents":1,"txns":[{"parents":[0],"agent":0,"patches":[]}]}"#,
        r#"{"kind":"concurrent","endContent":"","numAgents":1,"txns":[{"parents":[],"agent":3,"patches":[]}]}"#,
        r#"{"kind":"concurrent","endContent":"","numAgents":1,"txns":[{"agent":0,"patches":[]}]}"#,
    ] {
        assert!(
            matches!(Trace::from_json(bad), Err(Error::Malformed(_))),
            "{bad:?}"
        );
    }
    let t = seq("", "", &[&[(5, 0, "x")]]);
    let err = replay_sequential(&t, &ReplayOptions::default()).expect_err("out of range");
    assert!(err.to_string().contains("txn 0, patch 0"), "{err}");
    assert!(replay_naive(&t, None).is_err());
}

#[test]
fn sequential_replay_with_astral_text_and_descending_patches() {
    // Transactions of two patches in descending order, around emoji (a
    // ZWJ sequence, a flag split by an insertion between its halves).
    let t = seq(
        "ab",
        "👨\u{200D}👩aaX🇷!b",
        &[
            &[(1, 0, "🇫🇷"), (0, 0, "👨\u{200D}👩")],
            &[(6, 0, "!"), (5, 0, "X")],
            &[(4, 1, ""), (4, 0, "a")],
        ],
    );
    assert_eq!(replay_naive(&t, None).expect("naive"), t.end_content);
    for options in both_blocks() {
        let r = replay_sequential(&t, &options).expect("replay");
        assert_eq!(r.text, t.end_content, "{options:?}");
        assert_eq!(r.stats.final_utf16_len, 12);
        assert_eq!(r.stats.final_scalar_len, 9);
        assert_eq!(r.stats.patches, 6);
    }
}

#[test]
fn sequential_replay_with_newlines_and_start_content() {
    let t = seq("l1\nl2", "l1\nX\nl2!", &[&[(3, 0, "X\n")], &[(7, 0, "!")]]);
    for options in both_blocks() {
        let r = replay_sequential(&t, &options).expect("replay");
        assert!(
            r.mismatch(&t.end_content).is_none(),
            "{options:?}: {}",
            r.text
        );
    }
}

#[test]
fn prefix_replay_matches_naive_prefix() {
    let t = seq("", "abc", &[&[(0, 0, "a")], &[(1, 0, "c")], &[(1, 0, "b")]]);
    let options = ReplayOptions {
        max_txns: Some(2),
        ..Default::default()
    };
    let r = replay_sequential(&t, &options).expect("replay");
    assert_eq!(r.text, "ac");
    assert_eq!(replay_naive(&t, Some(2)).expect("naive"), "ac");
}

#[test]
fn concurrent_replay_merges_parents_exactly() {
    // Agent 1 starts from "abcdef" while agent 0 goes on appending and
    // deleting; no two agents insert at the same place concurrently.
    let t = conc(
        "A1b2cdfXY!",
        2,
        &[
            (&[], 0, &[(0, 0, "abcdef")]),
            (&[0], 0, &[(6, 0, "XY")]),
            (&[0], 1, &[(1, 0, "1")]),
            // A delete-only transaction: it moves no state vector.
            (&[1], 0, &[(4, 1, "")]),
            (&[2], 1, &[(3, 0, "2")]),
            (&[3, 4], 1, &[(9, 0, "!"), (0, 1, "A")]),
        ],
    );
    let r = replay(&t, &ReplayOptions::default()).expect("replay");
    assert_eq!(r.text, "A1b2cdfXY!");
    assert_eq!(r.kind, TraceKind::Concurrent);
    assert_eq!(r.stats.merges, 2);
    assert_eq!(r.stats.merged_updates, 3);
}

#[test]
fn concurrent_replay_tracks_astral_text_from_merges() {
    let t = conc(
        "😀Abx",
        2,
        &[
            (&[], 0, &[(0, 0, "ab")]),
            (&[0], 0, &[(0, 0, "😀")]),
            (&[0], 1, &[(2, 0, "c")]),
            // Agent 1 had no astral text; the merge brings one in, and
            // these positions count it as one scalar.
            (&[1, 2], 1, &[(4, 0, "!"), (1, 1, "A")]),
            (&[3], 0, &[(3, 2, "x")]),
        ],
    );
    for options in both_blocks() {
        let r = replay(&t, &options).expect("replay");
        assert_eq!(r.text, "😀Abx", "{options:?}");
    }
}

#[test]
fn concurrent_agents_must_edit_sequentially() {
    // Agent 0's second transaction does not follow its first.
    let t = conc("", 1, &[(&[], 0, &[(0, 0, "a")]), (&[], 0, &[(0, 0, "b")])]);
    let err = replay(&t, &ReplayOptions::default()).expect_err("not sequential");
    assert!(err.to_string().contains("sequentially"), "{err}");
}

/// A `hardBreak` typed inside a line moves the line's tail to a new text
/// node; text another agent types concurrently into that tail stays in
/// the old node, before the break. A code block has no such problem.
#[test]
fn paragraph_breaks_do_not_converge_under_concurrency() {
    let t = conc(
        "ab\ncXd",
        2,
        &[
            (&[], 0, &[(0, 0, "abcd")]),
            (&[0], 0, &[(2, 0, "\n")]),
            (&[0], 1, &[(3, 0, "X")]),
            (&[1, 2], 0, &[]),
        ],
    );
    let code = replay(&t, &ReplayOptions::default()).expect("code block");
    assert_eq!(code.text, "ab\ncXd");
    let para = replay(
        &t,
        &ReplayOptions {
            block: BlockKind::Paragraph,
            max_txns: None,
        },
    )
    .expect("paragraph");
    assert_ne!(
        para.text, "ab\ncXd",
        "if this converges now, update the module docs"
    );
}

#[test]
fn mismatch_reports_position_line_and_context() {
    assert!(first_mismatch("abc", "abc").is_none());
    let m = first_mismatch("ab\ncdef", "ab\ncXef").expect("differs");
    assert_eq!((m.position, m.line, m.column), (4, 2, 2));
    assert_eq!(m.expected_context, "ab\ncdef");
    assert_eq!(m.actual_context, "ab\ncXef");
    let m = first_mismatch("abc", "ab").expect("shorter");
    assert_eq!((m.position, m.expected_len, m.actual_len), (2, 3, 2));
    assert!(m.to_string().contains("scalar 2"));
}
