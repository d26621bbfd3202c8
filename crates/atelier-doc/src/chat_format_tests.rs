use super::*;

fn runs(text: &str) -> Vec<(String, String)> {
    parse_inline(text)
        .into_iter()
        .map(|r| {
            let m = &r.marks;
            let mut tags = String::new();
            for (on, t) in [
                (m.bold, "b"),
                (m.italic, "i"),
                (m.strike, "s"),
                (m.code, "c"),
            ] {
                if on {
                    tags.push_str(t);
                }
            }
            if let Some(href) = &m.link {
                tags.push_str(&format!("@{href}"));
            }
            (r.text, tags)
        })
        .collect()
}

fn r(text: &str, tags: &str) -> (String, String) {
    (text.to_owned(), tags.to_owned())
}

#[test]
fn marks_are_read() {
    assert_eq!(
        runs("a **b** *c* _d_ ~~e~~ `f` ***g***"),
        vec![
            r("a ", ""),
            r("b", "b"),
            r(" ", ""),
            r("c", "i"),
            r(" ", ""),
            r("d", "i"),
            r(" ", ""),
            r("e", "s"),
            r(" ", ""),
            r("f", "c"),
            r(" ", ""),
            r("g", "bi"),
        ]
    );
    assert_eq!(
        runs("**bold *and italic* too**"),
        vec![r("bold ", "b"), r("and italic", "bi"), r(" too", "b")]
    );
    assert_eq!(runs("`` a ` b ``"), vec![r("a ` b", "c")]);
    assert_eq!(runs("`**not bold**`"), vec![r("**not bold**", "c")]);
}

#[test]
fn what_is_not_formatting_stays_text() {
    for text in [
        "snake_case_name",
        "2 * 3 * 4",
        "** not bold**",
        "*unclosed",
        "~single~",
        "a ` b",
        "\\*literal\\*",
    ] {
        let got: String = runs(text).into_iter().map(|(t, _)| t).collect();
        let tags: String = runs(text).into_iter().map(|(_, t)| t).collect();
        assert!(tags.is_empty(), "{text:?} got marks {tags:?}");
        assert_eq!(got, text.replace('\\', ""), "{text:?}");
    }
}

#[test]
fn links_are_kept_only_when_safe() {
    assert_eq!(
        runs("see [the site](https://a.fr/x?y=1) now"),
        vec![
            r("see ", ""),
            r("the site", "@https://a.fr/x?y=1"),
            r(" now", "")
        ]
    );
    assert_eq!(
        runs("(https://a.fr/p_(1)), mailto:a@b.fr."),
        vec![
            r("(", ""),
            r("https://a.fr/p_(1)", "@https://a.fr/p_(1)"),
            r("), ", ""),
            r("mailto:a@b.fr", "@mailto:a@b.fr"),
            r(".", ""),
        ]
    );
    for hostile in [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox)",
        "[x](/relative)",
        "[x](//evil.example)",
        "javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "xhttps://a.fr",
    ] {
        let got = runs(hostile);
        assert!(
            got.iter().all(|(_, tags)| !tags.contains('@')),
            "{hostile:?} made a link: {got:?}"
        );
        let text: String = got.into_iter().map(|(t, _)| t).collect();
        assert_eq!(text, hostile);
    }
    assert!(is_chat_link("HTTPS://A.FR"));
    assert!(!is_chat_link("https://"));
    assert!(!is_chat_link("https://a b"));
}

#[test]
fn html_and_css_come_out_as_text() {
    let body = "<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n<style>body{display:none}</style> &amp; &lt;b&gt;";
    let blocks = parse(body);
    assert_eq!(blocks.len(), 1);
    let text: String = blocks[0].content.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(text, body);
    assert!(blocks[0].content.iter().all(|r| r.marks.is_empty()));
}

#[test]
fn blocks_are_read() {
    let body = "Hello\nsecond line\n\n- one\n* two\n3. three\n4. four\n> quoted\n> more\n```rust\nfn x() { *a* }\n```\nafter";
    let blocks = parse(body);
    let kinds: Vec<&str> = blocks.iter().map(|b| b.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "paragraph",
            "bulletListItem",
            "bulletListItem",
            "numberedListItem",
            "numberedListItem",
            "quote",
            "codeBlock",
            "paragraph"
        ]
    );
    assert_eq!(blocks[0].content[0].text, "Hello\nsecond line");
    assert_eq!(blocks[3].props.get("start"), Some(&3.into()));
    assert_eq!(blocks[4].props.get("start"), None);
    assert_eq!(blocks[5].content[0].text, "quoted\nmore");
    assert_eq!(blocks[6].content[0].text, "fn x() { *a* }");
    assert_eq!(blocks[6].content[0].marks, Marks::default());
    assert_eq!(blocks[6].props.get("language"), Some(&"rust".into()));
    // An unclosed fence runs to the end; a hostile info string is dropped.
    let blocks = parse("```\"><script>\ncode");
    assert_eq!(blocks[0].kind, "codeBlock");
    assert!(blocks[0].props.is_empty());
    assert_eq!(parse("-notalist")[0].kind, "paragraph");
    assert_eq!(parse("1.5 litres")[0].kind, "paragraph");
    assert!(parse("  \n\n").is_empty());
}

#[test]
fn excerpts_are_one_short_line() {
    assert_eq!(excerpt("**Hi**\n\n- a\n- b", 40), "Hi a b");
    assert_eq!(excerpt("abcdef", 3), "abc…");
    assert_eq!(excerpt("<b>x</b>", 40), "<b>x</b>");
}

#[test]
fn hostile_bodies_parse_in_linear_time() {
    // Unclosed openers everywhere: each would scan to the end without the
    // memo, quadratic in the body's length.
    let worst = [
        "*a ".repeat(5_000),
        "**a ".repeat(4_000),
        "_a ".repeat(5_000),
        "~~a ".repeat(4_000),
        "[a ".repeat(5_000),
        "`a ".repeat(5_000),
        "[a](".repeat(4_000),
        "https://".repeat(2_000),
        "*".repeat(16_000),
        "*_~`[".repeat(3_000),
        "**a *b ~~c ".repeat(1_400),
    ];
    let start = std::time::Instant::now();
    for body in &worst {
        assert!(body.len() <= crate::chat::MAX_BODY_BYTES);
        let blocks = parse(body);
        let text: String = blocks
            .iter()
            .flat_map(|b| b.content.iter())
            .map(|r| r.text.as_str())
            .collect();
        assert!(!text.is_empty());
    }
    let took = start.elapsed();
    assert!(took.as_millis() < 2_000, "took {took:?}");
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}x{}", "*_".repeat(40), "_*".repeat(40));
    let runs = parse_inline(&deep);
    let text: String = runs.iter().map(|r| r.text.as_str()).collect();
    assert!(text.contains('x'));
}
