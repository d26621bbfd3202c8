//! The `.d.ts` side of the manifest: a reader of the elements' declaration
//! files as they are written (JSDoc right above one declaration per
//! statement), giving each element class its tags and members. Not a
//! TypeScript parser: what it cannot read fails the build with the line.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

/// A JSDoc comment: its free text and its tags.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct JsDoc {
    pub(crate) description: String,
    pub(crate) tags: Vec<Tag>,
}

/// `@name {type} subject - text`; every part after the name may be absent.
#[derive(Debug, PartialEq)]
pub(crate) struct Tag {
    pub(crate) name: String,
    pub(crate) ty: Option<String>,
    pub(crate) subject: String,
    pub(crate) text: String,
}

impl JsDoc {
    /// Reads the inside of `/** … */` (without the delimiters).
    pub(crate) fn parse(inner: &str) -> JsDoc {
        let mut doc = JsDoc::default();
        let mut description: Vec<&str> = Vec::new();
        let mut tag_lines: Vec<String> = Vec::new();
        for line in inner.lines() {
            let line = line.trim();
            let line = line.strip_prefix('*').unwrap_or(line).trim();
            if line.starts_with('@') {
                tag_lines.push(line.to_string());
            } else if let Some(last) = tag_lines.last_mut() {
                if !line.is_empty() {
                    last.push(' ');
                    last.push_str(line);
                }
            } else {
                description.push(line);
            }
        }
        doc.description = join_paragraphs(&description);
        doc.tags = tag_lines.iter().map(|l| Tag::parse(l)).collect();
        doc
    }

    pub(crate) fn tags<'a>(&'a self, names: &'a [&str]) -> impl Iterator<Item = &'a Tag> + 'a {
        self.tags
            .iter()
            .filter(|t| names.contains(&t.name.as_str()))
    }
}

/// Lines joined with spaces, paragraphs (blank lines) kept as `\n\n`.
pub(crate) fn join_paragraphs(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { " " });
        }
        out.push_str(line);
        blank = false;
    }
    out
}

