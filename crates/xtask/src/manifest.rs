//! `custom-elements.json`: the [Custom Elements Manifest] (schema 2.0.0)
//! of the element bundles, which editors, linters, Storybook and design
//! system catalogues read to know the elements' tags, attributes,
//! properties, methods, events and styling hooks.
//!
//! It is written from the elements' own definitions, never by hand:
//! - each element class of `crates/atelier-elements/js/*.d.ts` carries the
//!   JSDoc tags of the CEM analyzer's convention (`@element`, `@summary`,
//!   `@attr`/`@attribute`, `@fires`/`@event`, `@csspart`,
//!   `@cssprop`/`@cssproperty`, `@prop`/`@property`), read here;
//! - its members (fields, with `readonly`, and methods with their
//!   parameters and return types) are the ones the class declares, and an
//!   event's type is the one the `HTMLElementEventMap` of the `.d.ts` files
//!   gives it;
//! - its CSS custom properties are every design token its stylesheet
//!   (`styles/<tag without atelier->.css`) or `tokens.css` reads, with the
//!   default `tokens.css` gives it; a `@cssprop` tag only describes one
//!   (a tag naming a property nothing reads fails the build), so the list
//!   cannot fall behind the stylesheets;
//! - each entry module (`atelier-elements.js`, `atelier-suite.js`) is one
//!   module of the manifest, declaring the classes its `.d.ts` re-exports
//!   (`export * from "./editor-element.js"`) and the functions it names
//!   (`export { whenReady } from "./shared.js"`).
//!
//! This is a reader of that convention in `.d.ts` syntax as these files
//! write it (one declaration per statement, JSDoc right above), not a
//! TypeScript parser: what it cannot read fails the build with the line.
//! `e2e/custom-elements-manifest.test.mjs` checks the result against the
//! elements in Chromium.
//!
//! [Custom Elements Manifest]: https://github.com/webcomponents/custom-elements-manifest

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::manifest_dts::{DtsFile, ElementClass, Member, read_dts};

