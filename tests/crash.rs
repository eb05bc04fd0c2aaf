//! Crash safety. A SIGKILLed apply leaves every file complete (old or new content), a record
//! that parses and owns what is on disk, and a next apply that converges and sweeps what the
//! killed run left behind. A full or read-only filesystem fails the run with exit 1, a message
//! naming the path and what was being done, a list of what was and was not written, and every
//! file whole. Where a kill at one exact moment cannot be arranged, the state it leaves is built
//! by hand and the next run is held to the same rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mirrorctl::plan::sha256_hex;
use mirrorctl::render;
use mirrorctl::secrets::Secrets;
use mirrorctl::state::State;

use crate::fuzz::{Rng, seed};
use crate::support::{self, BIN, Node, Run, require};

const CERTS: &str = "/etc/containerd/certs.d";
const STATE: &str = "/var/lib/mirrorctl/state.json";
/// Created empty by the first writing run and never written after (the kernel names a holder).
const LOCK: &str = "/var/lib/mirrorctl/lock";

/// Node path → (contents, mode).
type Files = BTreeMap<String, (Vec<u8>, u32)>;

/// Every regular file under `dir`, keyed by its path below `dir` written as a node path.
fn snapshot(dir: &Path) -> Files {
    fn walk(base: &Path, dir: &Path, out: &mut Files) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                walk(base, &path, out);
            } else {
                let node = format!(
                    "/{}",
                    path.strip_prefix(base).expect("under the base").display()
                );
                let bytes = fs::read(&path).unwrap_or_default();
                out.insert(node, (bytes, meta.permissions().mode() & 0o7777));
            }
        }
    }
    let mut out = Files::new();
    walk(dir, dir, &mut out);
    out
}

fn is_temp(path: &str) -> bool {
    path.ends_with(mirrorctl::fsx::TEMP_SUFFIX)
}

/// What `inventory` renders to, secrets read below `root`: exactly what apply must write.
fn rendered(inventory: &str, root: &Path) -> Files {
    let inventory = mirrorctl::inventory::load_bytes("inventory.yaml", inventory.as_bytes())
        .unwrap_or_else(|e| panic!("the test inventory loads: {e}"));
    let secrets = Secrets::load(&inventory, root).unwrap_or_else(|e| panic!("secrets: {e}"));
    render::render(&inventory, &secrets)
        .files
        .into_iter()
        .map(|(path, file)| (path, (file.contents, file.mode)))
        .collect()
}

fn parse_state(files: &Files) -> Result<State, String> {
    let (bytes, _) = files.get(STATE).ok_or("state.json is missing")?;
    serde_json::from_slice(bytes).map_err(|e| format!("state.json does not parse: {e}"))
}

