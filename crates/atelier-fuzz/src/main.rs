//! The libFuzzer binary: one executable for every target (linking one
//! instrumented binary instead of fifteen), the target named by
//! `ATELIER_FUZZ_TARGET` (`list` prints their names and exits). Built and
//! run by `cargo xtask fuzz`.

#![no_main]

use std::sync::OnceLock;

/// The target this process fuzzes, read once from the environment.
fn chosen() -> &'static atelier_fuzz::Target {
    static CHOSEN: OnceLock<&'static atelier_fuzz::Target> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        let name = std::env::var("ATELIER_FUZZ_TARGET").unwrap_or_default();
        if name == "list" {
            // What this build holds (the `server` feature adds three).
            for t in atelier_fuzz::TARGETS {
                println!("{}", t.name);
            }
            std::process::exit(0)
        }
        atelier_fuzz::target(&name).unwrap_or_else(|| {
            let names: Vec<_> = atelier_fuzz::TARGETS.iter().map(|t| t.name).collect();
            eprintln!("ATELIER_FUZZ_TARGET={name:?} is not one of {names:?}");
            std::process::exit(2)
        })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (chosen().run)(data);
});
