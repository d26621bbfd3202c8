//! Times and days in the reader's locale: which messages start a new day
//! (pure, tested natively), and the strings for them through the browser's
//! `Intl.DateTimeFormat`, so no locale data ships in the wasm.

use crate::i18n::{Lang, Strings};

const DAY_MS: f64 = 86_400_000.0;

/// The local day number of a timestamp: days since 1970-01-01 in the time
/// zone whose offset at that instant is `offset_minutes` (JavaScript's
/// `getTimezoneOffset`: minutes to add to local time to get UTC).
pub fn day_number(ts_ms: f64, offset_minutes: f64) -> i64 {
    ((ts_ms - offset_minutes * 60_000.0) / DAY_MS).floor() as i64
}

/// How a day separator names its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayLabel {
    /// The day is today.
    Today,
    /// The day before today.
    Yesterday,
    /// Another day of the current year (no year shown).
    ThisYear,
    /// A day of another year (year shown).
    OtherYear,
}

/// The label kind for `day` seen on `today`, `same_year` telling whether
/// both fall in one calendar year.
pub fn day_label(day: i64, today: i64, same_year: bool) -> DayLabel {
    match today - day {
        0 => DayLabel::Today,
        1 => DayLabel::Yesterday,
        _ if same_year => DayLabel::ThisYear,
        _ => DayLabel::OtherYear,
    }
}

/// The locale to format with: the first of the browser's languages that
/// has the interface language as its primary subtag (so `fr` on a Belgian
/// browser formats as `fr-BE`), else the interface language itself.
pub fn locale_for(lang: Lang, browser_languages: &[String]) -> String {
    browser_languages
        .iter()
        .find(|l| Lang::from_tag(l) == lang && l.split(['-', '_']).next() == Some(lang.tag()))
        .filter(|l| l.len() <= 35 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .cloned()
        .unwrap_or_else(|| lang.tag().to_owned())
}

/// Year, month (1–12) and day of a day number (proleptic Gregorian;
/// Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The UTC instant of a timestamp as ISO 8601 (`2026-12-07T09:05:00Z`), for
/// `<time datetime>`: machines read it, so it is never localized.
pub fn iso_utc(ts_ms: f64) -> String {
    let secs = (ts_ms / 1000.0).floor() as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// Formatters for one panel, built once (an `Intl.DateTimeFormat` costs
/// far more to build than to use).
pub struct Clock {
    strings: &'static Strings,
    time: js_sys::Intl::DateTimeFormat,
    day: js_sys::Intl::DateTimeFormat,
    day_year: js_sys::Intl::DateTimeFormat,
    full: js_sys::Intl::DateTimeFormat,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").finish_non_exhaustive()
    }
}

fn formatter(locale: &str, options: &[(&str, &str)]) -> js_sys::Intl::DateTimeFormat {
    let locales = js_sys::Array::of1(&locale.into());
    let opts = js_sys::Object::new();
    for (k, v) in options {
        let _ = js_sys::Reflect::set(&opts, &(*k).into(), &(*v).into());
    }
    js_sys::Intl::DateTimeFormat::new(&locales, &opts)
}

fn format(f: &js_sys::Intl::DateTimeFormat, ts_ms: f64) -> String {
    let date = js_sys::Date::new(&ts_ms.into());
    f.format()
        .call1(&wasm_bindgen::JsValue::UNDEFINED, &date)
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

impl Clock {
    /// Formatters for `lang`, refined by the browser's languages.
    pub fn new(lang: Lang) -> Self {
        let browser: Vec<String> = web_sys::window()
            .map(|w| w.navigator().languages())
            .map(|a| a.iter().filter_map(|v| v.as_string()).collect())
            .unwrap_or_default();
        let locale = locale_for(lang, &browser);
        Clock {
            strings: lang.chat(),
            time: formatter(&locale, &[("hour", "2-digit"), ("minute", "2-digit")]),
            day: formatter(
                &locale,
                &[("weekday", "long"), ("day", "numeric"), ("month", "long")],
            ),
            day_year: formatter(
                &locale,
                &[
                    ("weekday", "long"),
                    ("day", "numeric"),
                    ("month", "long"),
                    ("year", "numeric"),
                ],
            ),
            full: formatter(&locale, &[("dateStyle", "full"), ("timeStyle", "short")]),
        }
    }

    /// Now, in milliseconds since the epoch.
    pub fn now(&self) -> f64 {
        js_sys::Date::now()
    }

    /// The local day number of `ts_ms`.
    pub fn day_of(&self, ts_ms: f64) -> i64 {
        let offset = js_sys::Date::new(&ts_ms.into()).get_timezone_offset();
        day_number(ts_ms, offset)
    }

    /// The time of day, e.g. `09:05` or `9:05 AM`.
    pub fn time(&self, ts_ms: f64) -> String {
        format(&self.time, ts_ms)
    }

    /// The full date and time (a tooltip on the time).
    pub fn full(&self, ts_ms: f64) -> String {
        format(&self.full, ts_ms)
    }

    /// The day separator's text for a message sent at `ts_ms`.
    pub fn day_separator(&self, ts_ms: f64) -> String {
        let now = self.now();
        let today = self.day_of(now);
        let day = self.day_of(ts_ms);
        let same_year = js_sys::Date::new(&ts_ms.into()).get_full_year()
            == js_sys::Date::new(&now.into()).get_full_year();
        match day_label(day, today, same_year) {
            DayLabel::Today => self.strings.today.to_owned(),
            DayLabel::Yesterday => self.strings.yesterday.to_owned(),
            DayLabel::ThisYear => format(&self.day, ts_ms),
            DayLabel::OtherYear => format(&self.day_year, ts_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_local_zone() {
        // 2026-12-07T23:30:00Z
        let ts = 1_796_686_200_000.0;
        assert_eq!(iso_utc(ts), "2026-12-07T23:30:00Z");
        let utc_day = day_number(ts, 0.0);
        // Paris in winter is UTC+1: getTimezoneOffset() is -60, so it is
        // already the next day there; New York (UTC-5, +300) the same day.
        assert_eq!(day_number(ts, -60.0), utc_day + 1);
        assert_eq!(day_number(ts, 300.0), utc_day);
        assert_eq!(civil_from_days(utc_day), (2026, 12, 7));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(iso_utc(-1.0), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn labels() {
        assert_eq!(day_label(10, 10, true), DayLabel::Today);
        assert_eq!(day_label(9, 10, true), DayLabel::Yesterday);
        assert_eq!(day_label(3, 10, true), DayLabel::ThisYear);
        assert_eq!(day_label(3, 10, false), DayLabel::OtherYear);
        // A message from the future (a skewed clock) is dated, not "today".
        assert_eq!(day_label(11, 10, true), DayLabel::ThisYear);
    }

    #[test]
    fn locales_prefer_the_browser_region() {
        let browser = vec!["nl-BE".to_owned(), "fr-BE".to_owned(), "en-GB".to_owned()];
        assert_eq!(locale_for(Lang::Fr, &browser), "fr-BE");
        assert_eq!(locale_for(Lang::Nl, &browser), "nl-BE");
        assert_eq!(locale_for(Lang::De, &browser), "de");
        assert_eq!(locale_for(Lang::En, &browser), "en-GB");
        let hostile = vec!["fr-\"x".to_owned()];
        assert_eq!(locale_for(Lang::Fr, &hostile), "fr");
    }
}