/// CSS custom properties: what a stylesheet reads (`var(--x`) and what
/// `tokens.css` defines in a `:root` rule (the tokens hosts override).
fn css_reads(css: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = css;
    while let Some(i) = rest.find("var(") {
        rest = &rest[i + 4..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if name.starts_with("--") {
            out.insert(name);
        }
    }
    out
}

/// Custom properties set in rules whose selector holds `:root`, with the
/// first value each is given (the light theme's, written first).
fn root_tokens(css: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (selector, body) in rules(css) {
        if !selector.contains(":root") {
            continue;
        }
        for decl in body.split(';') {
            if let Some((name, value)) = decl.split_once(':') {
                let name = name.trim();
                if name.starts_with("--") {
                    out.entry(name.to_string())
                        .or_insert_with(|| value.trim().to_string());
                }
            }
        }
    }
    out
}

/// The style rules of `css` as (selector, declarations), those inside
/// at-rules (`@media`) included, comments dropped.
fn rules(css: &str) -> Vec<(String, String)> {
    let css = strip_comments(css);
    let mut out = Vec::new();
    let mut rest = css.as_str();
    while let Some(open) = rest.find('{') {
        let selector = rest[..open].rsplit(['}', ';']).next().unwrap_or("");
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let body = &rest[open + 1..close];
        if body.contains('{') {
            // An at-rule (`@media …{`): read its rules one by one.
            rest = &rest[open + 1..];
            continue;
        }
        out.push((selector.trim().to_string(), body.to_string()));
        rest = &rest[close + 1..];
    }
    out
}

/// The tokens `tokens.css`' own rules read for an element: a rule whose
/// selectors are classes (`.atelier-icon-bold`) counts when the element's
/// sources (`sources`, its crate's Rust) use one of those classes; any
/// other rule counts for every element.
fn shared_reads(tokens_css: &str, sources: &str) -> BTreeSet<String> {
    let used = |class: &str| {
        sources.match_indices(class).any(|(i, _)| {
            let next = sources[i + class.len()..].chars().next();
            !next.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
    };
    let mut out = BTreeSet::new();
    for (selector, body) in rules(tokens_css) {
        let classes: Option<Vec<&str>> = selector
            .split(',')
            .map(|s| {
                s.trim()
                    .strip_prefix('.')
                    .filter(|c| !c.contains([' ', ':', '.', '[']))
            })
            .collect();
        if classes.is_none_or(|classes| classes.iter().any(|c| used(c))) {
            out.extend(css_reads(&body));
        }
    }
    out
}

/// The Rust sources of `dir` (recursively), concatenated.
fn rust_sources(dir: &Path) -> Result<String> {
    let mut out = String::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.push_str(&rust_sources(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(
                &std::fs::read_to_string(&path).with_context(|| path.display().to_string())?,
            );
        }
    }
    Ok(out)
}

fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i + 2..].split_once("*/").map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}

/// `user-id` → `userId`.
fn camel(attr: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in attr.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn described(mut v: Map<String, Value>, description: &str) -> Value {
    if !description.is_empty() {
        v.insert("description".into(), description.into());
    }
    Value::Object(v)
}

fn params_json(params: &[(String, String, bool)]) -> Value {
    params
        .iter()
        .map(|(name, ty, optional)| {
            let mut p = Map::new();
            p.insert("name".into(), name.as_str().into());
            p.insert("type".into(), json!({ "text": ty }));
            if *optional {
                p.insert("optional".into(), true.into());
            }
            Value::Object(p)
        })
        .collect()
}

/// The manifest's declaration of one element class.
fn class_declaration(
    class: &ElementClass,
    events: &BTreeMap<String, String>,
    styles: &Path,
    tokens: &BTreeMap<String, String>,
    sources: &str,
) -> Result<Value> {
    let ctx = || format!("the JSDoc of class {}", class.name);
    let doc = &class.doc;
    let tag = doc
        .tags(&["element", "customElement", "tagname"])
        .next()
        .with_context(|| format!("{}: no @element tag", ctx()))?
        .subject
        .clone();
    let field_names: Vec<&str> = class
        .members
        .iter()
        .filter_map(|m| match m {
            Member::Field { name, .. } => Some(name.as_str()),
            Member::Method { .. } => None,
        })
        .collect();

    // Fields and methods; overloads of a method become one with the union
    // of their parameter and return types.
    let mut members: Vec<Value> = Vec::new();
    let mut methods: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &class.members {
        match m {
            Member::Field {
                name,
                ty,
                readonly,
                description,
            } => {
                let mut v = Map::new();
                v.insert("kind".into(), "field".into());
                v.insert("name".into(), name.as_str().into());
                v.insert("type".into(), json!({ "text": ty }));
                if *readonly {
                    v.insert("readonly".into(), true.into());
                }
                if let Some(attr) = doc
                    .tags(&["attr", "attribute"])
                    .find(|a| camel(&a.subject).eq_ignore_ascii_case(name))
                {
                    v.insert("attribute".into(), attr.subject.as_str().into());
                }
                members.push(described(v, description));
            }
            Member::Method {
                name,
                params,
                ret,
                description,
            } => {
                if let Some(&i) = methods.get(name.as_str()) {
                    merge_overload(&mut members[i], params, ret);
                    continue;
                }
                let mut v = Map::new();
                v.insert("kind".into(), "method".into());
                v.insert("name".into(), name.as_str().into());
                v.insert("parameters".into(), params_json(params));
                v.insert("return".into(), json!({ "type": { "text": ret } }));
                methods.insert(name, members.len());
                members.push(described(v, description));
            }
        }
    }
    for prop in doc.tags(&["prop", "property"]) {
        if !field_names.contains(&prop.subject.as_str()) {
            let mut v = Map::new();
            v.insert("kind".into(), "field".into());
            v.insert("name".into(), prop.subject.as_str().into());
            if let Some(ty) = &prop.ty {
                v.insert("type".into(), json!({ "text": ty }));
            }
            members.push(described(v, &prop.text));
        }
    }

    let mut attributes = Vec::new();
    for attr in doc.tags(&["attr", "attribute"]) {
        let mut v = Map::new();
        v.insert("name".into(), attr.subject.as_str().into());
        if let Some(ty) = &attr.ty {
            v.insert("type".into(), json!({ "text": ty }));
        }
        if let Some(field) = field_names
            .iter()
            .find(|f| camel(&attr.subject).eq_ignore_ascii_case(f))
        {
            v.insert("fieldName".into(), (*field).into());
        }
        attributes.push(described(v, &attr.text));
    }

    let mut fired = Vec::new();
    for event in doc.tags(&["fires", "event"]) {
        let ty = event
            .ty
            .clone()
            .or_else(|| events.get(&event.subject).cloned())
            .with_context(|| {
                format!(
                    "{}: event {} has no {{type}} and no HTMLElementEventMap entry",
                    ctx(),
                    event.subject
                )
            })?;
        let mut v = Map::new();
        v.insert("name".into(), event.subject.as_str().into());
        v.insert("type".into(), json!({ "text": ty }));
        fired.push(described(v, &event.text));
    }

    let parts: Vec<Value> = doc
        .tags(&["csspart", "part"])
        .map(|p| {
            let mut v = Map::new();
            v.insert("name".into(), p.subject.as_str().into());
            described(v, &p.text)
        })
        .collect();

    // Every token the element's stylesheet or tokens.css reads; a tag
    // describes one, and must name one that is read.
    let sheet = format!("{}.css", tag.strip_prefix("atelier-").unwrap_or(&tag));
    let css = std::fs::read_to_string(styles.join(&sheet))
        .with_context(|| format!("reading styles/{sheet}, {tag}'s stylesheet"))?;
    let tokens_css =
        std::fs::read_to_string(styles.join("tokens.css")).context("reading styles/tokens.css")?;
    let mut read = css_reads(&css);
    read.extend(shared_reads(&tokens_css, sources));
    let read: BTreeSet<String> = read
        .into_iter()
        .filter(|n| tokens.contains_key(n))
        .collect();
    let mut described_props: BTreeMap<String, String> = BTreeMap::new();
    for prop in doc.tags(&["cssprop", "cssproperty"]) {
        // `@cssprop [--x=default] - text` is the convention's form with a default.
        let name = prop.subject.trim_matches(['[', ']']);
        let name = name.split_once('=').map_or(name, |(n, _)| n);
        if !read.contains(name) {
            bail!(
                "{}: @cssprop {name}, but neither styles/{sheet} nor tokens.css reads it \
                 as a token of tokens.css' :root (drop or fix the tag)",
                ctx()
            );
        }
        described_props.insert(name.to_string(), prop.text.clone());
    }
    let css_properties: Vec<Value> = read
        .iter()
        .map(|name| {
            let mut v = Map::new();
            v.insert("name".into(), name.as_str().into());
            // Icons' defaults are whole SVG data URLs: tokens.css has them.
            if let Some(default) = tokens.get(name).filter(|d| d.len() <= 120) {
                v.insert("default".into(), default.as_str().into());
            }
            let text = described_props.get(name).cloned().unwrap_or_else(|| {
                format!("Design token of tokens.css, read by {sheet} or tokens.css.")
            });
            described(v, &text)
        })
        .collect();

    let mut v = Map::new();
    v.insert("kind".into(), "class".into());
    v.insert("name".into(), class.name.as_str().into());
    v.insert("customElement".into(), true.into());
    v.insert("tagName".into(), tag.as_str().into());
    if let Some(summary) = doc.tags(&["summary"]).next() {
        v.insert(
            "summary".into(),
            format!("{} {}", summary.subject, summary.text)
                .trim()
                .into(),
        );
    }
    if !class.superclass.is_empty() {
        v.insert(
            "superclass".into(),
            json!({ "name": class.superclass, "package": "global:" }),
        );
    }
    v.insert("attributes".into(), attributes.into());
    v.insert("members".into(), members.into());
    v.insert("events".into(), fired.into());
    v.insert("cssParts".into(), parts.into());
    v.insert("cssProperties".into(), css_properties.into());
    Ok(described(v, &doc.description))
}

fn merge_overload(method: &mut Value, params: &[(String, String, bool)], ret: &str) {
    let union = |a: &str, b: &str| {
        if a == b || a.split(" | ").any(|x| x == b) {
            a.to_string()
        } else {
            format!("{a} | {b}")
        }
    };
    if let Some(r) = method.pointer_mut("/return/type/text") {
        let merged = union(r.as_str().unwrap_or(""), ret);
        *r = merged.into();
    }
    if let Some(Value::Array(old)) = method.get_mut("parameters") {
        for (i, (name, ty, optional)) in params.iter().enumerate() {
            match old.get_mut(i) {
                Some(p) => {
                    if let Some(t) = p.pointer_mut("/type/text") {
                        let merged = union(t.as_str().unwrap_or(""), ty);
                        *t = merged.into();
                    }
                }
                None => old.push(json!({
                    "name": name, "type": { "text": ty }, "optional": true,
                })),
            }
            let _ = optional;
        }
    }
}

/// Builds the manifest for the entry modules `entries` (`atelier-suite`,
/// …), reading `js_dir/*.d.ts` and `styles_dir/*.css`.
pub fn build(
    js_dir: &Path,
    styles_dir: &Path,
    crates_dir: &Path,
    entries: &[&str],
) -> Result<Value> {
    let mut files: BTreeMap<String, DtsFile> = BTreeMap::new();
    for entry in std::fs::read_dir(js_dir).context("listing crates/atelier-elements/js")? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".d.ts") {
            let src = std::fs::read_to_string(&path).with_context(|| name.to_string())?;
            files.insert(
                name.to_string(),
                read_dts(&src).with_context(|| format!("reading {name}"))?,
            );
        }
    }
    let events: BTreeMap<String, String> = files
        .values()
        .flat_map(|f| f.events.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let tokens_css = std::fs::read_to_string(styles_dir.join("tokens.css"))
        .context("reading styles/tokens.css")?;
    let tokens = root_tokens(&tokens_css);

    let mut modules = Vec::new();
    for entry in entries {
        let dts = format!("{entry}.d.ts");
        let file = files
            .get(&dts)
            .with_context(|| format!("no {dts} beside the element modules"))?;
        let mut declarations = Vec::new();
        let mut exports = Vec::new();
        let module = format!("{entry}.js");
        for target in &file.reexport_all {
            let from = files
                .get(target)
                .with_context(|| format!("{dts} re-exports {target}, which is missing"))?;
            for class in &from.classes {
                // The element's crate: atelier-editor for <atelier-editor>.
                let tag = class
                    .doc
                    .tags(&["element", "customElement", "tagname"])
                    .next()
                    .map_or("", |t| t.subject.as_str());
                let sources = rust_sources(&crates_dir.join(tag).join("src"))?;
                let decl = class_declaration(class, &events, styles_dir, &tokens, &sources)
                    .with_context(|| format!("in {target}"))?;
                let tag = decl["tagName"].as_str().unwrap_or_default().to_string();
                declarations.push(decl);
                exports.push(json!({
                    "kind": "js", "name": class.name,
                    "declaration": { "name": class.name, "module": module },
                }));
                exports.push(json!({
                    "kind": "custom-element-definition", "name": tag,
                    "declaration": { "name": class.name, "module": module },
                }));
            }
        }
        for (names, target) in &file.reexport_named {
            let from = files
                .get(target)
                .with_context(|| format!("{dts} re-exports from {target}, which is missing"))?;
            for name in names {
                let (params, ret, description) = from.functions.get(name).with_context(|| {
                    format!("{dts} re-exports {name}, not a function of {target}")
                })?;
                let mut v = Map::new();
                v.insert("kind".into(), "function".into());
                v.insert("name".into(), name.as_str().into());
                v.insert("parameters".into(), params_json(params));
                v.insert("return".into(), json!({ "type": { "text": ret } }));
                declarations.push(described(v, description));
                exports.push(json!({
                    "kind": "js", "name": name,
                    "declaration": { "name": name, "module": module },
                }));
            }
        }
        modules.push(json!({
            "kind": "javascript-module",
            "path": module,
            "declarations": declarations,
            "exports": exports,
        }));
    }
    Ok(json!({ "schemaVersion": "2.0.0", "readme": "README.md", "modules": modules }))
}

/// Writes `custom-elements.json` for the bundles into `out`.
pub fn write(root: &Path, entries: &[&str], out: &Path) -> Result<()> {
    let manifest = build(
        &root.join("crates/atelier-elements/js"),
        &root.join("styles"),
        &root.join("crates"),
        entries,
    )?;
    let text = serde_json::to_string_pretty(&manifest).context("serializing the manifest")?;
    std::fs::write(out.join("custom-elements.json"), text + "\n")
        .context("writing custom-elements.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest_dts::*;

    #[test]
    fn tags_read_type_subject_and_text() -> Result<()> {
        let doc = JsDoc::parse(
            "\n * An element.\n *\n * More.\n * @element x-y\n * @attr {boolean} readonly - Read\n *   only.\n * @fires x-change - Changed.\n",
        );
        assert_eq!(doc.description, "An element.\n\nMore.");
        assert_eq!(doc.tags[0].name, "element");
        assert_eq!(doc.tags[0].subject, "x-y");
        assert_eq!(doc.tags[1].ty.as_deref(), Some("boolean"));
        assert_eq!(doc.tags[1].subject, "readonly");
        assert_eq!(doc.tags[1].text, "Read only.");
        assert_eq!(doc.tags[2].text, "Changed.");
        Ok(())
    }

    #[test]
    fn members_overloads_and_events_are_read() -> Result<()> {
        let src = r#"
/** A thing.
 * @element atelier-thing
 * @attr {string} user-id - Who.
 * @fires x-change
 */
export declare class XThing extends HTMLElement {
  static readonly observedAttributes: string[];
  /** Who. */
  userId: string;
  readonly selection: { anchor: number; head: number } | null;
  /** Reads. */
  get(options?: { format?: "a" }): Promise<string[]>;
  get(options: { format: "b" }): Promise<string>;
  select(
    range: { a: number } | { b: number },
    options?: (x: number) => void,
  ): Promise<void>;
}
export declare function whenReady(): Promise<void>;
export { whenReady } from "./shared.js";
declare global {
  interface HTMLElementTagNameMap { "x-thing": XThing; }
  interface HTMLElementEventMap { "x-change": CustomEvent<{ n: number }>; }
}
"#;
        let file = read_dts(src)?;
        assert_eq!(file.events["x-change"], "CustomEvent<{ n: number }>");
        assert!(file.functions.contains_key("whenReady"));
        assert_eq!(
            file.reexport_named,
            [(vec!["whenReady".to_string()], "shared.d.ts".to_string())]
        );
        let class = &file.classes[0];
        assert_eq!(class.members.len(), 5, "{:?}", class.members);
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("thing.css"), "a { color: var(--x-c); }")?;
        std::fs::write(
            dir.path().join("tokens.css"),
            ":root, [t] { --x-c: red; --x-d: 1px; }",
        )?;
        let tokens = root_tokens(":root, [t] { --x-c: red; --x-d: 1px; }");
        let decl = class_declaration(class, &file.events, dir.path(), &tokens, "")?;
        assert_eq!(decl["tagName"], "atelier-thing");
        assert_eq!(decl["attributes"][0]["fieldName"], "userId");
        assert_eq!(
            decl["events"][0]["type"]["text"],
            "CustomEvent<{ n: number }>"
        );
        let members = decl["members"].as_array().context("members")?;
        let names: Vec<&str> = members.iter().filter_map(|m| m["name"].as_str()).collect();
        assert_eq!(names, ["userId", "selection", "get", "select"]);
        assert_eq!(members[1]["readonly"], true);
        assert_eq!(
            members[2]["return"]["type"]["text"],
            "Promise<string[]> | Promise<string>"
        );
        assert_eq!(members[3]["parameters"][1]["optional"], true);
        assert_eq!(decl["cssProperties"][0]["name"], "--x-c");
        assert_eq!(decl["cssProperties"][0]["default"], "red");
        assert_eq!(decl["cssProperties"].as_array().map(Vec::len), Some(1));
        Ok(())
    }

    #[test]
    fn a_cssprop_tag_nothing_reads_fails() -> Result<()> {
        let src = "/**\n * @element atelier-a\n * @cssprop --x-gone - Old.\n */\nexport declare class XA extends HTMLElement {\n}\n";
        let file = read_dts(src)?;
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("a.css"), "")?;
        std::fs::write(dir.path().join("tokens.css"), ":root { --x-gone: 1px; }")?;
        let tokens = root_tokens(":root { --x-gone: 1px; }");
        let err = class_declaration(&file.classes[0], &file.events, dir.path(), &tokens, "")
            .err()
            .context("expected an error")?;
        assert!(format!("{err:#}").contains("--x-gone"), "{err:#}");
        Ok(())
    }

    #[test]
    fn root_tokens_read_inside_media_rules() -> Result<()> {
        let css = "/* c { } */ :root { --a: 1; }\n@media (x) { :root:not([t]) { --b: 2; } .c { --d: 3; } }";
        let t = root_tokens(css);
        assert_eq!(t.get("--a").map(String::as_str), Some("1"));
        assert_eq!(t.get("--b").map(String::as_str), Some("2"));
        assert!(!t.contains_key("--d"));
        Ok(())
    }

    #[test]
    fn icon_tokens_count_for_the_elements_that_use_their_class() -> Result<()> {
        let css = ".x-icon-a { --x-icon: var(--x-a); } .x-icon-b { --x-icon: var(--x-b); } :root { --y: var(--z); }";
        let reads = shared_reads(css, r#"class="x-icon x-icon-a-not x-icon-b""#);
        assert_eq!(reads.into_iter().collect::<Vec<_>>(), ["--x-b", "--z"]);
        Ok(())
    }
}