impl Tag {
    pub(crate) fn parse(line: &str) -> Tag {
        let line = line.trim_start_matches('@');
        let (name, mut rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        rest = rest.trim();
        let mut ty = None;
        if let Some(end) = rest.starts_with('{').then(|| matching(rest, 0)).flatten() {
            ty = Some(rest[1..end].trim().to_string());
            rest = rest[end + 1..].trim();
        }
        let (subject, text) = match rest.split_once(char::is_whitespace) {
            Some((subject, text)) => (subject, text.trim()),
            None => (rest, ""),
        };
        let text = text.strip_prefix('-').unwrap_or(text).trim();
        Tag {
            name: name.to_string(),
            ty,
            subject: subject.to_string(),
            text: text.to_string(),
        }
    }
}

/// If a string literal or a comment starts at `i`, the index of its last
/// byte (so brackets and quotes inside either are not counted).
pub(crate) fn skip_opaque(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes[i] {
        q @ (b'"' | b'\'' | b'`') => {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != q {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            Some(j.min(bytes.len() - 1))
        }
        b'/' if bytes.get(i + 1) == Some(&b'*') => {
            let mut j = i + 2;
            while j + 1 < bytes.len() && !(bytes[j] == b'*' && bytes[j + 1] == b'/') {
                j += 1;
            }
            Some((j + 1).min(bytes.len() - 1))
        }
        b'/' if bytes.get(i + 1) == Some(&b'/') => {
            let mut j = i;
            while j < bytes.len() && bytes[j] != b'\n' {
                j += 1;
            }
            Some(j.min(bytes.len() - 1))
        }
        _ => None,
    }
}

/// Index of the bracket closing the one at `open` in `s`, counting
/// `()`, `[]`, `{}` and `<>` (not the `>` of `=>`), skipping strings and
/// comments.
pub(crate) fn matching(s: &str, open: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        if let Some(end) = skip_opaque(bytes, i) {
            i = end + 1;
            continue;
        }
        match bytes[i] {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'=' => {}
            b')' | b']' | b'}' | b'>' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits `s` at `sep` where no bracket, string or comment is open.
pub(crate) fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = skip_opaque(bytes, i) {
            i = end + 1;
            continue;
        }
        match bytes[i] {
            b'(' | b'[' | b'{' | b'<' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'=' => {}
            b')' | b']' | b'}' | b'>' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

/// Whitespace runs (line breaks in a long declaration) as one space.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One statement of a class body or a file, with the JSDoc right above it.
pub(crate) struct Statement {
    pub(crate) doc: Option<JsDoc>,
    pub(crate) text: String,
}

/// The statements of `src` (a class body or a whole `.d.ts`) ending in `;`
/// or a `{…}` block at depth 0, each with its JSDoc; line comments dropped.
pub(crate) fn statements(src: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut doc = None;
    let mut rest = src;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix("/**") {
            let end = after.find("*/").unwrap_or(after.len());
            doc = Some(JsDoc::parse(&after[..end]));
            rest = after.get(end + 2..).unwrap_or("");
            continue;
        }
        if let Some(after) = rest.strip_prefix("/*") {
            let end = after.find("*/").unwrap_or(after.len());
            rest = after.get(end + 2..).unwrap_or("");
            continue;
        }
        if rest.starts_with("//") {
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
            continue;
        }
        // To the first `;` at depth 0, or the end of the first `{…}` block
        // opened at depth 0 when no `;` comes before it (a class, a
        // `declare global`).
        let bytes = rest.as_bytes();
        let mut end = rest.len();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b';' => {
                    end = i + 1;
                    break;
                }
                b'"' | b'\'' | b'`' | b'/' => {
                    if let Some(end) = skip_opaque(bytes, i) {
                        i = end;
                    }
                }
                b'(' | b'[' | b'<' => match matching(rest, i) {
                    Some(close) => i = close,
                    None => break,
                },
                b'{' => match matching(rest, i) {
                    Some(close) => {
                        let tail = rest[close + 1..].trim_start();
                        // `name: {…};` or `): {…} | null;` continue to their `;`.
                        // So do `export { a } from "./x.js";` and `= {…};`.
                        let continues = tail.starts_with([';', '|', '&'])
                            || tail.starts_with("from ")
                            || rest[..i].trim_end().ends_with([':', '=']);
                        if continues {
                            i = close;
                        } else {
                            end = close + 1;
                            break;
                        }
                    }
                    None => break,
                },
                _ => {}
            }
            i += 1;
        }
        out.push(Statement {
            doc: doc.take(),
            text: rest[..end].trim().to_string(),
        });
        rest = &rest[end..];
    }
    out
}

/// A class member of a `.d.ts` class body.
#[derive(Debug)]
pub(crate) enum Member {
    Field {
        name: String,
        ty: String,
        readonly: bool,
        description: String,
    },
    Method {
        name: String,
        params: Vec<(String, String, bool)>,
        ret: String,
        description: String,
    },
}

/// Reads one member statement (`readonly status: string;`, `run(a: T): void;`).
pub(crate) fn member(st: &Statement) -> Result<Option<Member>> {
    let text = st.text.trim_end_matches(';').trim();
    let description = st
        .doc
        .as_ref()
        .map(|d| d.description.clone())
        .unwrap_or_default();
    let mut words = text;
    let mut readonly = false;
    loop {
        if let Some(r) = words.strip_prefix("static ") {
            // Static members (`observedAttributes`) are the class's, not an element's.
            let _ = r;
            return Ok(None);
        } else if let Some(r) = words.strip_prefix("readonly ") {
            readonly = true;
            words = r.trim_start();
        } else if words.starts_with("private ") || words.starts_with("protected ") {
            return Ok(None);
        } else {
            break;
        }
    }
    let name_end = words
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(words.len());
    let name = &words[..name_end];
    if name.is_empty() {
        bail!("cannot read the class member `{text}`");
    }
    let after = words[name_end..].trim_start();
    let after = after.strip_prefix('?').unwrap_or(after).trim_start();
    if after.starts_with('(') {
        let close = matching(after, 0).with_context(|| format!("unclosed `(` in `{text}`"))?;
        let params = split_top(&after[1..close], b',')
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (pname, ty) = p.split_once(':').unwrap_or((p, "unknown"));
                let optional = pname.trim().ends_with('?');
                (
                    pname.trim().trim_end_matches('?').to_string(),
                    squash(ty),
                    optional,
                )
            })
            .collect();
        let ret = after[close + 1..].trim().trim_start_matches(':').trim();
        Ok(Some(Member::Method {
            name: name.to_string(),
            params,
            ret: squash(if ret.is_empty() { "void" } else { ret }),
            description,
        }))
    } else if let Some(ty) = after.strip_prefix(':') {
        Ok(Some(Member::Field {
            name: name.to_string(),
            ty: squash(ty),
            readonly,
            description,
        }))
    } else {
        bail!("cannot read the class member `{text}`")
    }
}

