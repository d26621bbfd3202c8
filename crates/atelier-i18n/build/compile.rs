//! Compiles the Fluent catalogue (`messages/<lang>/<widget>.ftl`) to Rust
//! (run by `build.rs`; `tests/catalogue_checks.rs` runs it on broken
//! catalogues).
//!
//! The `.ftl` files are parsed here, at build time, with `fluent-syntax`;
//! what ships is plain `&'static str` statics (see the crate docs for why).
//! The build fails, listing every problem, when a language lacks a message
//! the English catalogue has, has one it lacks, or uses a variable
//! differently, and when a message uses Fluent this generator does not
//! compile (terms, attributes, functions, references, nested selects).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use fluent_syntax::ast;

/// The reference language: its catalogue decides which messages exist,
/// its comments document them, and it is `Lang`'s fallback.
const REFERENCE: &str = "en";

/// A nested strings struct: a widget's messages whose ids start with
/// `<widget>-<field>-` become the fields of `ty`, reached through `field`.
struct Group {
    widget: &'static str,
    field: &'static str,
    ty: &'static str,
    field_doc: &'static str,
    ty_doc: &'static str,
}

const GROUPS: &[Group] = &[Group {
    widget: "assistant",
    field: "errors",
    ty: "ErrorStrings",
    field_doc: "Errors by kind (see atelier-assistant's `ErrorKind`).",
    ty_doc: "Messages for the errors an assistant run can end with.",
}];

/// Rust keywords a message id must not turn into a field name.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro", "override",
    "priv", "try", "typeof", "unsized", "virtual", "yield",
];

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Var(String),
}

#[derive(Debug)]
enum Value {
    /// A plain pattern.
    Text(Vec<Piece>),
    /// A select expression on `$n` (with the text around it folded into
    /// each variant).
    Plural { one: Vec<Piece>, other: Vec<Piece> },
}

#[derive(Debug)]
struct Msg {
    id: String,
    comment: Option<String>,
    value: Value,
    vars: BTreeSet<String>,
}

struct Resource {
    comment: Option<String>,
    messages: Vec<Msg>,
}

struct Lang {
    tag: String,
    variant: String,
    /// One resource per widget, in `widgets` order.
    resources: Vec<Resource>,
}

/// The generated Rust for the catalogue in `dir`, or `None` with the
/// problems pushed onto `errors`.
pub fn compile(dir: &Path, errors: &mut Vec<String>) -> Option<String> {
    let mut tags: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            return None;
        }
    };
    tags.sort();
    for t in &tags {
        if !(2..=3).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_lowercase()) {
            errors.push(format!(
                "messages/{t}: a language directory is named by its primary BCP 47 subtag (two or three lower-case letters)"
            ));
        }
    }
    if !tags.iter().any(|t| t == REFERENCE) {
        errors.push(format!(
            "messages/{REFERENCE}: the reference catalogue is missing"
        ));
        return None;
    }
    let widgets = ftl_stems(&dir.join(REFERENCE), errors);
    for w in &widgets {
        if !is_name(w) {
            errors.push(format!("messages/{REFERENCE}/{w}.ftl: a widget's file name must be lower-case letters and digits"));
        }
    }

    let mut langs = Vec::new();
    for tag in &tags {
        let here = ftl_stems(&dir.join(tag), errors);
        for extra in here.iter().filter(|w| !widgets.contains(w)) {
            errors.push(format!(
                "messages/{tag}/{extra}.ftl: {REFERENCE}/{extra}.ftl does not exist (add it there first)"
            ));
        }
        let mut resources = Vec::new();
        for w in &widgets {
            let path = dir.join(tag).join(format!("{w}.ftl"));
            let name = format!("messages/{tag}/{w}.ftl");
            match std::fs::read_to_string(&path) {
                Ok(source) => resources.push(read_resource(&name, w, &source, errors)),
                Err(e) => {
                    errors.push(format!("{name}: {e} ({REFERENCE}/{w}.ftl has it)"));
                    resources.push(Resource {
                        comment: None,
                        messages: Vec::new(),
                    });
                }
            }
        }
        let mut variant = tag.clone();
        variant[..1].make_ascii_uppercase();
        langs.push(Lang {
            tag: tag.clone(),
            variant,
            resources,
        });
    }

    let reference = langs.iter().position(|l| l.tag == REFERENCE)?;
    check_against_reference(&langs, reference, &widgets, errors);
    if !errors.is_empty() {
        return None;
    }
    Some(generate(&langs, reference, &widgets))
}

