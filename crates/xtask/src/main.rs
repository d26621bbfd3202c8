//! `cargo xtask`: build, test, replay and benchmark orchestration.
fn main() {}
