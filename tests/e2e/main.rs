//! The real-component tests, in a harness of their own (libtest-mimic) so that a test whose
//! components are missing is reported `ignored, <reason>` instead of `ok`: the containerd
//! end-to-end suite (`tests/e2e/run.sh`) once per containerd version this machine has, each test
//! named after that version (`e2e::containerd_1_7_24`), and the Ansible and Puppet integrations.
//! Under `CI=true` a missing component fails its test instead: CI installs everything.
//!
//! The versions are the system's containerd (Debian bookworm's 1.6) and the ones
//! `tests/e2e/fetch-containerd.sh` extracted from Debian trixie (1.7) and sid (2.x); each test
//! reads the version from `containerd --version`, since sid moves. Tests run one at a time unless
//! `--test-threads` says otherwise: the suites measure timeouts, and the machine is small.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// Exit status of `run.sh --preflight` and of the integration scripts when a component is
/// missing (automake's "skipped").
const MISSING: i32 = 77;

fn main() {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = Some(1);
    }
    let mut trials = containerd_trials();
    trials.push(integration(
        "ansible_collection_role_and_command_recipe",
        "ansible.sh",
    ));
    trials.push(integration("puppet_module", "puppet.sh"));
    libtest_mimic::run(&args, trials).exit();
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A component is missing: ignored with the reason, or a failure under CI.
fn missing(reason: String) -> Result<Completion, Failed> {
    if under_ci() {
        Err(format!("cannot run under CI: {reason}").into())
    } else {
        Ok(Completion::ignored_with(reason))
    }
}

fn run(command: &mut Command) -> Result<Output, Failed> {
    command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {command:?}: {error}").into())
}

/// `MAJOR.MINOR.PATCH` of `containerd --version` ("containerd github.com/containerd/containerd
/// 1.7.24~ds1 …", "… 2.1.9+unknown"), or why there is none.
fn containerd_version(containerd: &Path) -> Result<String, String> {
    let output = Command::new(containerd)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("{}: {error}", containerd.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = text.split_whitespace().nth(2).unwrap_or_default();
    let numbers: Vec<&str> = field
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .collect();
    if !output.status.success() || numbers.len() != 3 || numbers.iter().any(|n| n.is_empty()) {
        return Err(format!(
            "`{} --version` printed no version: {}",
            containerd.display(),
            text.trim()
        ));
    }
    Ok(numbers.join("."))
}

/// One trial per containerd: the one on PATH, then each suite fetch-containerd.sh knows of.
fn containerd_trials() -> Vec<Trial> {
    let mut trials = vec![match containerd_version(Path::new("containerd")) {
        Ok(version) => containerd_trial(&version, None),
        Err(why) => Trial::ignorable_test("e2e::containerd_system", move || {
            missing(format!(
                "no containerd on PATH (apt-get install containerd): {why}"
            ))
        }),
    }];
    let fetch = e2e_dir().join("fetch-containerd.sh");
    let listed = Command::new("bash")
        .arg(&fetch)
        .arg("--list")
        .stdin(Stdio::null())
        .output();
    let listed = match listed {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        other => {
            let why = format!("`{} --list` failed: {other:?}", fetch.display());
            trials.push(Trial::test("e2e::containerd_fetched", move || {
                Err(why.into())
            }));
            return trials;
        }
    };
    for line in listed.lines() {
        let Some((suite, bin_dir)) = line.split_once('\t') else {
            continue;
        };
        let bin_dir = PathBuf::from(bin_dir);
        let containerd = bin_dir.join("containerd");
        if !containerd.exists() {
            let why = format!(
                "the containerd of Debian {suite} is not fetched (bash tests/e2e/fetch-containerd.sh): no {}",
                containerd.display()
            );
            trials.push(Trial::ignorable_test(
                format!("e2e::containerd_{suite}"),
                move || missing(why),
            ));
            continue;
        }
        trials.push(match containerd_version(&containerd) {
            Ok(version) => containerd_trial(&version, Some(bin_dir)),
            Err(why) => Trial::test(format!("e2e::containerd_{suite}"), move || Err(why.into())),
        });
    }
    trials
}

/// The suite against one containerd: `bin_dir` holds containerd, ctr and the shim (None: PATH).
fn containerd_trial(version: &str, bin_dir: Option<PathBuf>) -> Trial {
    let name = format!("e2e::containerd_{}", version.replace('.', "_"));
    Trial::ignorable_test(name, move || {
        let script = e2e_dir().join("run.sh");
        let with_bin = |command: &mut Command| {
            if let Some(dir) = &bin_dir {
                command.env("E2E_CONTAINERD_BIN", dir);
            }
        };
        let mut preflight = Command::new("bash");
        preflight.arg(&script).arg("--preflight");
        with_bin(&mut preflight);
        let output = run(&mut preflight)?;
        match output.status.code() {
            Some(0) => {}
            Some(MISSING) => {
                let what: Vec<_> = String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(str::to_string)
                    .collect();
                return missing(format!("missing {}", what.join(", ")));
            }
            _ => {
                return Err(format!(
                    "`{} --preflight` failed ({}): {}",
                    script.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                )
                .into());
            }
        }
        // The suite's output streams straight to the terminal (libtest-mimic captures nothing),
        // from a line of its own after the harness's `test NAME ... `.
        println!();
        // E2E_STRICT: every feature the suite needs has landed, so a pending scenario fails.
        let mut suite = Command::new("bash");
        suite
            .arg(&script)
            .arg(env!("CARGO_BIN_EXE_mirrorctl"))
            .env("E2E_STRICT", "1")
            .stdin(Stdio::null());
        with_bin(&mut suite);
        let status = suite
            .status()
            .map_err(|error| format!("cannot run `{}`: {error}", script.display()))?;
        if status.success() {
            Ok(Completion::Completed)
        } else {
            Err(
                format!("the containerd end-to-end suite failed ({status}); its report is above")
                    .into(),
            )
        }
    })
}

/// One script of `tests/integrations/`, run with the binary cargo built; it exits 77 (and says
/// why on stderr) when its tools are missing and `CI` is not `true`.
fn integration(name: &str, script: &str) -> Trial {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/integrations")
        .join(script);
    Trial::ignorable_test(format!("integrations::{name}"), move || {
        let output = run(Command::new("bash")
            .arg(&script)
            .arg(env!("CARGO_BIN_EXE_mirrorctl")))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() == Some(MISSING) {
            let why = stderr
                .lines()
                .rev()
                .find_map(|line| line.strip_prefix("SKIPPED: "))
                .unwrap_or("its tools are not installed");
            return missing(why.to_string());
        }
        // From a line of their own, after the harness's `test NAME ... `.
        println!();
        print!("{}", String::from_utf8_lossy(&output.stdout));
        eprint!("{stderr}");
        if output.status.success() {
            Ok(Completion::Completed)
        } else {
            Err(format!("`{}` failed with {}", script.display(), output.status).into())
        }
    })
}