fn is_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn ftl_stems(dir: &Path, errors: &mut Vec<String>) -> Vec<String> {
    let mut stems: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect(),
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            Vec::new()
        }
    };
    stems.sort();
    stems
}

fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

fn message_line(source: &str, id: &str) -> usize {
    let at = source
        .match_indices(id)
        .find(|(i, _)| {
            (*i == 0 || source.as_bytes()[i - 1] == b'\n')
                && source[i + id.len()..]
                    .trim_start_matches(' ')
                    .starts_with('=')
        })
        .map_or(0, |(i, _)| i);
    line_of(source, at)
}

fn comment_text(c: &ast::Comment<&str>) -> String {
    c.content.join("\n").trim().to_owned()
}

fn read_resource(name: &str, widget: &str, source: &str, errors: &mut Vec<String>) -> Resource {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(r) => r,
        Err((r, errs)) => {
            for e in errs {
                errors.push(format!(
                    "{name}:{}: {}",
                    line_of(source, e.pos.start),
                    e.kind
                ));
            }
            r
        }
    };
    let prefix = format!("{widget}-");
    let mut comment = None;
    let mut messages: Vec<Msg> = Vec::new();
    for entry in resource.body {
        match entry {
            ast::Entry::Message(m) => {
                let id = m.id.name.to_owned();
                let at = format!("{name}:{}: {id}", message_line(source, &id));
                if !id.starts_with(&prefix) || id.len() == prefix.len() {
                    errors.push(format!("{at}: ids in {widget}.ftl start with `{prefix}`"));
                    continue;
                }
                let field_part = &id[prefix.len()..];
                if !field_part.split('-').all(is_name) {
                    errors.push(format!(
                        "{at}: after `{prefix}`, an id is lower-case words joined by `-` (each word becomes part of a Rust field name)"
                    ));
                    continue;
                }
                if messages.iter().any(|x| x.id == id) {
                    errors.push(format!("{at}: defined twice"));
                    continue;
                }
                if !m.attributes.is_empty() {
                    errors.push(format!("{at}: attributes (`.name = …`) are not supported; make each its own message"));
                }
                let Some(pattern) = m.value else {
                    errors.push(format!("{at}: has no value"));
                    continue;
                };
                let mut vars = BTreeSet::new();
                match read_value(&pattern, &mut vars) {
                    Ok(value) => messages.push(Msg {
                        id,
                        comment: m.comment.as_ref().map(comment_text),
                        value,
                        vars,
                    }),
                    Err(e) => errors.push(format!("{at}: {e}")),
                }
            }
            ast::Entry::Term(t) => errors.push(format!(
                "{name}:{}: term -{} is not supported (write the text in each message)",
                message_line(source, &format!("-{}", t.id.name)),
                t.id.name
            )),
            ast::Entry::ResourceComment(c) => comment = Some(comment_text(&c)),
            ast::Entry::Comment(_) | ast::Entry::GroupComment(_) => {}
            ast::Entry::Junk { content } => {
                let at = source.find(content).map_or(0, |i| line_of(source, i));
                errors.push(format!("{name}:{at}: cannot be parsed: {}", content.trim()));
            }
        }
    }
    Resource { comment, messages }
}

