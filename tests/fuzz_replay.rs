//! The CI smoke of the coverage-guided fuzz targets (`fuzz/`, AFL++): every file of each
//! target's corpus (`fuzz/corpus/TARGET/`, seeded from the fixtures by `fuzz/seed.sh`), of its
//! kept regressions (`fuzz/regressions/TARGET/`) and today's fixtures of its kind are replayed
//! through the very function the fuzzer drives, so no fuzzer is needed here. A target's
//! assertions are its oracle.

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
        // Today's fixtures too, so a fixture added since the corpus was seeded is covered.
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        match target {
            "inventory" => {
                for dir in ["render", "invalid", "lint", "resolve"] {
                    walk(&fixtures.join(dir), "yaml", &mut files);
                }
            }
            "containerd_config" => {
                walk(&fixtures.join("containerd-config"), "toml", &mut files);
                walk(
                    &fixtures.join("import/containerd-config"),
                    "toml",
                    &mut files,
                );
            }
            _ => {}
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

fn walk(dir: &Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for path in entries.map(|e| e.expect("entry").path()) {
        if path.is_dir() {
            walk(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}
