//! Filling a message's `{name}` placeholders.

/// Replaces each `{key}` in `template` by its value; a placeholder with no
/// value is left as it is. One pass over the template, so a value that
/// itself contains `{b}` (a user's name) is never substituted again.
///
/// ```
/// assert_eq!(atelier_i18n::fill("{a} & {b}", &[("a", "{b}"), ("b", "x")]), "{b} & x");
/// ```
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v, close))
        });
        match hit {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
