//! Shorter names between a wasm module and its wasm-bindgen glue.
//!
//! wasm-bindgen names every import `__wbg_<name>_<hash>` and exports its
//! closure shims under their whole Rust path, and a page downloads each name
//! twice: in the wasm and in the JS glue. [`shorten`] renames the imports the
//! glue provides and the exports the glue reads (`wasm.NAME`) to the shortest
//! free identifiers, in both files at once, and fails if an old name is left
//! in the glue. Everything else in the wasm is copied byte for byte.

use anyhow::{Context, Result, bail, ensure};
use std::collections::{HashMap, HashSet};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};

/// Section ids of the binary format.
const IMPORT_SECTION: u8 = 2;
const EXPORT_SECTION: u8 = 7;

/// What [`shorten`] renamed.
#[derive(Debug)]
pub struct Renamed {
    /// Imports renamed.
    pub imports: usize,
    /// Exports renamed.
    pub exports: usize,
    /// Exports dropped (their old names).
    pub dropped: Vec<String>,
}

/// The `n`-th shortest JS identifier made of ASCII letters: `a`…`Z`, `aa`….
fn short_name(mut n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(LETTERS[n % LETTERS.len()]);
        n /= LETTERS.len();
        if n == 0 {
            break;
        }
        n -= 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The new name of `old` in `names` (old → new), given the next short name
/// the first time it is asked for.
fn renamed(names: &mut HashMap<String, String>, old: &str) -> String {
    let next = short_name(names.len());
    names.entry(old.to_owned()).or_insert(next).clone()
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The identifiers of `js` with their byte ranges, in order.
fn identifiers(js: &str) -> Vec<(usize, usize)> {
    let bytes = js.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if is_ident_byte(bytes[i]) {
            let start = i;
            while i < bytes.len() && is_ident_byte(bytes[i]) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Whether the identifier at `start` is read as `wasm.NAME`.
fn read_from_wasm(js: &str, start: usize) -> bool {
    js[..start].ends_with("wasm.")
}

/// The sections of a module: (id, contents).
fn sections(wasm: &[u8]) -> Result<Vec<(u8, &[u8])>> {
    ensure!(
        wasm.len() >= 8 && wasm[..4] == *b"\0asm",
        "not a wasm module"
    );
    let mut out = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let mut reader = wasmparser::BinaryReader::new(&wasm[at + 1..], 0);
        let len = reader.read_var_u32().context("section length")? as usize;
        let start = at + 1 + usize::try_from(reader.original_position())?;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= wasm.len())
            .context("section runs past the end")?;
        out.push((id, &wasm[start..end]));
        at = end;
    }
    Ok(out)
}

fn push_section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    let mut len = contents.len() as u64;
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(contents);
}

/// The top-level statements of wasm-bindgen glue: each starts at a line
/// with no indent that does not close a bracket.
fn statements(glue: &str) -> Vec<&str> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in glue.split_inclusive('\n') {
        let first = line.bytes().next().unwrap_or(b' ');
        if at > 0 && !first.is_ascii_whitespace() && !b"})]".contains(&first) {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(glue.len());
    starts.windows(2).map(|w| &glue[w[0]..w[1]]).collect()
}

/// The name a statement declares (`class X`, `const X`, `function X`).
fn declared(statement: &str) -> Option<&str> {
    let rest = statement.strip_prefix("export ").unwrap_or(statement);
    let rest = [
        "class ",
        "const ",
        "let ",
        "var ",
        "function ",
        "async function ",
    ]
    .iter()
    .find_map(|k| rest.strip_prefix(k))?;
    let end = rest.bytes().position(|b| !is_ident_byte(b))?;
    Some(&rest[..end])
}

/// `glue` without the statements that read a `dropped` export, nor those
/// that name what a removed statement declared (a class, its finalizer).
/// Fails on a removed statement that declares nothing it can name and is
/// not an `if`: what it declared could stay in use.
fn prune(glue: &str, dropped: &[String]) -> Result<String> {
    let mut kept = statements(glue);
    let mut gone: Vec<String> = dropped.iter().map(|d| format!("wasm.{d}")).collect();
    loop {
        let before = kept.len();
        let mut unnamed = None;
        kept.retain(|statement| {
            let uses = identifiers(statement).into_iter().any(|(s, e)| {
                let word = &statement[s..e];
                gone.iter().any(|g| {
                    g.strip_prefix("wasm.")
                        .map_or(g == word, |d| d == word && read_from_wasm(statement, s))
                })
            });
            if uses {
                match declared(statement) {
                    Some(name) => gone.push(name.to_owned()),
                    None if statement.starts_with("if ") || statement.starts_with("if(") => {}
                    None => unnamed = Some(statement.lines().next().unwrap_or("").to_owned()),
                }
            }
            !uses
        });
        if let Some(line) = unnamed {
            bail!("cannot tell what a removed glue statement declares: {line}");
        }
        if kept.len() == before {
            return Ok(kept.concat());
        }
    }
}

/// Renames the imports of `wasm` that `glue` provides (those from a module
/// named `…_bg.js`) and the exports `glue` reads as `wasm.NAME`, and drops
/// the exports `drop` picks (the caller makes sure nothing calls them);
/// returns the new wasm and glue.
pub fn shorten(
    wasm: &[u8],
    glue: &str,
    drop: impl Fn(&str) -> bool,
) -> Result<(Vec<u8>, String, Renamed)> {
    let sections = sections(wasm)?;
    let mut import_names: HashMap<String, String> = HashMap::new();
    let mut export_names: HashMap<String, String> = HashMap::new();
    let read_exports: HashSet<&str> = identifiers(glue)
        .into_iter()
        .filter(|&(s, _)| read_from_wasm(glue, s))
        .map(|(s, e)| &glue[s..e])
        .collect();
    let mut dropped = Vec::new();
    let mut exported: HashSet<String> = HashSet::new();
    let mut out = wasm[..8].to_vec();
    for (id, contents) in sections {
        match id {
            IMPORT_SECTION => {
                let reader = wasmparser::ImportSectionReader::new(wasmparser::BinaryReader::new(
                    contents, 0,
                ))
                .context("import section")?;
                let mut section = wasm_encoder::ImportSection::new();
                for import in reader.into_imports() {
                    let import = import.context("import")?;
                    let ty = RoundtripReencoder
                        .entity_type(import.ty)
                        .context("import type")?;
                    let name = if import.module.ends_with("_bg.js") {
                        renamed(&mut import_names, import.name)
                    } else {
                        import.name.to_owned()
                    };
                    section.import(import.module, &name, ty);
                }
                // Encodes the length and the contents; the id goes first.
                out.push(id);
                wasm_encoder::Encode::encode(&section, &mut out);
            }
            EXPORT_SECTION => {
                let reader = wasmparser::ExportSectionReader::new(wasmparser::BinaryReader::new(
                    contents, 0,
                ))
                .context("export section")?;
                let mut section = wasm_encoder::ExportSection::new();
                for export in reader {
                    let export = export.context("export")?;
                    if drop(export.name) {
                        dropped.push(export.name.to_owned());
                        continue;
                    }
                    let name = if read_exports.contains(export.name) {
                        renamed(&mut export_names, export.name)
                    } else {
                        export.name.to_owned()
                    };
                    if !exported.insert(name.clone()) {
                        bail!("two exports would be named {name}");
                    }
                    section.export(
                        &name,
                        RoundtripReencoder
                            .export_kind(export.kind)
                            .context("export kind")?,
                        export.index,
                    );
                }
                // Encodes the length and the contents; the id goes first.
                out.push(id);
                wasm_encoder::Encode::encode(&section, &mut out);
            }
            _ => push_section(&mut out, id, contents),
        }
    }
    // Every import renamed must be provided by the glue under its old name.
    let glue_words: HashSet<&str> = identifiers(glue)
        .into_iter()
        .map(|(s, e)| &glue[s..e])
        .collect();
    if let Some(missing) = import_names
        .keys()
        .find(|k| !glue_words.contains(k.as_str()))
    {
        bail!("the glue does not provide import {missing}");
    }
    let glue = &prune(glue, &dropped)?;
    // The glue, identifier by identifier: an import's name wherever it
    // stands (an object key, or a reference to it), an export's after `wasm.`.
    let mut js = String::with_capacity(glue.len());
    let mut last = 0;
    for (start, end) in identifiers(glue) {
        let word = &glue[start..end];
        let new = if read_from_wasm(glue, start) {
            export_names.get(word)
        } else {
            import_names.get(word)
        };
        if let Some(new) = new {
            js.push_str(&glue[last..start]);
            js.push_str(new);
            last = end;
        }
    }
    js.push_str(&glue[last..]);
    // The glue must read exports only as `wasm.NAME` (wasm-bindgen's glue
    // keeps `instance.exports` whole), and each must name an export of the
    // new module.
    for form in ["wasm[", "wasm?.", "exports."] {
        if js.contains(form) {
            bail!("the glue reads wasm exports as `{form}…`, which renaming does not follow");
        }
    }
    if let Some((s, e)) = identifiers(&js)
        .into_iter()
        .find(|&(s, e)| read_from_wasm(&js, s) && !exported.contains(&js[s..e]))
    {
        bail!(
            "the glue reads wasm.{}, which the module does not export",
            &js[s..e]
        );
    }
    let renamed = Renamed {
        imports: import_names.len(),
        exports: export_names.len(),
        dropped,
    };
    Ok((out, js, renamed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        CodeSection, EntityType, ExportKind, Function, FunctionSection, Instruction, Module,
        TypeSection,
    };

    /// A module importing `a_long_name` from the glue and `keep` from `env`,
    /// exporting a function as `run_me`, `unread` and `unwanted`.
    fn module() -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([], []);
        let mut imports = wasm_encoder::ImportSection::new();
        imports.import(
            "./x_bg.js",
            "__wbg_a_long_name_0123abcd",
            EntityType::Function(0),
        );
        imports.import("env", "keep", EntityType::Function(0));
        let mut functions = FunctionSection::new();
        functions.function(0);
        let mut exports = wasm_encoder::ExportSection::new();
        exports.export("run_me", ExportKind::Func, 2);
        exports.export("unread", ExportKind::Func, 2);
        exports.export("unwanted", ExportKind::Func, 2);
        let mut code = CodeSection::new();
        let mut body = Function::new([]);
        body.instruction(&Instruction::Call(0));
        body.instruction(&Instruction::End);
        code.function(&body);
        let mut m = Module::new();
        m.section(&types)
            .section(&imports)
            .section(&functions)
            .section(&exports)
            .section(&code);
        m.finish()
    }

    #[test]
    fn names_are_short_and_distinct() {
        let names: HashSet<String> = (0..5000).map(short_name).collect();
        assert_eq!(names.len(), 5000);
        assert_eq!(short_name(0), "a");
        assert_eq!(short_name(52), "aa");
        assert!(names.iter().all(|n| n.len() <= 3));
    }

    #[test]
    fn imports_and_read_exports_are_renamed_in_both_files() {
        let glue = "const import0 = { __wbg_a_long_name_0123abcd: function() {} };\n\
                    function go() { wasm.run_me(); }";
        let (wasm, js, renamed) = shorten(&module(), glue, |n| n == "unwanted").expect("shorten");
        assert_eq!((renamed.imports, renamed.exports), (1, 1));
        assert_eq!(renamed.dropped, ["unwanted"]);
        assert_eq!(
            js,
            "const import0 = { a: function() {} };\nfunction go() { wasm.a(); }"
        );
        wasmparser::validate(&wasm).expect("still a valid module");
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
            match payload.expect("payload") {
                wasmparser::Payload::ImportSection(r) => {
                    for i in r.into_imports() {
                        let i = i.expect("import");
                        imports.push(format!("{}/{}", i.module, i.name));
                    }
                }
                wasmparser::Payload::ExportSection(r) => {
                    for e in r {
                        exports.push(e.expect("export").name.to_owned());
                    }
                }
                _ => {}
            }
        }
        assert_eq!(imports, ["./x_bg.js/a", "env/keep"]);
        assert_eq!(exports, ["a", "unread"]);
    }

    #[test]
    fn statements_using_a_dropped_export_go_with_their_class() {
        let glue = "export class Keep {\n    f() { wasm.keep(); }\n}\n\
                    export class Gone {\n    free() {\n        wasm.gone_free(this.p);\n    }\n}\n\
                    if (Symbol.dispose) Gone.prototype[Symbol.dispose] = Gone.prototype.free;\n\
                    const GoneFinalization = (typeof FinalizationRegistry === 'undefined')\n    \
                    ? {}\n    : new FinalizationRegistry(p => wasm.gone_free(p, 1));\n\
                    const KeepFinalization = new FinalizationRegistry(p => wasm.keep(p));\n\
                    const unrelated = { gone_free: 1 };\n";
        let pruned = prune(glue, &["gone_free".to_owned()]).expect("prunes");
        assert_eq!(
            pruned,
            "export class Keep {\n    f() { wasm.keep(); }\n}\n\
             const KeepFinalization = new FinalizationRegistry(p => wasm.keep(p));\n\
             const unrelated = { gone_free: 1 };\n"
        );
    }

    #[test]
    fn a_removed_statement_whose_declaration_is_unknown_is_an_error() {
        let glue = "export default { f: () => wasm.gone_free() };\n";
        assert!(prune(glue, &["gone_free".to_owned()]).is_err());
    }

    #[test]
    fn glue_that_renaming_cannot_follow_is_an_error() {
        let provides = "const import0 = { __wbg_a_long_name_0123abcd: function() {} };\n";
        // An import the glue does not name.
        assert!(shorten(&module(), "function go() { wasm.run_me(); }", |_| false).is_err());
        // Exports read in another form than `wasm.NAME`.
        for read in [
            "wasm[\"run_me\"]()",
            "wasm?.run_me()",
            "instance.exports.run_me()",
        ] {
            let glue = format!("{provides}function go() {{ {read}; }}");
            assert!(shorten(&module(), &glue, |_| false).is_err(), "{read}");
        }
        // An export the module does not have.
        let glue = format!("{provides}function go() {{ wasm.not_there(); }}");
        assert!(shorten(&module(), &glue, |_| false).is_err());
    }

    #[test]
    fn not_a_module_is_an_error() {
        assert!(shorten(b"hello", "", |_| false).is_err());
        let mut truncated = module();
        truncated.truncate(truncated.len() - 3);
        assert!(shorten(&truncated, "", |_| false).is_err());
    }
}
