//! The CI smoke of the coverage-guided fuzz targets (`fuzz/`, AFL++): every file of each
//! target's corpus (`fuzz/corpus/TARGET/`, seeded from the fixtures by `fuzz/seed.sh`) and of
//! its kept regressions (`fuzz/regressions/TARGET/`) is replayed through the very function
//! the fuzzer drives, so no fuzzer is needed here. A target's assertions are its oracle.

use std::fs;
use std::path::Path;

use mirrorctl::fuzz_targets::TARGETS;

#[test]
fn every_fuzz_target_replays_its_corpus() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (target, run) in TARGETS {
        let mut files = Vec::new();
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = fs::read_dir(fuzz.join(dir).join(target)) else {
                continue;
            };
            files.extend(entries.map(|e| e.expect("corpus entry").path()));
        }
        files.sort();
        assert!(
            files.len() >= 3,
            "{target}: the corpus is missing (run fuzz/seed.sh)"
        );
        for file in files {
            let data = fs::read(&file).expect("corpus file");
            // Each target also meets every prefix a fuzzer would try first.
            for cut in [data.len(), data.len() / 2, data.len() / 3] {
                let result = std::panic::catch_unwind(|| run(&data[..cut]));
                assert!(
                    result.is_ok(),
                    "{target} panicked on {} cut to {cut} bytes",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn fuzz_corpus_matches_the_fixtures() {
    // The seeded corpus is what fuzz/seed.sh makes from today's fixtures: a new containerd
    // config or inventory fixture shows up in the fuzzer's seeds too.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let count = |dir: &str| {
        fs::read_dir(root.join("fuzz/corpus").join(dir))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let configs = walk(&root.join("fixtures/containerd-config"), "toml")
        + walk(&root.join("fixtures/import/containerd-config"), "toml");
    assert_eq!(count("containerd_config"), configs, "run fuzz/seed.sh");
    let inventories: usize = ["render", "invalid", "lint", "resolve"]
        .iter()
        .map(|d| walk(&root.join("fixtures").join(d), "yaml"))
        .sum();
    assert_eq!(count("inventory"), inventories, "run fuzz/seed.sh");
}

fn walk(dir: &Path, ext: &str) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.expect("entry").path())
        .map(|p| {
            if p.is_dir() {
                walk(&p, ext)
            } else {
                usize::from(p.extension().is_some_and(|e| e == ext))
            }
        })
        .sum()
}
