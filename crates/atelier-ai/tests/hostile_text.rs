//! The hostile text table (issue 18): script-injection vectors of the kinds
//! the public XSS lists collect (OWASP's filter-evasion cheat sheet,
//! PortSwigger's XSS cheat sheet: script and event-handler tags, scheme
//! tricks with entities, tabs, case and whitespace, SVG and MathML, data
//! URLs, CSS expressions, mutation-XSS shapes), each sent through every
//! path by which outside text becomes document content:
//!
//! - **paste**: `html::sanitize_paste`, then inserted;
//! - **Markdown**: `markdown::import`;
//! - **chat**: `chat_format::parse`, inserted as a message's blocks;
//! - **AI output**: the model's document tool call (`review_tool_call`),
//!   its HTML blocks applied as the assistant applies them.
//!
//! A vector is *accepted* when the document then holds an unsafe link or
//! media URL, or its HTML export holds a tag or attribute outside what the
//! exporter writes. The test fails on any acceptance and prints the table's
//! counts (`cargo xtask reliability` reads that line).

use atelier_ai::doc_tool::{BlockIndex, ToolLimits, review_tool_call};
use atelier_doc::sanitize::is_safe_href;
use atelier_doc::{Block, Document, InlineRun, Placement, markdown};

/// The vectors. Each is tried as it is on every path.
const VECTORS: &[&str] = &[
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//xss.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=\"jav&#x09;ascript:alert(1)\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"jav\tascript:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"java&#0000115;cript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"&#14;javascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"width:expression(alert(1))\">x</div>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<p title=\"&lt;/p&gt;&lt;img src=x onerror=alert(1)&gt;\">x</p>",
    "<<script>alert(1)//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">ok</a>",
    "<span data-text-color=\"red\" onmouseover=\"alert(1)\">x</span>",
    "<code class=\"x\" onclick=\"alert(1)\">x</code>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "[x](javascript:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](JAVASCRIPT:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "**<img src=x onerror=alert(1)>**",
    "`<script>`alert(1)`</script>`",
    "| a |\n|---|\n| <script>alert(1)</script> [x](javascript:1) |",
];

/// Tags the HTML exporter writes, with the attributes each may carry.
const ALLOWED: &[(&str, &[&str])] = &[
    ("p", &[]),
    ("h1", &[]),
    ("h2", &[]),
    ("h3", &[]),
    ("h4", &[]),
    ("h5", &[]),
    ("h6", &[]),
    ("ul", &[]),
    ("ol", &[]),
    ("li", &[]),
    ("input", &["type", "checked", "disabled"]),
    ("blockquote", &[]),
    ("pre", &[]),
    ("code", &["class"]),
    ("hr", &[]),
    ("table", &[]),
    ("tr", &[]),
    ("td", &[]),
    ("strong", &[]),
    ("em", &[]),
    ("u", &[]),
    ("s", &[]),
    ("br", &[]),
    ("span", &["data-text-color", "data-background-color"]),
    ("a", &["href", "rel"]),
];

/// Undoes the exporter's escaping of an attribute value.
fn unescape(v: &str) -> String {
    v.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Why `html` (an export) holds active content, if it does.
fn active_markup(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        let Some(end) = after.find('>') else {
            return Some(format!("an unclosed tag: {after:?}"));
        };
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.starts_with('/') {
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect();
        let Some((_, attrs)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            return Some(format!("a <{name}> tag"));
        };
        // Attributes: name="value" pairs as the exporter writes them.
        let mut a = tag[name.len()..].trim();
        while !a.is_empty() {
            let key: String = a
                .chars()
                .take_while(|c| *c != '=' && !c.is_whitespace())
                .collect();
            a = a[key.len()..].trim_start();
            let mut value = String::new();
            if let Some(v) = a.strip_prefix("=\"") {
                let Some(close) = v.find('"') else {
                    return Some(format!("an unterminated attribute in <{tag}>"));
                };
                value = unescape(&v[..close]);
                a = v[close + 1..].trim_start();
            }
            if !attrs.contains(&key.as_str()) {
                return Some(format!("attribute {key:?} on <{name}>"));
            }
            if key == "href" && !is_safe_href(&value) {
                return Some(format!("href {value:?}"));
            }
        }
    }
    None
}

/// Why the blocks hold an unsafe link or media URL, if they do.
fn unsafe_url(blocks: &[Block]) -> Option<String> {
    let runs_bad = |runs: &[InlineRun]| {
        runs.iter()
            .filter_map(|r| r.marks.link.as_deref())
            .find(|h| !is_safe_href(h))
            .map(|h| format!("link {h:?}"))
    };
    for b in blocks {
        if let Some(bad) = runs_bad(&b.content) {
            return Some(bad);
        }
        for cell in b.table.iter().flatten().flatten() {
            if let Some(bad) = runs_bad(cell) {
                return Some(bad);
            }
        }
        if let Some(serde_json::Value::String(url)) = b.props.get("url")
            && !url.is_empty()
            && !is_safe_href(url)
        {
            return Some(format!("media URL {url:?}"));
        }
        if let Some(bad) = unsafe_url(&b.children) {
            return Some(bad);
        }
    }
    None
}

/// What the document holds that it must not, if anything.
fn accepted(doc: &Document) -> Option<String> {
    let blocks = doc.blocks();
    unsafe_url(&blocks).or_else(|| active_markup(&atelier_doc::html::export(&blocks)))
}

fn through_paste(v: &str) -> Document {
    let doc = Document::new();
    let blocks = atelier_doc::html::sanitize_paste(v);
    if !blocks.is_empty() {
        doc.insert_blocks(&Placement::End, &blocks)
            .expect("sanitized blocks insert");
    }
    doc
}

fn through_markdown(v: &str) -> Document {
    let doc = Document::new();
    markdown::import(&doc, v).expect("Markdown imports");
    doc
}

fn through_chat(v: &str) -> Document {
    let doc = Document::new();
    let blocks = atelier_doc::chat_format::parse(v);
    if !blocks.is_empty() {
        doc.insert_blocks(&Placement::End, &blocks)
            .expect("chat blocks insert");
    }
    doc
}

fn through_ai(v: &str) -> Document {
    let doc = Document::new();
    markdown::import(&doc, "Anchor.\n").expect("imports");
    let anchor = doc.blocks()[0].id.to_string();
    let args = serde_json::json!({"operations": [
        {"type": "add", "referenceId": anchor, "position": "after", "blocks": [v]},
        {"type": "update", "id": anchor, "block": v},
    ]});
    let review = review_tool_call(
        &args.to_string(),
        &BlockIndex::from_document(&doc),
        &ToolLimits::default(),
    )
    .expect("the tool call's shape");
    // Refused operations change nothing; accepted ones apply as the
    // assistant applies them.
    doc.apply_ops(&review.ops(), "assistant")
        .expect("reviewed operations apply");
    doc
}

/// One way outside text becomes document content.
type Path = fn(&str) -> Document;

#[test]
fn no_hostile_text_reaches_a_document_on_any_path() {
    let paths: [(&str, Path); 4] = [
        ("paste", through_paste),
        ("markdown", through_markdown),
        ("chat", through_chat),
        ("ai", through_ai),
    ];
    let mut tried = 0;
    let mut failures = Vec::new();
    for (path, through) in paths {
        for v in VECTORS {
            tried += 1;
            if let Some(why) = accepted(&through(v)) {
                failures.push(format!("{path}: {v:?} -> {why}"));
            }
        }
    }
    println!("HOSTILE text tried={tried} accepted={}", failures.len());
    assert!(failures.is_empty(), "accepted:\n{}", failures.join("\n"));
}

#[test]
fn the_checker_sees_active_markup_and_unsafe_links() {
    // The checker must be able to fail: markup the exporter never writes.
    assert!(active_markup("<p>x</p><img src=x>").is_some());
    assert!(active_markup("<a href=\"javascript:alert(1)\" rel=\"noopener\">x</a>").is_some());
    assert!(active_markup("<p onclick=\"x\">y</p>").is_some());
    assert!(
        active_markup("<p>ok <a href=\"https://e.org\" rel=\"noopener noreferrer\">l</a></p>")
            .is_none()
    );
}