fn read_value(pattern: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) -> Result<Value, String> {
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut select: Option<(Vec<Piece>, Vec<Piece>)> = None;
    for element in &pattern.elements {
        let target = if select.is_some() {
            &mut after
        } else {
            &mut before
        };
        match element {
            ast::PatternElement::TextElement { value } => push_text(target, value),
            ast::PatternElement::Placeable { expression } => match expression {
                ast::Expression::Inline(inline) => read_inline(inline, target, vars)?,
                ast::Expression::Select { selector, variants } => {
                    if select.is_some() {
                        return Err("has two select expressions; use one".into());
                    }
                    match selector {
                        ast::InlineExpression::VariableReference { id } if id.name == "n" => {
                            vars.insert("n".into());
                        }
                        _ => return Err("selects on something other than `$n`: only counts select (plural categories of $n)".into()),
                    }
                    select = Some(read_variants(variants, vars)?);
                }
            },
        }
    }
    Ok(match select {
        None => Value::Text(before),
        Some((one, other)) => {
            let join = |middle: Vec<Piece>| {
                let mut all = before.clone();
                for p in middle.into_iter().chain(after.iter().cloned()) {
                    match p {
                        Piece::Text(t) => push_text(&mut all, &t),
                        v => all.push(v),
                    }
                }
                all
            };
            Value::Plural {
                one: join(one),
                other: join(other),
            }
        }
    })
}

fn read_variants(
    variants: &[ast::Variant<&str>],
    vars: &mut BTreeSet<String>,
) -> Result<(Vec<Piece>, Vec<Piece>), String> {
    let mut one = None;
    let mut other = None;
    for v in variants {
        let key = match &v.key {
            ast::VariantKey::Identifier { name } => *name,
            ast::VariantKey::NumberLiteral { value } => {
                return Err(format!(
                    "variant [{value}]: only the plural categories [one] and *[other] are supported"
                ));
            }
        };
        let mut pieces = Vec::new();
        for element in &v.value.elements {
            match element {
                ast::PatternElement::TextElement { value } => push_text(&mut pieces, value),
                ast::PatternElement::Placeable {
                    expression: ast::Expression::Inline(inline),
                } => read_inline(inline, &mut pieces, vars)?,
                ast::PatternElement::Placeable { .. } => {
                    return Err("a select inside a variant is not supported".into());
                }
            }
        }
        match (key, v.default) {
            ("one", false) => one = Some(pieces),
            ("other", true) => other = Some(pieces),
            ("other", false) => {
                return Err("[other] must be the default variant: write *[other]".into());
            }
            ("one", true) => return Err("the default variant must be *[other], not *[one]".into()),
            (k, _) => {
                return Err(format!(
                    "variant [{k}]: only [one] and *[other] are supported (the CLDR integer categories of this catalogue's languages; a language needing more extends `Plural` first)"
                ));
            }
        }
    }
    let other = other.ok_or("a select needs a default *[other] variant")?;
    // A language whose singular reads like its plural may write *[other] alone.
    Ok((one.unwrap_or_else(|| other.clone()), other))
}

fn read_inline(
    inline: &ast::InlineExpression<&str>,
    pieces: &mut Vec<Piece>,
    vars: &mut BTreeSet<String>,
) -> Result<(), String> {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            if !is_name(id.name) {
                return Err(format!(
                    "variable ${}: variable names are lower-case letters and digits",
                    id.name
                ));
            }
            vars.insert(id.name.to_owned());
            pieces.push(Piece::Var(id.name.to_owned()));
        }
        ast::InlineExpression::StringLiteral { value } => {
            let text = fluent_syntax::unicode::unescape_unicode_to_string(value);
            if text.contains(['{', '}']) {
                return Err(
                    "braces in text are not supported: `fill` would read them as a placeholder"
                        .into(),
                );
            }
            push_text(pieces, &text);
        }
        ast::InlineExpression::NumberLiteral { value } => push_text(pieces, value),
        ast::InlineExpression::Placeable { expression } => match &**expression {
            ast::Expression::Inline(inner) => read_inline(inner, pieces, vars)?,
            ast::Expression::Select { .. } => {
                return Err("a select inside a placeable is not supported".into());
            }
        },
        ast::InlineExpression::FunctionReference { id, .. } => {
            return Err(format!(
                "function {}() is not supported (counts are formatted by `Plural::format` with the language's Intl.NumberFormat)",
                id.name
            ));
        }
        ast::InlineExpression::MessageReference { id, .. } => {
            return Err(format!(
                "reference to message {} is not supported (write the text)",
                id.name
            ));
        }
        ast::InlineExpression::TermReference { id, .. } => {
            return Err(format!(
                "reference to term -{} is not supported (write the text)",
                id.name
            ));
        }
    }
    Ok(())
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(t)) = pieces.last_mut() {
        t.push_str(text);
    } else {
        pieces.push(Piece::Text(text.to_owned()));
    }
}

