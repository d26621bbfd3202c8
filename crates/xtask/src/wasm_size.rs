//! Where a wasm module's compressed bytes go, and symbols a bundle must not
//! link.
//!
//! [`attribute`] groups a module's functions by the crate whose code made
//! them (see [`owner`]) and measures each group's *marginal* brotli size:
//! the code section's brotli size minus its size without that group. Raw
//! sizes mislead here: fifty monomorphized copies of one hash-map function
//! are 28 KB raw but compress to a few hundred bytes after the first, so a
//! raw ranking points at the wrong work.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use wasmparser::{Name, Parser, Payload};

/// Functions a shipped bundle must not contain, with why (the names as
/// the compiler writes them, crate hashes removed).
const FORBIDDEN: &[(&str, &str)] = &[(
    "core::unicode::printable::is_printable",
    "core's Unicode printable tables (2.7 KB brotli) are linked: something \
     Debug-formats a string or char (`{:?}`, often in an error message); quote it \
     with \\\"{}\\\" instead",
)];

/// The crates reported together, as one runtime.
const FAMILIES: &[(&str, &[&str])] = &[
    (
        "leptos",
        &[
            "leptos",
            "tachys",
            "reactive_graph",
            "either_of",
            "guardian",
            "send_wrapper",
            "slotmap",
            "any_spawner",
            "throw_error",
            "or_poisoned",
            "leptos_dom",
            "server_fn",
            "wasm_streams",
            "futures_util",
            "futures_core",
            "futures_channel",
            "event_listener",
            "async_lock",
            "pin_project_lite",
            "indexmap",
            "rustc_hash",
            "oco_ref",
            "hydration_context",
        ],
    ),
    (
        "wasm-bindgen, js-sys, web-sys",
        &["wasm_bindgen", "js_sys", "web_sys", "wasm_bindgen_futures"],
    ),
    (
        "serde, serde_json",
        &[
            "serde",
            "serde_core",
            "serde_json",
            "zmij",
            "itoa",
            "ryu",
            "memchr",
        ],
    ),
];

/// Crates whose generic code is instantiated for others: a function is
/// owned by the first crate in its name that is not one of these.
const STD: &[&str] = &[
    "core",
    "alloc",
    "std",
    "hashbrown",
    "dlmalloc",
    "compiler_builtins",
];

/// The group of functions whose names name no crate: wasm-bindgen's
/// generated shims and compiler intrinsics such as `memcpy`.
const UNMANGLED: &str = "unmangled (wasm-bindgen shims, memcpy…)";

