//! Rules that keep hostile input out of the document.

/// Whether a link target is safe to store and render: only `http`, `https`
/// and `mailto` URLs (scheme compared case-insensitively, after trimming the
/// whitespace and control characters browsers ignore), or a relative link.
pub fn is_safe_href(href: &str) -> bool {
    let cleaned: String = href
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect();
    if cleaned.is_empty() {
        return false;
    }
    match cleaned.find(':') {
        // A colon before any `/`, `?` or `#` starts a scheme.
        Some(i) if !cleaned[..i].contains(['/', '?', '#']) => {
            let scheme = cleaned[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_and_mail_links_pass() {
        assert!(is_safe_href("https://example.org/a?b#c"));
        assert!(is_safe_href("HTTP://x"));
        assert!(is_safe_href("mailto:a@b.fr"));
        assert!(is_safe_href("/relative/path"));
        assert!(is_safe_href("#anchor"));
        assert!(!is_safe_href("javascript:alert(1)"));
        assert!(!is_safe_href(" JaVaScRiPt:alert(1)"));
        assert!(!is_safe_href("java\tscript:alert(1)"));
        assert!(!is_safe_href("data:text/html,<script>"));
        assert!(!is_safe_href("vbscript:x"));
        assert!(!is_safe_href(""));
    }
}
