//! Counts written the language's way.

use crate::Lang;

impl Lang {
    /// `n` as this language writes it: in the browser through its
    /// `Intl.NumberFormat` (`Number.prototype.toLocaleString(tag)`, which
    /// ECMA-402 defines as exactly that), so `12345` reads `12,345` in
    /// English and `12 345` in French without locale data in the wasm;
    /// natively, plain digits.
    pub fn format_number(self, n: usize) -> String {
        #[cfg(target_arch = "wasm32")]
        {
            // Below 1000 every language of the catalogue writes plain
            // Western digits: skip the call into JavaScript.
            if n >= 1000 {
                return String::from(js_sys::Number::from(n as f64).to_locale_string(self.tag()));
            }
        }
        n.to_string()
    }
}