fn check_against_reference(
    langs: &[Lang],
    reference: usize,
    widgets: &[String],
    errors: &mut Vec<String>,
) {
    let en = &langs[reference];
    for (wi, w) in widgets.iter().enumerate() {
        let en_res = &en.resources[wi];
        for m in &en_res.messages {
            if m.comment.is_none() {
                errors.push(format!(
                    "messages/{REFERENCE}/{w}.ftl: {} has no comment (`# …` just above it): say where the string shows; it documents the generated field",
                    m.id
                ));
            }
            for g in GROUPS.iter().filter(|g| g.widget == w) {
                if m.id == format!("{w}-{}", g.field) {
                    errors.push(format!(
                        "messages/{REFERENCE}/{w}.ftl: {} collides with the group of messages `{w}-{}-…`",
                        m.id, g.field
                    ));
                }
            }
            if KEYWORDS.contains(&field_name(w, &m.id).1.as_str()) {
                errors.push(format!(
                    "messages/{REFERENCE}/{w}.ftl: {}: its field name would be a Rust keyword",
                    m.id
                ));
            }
        }
        for lang in langs.iter().filter(|l| l.tag != REFERENCE) {
            let res = &lang.resources[wi];
            let file = format!("messages/{}/{w}.ftl", lang.tag);
            for m in &en_res.messages {
                match res.messages.iter().find(|x| x.id == m.id) {
                    None => errors.push(format!(
                        "{file}: lacks {} (messages/{REFERENCE}/{w}.ftl has it)",
                        m.id
                    )),
                    Some(x) if x.vars != m.vars => errors.push(format!(
                        "{file}: {} uses the variables {{{}}} but messages/{REFERENCE}/{w}.ftl uses {{{}}}",
                        m.id,
                        dollar_list(&x.vars),
                        dollar_list(&m.vars)
                    )),
                    Some(_) => {}
                }
            }
            for x in &res.messages {
                if !en_res.messages.iter().any(|m| m.id == x.id) {
                    errors.push(format!(
                        "{file}: has {}, which messages/{REFERENCE}/{w}.ftl lacks (add it there first, or remove it)",
                        x.id
                    ));
                }
            }
        }
    }
}

fn dollar_list(vars: &BTreeSet<String>) -> String {
    vars.iter()
        .map(|v| format!("${v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The group (if any) and the field name of message `id` of `widget`.
fn field_name(widget: &str, id: &str) -> (Option<&'static Group>, String) {
    let rest = &id[widget.len() + 1..];
    for g in GROUPS.iter().filter(|g| g.widget == widget) {
        if let Some(inner) = rest.strip_prefix(g.field).and_then(|r| r.strip_prefix('-')) {
            return (Some(g), inner.replace('-', "_"));
        }
    }
    (None, rest.replace('-', "_"))
}

/// The text with `{var}` placeholders, what `fill` and `Plural::format` read.
fn rust_template(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Var(v) => format!("{{{v}}}"),
        })
        .collect()
}

/// The text as Fluent writes it, `{ $var }`, for JavaScript.
fn fluent_template(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::Var(v) => format!("{{ ${v} }}"),
        })
        .collect()
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn plural_init(variant: &str, one: &[Piece], other: &[Piece]) -> String {
    format!(
        "Plural {{ lang: Lang::{variant}, one: {:?}, other: {:?} }}",
        rust_template(one),
        rust_template(other)
    )
}

fn rust_doc(doc: &str) -> String {
    format!("#[doc = {doc:?}]")
}

