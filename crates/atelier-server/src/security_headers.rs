//! The security headers of every response, and the Content Security Policy
//! of the pages and files served from `--www`.
//!
//! The demo pages and the widgets run under [`DEFAULT_CSP`]: scripts only
//! from this origin (no inline script, no `eval`; `'wasm-unsafe-eval'`
//! lets the page compile the widgets' WebAssembly), style sheets only from
//! this origin, and connections only back to it (CSP Level 3 `'self'` also
//! matches the same host's `ws:`/`wss:`). `e2e/csp.test.mjs` uses every
//! widget under it and fails on any violation. A host serving more from
//! `--www` widens it with `--csp`.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy `atelier serve` sends with its static files unless `--csp`
/// says otherwise.
///
/// - `default-src 'self'`: whatever is not named below (media, manifests,
///   workers) comes only from this origin.
/// - `script-src 'self' 'wasm-unsafe-eval'`: module scripts from this
///   origin; no inline script, event-handler attribute or `eval`, but
///   WebAssembly may be compiled (the widgets are wasm).
/// - `style-src 'self'`: style sheets from this origin, no `<style>`
///   element and no `style` attribute; the widgets position carets and
///   colour presence dots through the CSSOM (`element.style`), which a
///   policy does not restrict.
/// - `img-src 'self' data: blob:`: icons are CSS masks of `data:` SVGs.
/// - `font-src 'self'`, `connect-src 'self'`: the sync socket, the REST
///   API and the AI endpoint of this server.
/// - `object-src 'none'; base-uri 'none'`: no plugins, no `<base>` that
///   would move every relative script address.
/// - `form-action 'self'; frame-ancestors 'self'`: forms post here only;
///   only this origin may frame the pages (clickjacking).
pub const DEFAULT_CSP: &str = "default-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; \
     img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/// Browser features the pages never use, turned off for them and for
/// anything framed in them. Only names Chromium knows: an unknown one is
/// reported on the console of every page.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=()";

/// Checks a `--csp` value: it must fit in one HTTP header. An empty value
/// means no `Content-Security-Policy` header at all (for a proxy in front
/// that sets its own).
pub fn check_csp(csp: &str) -> Result<(), String> {
    HeaderValue::from_str(csp.trim()).map(|_| ()).map_err(|_| {
        "--csp must be one line of visible ASCII (a Content-Security-Policy header value)"
            .to_string()
    })
}

/// Adds the headers every response carries, pages or not: no MIME
/// sniffing (a JSON body or an uploaded text is never run as a script) and
/// no referrer sent onwards. A handler that sets them itself wins.
pub fn for_every_response<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// Adds the headers of pages and the files they load (served from
/// `--www`): the Content Security Policy `csp` (none when empty), framing
/// by this origin only (`X-Frame-Options` for browsers without
/// `frame-ancestors`), a browsing-context group of this origin's own
/// (`Cross-Origin-Opener-Policy`: a page it opens or that opens it cannot
/// reach its `window`), and [`PERMISSIONS_POLICY`].
pub fn for_static_files(files: Router, csp: &str) -> Router {
    let csp = csp.trim();
    let files = if csp.is_empty() {
        files
    } else {
        let value = HeaderValue::from_str(csp).unwrap_or_else(|_| {
            // `Config::resolve` refuses such a value; only a `Config` built
            // in code can get here, and a page must not go out unprotected.
            tracing::error!("invalid CSP {csp:?}; sending the default one");
            HeaderValue::from_static(DEFAULT_CSP)
        });
        files.layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            value,
        ))
    };
    files
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_a_header_value_without_inline_scripts() {
        assert!(check_csp(DEFAULT_CSP).is_ok());
        let script_src = DEFAULT_CSP
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src "))
            .expect("a script-src directive");
        assert_eq!(script_src, "script-src 'self' 'wasm-unsafe-eval'");
        // Nothing inline, neither script nor style.
        assert!(!DEFAULT_CSP.contains("'unsafe-inline'"), "{DEFAULT_CSP}");
    }

    #[test]
    fn a_policy_on_several_lines_is_refused() {
        let err = check_csp("default-src 'self';\nscript-src *").expect_err("a newline");
        assert!(err.contains("--csp"), "{err}");
        assert!(check_csp("").is_ok());
    }
}