/// Each function's name (from the `name` section, demangled) and body
/// bytes.
pub fn functions(wasm: &[u8]) -> Result<Vec<(String, &[u8])>> {
    let mut imported = 0u32;
    let mut bodies = Vec::new();
    let mut names = BTreeMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.context("reading the wasm module")? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.context("reading an import")?;
                    if matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let range = body.range();
                let start = usize::try_from(range.start).context("body offset")?;
                let end = usize::try_from(range.end).context("body offset")?;
                bodies.push(
                    wasm.get(start..end)
                        .context("a function body past the end")?,
                );
            }
            Payload::CustomSection(section) => {
                if let wasmparser::KnownCustom::Name(reader) = section.as_known() {
                    for name in reader {
                        if let Ok(Name::Function(map)) = name {
                            for naming in map.into_iter().flatten() {
                                let name = rustc_demangle::demangle(naming.name).to_string();
                                names.insert(naming.index, name);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let index = imported + i as u32;
            let name = names.get(&index).cloned().unwrap_or_default();
            (name, body)
        })
        .collect())
}

/// `name` without the `[0123abcd…]` crate hashes the compiler writes.
fn without_hashes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']').map(|c| open + c);
        match close {
            Some(close) if rest[open + 1..close].bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.push_str(&rest[..open]);
                rest = &rest[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The crate paths (`crate::…`) named in `name`, in order.
fn crates_in(name: &str) -> Vec<&str> {
    let bytes = name.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = name[i..].find("::") {
        let end = i + found;
        let mut start = end;
        while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            start -= 1;
        }
        let preceded_by_path = start >= 2 && &name[start - 2..start] == "::";
        if start < end && !preceded_by_path {
            out.push(&name[start..end]);
        }
        i = end + 2;
    }
    out
}

/// The group a function belongs to: the first crate in its name that is
/// not the standard library's (generic std code belongs to the crate that
/// instantiated it), folded into its [`FAMILIES`] entry; `std` if only the
/// standard library is named, [`UNMANGLED`] if no crate is, `unnamed`
/// without a name.
pub fn owner(name: &str) -> String {
    let clean = without_hashes(name);
    if clean.is_empty() {
        return "unnamed".to_owned();
    }
    let crates = crates_in(&clean);
    let Some(first) = crates.iter().find(|c| !STD.contains(c)) else {
        return if crates.is_empty() {
            UNMANGLED.to_owned()
        } else {
            "std".to_owned()
        };
    };
    for (family, members) in FAMILIES {
        if members.contains(first) {
            return (*family).to_owned();
        }
    }
    (*first).to_owned()
}

/// Fails if `wasm` (a module with its `name` section) contains a
/// [`FORBIDDEN`] function.
pub fn check_forbidden(wasm: &[u8], module: &str) -> Result<()> {
    let functions = functions(wasm)?;
    if functions.iter().all(|(name, _)| name.is_empty()) {
        bail!("{module} has no function names to check (was it stripped?)");
    }
    for (name, _) in &functions {
        let clean = without_hashes(name);
        if let Some((_, why)) = FORBIDDEN.iter().find(|(f, _)| clean == *f) {
            bail!("{module} links {clean}: {why}");
        }
    }
    Ok(())
}

/// One group's share of a module.
#[derive(Debug)]
pub struct Share {
    /// The group (see [`owner`]).
    pub group: String,
    /// Functions in it.
    pub functions: usize,
    /// Their raw body bytes.
    pub raw: usize,
    /// Brotli bytes the code section loses without them.
    pub brotli: usize,
}

/// The marginal brotli size of each group of `wasm`'s functions, largest
/// first, and the brotli size of the whole code section.
pub fn attribute(wasm: &[u8]) -> Result<(Vec<Share>, usize)> {
    let functions = functions(wasm)?;
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (name, _)) in functions.iter().enumerate() {
        groups.entry(owner(name)).or_default().push(i);
    }
    let code = |skip: &[usize]| -> Vec<u8> {
        let mut out = Vec::new();
        let mut skip = skip.iter().peekable();
        for (i, (_, body)) in functions.iter().enumerate() {
            if skip.peek() == Some(&&i) {
                skip.next();
            } else {
                out.extend_from_slice(body);
            }
        }
        out
    };
    let whole = crate::dist::brotli_size(&code(&[]))?;
    let mut shares = Vec::new();
    for (group, members) in groups {
        let without = crate::dist::brotli_size(&code(&members))?;
        shares.push(Share {
            raw: members.iter().map(|&i| functions[i].1.len()).sum(),
            functions: members.len(),
            brotli: whole.saturating_sub(without),
            group,
        });
    }
    shares.sort_by(|a, b| b.brotli.cmp(&a.brotli).then(b.raw.cmp(&a.raw)));
    Ok((shares, whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_std_code_belongs_to_the_crate_that_instantiated_it() {
        let name = "<hashbrown[50bf943e9520225d]::raw::RawTable<(yrs[a2cb83cda61fcb3f]::block::ClientID, u32)>>::reserve_rehash";
        assert_eq!(owner(name), "yrs");
        assert_eq!(
            owner("<alloc[25]::vec::Vec<u8> as core[27]::fmt::Debug>::fmt"),
            "std"
        );
        assert_eq!(
            owner("atelier_editor[2e96]::session::EditSession::apply_intent"),
            "atelier_editor"
        );
    }

    #[test]
    fn runtimes_are_reported_as_one_family() {
        assert_eq!(
            owner("<tachys[d93a]::html::element::HtmlElement<atelier_editor[2e]::X>>::build"),
            "leptos"
        );
        assert_eq!(
            owner("js_sys[20]::futures::spawn"),
            "wasm-bindgen, js-sys, web-sys"
        );
        assert_eq!(owner("serde_json[ba]::de::from_str"), "serde, serde_json");
        assert_eq!(owner(""), "unnamed");
        assert_eq!(owner("memcpy"), UNMANGLED);
    }

    #[test]
    fn hashes_go_but_other_brackets_stay() {
        assert_eq!(
            without_hashes("<str as core[27cd0353e63fa9bc]::fmt::Debug>::fmt"),
            "<str as core::fmt::Debug>::fmt"
        );
        assert_eq!(without_hashes("a[i]::b[0f]"), "a[i]::b");
    }

    /// A module whose functions have these names, each body a run of
    /// `i64.const` instructions with the given seed's pseudo-random values
    /// (brotli keeps about three quarters of such a body: the opcodes repeat).
    fn module(functions: &[(&str, u64)]) -> Vec<u8> {
        use wasm_encoder::{
            CodeSection, Function, FunctionSection, Module, NameMap, NameSection, TypeSection,
        };
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        let mut names = NameMap::new();
        for (i, (name, seed)) in functions.iter().enumerate() {
            funcs.function(0);
            let mut f = Function::new([]);
            let mut x = *seed | 1;
            for _ in 0..200 {
                // xorshift64: incompressible unless two bodies share a seed.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                f.instructions().i64_const(x as i64).drop();
            }
            f.instructions().end();
            code.function(&f);
            names.append(i as u32, name);
        }
        module.section(&funcs);
        module.section(&code);
        let mut section = NameSection::new();
        section.functions(&names);
        module.section(&section);
        module.finish()
    }

    /// A module with one function named `name`.
    fn module_with(name: &str) -> Vec<u8> {
        module(&[(name, 1)])
    }

    #[test]
    fn a_group_that_repeats_another_adds_little_and_a_new_one_adds_most_of_its_size() {
        let wasm = module(&[("alpha::f", 7), ("beta::g", 7), ("gamma::h", 99)]);
        let (shares, whole) = attribute(&wasm).expect("attribute");
        let share = |g: &str| shares.iter().find(|s| s.group == g).expect(g);
        let (alpha, beta, gamma) = (share("alpha"), share("beta"), share("gamma"));
        assert_eq!(alpha.raw, beta.raw);
        assert!(
            beta.brotli * 10 < beta.raw,
            "a copy costs little: {shares:?}"
        );
        assert!(
            gamma.brotli * 3 > gamma.raw * 2,
            "new bytes cost most of their size: {shares:?}"
        );
        assert!(whole < alpha.raw + beta.raw + gamma.raw, "{whole}");
        assert_eq!(shares[0].group, "gamma", "largest first: {shares:?}");
    }

    #[test]
    fn a_forbidden_function_fails_the_check_and_others_pass() {
        // As rustc names it (v0 mangling).
        let bad = module_with("_RNvNtNtCs3pRfAIqob2O_4core7unicode9printable12is_printable");
        let err = check_forbidden(&bad, "test").expect_err("must fail");
        assert!(err.to_string().contains("Unicode"), "{err}");
        let good = module_with("<u32 as core[27cd0353e63fa9bc]::fmt::Display>::fmt");
        check_forbidden(&good, "test").expect("must pass");
        let (shares, whole) = attribute(&good).expect("attribute");
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].group, "std");
        assert!(whole > 0);
    }
}