/// Whether message `id` of widget index `wi` is a plural in any language.
fn is_plural(langs: &[Lang], wi: usize, id: &str) -> bool {
    langs.iter().any(|l| {
        l.resources[wi]
            .messages
            .iter()
            .any(|m| m.id == id && matches!(m.value, Value::Plural { .. }))
    })
}

fn generate(langs: &[Lang], reference: usize, widgets: &[String]) -> String {
    let en = &langs[reference];
    let mut out = String::new();
    out.push_str("// Generated by build.rs from messages/*/*.ftl: edit those, not this.\n\n");

    // The language enum.
    out.push_str(
        "/// An interface language of the catalogue: one per directory of\n\
         /// `messages/`. The default, and the fallback for any other tag, is\n\
         /// English.\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]\npub enum Lang {\n",
    );
    for l in langs {
        let _ = writeln!(out, "    /// The catalogue in `messages/{}/`.", l.tag);
        if l.tag == REFERENCE {
            out.push_str("    #[default]\n");
        }
        let _ = writeln!(out, "    {},", l.variant);
    }
    out.push_str("}\n\nimpl Lang {\n");
    let _ = writeln!(
        out,
        "    /// Every language of the catalogue.\n    pub const ALL: [Lang; {}] = [{}];\n",
        langs.len(),
        langs
            .iter()
            .map(|l| format!("Lang::{}", l.variant))
            .collect::<Vec<_>>()
            .join(", ")
    );
    out.push_str("    /// The language's BCP 47 tag (its primary subtag).\n    pub const fn tag(self) -> &'static str {\n        match self {\n");
    for l in langs {
        let _ = writeln!(out, "            Lang::{} => {:?},", l.variant, l.tag);
    }
    out.push_str("        }\n    }\n\n");
    out.push_str("    /// The language whose tag is `primary`, a lower-case primary subtag.\n    fn from_primary(primary: &str) -> Option<Lang> {\n        match primary {\n");
    for l in langs {
        let _ = writeln!(out, "            {:?} => Some(Lang::{}),", l.tag, l.variant);
    }
    out.push_str("            _ => None,\n        }\n    }\n");
    for w in widgets {
        let _ = writeln!(
            out,
            "\n    /// The strings of `messages/{}/{w}.ftl` in this language.\n    pub fn {w}(self) -> &'static {w}::Strings {{\n        match self {{",
            REFERENCE
        );
        for l in langs {
            let _ = writeln!(
                out,
                "            Lang::{} => &{w}::{},",
                l.variant,
                l.tag.to_uppercase()
            );
        }
        out.push_str("        }\n    }\n");
    }
    out.push_str("}\n");

    // One module per widget.
    for (wi, w) in widgets.iter().enumerate() {
        let res = &en.resources[wi];
        let module_doc = res
            .comment
            .clone()
            .unwrap_or_else(|| format!("The strings of `messages/*/{w}.ftl`."));
        let _ = writeln!(out, "\n{}\npub mod {w} {{", rust_doc(&module_doc));
        out.push_str("    #[allow(unused_imports)]\n    use crate::{Lang, Plural};\n\n");
        let struct_doc = format!(
            "{module_doc}\n\nGenerated from `messages/*/{w}.ftl`; `{{name}}` in a string is the Fluent variable `$name`, filled by [`crate::fill`] or [`crate::Plural::format`]."
        );
        // Field declarations, top level and per group.
        let mut top = String::new();
        let mut groups: Vec<(&Group, String)> = Vec::new();
        for m in &res.messages {
            let (group, field) = field_name(w, &m.id);
            let ty = if is_plural(langs, wi, &m.id) {
                "Plural"
            } else {
                "&'static str"
            };
            let doc = m.comment.clone().unwrap_or_default();
            let decl = format!(
                "    {}\n    pub {field}: {ty},\n",
                rust_doc(&format!("{doc}\n\n(`{}`)", m.id))
            );
            match group {
                None => top.push_str(&decl),
                Some(g) => match groups.iter_mut().find(|(x, _)| x.field == g.field) {
                    Some((_, fields)) => fields.push_str(&decl),
                    None => {
                        let _ = write!(
                            top,
                            "    {}\n    pub {}: {},\n",
                            rust_doc(g.field_doc),
                            g.field,
                            g.ty
                        );
                        groups.push((g, decl));
                    }
                },
            }
        }
        let _ = write!(
            out,
            "    {}\n    #[derive(Debug)]\n    pub struct Strings {{\n{top}    }}\n",
            rust_doc(&struct_doc)
        );
        for (g, fields) in &groups {
            let _ = write!(
                out,
                "\n    {}\n    #[derive(Debug)]\n    pub struct {} {{\n{fields}    }}\n",
                rust_doc(g.ty_doc),
                g.ty
            );
        }
        // The statics.
        for l in langs {
            let lres = &l.resources[wi];
            // Top-level initialisers; a group's goes where its first
            // message is, filled once all of its messages are read.
            let mut top: Vec<String> = Vec::new();
            let mut groups: Vec<(&Group, usize, String)> = Vec::new();
            for m in &res.messages {
                let (group, field) = field_name(w, &m.id);
                let Some(lm) = lres.messages.iter().find(|x| x.id == m.id) else {
                    continue;
                };
                let value = match (&lm.value, is_plural(langs, wi, &m.id)) {
                    (Value::Text(p), false) => format!("{:?}", rust_template(p)),
                    (Value::Text(p), true) => plural_init(&l.variant, p, p),
                    (Value::Plural { one, other }, _) => plural_init(&l.variant, one, other),
                };
                match group {
                    None => top.push(format!("        {field}: {value},\n")),
                    Some(g) => {
                        let init = format!("            {field}: {value},\n");
                        match groups.iter_mut().find(|(x, _, _)| x.field == g.field) {
                            Some((_, _, inits)) => inits.push_str(&init),
                            None => {
                                groups.push((g, top.len(), init));
                                top.push(String::new());
                            }
                        }
                    }
                }
            }
            for (g, at, inits) in groups {
                top[at] = format!("        {}: {} {{\n{inits}        }},\n", g.field, g.ty);
            }
            let top = top.concat();
            let _ = write!(
                out,
                "\n    /// The `{w}` strings in `{}`.\n    pub static {}: Strings = Strings {{\n{top}    }};\n",
                l.tag,
                l.tag.to_uppercase()
            );
        }
        out.push_str("}\n");
    }

    // The catalogue as JSON, for JavaScript (native builds only: xtask
    // writes it next to the bundles).
    let mut json = String::from("{");
    for (li, l) in langs.iter().enumerate() {
        if li > 0 {
            json.push(',');
        }
        let _ = write!(json, "\n  {}: {{", json_string(&l.tag));
        let mut first = true;
        for (wi, w) in widgets.iter().enumerate() {
            let _ = w;
            for m in &en.resources[wi].messages {
                let Some(lm) = l.resources[wi].messages.iter().find(|x| x.id == m.id) else {
                    continue;
                };
                if !first {
                    json.push(',');
                }
                first = false;
                let value = match (&lm.value, is_plural(langs, wi, &m.id)) {
                    (Value::Text(p), false) => json_string(&fluent_template(p)),
                    (Value::Text(p), true) => format!(
                        "{{\"one\": {}, \"other\": {}}}",
                        json_string(&fluent_template(p)),
                        json_string(&fluent_template(p))
                    ),
                    (Value::Plural { one, other }, _) => format!(
                        "{{\"one\": {}, \"other\": {}}}",
                        json_string(&fluent_template(one)),
                        json_string(&fluent_template(other))
                    ),
                };
                let _ = write!(json, "\n    {}: {value}", json_string(&m.id));
            }
        }
        json.push_str("\n  }");
    }
    json.push_str("\n}\n");
    let _ = write!(
        out,
        "\n/// The whole catalogue as JSON (see [`catalogue_json`]).\n#[cfg(not(target_arch = \"wasm32\"))]\nconst CATALOGUE_JSON: &str = {json:?};\n"
    );
    out
}
