//! Writes the starting corpus: `atelier-fuzz-seeds CORPUS_DIR [WIRE_VECTORS_JSON]`.
//! Run by `cargo xtask fuzz --reseed`, which first records the wire
//! vectors with `node peers/protocol-vectors.mjs`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: atelier-fuzz-seeds CORPUS_DIR [WIRE_VECTORS_JSON]");
        return ExitCode::from(2);
    };
    let mut seeds = atelier_fuzz::seeds::made_here();
    if let Some(vectors) = args.next() {
        let read = std::fs::read_to_string(&vectors)
            .map_err(|e| format!("{vectors}: {e}"))
            .and_then(|json| atelier_fuzz::seeds::from_wire_vectors(&json));
        match read {
            Ok(mut more) => seeds.append(&mut more),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    for seed in &seeds {
        let target_dir = dir.join(seed.target);
        let written = std::fs::create_dir_all(&target_dir)
            .and_then(|()| std::fs::write(target_dir.join(&seed.name), &seed.bytes));
        if let Err(e) = written {
            eprintln!("{}/{}: {e}", target_dir.display(), seed.name);
            return ExitCode::FAILURE;
        }
    }
    println!("{} seeds written under {}", seeds.len(), dir.display());
    ExitCode::SUCCESS
}