/// An element class read from a `.d.ts` file.
#[derive(Debug)]
pub(crate) struct ElementClass {
    pub(crate) name: String,
    pub(crate) superclass: String,
    pub(crate) doc: JsDoc,
    pub(crate) members: Vec<Member>,
}

/// A function's parameters (name, type, optional), return type and description.
type Function = (Vec<(String, String, bool)>, String, String);

/// What one `.d.ts` file declares.
#[derive(Default)]
pub(crate) struct DtsFile {
    pub(crate) classes: Vec<ElementClass>,
    /// `export declare function`: name → (params, return type, description).
    pub(crate) functions: BTreeMap<String, Function>,
    /// `HTMLElementEventMap` entries: event name → its type.
    pub(crate) events: BTreeMap<String, String>,
    /// `export * from "./x.js"` targets.
    pub(crate) reexport_all: Vec<String>,
    /// `export { a, b } from "./x.js"`: (names, target).
    pub(crate) reexport_named: Vec<(Vec<String>, String)>,
}

/// The module a re-export names, as `x.d.ts`.
pub(crate) fn dts_of(spec: &str) -> String {
    let spec = spec.trim().trim_matches(|c| c == '"' || c == '\'');
    let spec = spec.strip_prefix("./").unwrap_or(spec);
    format!("{}.d.ts", spec.strip_suffix(".js").unwrap_or(spec))
}

pub(crate) fn read_dts(src: &str) -> Result<DtsFile> {
    let mut file = DtsFile::default();
    for st in statements(src) {
        let text = st.text.as_str();
        if let Some(rest) = text.strip_prefix("export declare class ") {
            let open = rest.find('{').context("a class without a body")?;
            let head: Vec<&str> = rest[..open].split_whitespace().collect();
            let (name, superclass) = match head.as_slice() {
                [name, "extends", superclass] => (*name, *superclass),
                [name] => (*name, ""),
                _ => bail!("cannot read the class head `{}`", &rest[..open]),
            };
            let close = matching(rest, open).context("unclosed class body")?;
            let mut members = Vec::new();
            for m in statements(&rest[open + 1..close]) {
                if let Some(m) = member(&m).with_context(|| format!("in class {name}"))? {
                    members.push(m);
                }
            }
            file.classes.push(ElementClass {
                name: name.to_string(),
                superclass: superclass.to_string(),
                doc: st.doc.unwrap_or_default(),
                members,
            });
        } else if let Some(rest) = text.strip_prefix("export declare function ") {
            let st = Statement {
                doc: st.doc,
                text: rest.to_string(),
            };
            if let Some(Member::Method {
                name,
                params,
                ret,
                description,
            }) = member(&st)?
            {
                file.functions.insert(name, (params, ret, description));
            }
        } else if let Some(rest) = text.strip_prefix("export * from ") {
            file.reexport_all.push(dts_of(rest.trim_end_matches(';')));
        } else if let Some(rest) = text.strip_prefix("export {") {
            if let Some((names, from)) = rest.split_once("} from ") {
                let names = names
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
                file.reexport_named
                    .push((names, dts_of(from.trim_end_matches(';'))));
            }
        } else if text.starts_with("declare global") {
            let Some(open) = text.find('{') else { continue };
            let close = matching(text, open).context("unclosed `declare global`")?;
            for inner in statements(&text[open + 1..close]) {
                let Some(body) = inner.text.strip_prefix("interface HTMLElementEventMap") else {
                    continue;
                };
                let Some(open) = body.find('{') else { continue };
                let close = matching(body, open).context("unclosed HTMLElementEventMap")?;
                for entry in statements(&body[open + 1..close]) {
                    let entry = entry.text.trim_end_matches(';');
                    if let Some((name, ty)) = entry.split_once(':') {
                        file.events
                            .insert(name.trim().trim_matches('"').to_string(), squash(ty));
                    }
                }
            }
        }
    }
    Ok(file)
}