/// Paths that `ca` and `client` name in a hosts.toml.
fn named_files(text: &str) -> Vec<String> {
    fn collect(value: &toml::Value, named: bool, out: &mut Vec<String>) {
        match value {
            toml::Value::String(s) if named => out.push(s.clone()),
            toml::Value::Array(items) => items.iter().for_each(|v| collect(v, named, out)),
            toml::Value::Table(table) => {
                for (key, value) in table {
                    collect(value, named || key == "ca" || key == "client", out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(table) = text.parse::<toml::Table>() {
        collect(&toml::Value::Table(table), false, &mut out);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The kill test.

/// Registries in the kill test's inventories: about 240 hosts.toml files per inventory and
/// 300 paths between the two.
const REGISTRIES: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Two inventories that differ in every way apply handles: registries only in A (deleted on
/// the way to B) or only in B (created), changed mirrors, headers and secrets (updated), a new
/// secret (content and mode), a different hosts.toml mode (chmod), CA files given as PEM
/// content (created, replaced by a new name, deleted with their registry), and a changed
/// CredentialProviderConfig.
fn big_inventory(side: Side) -> String {
    let b = side == Side::B;
    let mut text = format!(
        "version: 1\nmodes: {{hostsToml: \"{}\"}}\nregistries:\n",
        if b { "0640" } else { "0644" }
    );
    for i in 0..REGISTRIES {
        if (!b && i % 5 == 0) || (b && i % 5 == 1) {
            continue;
        }
        let host = if i % 3 == 0 && !b {
            format!("m{i}-old.example")
        } else {
            format!("m{i}.example")
        };
        text.push_str(&format!(
            "  r{i}.example:\n    mirrors:\n      - url: https://{host}\n"
        ));
        if i % 4 == 0 {
            text.push_str(&format!("        ca: /etc/pki/ca-{}.pem\n", i % 3));
        }
        // CA content, written beside the hosts.toml naming it: unchanged, changed (a new file
        // written before the hosts.toml, the old one deleted after it), with a path in a list,
        // and in registries only one side has (written before, deleted after, their hosts.toml).
        if i % 4 == 2 {
            let pem = if b && i % 8 == 2 { CA_B } else { CA };
            let pem = serde_json::to_string(pem).expect("a JSON string is a YAML string");
            if i % 12 == 2 {
                text.push_str(&format!(
                    "        ca: [/etc/pki/ca-{}.pem, {{pem: {pem}}}]\n",
                    i % 3
                ));
            } else {
                text.push_str(&format!("        ca: {{pem: {pem}}}\n"));
            }
        }
        if i % 6 == 0 {
            text.push_str(&format!(
                "        headers: {{X-Rev: \"{}\"}}\n",
                if b { "b" } else { "a" }
            ));
        }
        if i % 7 == 0 || (b && i % 11 == 0) {
            text.push_str(&format!(
                "        auth: {{basicFrom: {{usernameFile: /etc/mirrorctl/secrets/user, passwordFile: /etc/mirrorctl/secrets/pass-{}}}}}\n",
                if b { "b" } else { "a" }
            ));
        }
        if i % 13 == 0 {
            text.push_str(&format!(
                "      - url: https://last{i}.example\n    fallback: false\n"
            ));
        }
    }
    // `*.example` names the first registry, so the lint that compares patterns with every
    // registry stops at once (see the report: that lint is quadratic otherwise).
    text.push_str("credentialProviders:\n  - name: corp\n    matchImages: [\"*.example\"]\n");
    text.push_str(if b {
        "    defaultCacheDuration: 6h\n    args: [--rev, b]\n"
    } else {
        "    defaultCacheDuration: 12h\n"
    });
    text
}

/// Files the kill test plants that mirrorctl must never touch: a foreign directory beside the
/// managed ones, and a foreign file inside the directory of a registry only B has.
const FOREIGN: [(&str, &str); 2] = [
    (
        "/etc/containerd/certs.d/_backup/hosts.toml",
        "foreign backup\n",
    ),
    ("/etc/containerd/certs.d/r5.example/ca.crt", "foreign ca\n"),
];

/// A real certificate: apply reads each CA file as X.509 and refuses one that is not.
const CA: &str = include_str!("../fixtures/x509/ec-p256-until-2051.pem");
/// B's CA content where it differs from A's.
const CA_B: &str = include_str!("../fixtures/x509/ec-p256-second-until-2051.pem");

/// Files the inventories read (secrets, CAs): inputs, never written.
const INPUTS: [(&str, &str); 6] = [
    ("/etc/mirrorctl/secrets/user", "mirror-bot\n"),
    ("/etc/mirrorctl/secrets/pass-a", "password-a\n"),
    ("/etc/mirrorctl/secrets/pass-b", "password-b\n"),
    ("/etc/pki/ca-0.pem", CA),
    ("/etc/pki/ca-1.pem", CA),
    ("/etc/pki/ca-2.pem", CA),
];

struct KillRig {
    node: Node,
    inventories: [PathBuf; 2],
    want: [Files; 2],
    /// Every path either inventory renders.
    managed: BTreeSet<String>,
}

/// Broken rules, grouped by kind: a count and the first few cases of each.
#[derive(Debug, Default)]
struct Findings(BTreeMap<&'static str, (usize, Vec<String>)>);

impl Findings {
    fn add(&mut self, kind: &'static str, case: String) {
        let (count, examples) = self.0.entry(kind).or_default();
        *count += 1;
        if examples.len() < 3 {
            examples.push(case);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn report(&self) -> String {
        let mut out = String::new();
        for (kind, (count, examples)) in &self.0 {
            out.push_str(&format!("{count}× {kind}, e.g.:\n"));
            for example in examples {
                let cut: String = example.chars().take(600).collect();
                out.push_str(&format!("    {cut}\n"));
            }
        }
        out
    }
}

#[derive(Debug, Default)]
struct Tally {
    kills: usize,
    finished: usize,
    chained: usize,
    /// Kills after which some files held A's content and others B's: the kill landed between
    /// two writes, the case the test exists for.
    mixed: usize,
    /// Kills after which temporary files were on disk (left by this kill or an earlier one).
    with_temps: usize,
}

impl KillRig {
    fn new() -> KillRig {
        // fsync is free on tmpfs, so an apply takes tens of milliseconds and 200 kills fit in
        // the time budget; a kill is the same event on any filesystem.
        let dir = match tempfile::Builder::new()
            .prefix("mirrorctl-kill-")
            .tempdir_in("/dev/shm")
        {
            Ok(dir) => dir,
            Err(_) => tempfile::tempdir().expect("temp dir"),
        };
        eprintln!("kill test root: {}", dir.path().display());
        fs::create_dir(dir.path().join("root")).expect("root dir");
        let node = Node { dir };
        for (path, text) in INPUTS.iter().chain(FOREIGN.iter()) {
            node.write(path, text);
        }
        let inventories = [Side::A, Side::B].map(|side| {
            let path = node.dir.path().join(format!("{side:?}.yaml"));
            fs::write(&path, big_inventory(side)).expect("write inventory");
            path
        });
        let want = [Side::A, Side::B].map(|side| rendered(&big_inventory(side), &node.root()));
        let managed = want.iter().flat_map(|w| w.keys().cloned()).collect();
        KillRig {
            node,
            inventories,
            want,
            managed,
        }
    }

    fn args(&self, subcommand: &str, side: Side) -> Vec<String> {
        vec![
            subcommand.into(),
            "-i".into(),
            self.inventories[side.index()].display().to_string(),
            "--root".into(),
            self.node.root().display().to_string(),
        ]
    }

    fn run(&self, subcommand: &str, side: Side) -> Run {
        let args = self.args(subcommand, side);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::run(&args, None)
    }

    fn spawn_apply(&self, side: Side) -> Child {
        Command::new(BIN)
            .args(self.args("apply", side))
            .env_remove("MIRRORCTL_INVENTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mirrorctl")
    }

    /// The rules that hold at every moment, checked right after a kill. Returns whether some
    /// files held A's content and others B's, and whether temporary files were left.
    fn whole(&self, context: &str, findings: &mut Findings) -> (bool, bool) {
        let disk = snapshot(&self.node.root());
        let mut fail = |kind, what: String| findings.add(kind, format!("{context}: {what}"));
        let (mut a, mut b) = (0, 0);
        for path in &self.managed {
            let [in_a, in_b] = [&self.want[0], &self.want[1]].map(|w| w.get(path));
            let on_disk = disk.get(path);
            match on_disk {
                None if in_a.is_some() && in_b.is_some() => {
                    fail("a file both inventories want is missing", path.clone())
                }
                None => {}
                Some(found) if Some(found) != in_a && Some(found) != in_b => fail(
                    "a file holds neither A's nor B's complete content and mode",
                    format!("{path}: {} bytes, mode {:04o}", found.0.len(), found.1),
                ),
                Some(_) => {}
            }
            if in_a != in_b {
                a += usize::from(on_disk == in_a);
                b += usize::from(on_disk == in_b);
            }
        }
        let mut temps = 0;
        for (path, (bytes, _)) in &disk {
            let expected = self.managed.contains(path)
                || path == STATE
                || path == LOCK
                || INPUTS.iter().chain(FOREIGN.iter()).any(|(p, _)| p == path);
            if is_temp(path) {
                temps += 1;
            } else if !expected {
                fail("an unexpected file", path.clone());
            }
            if let Some((_, text)) = FOREIGN.iter().find(|(p, _)| p == path)
                && bytes != text.as_bytes()
            {
                fail("a foreign file was changed", path.clone());
            }
            if path.ends_with("/hosts.toml") && self.managed.contains(path) {
                for named in named_files(&String::from_utf8_lossy(bytes)) {
                    if !disk.contains_key(&named) {
                        fail(
                            "a hosts.toml names a missing file",
                            format!("{path} → {named}"),
                        );
                    }
                }
            }
        }
        match parse_state(&disk) {
            Err(why) => fail("state.json is unreadable", why),
            Ok(state) => {
                let unowned: Vec<&String> = self
                    .managed
                    .iter()
                    .filter(|p| disk.contains_key(*p) && !state.files.contains_key(*p))
                    .collect();
                if !unowned.is_empty() {
                    fail(
                        "a managed file on disk is not in state.json (the next apply would call it foreign)",
                        format!("{unowned:?}"),
                    );
                }
            }
        }
        (a > 0 && b > 0, temps > 0)
    }

    /// apply → exit 0 or 2 and the node is exactly `side`'s (files, modes, record, directories,
    /// no temporary file); then apply → 0 and check → 0. Returns how long the first apply and
    /// the check took: a check is what an apply does before its first write.
    fn converge(&self, side: Side, context: &str, findings: &mut Findings) -> (Duration, Duration) {
        let context = format!("{context}, then apply {side:?}");
        let mut fail = |kind, what: String| findings.add(kind, format!("{context}: {what}"));
        let started = Instant::now();
        let run = self.run("apply", side);
        let took = started.elapsed();
        if run.status != 0 && run.status != 2 {
            fail(
                "the apply after a kill fails",
                format!("exit {}: {}", run.status, run.stderr.trim()),
            );
        }
        let disk = snapshot(&self.node.root());
        let want = &self.want[side.index()];
        let describe = |f: Option<&(Vec<u8>, u32)>| {
            f.map_or("nothing".into(), |(bytes, mode)| {
                format!("{} bytes {mode:04o}", bytes.len())
            })
        };
        for path in &self.managed {
            let found = disk.get(path);
            if found != want.get(path) {
                fail(
                    "the apply after a kill leaves a file other than the inventory's",
                    format!(
                        "{path}: {} on disk, {} wanted",
                        describe(found),
                        describe(want.get(path))
                    ),
                );
            }
        }
        let temps: Vec<&String> = disk.keys().filter(|p| is_temp(p)).collect();
        if !temps.is_empty() {
            fail(
                "the apply after a kill leaves temporary files behind",
                format!("{temps:?}"),
            );
        }
        for (path, text) in FOREIGN {
            if disk.get(path).map(|f| f.0.as_slice()) != Some(text.as_bytes()) {
                fail("a foreign file was changed", path.to_string());
            }
        }
        match parse_state(&disk) {
            Err(why) => fail("state.json is unreadable", why),
            Ok(state) => {
                let recorded: BTreeSet<&String> = state.files.keys().collect();
                let wanted: BTreeSet<&String> = want.keys().collect();
                if recorded != wanted {
                    fail(
                        "after the apply after a kill, state.json records other files than the disk holds",
                        format!(
                            "{:?} too many, {:?} too few",
                            recorded.difference(&wanted).collect::<Vec<_>>(),
                            wanted.difference(&recorded).collect::<Vec<_>>()
                        ),
                    );
                }
                let stale: Vec<&String> = want
                    .iter()
                    .filter(|(path, (bytes, mode))| {
                        state.files.get(*path).is_some_and(|r| {
                            r.sha256 != sha256_hex(bytes) || r.mode != format!("{mode:04o}")
                        })
                    })
                    .map(|(path, _)| path)
                    .collect();
                if !stale.is_empty() {
                    fail(
                        "after the apply after a kill, state.json records an old sha256 or mode for files it left unchanged",
                        format!(
                            "{} files, e.g. {:?}",
                            stale.len(),
                            &stale[..stale.len().min(3)]
                        ),
                    );
                }
            }
        }
        // Directories: the registries of `side`, plus the two holding foreign files.
        let dirs: BTreeSet<String> = fs::read_dir(self.node.path(CERTS))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let mut wanted_dirs: BTreeSet<String> = want
            .keys()
            .filter_map(|p| p.strip_prefix(&format!("{CERTS}/")))
            .filter_map(|p| p.strip_suffix("/hosts.toml"))
            .map(str::to_string)
            .collect();
        wanted_dirs.extend(["_backup".to_string(), "r5.example".to_string()]);
        let extra: Vec<&String> = dirs.difference(&wanted_dirs).collect();
        if !extra.is_empty() {
            fail(
                "directories of removed registries stay after the apply after a kill",
                format!(
                    "{} directories, e.g. {:?}",
                    extra.len(),
                    &extra[..extra.len().min(3)]
                ),
            );
        }
        let missing: Vec<&String> = wanted_dirs.difference(&dirs).collect();
        if !missing.is_empty() {
            fail("directories are missing", format!("{missing:?}"));
        }
        let mut check = Duration::ZERO;
        for subcommand in ["apply", "check"] {
            let started = Instant::now();
            let run = self.run(subcommand, side);
            check = started.elapsed();
            if run.status != 0 {
                fail(
                    "the run after the converging apply does not exit 0",
                    format!(
                        "{subcommand} exits {}: {}{}",
                        run.status,
                        run.stdout.trim(),
                        run.stderr.trim()
                    ),
                );
            }
        }
        (took, check)
    }
}

/// SIGKILL `mirrorctl apply` at random moments while it moves a node between two large
/// inventories (and back), 200 times (fewer on a busy machine, within 150 s). After every kill: every
/// managed file is A's or B's complete file, no hosts.toml names a missing file, state.json
/// parses and owns every managed file on disk. Then (for two kills in three) an apply of A or B
/// converges exactly — files, modes, record, directories, no temporary files — and the apply
/// and check after it exit 0. The third kill in three is followed by another killed apply, so
/// that recovery itself is killed too.
///
/// `MIRRORCTL_KILL_SEED` replays the choices of a run (the moments depend on the machine too);
/// `MIRRORCTL_KILLS` asks for more kills.
#[test]
fn killed_applies_leave_whole_files_and_the_next_apply_converges() {
    let seed = seed("MIRRORCTL_KILL_SEED");
    let mut rng = Rng::new(seed);
    let target: usize = std::env::var("MIRRORCTL_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    // A bound on the run, not a speed test: a busy machine gets fewer kills, never a failure
    // (what must hold after each kill is checked whatever their number).
    let budget = Duration::from_secs(150).max(Duration::from_millis(750) * target as u32);
    let rig = KillRig::new();
    let mut findings = Findings::default();

    // Premise: each switch writes CA files (PEM content) that a hosts.toml names, deletes some
    // whose hosts.toml stops naming them, and keeps others.
    let pems = |want: &Files| -> BTreeSet<String> {
        want.keys()
            .filter(|p| p.starts_with(CERTS) && p.ends_with(".pem"))
            .cloned()
            .collect()
    };
    let (a, b) = (pems(&rig.want[0]), pems(&rig.want[1]));
    assert!(
        a.difference(&b).next().is_some()
            && b.difference(&a).next().is_some()
            && a.intersection(&b).next().is_some(),
        "the kill test's inventories must create, delete and keep CA files: {} in A, {} in B",
        a.len(),
        b.len()
    );

    // Three full switches, uninterrupted, to measure how long one takes and which share of it
    // comes before the first write (what a check does).
    let (mut full, mut reading) = (Duration::ZERO, 1.0f64);
    for side in [Side::A, Side::B, Side::A] {
        let (apply, check) = rig.converge(side, "calibration", &mut findings);
        full = full.max(apply);
        reading = reading.min(check.as_secs_f64() / apply.as_secs_f64());
    }
    assert!(
        findings.is_empty(),
        "uninterrupted applies already break the rules:\n{}",
        findings.report()
    );
    // Kills land uniformly in `window`. It follows the machine's load: an apply that finishes
    // before its kill shrinks it, a kill widens it a little, so that about one apply in eleven
    // finishes first.
    let mut window = full * 11 / 10;
    let writes_share = (reading * 0.9).min(0.9);

    let started = Instant::now();
    let mut tally = Tally::default();
    let mut converged = Some(Side::A);
    let mut round = 0;
    while tally.kills < target && started.elapsed() < budget {
        round += 1;
        let side = match converged {
            Some(side) => side.other(),
            None if rng.one_in(2) => Side::A,
            None => Side::B,
        };
        // Half the kills anywhere in the run, half while it writes.
        let from = if rng.one_in(2) {
            Duration::ZERO
        } else {
            window.mul_f64(writes_share)
        };
        let delay = from
            + Duration::from_micros(rng.below((window - from).as_micros() as usize + 1) as u64);
        let mut child = rig.spawn_apply(side);
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().expect("wait for mirrorctl");
        let killed = status.signal() == Some(9);
        let context = format!(
            "round {round}: apply {side:?} {} after {delay:?}",
            if killed { "killed" } else { "finished" }
        );
        if killed {
            tally.kills += 1;
            window = window * 101 / 100;
        } else {
            tally.finished += 1;
            window = (window * 9 / 10).max(Duration::from_millis(5));
            if !matches!(status.code(), Some(0 | 2)) {
                findings.add(
                    "an uninterrupted apply fails",
                    format!("{context}: {status:?}"),
                );
            }
        }
        let (mixed, temps) = rig.whole(&context, &mut findings);
        if killed {
            tally.mixed += usize::from(mixed);
            tally.with_temps += usize::from(temps);
        }
        if killed && rng.one_in(3) {
            tally.chained += 1;
            converged = None;
            continue;
        }
        let next = if rng.one_in(2) { Side::A } else { Side::B };
        rig.converge(next, &context, &mut findings);
        converged = Some(next);
    }
    if converged.is_none() {
        rig.converge(Side::A, "the end", &mut findings);
    }
    eprintln!(
        "kill test (seed {seed}): {} kills in {:?} ({} between two writes, {} leaving temporary files, {} followed by another kill), {} applies finished first; a full apply took {full:?} at first, the kill window ended at {window:?}, writes start after {:.0}% of a run",
        tally.kills,
        started.elapsed(),
        tally.mixed,
        tally.with_temps,
        tally.chained,
        tally.finished,
        writes_share * 100.0 / 0.9
    );
    assert!(
        findings.is_empty(),
        "broken rules (seed {seed}, {} kills in {round} rounds):\n{}",
        tally.kills,
        findings.report()
    );
    if tally.kills < target {
        eprintln!(
            "WARNING: only {} of {target} kills in {budget:?}: a busy machine; the rules held after each",
            tally.kills
        );
    }
    assert!(
        tally.mixed > 0,
        "no kill landed between two writes in {} kills: the kill window {window:?} misses the writes",
        tally.kills
    );
}

// ---------------------------------------------------------------------------------------------
// States a kill at one exact moment leaves, built by hand.

fn small_inventory(registries: &[&str]) -> String {
    let mut text = String::from("version: 1\nregistries:\n");
    for r in registries {
        text.push_str(&format!(
            "  {r}:\n    mirrors: [{{url: \"https://mirror.{r}\"}}]\n"
        ));
    }
    text
}

fn hosts(registry: &str) -> String {
    format!("{CERTS}/{registry}/hosts.toml")
}

/// A run killed while writing state.json leaves its temporary file in the state directory.
#[test]
fn the_temporary_file_of_a_killed_state_save_is_removed_by_the_next_apply() {
    let node = Node::new();
    node.inventory(&small_inventory(&["docker.io"]));
    node.run("apply", &[]).status(2);
    let temp = "/var/lib/mirrorctl/.state.json.99999.mirrorctl-tmp";
    node.write(temp, "{\"version\": 1, \"fi");
    node.run("apply", &[]).status(0);
    assert!(
        !node.exists(temp),
        "the next apply leaves {temp} behind forever"
    );
}

/// A run killed while writing a registry's first hosts.toml leaves the recorded intent, the
/// directory and a temporary file, but no hosts.toml. The next run no longer wants the
/// registry: the temporary file must go anyway.
#[test]
fn the_temporary_file_of_a_file_never_finished_is_removed_when_its_registry_goes() {
    let node = Node::new();
    node.inventory(&small_inventory(&["docker.io", "quay.io"]));
    node.run("apply", &[]).status(2);
    fs::remove_file(node.path(&hosts("quay.io"))).expect("rm");
    let temp = format!("{CERTS}/quay.io/.hosts.toml.99999.mirrorctl-tmp");
    node.write(&temp, "# Managed by mirrorctl. Do not ed");
    crate::safety::mark_pending(&node, &hosts("quay.io"));
    node.inventory(&small_inventory(&["docker.io"]));
    let status = node.run("apply", &[]).status;
    assert!(status == 0 || status == 2, "exit {status}");
    assert!(
        !node.exists(&temp),
        "{temp} survives: only directories of planned changes are swept"
    );
}

/// A file name as long as Linux allows (255 bytes) is written like any other: the temporary
/// name beside it is cut short to fit (`.NAME.PID.mirrorctl-tmp` would not), two long names
/// that begin alike get different temporary names, and the sweep of a killed run's leftovers
/// still recognises them.
#[test]
fn a_file_name_of_255_bytes_is_written_and_its_temporary_file_swept() {
    let long = |last: char, extension: &str| {
        let stem = format!("{}{last}", "x".repeat(253 - extension.len()));
        format!("/etc/zz/{stem}.{extension}")
    };
    let config = long('a', "toml");
    let providers = long('b', "yaml");
    for path in [&config, &providers] {
        let name = path.rsplit('/').next().expect("a name");
        assert_eq!(name.len(), 255, "{name}");
    }
    let node = Node::new();
    node.inventory(&format!(
        "version: 1
containerd: {{manageConfig: true, configFile: {config}}}
paths: {{credentialProviderConfig: {providers}}}
registries:
  docker.io:
    mirrors: [{{url: \"https://mirror.example:5000\"}}]
credentialProviders:
  - name: corp
    matchImages: [docker.io]
    defaultCacheDuration: 12h
"
    ));
    node.run("apply", &[]).status(2);
    assert!(node.exists(&config) && node.exists(&providers));
    assert!(
        !node.files().iter().any(|f| is_temp(f)),
        "{:?}",
        node.files()
    );
    node.run("check", &[]).status(0);

    let temps: Vec<PathBuf> = [&config, &providers]
        .into_iter()
        .map(|path| mirrorctl::fsx::temp_path(&node.path(path)))
        .collect();
    assert_ne!(temps[0], temps[1], "two long names share a temporary file");
    for (temp, path) in temps.iter().zip([&config, &providers]) {
        let name = temp.file_name().and_then(|n| n.to_str()).expect("utf-8");
        assert!(name.len() <= 255, "{name} is {} bytes", name.len());
        assert!(name.starts_with(".xxx") && is_temp(name), "{name}");
        assert_eq!(temp.parent(), node.path(path).parent(), "{name}");
        // A killed run left it, half written, while writing the file.
        fs::write(temp, "half a fi").expect("write the leftover");
    }
    // The record of the killed run's intent (config.toml, not owned, is never recorded): the
    // sweep looks in the directory of a file a run was writing.
    crate::safety::mark_pending(&node, &providers);
    let run = node.run("apply", &[]);
    assert!(
        run.status == 0 || run.status == 2,
        "exit {}: {}",
        run.status,
        run.stderr
    );
    for temp in &temps {
        assert!(!temp.exists(), "{} survives the sweep", temp.display());
    }
    node.run("apply", &[]).status(0);
}

/// A run killed between deleting a removed registry's hosts.toml and removing its directory
/// leaves the directory, recorded, and nothing else to do: the next run must still remove it.
#[test]
fn the_directory_of_a_removed_registry_goes_even_after_a_kill_between_file_and_directory() {
    let node = Node::new();
    node.inventory(&small_inventory(&["docker.io", "quay.io"]));
    node.run("apply", &[]).status(2);
    node.inventory(&small_inventory(&["docker.io"]));
    fs::remove_file(node.path(&hosts("quay.io"))).expect("rm");
    let status = node.run("apply", &[]).status;
    assert!(status == 0 || status == 2, "exit {status}");
    assert!(
        !node.exists(&format!("{CERTS}/quay.io")),
        "the empty directory of a removed registry stays: a run with nothing to write skips the directory sweep"
    );
    node.run("apply", &[]).status(0);
}

/// Directories are recorded as intent before they are created: a run that stops after
/// creating one registry's directory (here the next registry's path is blocked by a file that
/// appears after planning) has already recorded it, and the directory goes with its registry.
#[test]
fn a_directory_created_by_an_interrupted_run_is_recorded_and_removed_with_its_registry() {
    use mirrorctl::{apply, inventory, plan, render, secrets::Secrets};
    let node = Node::new();
    node.inventory(&small_inventory(&["docker.io"]));
    node.run("apply", &[]).status(2);
    let text = small_inventory(&["docker.io", "quay.io", "zz.example"]);
    let inv = inventory::load_str("inventory.yaml", &text).expect("valid");
    let desired = render::render(&inv, &Secrets::unread(&inv));
    let root = node.root();
    let planned = plan::plan(desired, &root, &inv.paths.state_dir).expect("plan");
    node.write(&format!("{CERTS}/zz.example"), "a file in the way");
    let error =
        apply::apply(&planned, apply::Options::default()).expect_err("zz.example is blocked");
    assert!(error.to_string().contains("not done"), "{error}");
    let quay_dir = format!("{CERTS}/quay.io");
    assert!(
        node.exists(&hosts("quay.io")),
        "quay.io was written before the failure"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&fs::read(node.path(STATE)).expect("state")).expect("state parses");
    let dirs = state["dirs"].as_array().expect("dirs");
    assert!(dirs.iter().any(|d| d == &quay_dir[..]), "{dirs:?}");

    fs::remove_file(node.path(&format!("{CERTS}/zz.example"))).expect("rm");
    node.inventory(&small_inventory(&["docker.io"]));
    node.run("apply", &[]).status(2);
    assert!(
        !node.exists(&quay_dir),
        "the directory mirrorctl created goes with its registry"
    );
    assert!(!node.exists(&format!("{CERTS}/zz.example")));
    node.run("apply", &[]).status(0);
}

/// A run killed after its writes and before its final record leaves the intent record it saved
/// first: the old sha256 of every file it updated, and the new one as pending. The files are
/// what mirrorctl wrote, not edits by hand: no drift.
#[test]
fn files_written_by_a_killed_run_are_not_reported_as_drift() {
    let node = Node::new();
    node.inventory(&small_inventory(&["docker.io", "quay.io"]));
    node.run("apply", &[]).status(2);
    let recorded_before: serde_json::Value =
        serde_json::from_slice(&fs::read(node.path(STATE)).expect("state")).expect("state parses");
    node.inventory(
        &small_inventory(&["docker.io", "quay.io"]).replace("mirror.quay.io", "new.quay.io"),
    );
    node.run("apply", &[]).status(2);

    // The intent record that run saved before writing: old content recorded, new pending.
    let mut intent = recorded_before.clone();
    for (path, record) in intent["files"].as_object_mut().expect("files") {
        let bytes = fs::read(node.path(path)).expect("managed file");
        let sha = {
            use sha2::Digest;
            sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        if record["sha256"] != sha.as_str() {
            record["pending"] = serde_json::json!({"sha256": sha, "mode": record["mode"].clone()});
        }
    }
    assert_ne!(intent, recorded_before, "the run updated a file");
    fs::write(
        node.path(STATE),
        serde_json::to_vec_pretty(&intent).expect("json"),
    )
    .expect("write");

    let report = node.run("check", &["--output", "json"]).status(0).json();
    let drifted: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["drift"] == true)
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(
        drifted.is_empty(),
        "reported as changed by hand, though mirrorctl wrote them: {drifted:?}"
    );
    node.run("apply", &[]).status(0);
    let settled = node.read(STATE);
    assert!(
        !settled.contains("pending"),
        "the next apply settles the record: {settled}"
    );
}

/// An inventory whose tail is zeros — what a crash leaves in a file that was being written —
/// must fail the run, never read as a shorter inventory whose missing registries get pruned.
#[test]
fn an_inventory_cut_short_by_zeros_prunes_nothing() {
    let node = Node::new();
    let full = small_inventory(&["docker.io", "quay.io"]);
    node.inventory(&full);
    node.run("apply", &[]).status(2);
    let cut = full.find("  quay.io:").expect("quay.io");
    let mut torn = full.as_bytes().to_vec();
    torn[cut..].fill(0);
    fs::write(node.inventory_path(), &torn).expect("write");
    let run = node.run("apply", &[]);
    assert!(
        node.exists(&hosts("quay.io")),
        "a torn inventory pruned quay.io (exit {}): everything after the first NUL byte was ignored",
        run.status
    );
    run.status(1);
}

// ---------------------------------------------------------------------------------------------
// Fault tests: a full filesystem and a read-only directory, in a private mount namespace.

/// A private mount namespace that lives as long as this value: a keeper process that `unshare`
/// put into it, blocked reading its stdin. Mounts made inside are invisible to the rest of the
/// machine and go away with the namespace: when this value drops, or when the test process
/// dies (its end of the keeper's stdin closes).
struct Namespace {
    keeper: Child,
}

impl Namespace {
    /// `None` where this machine cannot make one (not root, no unshare or nsenter).
    fn new() -> Option<Namespace> {
        if !support::have("unshare") || !support::have("nsenter") {
            return None;
        }
        let mut keeper = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg("echo ready && exec cat >/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut line = String::new();
        let ready = keeper
            .stdout
            .take()
            .map(BufReader::new)
            .is_some_and(|mut out| out.read_line(&mut line).is_ok());
        let namespace = Namespace { keeper };
        (ready && line == "ready\n").then_some(namespace)
    }

    fn enter(&self) -> Command {
        let mut command = Command::new("nsenter");
        command
            .args(["-t", &self.keeper.id().to_string(), "-m", "--"])
            .env_remove("MIRRORCTL_INVENTORY")
            .stdin(Stdio::null());
        command
    }

    /// Runs `script` with `sh -ec` inside the namespace.
    fn sh(&self, script: &str) -> Result<(), String> {
        let output = self
            .enter()
            .args(["sh", "-ec", script])
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// `path` as seen inside the namespace, readable and writable from this process.
    fn view(&self, path: &Path) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{}", self.keeper.id(), path.display()))
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        drop(self.keeper.stdin.take());
        let _ = self.keeper.wait();
    }
}

/// A node whose `mounted` directory (a node path; `/` for the whole root) is a fresh tmpfs
/// of `size` in a private mount namespace. `None`, after saying so, where root privileges or
/// the tools are missing (under CI that fails instead).
pub(crate) struct FaultNode {
    pub node: Node,
    namespace: Namespace,
}

impl FaultNode {
    pub(crate) fn new(test: &str, mounted: &str, size: &str) -> Option<FaultNode> {
        let node = Node::new();
        let dir = node.path(mounted);
        fs::create_dir_all(&dir).expect("mkdir");
        let namespace = Namespace::new().filter(|ns| {
            ns.sh(&format!(
                "mount -t tmpfs -o size={size},mode=0755 tmpfs '{}'",
                dir.display()
            ))
            .is_ok()
        });
        let what =
            format!("a private mount namespace with a tmpfs (root, unshare, nsenter) for {test}");
        if !require(&what, namespace.is_some()) {
            return None;
        }
        let namespace = namespace.expect("checked");
        Some(FaultNode { node, namespace })
    }

    /// `mirrorctl SUBCOMMAND -i INVENTORY --root ROOT` inside the namespace.
    pub(crate) fn run(&self, subcommand: &str, extra: &[&str]) -> Run {
        let inventory = self.node.inventory_path();
        let root = self.node.root();
        let mut args: Vec<String> = vec![
            subcommand.into(),
            "-i".into(),
            inventory.display().to_string(),
            "--root".into(),
            root.display().to_string(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let output = self
            .namespace
            .enter()
            .arg(BIN)
            .args(&args)
            .output()
            .expect("run mirrorctl in the namespace");
        Run::new(
            args,
            output.status.code().unwrap_or(-1),
            &output.stdout,
            &output.stderr,
        )
    }

    /// Every file under the node's root, as the namespace sees it.
    fn files(&self) -> Files {
        snapshot(&self.namespace.view(&self.node.root()))
    }

    /// Fills the filesystem holding `node_dir` until exactly `pages` 4 KiB pages are free.
    fn fill(&self, node_dir: &str, pages: u64) -> PathBuf {
        let filler = self
            .namespace
            .view(&self.node.path(node_dir))
            .join("filler");
        let mut file = fs::File::create(&filler).expect("create filler");
        let chunk = [0u8; 4096];
        let mut len = 0u64;
        while let Ok(n @ 1..) = file.write(&chunk) {
            len += n as u64;
        }
        file.set_len(len.saturating_sub(pages * 4096))
            .expect("shrink filler");
        filler
    }
}

/// The lists a partial failure prints: the path being applied, what was done, what was not.
#[derive(Debug, Default)]
struct Partial {
    failed: Option<String>,
    done: Vec<String>,
    not_done: Vec<String>,
}

fn partial(stderr: &str) -> Partial {
    let list = |rest: &str| -> Vec<String> {
        if rest.trim() == "nothing" {
            Vec::new()
        } else {
            rest.split(", ").map(|p| p.trim().to_string()).collect()
        }
    };
    let mut out = Partial::default();
    for line in stderr.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("while applying `") {
            out.failed = rest.split('`').next().map(str::to_string);
        } else if let Some(rest) = line.strip_prefix("done: ") {
            out.done = list(rest);
        } else if let Some(rest) = line.strip_prefix("not done: ") {
            out.not_done = list(rest);
        }
    }
    out
}

/// Checks a failed apply against the disk: the message, the lists, every file whole (done ones
/// new, all others as before), no temporary file, and a record that matches the disk.
fn check_partial_failure(
    run: &Run,
    before: &Files,
    after: &Files,
    want: &Files,
    errno: &str,
) -> Partial {
    eprintln!("{}", run.stderr);
    run.status(1).stderr_has(errno).stderr_has("`");
    let lists = partial(&run.stderr);
    let failed = lists
        .failed
        .clone()
        .unwrap_or_else(|| panic!("no `while applying` in:\n{}", run.stderr));
    assert!(
        !lists.done.is_empty() && lists.not_done.contains(&failed),
        "a failure in the middle lists what was done and what was not: {lists:?}\n{}",
        run.stderr
    );
    for path in &lists.done {
        assert_eq!(
            after.get(path),
            want.get(path),
            "{path} is listed as done but does not hold the new file"
        );
    }
    for (path, file) in before {
        if !lists.done.contains(path) && !path.ends_with("/filler") && path != STATE && path != LOCK
        {
            assert_eq!(
                after.get(path),
                Some(file),
                "{path} changed although it was not written"
            );
        }
    }
    for path in after.keys() {
        assert!(!is_temp(path), "the temporary file {path} was left behind");
    }
    let state = parse_state(after).expect("state.json");
    for (path, record) in &state.files {
        if let Some((bytes, mode)) = after.get(path) {
            assert!(
                record.sha256 == sha256_hex(bytes) && record.mode == format!("{mode:04o}"),
                "state.json does not record what is on disk at {path}"
            );
        }
    }
    lists
}

/// Registries of the fault inventories: B updates r1…r6, creates r1b…r4b between them in path
/// order, and deletes r7.
fn fault_inventories() -> (String, String) {
    let a = small_inventory(&[
        "r1.example",
        "r2.example",
        "r3.example",
        "r4.example",
        "r5.example",
        "r6.example",
        "r7.example",
    ]);
    let b = small_inventory(&[
        "r1.example",
        "r1b.example",
        "r2.example",
        "r2b.example",
        "r3.example",
        "r3b.example",
        "r4.example",
        "r4b.example",
        "r5.example",
        "r6.example",
    ])
    .replace("https://mirror.", "https://new-mirror.");
    (a, b)
}

/// containerd's directory on a tmpfs with two free pages: B's first two creates take them, the
/// update after them has no room for its temporary file.
#[test]
fn a_full_filesystem_fails_the_run_in_the_middle_and_keeps_every_file_whole() {
    let Some(fault) = FaultNode::new("the full-filesystem test", CERTS, "256k") else {
        return;
    };
    let (a, b) = fault_inventories();
    fault.node.inventory(&a);
    fault.run("apply", &[]).status(2);
    let filler = fault.fill(CERTS, 2);
    let before = fault.files();

    fault.node.inventory(&b);
    let run = fault.run("apply", &[]);
    let want = rendered(&b, &fault.node.root());
    let lists = check_partial_failure(
        &run,
        &before,
        &fault.files(),
        &want,
        "No space left on device",
    );
    run.stderr_has("failed to write `").stderr_has(CERTS);
    assert!(
        lists.not_done.contains(&hosts("r7.example")),
        "the delete after the failure is not done: {lists:?}"
    );

    fs::remove_file(filler).expect("free the space");
    fault.run("apply", &[]).status(2);
    fault.run("apply", &[]).status(0);
    fault.run("check", &[]).status(0);
}

/// The whole node on a full tmpfs: the first write of the run (the record of what it is about
/// to do) fails, so nothing at all is written, and the message has to say so.
#[test]
fn a_full_filesystem_before_the_first_write_changes_nothing_and_says_so() {
    let Some(fault) = FaultNode::new("the full-filesystem test", "/", "256k") else {
        return;
    };
    let (a, b) = fault_inventories();
    fault.node.inventory(&a);
    fault.run("apply", &[]).status(2);
    let filler = fault.fill("/", 0);
    let before = fault.files();

    fault.node.inventory(&b);
    let run = fault.run("apply", &[]);
    run.status(1)
        .stderr_has("No space left on device")
        .stderr_has("state.json");
    let after = fault.files();
    for (path, file) in before.iter().filter(|(p, _)| *p != LOCK) {
        assert_eq!(after.get(path), Some(file), "{path} changed");
    }
    for path in after.keys() {
        assert!(!is_temp(path), "the temporary file {path} was left behind");
    }
    assert!(
        run.stderr.contains("nothing was changed") || run.stderr.contains("done: nothing"),
        "the message does not say that nothing was written:\n{}",
        run.stderr
    );

    fs::remove_file(filler).expect("free the space");
    fault.run("apply", &[]).status(2);
    fault.run("apply", &[]).status(0);
}

/// The whole node on a tmpfs with one free page: every write of B succeeds (its last create
/// takes the page) and only the final record fails. The run must still say what it wrote.
#[test]
fn a_full_filesystem_at_the_final_record_still_lists_what_was_written() {
    let Some(fault) = FaultNode::new("the full-filesystem test", "/", "256k") else {
        return;
    };
    let a = small_inventory(&["r1.example", "r2.example"]);
    let b = small_inventory(&["r1.example", "r2.example", "r3.example"])
        .replace("https://mirror.", "https://new-mirror.");
    fault.node.inventory(&a);
    fault.run("apply", &[]).status(2);
    let filler = fault.fill("/", 1);

    fault.node.inventory(&b);
    let run = fault.run("apply", &[]);
    run.status(1)
        .stderr_has("No space left on device")
        .stderr_has("state.json");
    let after = fault.files();
    let want = rendered(&b, &fault.node.root());
    for (path, file) in &want {
        assert_eq!(after.get(path), Some(file), "{path} was not written");
    }
    for path in after.keys() {
        assert!(!is_temp(path), "the temporary file {path} was left behind");
    }
    parse_state(&after).expect("state.json");
    let unlisted: Vec<&String> = want
        .keys()
        .filter(|p| !run.stderr.contains(p.as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "the files were written, but the message does not list {unlisted:?}:\n{}",
        run.stderr
    );
    fs::remove_file(filler).expect("free the space");
    fault.run("apply", &[]).status(0);
}

/// Makes one directory read-only in the namespace (root ignores modes, not a read-only mount).
pub(crate) fn read_only(fault: &FaultNode, node_dir: &str) {
    let dir = fault.node.path(node_dir);
    fault
        .namespace
        .sh(&format!(
            "mount --bind '{0}' '{0}' && mount -o remount,bind,ro '{0}'",
            dir.display()
        ))
        .unwrap_or_else(|e| panic!("read-only bind mount of {}: {e}", dir.display()));
}

fn writable_again(fault: &FaultNode, node_dir: &str) {
    let dir = fault.node.path(node_dir);
    fault
        .namespace
        .sh(&format!("umount '{}'", dir.display()))
        .unwrap_or_else(|e| panic!("umount {}: {e}", dir.display()));
}

/// r3's directory read-only: B's writes before it succeed, its update fails, nothing after it
/// is written.
#[test]
fn a_read_only_directory_fails_the_run_in_the_middle_and_keeps_every_file_whole() {
    let Some(fault) = FaultNode::new("the read-only test", CERTS, "1m") else {
        return;
    };
    let (a, b) = fault_inventories();
    fault.node.inventory(&a);
    fault.run("apply", &[]).status(2);
    read_only(&fault, &format!("{CERTS}/r3.example"));
    let before = fault.files();

    fault.node.inventory(&b);
    let run = fault.run("apply", &[]);
    let want = rendered(&b, &fault.node.root());
    let lists = check_partial_failure(
        &run,
        &before,
        &fault.files(),
        &want,
        "Read-only file system",
    );
    run.stderr_has("failed to create the temporary file `")
        .stderr_has(&format!("{CERTS}/r3.example/"));
    assert_eq!(lists.failed.as_deref(), Some(hosts("r3.example").as_str()));

    writable_again(&fault, &format!("{CERTS}/r3.example"));
    fault.run("apply", &[]).status(2);
    fault.run("apply", &[]).status(0);
    fault.run("check", &[]).status(0);
}

/// r7's directory read-only: every write of B succeeds, the delete of r7's hosts.toml fails and
/// r7 stays recorded, so a later run deletes it.
#[test]
fn a_read_only_directory_fails_a_delete_and_keeps_the_file_owned() {
    let Some(fault) = FaultNode::new("the read-only test", CERTS, "1m") else {
        return;
    };
    let (a, b) = fault_inventories();
    fault.node.inventory(&a);
    fault.run("apply", &[]).status(2);
    read_only(&fault, &format!("{CERTS}/r7.example"));
    let before = fault.files();

    fault.node.inventory(&b);
    let run = fault.run("apply", &[]);
    let want = rendered(&b, &fault.node.root());
    let after = fault.files();
    let lists = check_partial_failure(&run, &before, &after, &want, "Read-only file system");
    run.stderr_has("failed to remove `");
    assert_eq!(lists.failed.as_deref(), Some(hosts("r7.example").as_str()));
    assert_eq!(lists.not_done, vec![hosts("r7.example")]);
    assert!(
        parse_state(&after)
            .expect("state")
            .files
            .contains_key(&hosts("r7.example")),
        "r7 stays recorded, so a later run can still delete it"
    );

    writable_again(&fault, &format!("{CERTS}/r7.example"));
    fault.run("apply", &[]).status(2);
    assert!(!fault.files().contains_key(&hosts("r7.example")));
    assert!(!fault.node.path(&format!("{CERTS}/r7.example")).exists());
    fault.run("apply", &[]).status(0);
}
