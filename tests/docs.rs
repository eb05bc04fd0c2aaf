//! The man pages and shell completions are generated from the same clap definitions as
//! `--help`, checked in, and must not go stale. `MIRRORCTL_BLESS=1 cargo test docs` rewrites them.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use mirrorctl::cli::Cli;

use crate::support::{have, require};

/// Fixed, so that regenerating gives the same bytes.
const DATE: &str = "2026-11-26";

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success; nothing changed, or nothing would change (\fBcheck\fR, \fBdiff\fR, \fBapply \-\-check\fR). \fBlint\fR: no errors.
.TP
\fB2\fR
Success; files changed (\fBapply\fR) or would change (\fBcheck\fR, \fBdiff\fR, \fBapply \-\-check\fR).
Ansible: \fBchanged_when: r.rc == 2\fR and \fBfailed_when: r.rc not in [0, 2]\fR.
Puppet: \fBreturns => [0, 2]\fR on the \fBexec\fR, \fBunless\fR running \fBmirrorctl check\fR.
.TP
\fB1\fR
Any error: an invalid inventory, an unreadable secret file, a refused foreign file or symlink, a lock held too long, an I/O failure, lint errors (or warnings with \fB\-\-strict\fR).
An error outranks a change: a run that changed some files and then failed exits 1 and lists what was and was not written.
.TP
\fB64\fR
Usage error: an unknown flag or subcommand, a missing argument. Never 2, so a typo cannot pass for a change.
.PP
A reader that closes standard output early changes nothing: \fBmirrorctl diff | head \-1\fR still exits 2 when something would change, \fBmirrorctl apply \-\-diff | head \-1\fR writes the files and exits 2, and a closed standard output is never an error.
"#;

const EXAMPLES: &str = r#".SH EXAMPLES
Apply the inventory to the node and restart what the report names:
.PP
.RS 4
.nf
mirrorctl apply
.fi
.RE
.PP
Show what would change, as a patch relative to the root:
.PP
.RS 4
.nf
mirrorctl diff \-i /etc/mirrorctl/inventory.yaml
.fi
.RE
.PP
Build an image's files as a normal user, with a JSON report:
.PP
.RS 4
.nf
mirrorctl apply \-i inventory.yaml \-\-root ./rootfs \-\-output json
.fi
.RE
.PP
Check, read\-only, whether the node has drifted (exit 2 when it has):
.PP
.RS 4
.nf
mirrorctl check
.fi
.RE
.PP
Print the files an inventory implies, secrets redacted:
.PP
.RS 4
.nf
mirrorctl render \-i inventory.yaml
.fi
.RE
.PP
Lint an inventory in a GitHub Actions job:
.PP
.RS 4
.nf
mirrorctl lint \-i inventory.yaml \-\-format github \-\-strict
.fi
.RE
.PP
Explain where a pull will go:
.PP
.RS 4
.nf
mirrorctl resolve nginx:1.27
.fi
.RE
"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The hand-written section-5 page of the inventory format; not generated, linted like the rest.
const INVENTORY_PAGE: &str = "mirrorctl-inventory.5";

/// Node paths a subcommand reads or writes, by default (the inventory's `paths` move most of
/// them), each below `--root`: the FILES section of its page and, all of them, of mirrorctl(1).
const FILES: &[(&str, &str, &[&str])] = &[
    (
        "/etc/mirrorctl/inventory.yaml",
        "The inventory read when neither \\fB\\-i\\fR nor \\fBMIRRORCTL_INVENTORY\\fR names one; see \\fBmirrorctl\\-inventory\\fR(5).",
        &["apply", "check", "diff", "render", "lint", "resolve"],
    ),
    (
        "/etc/containerd/certs.d/HOST/hosts.toml",
        "One file per registry, for containerd's \\fBconfig_path\\fR (\\fBpaths.certsDir\\fR; \\fB_default\\fR for \\fB*\\fR); live, no restart. CA files given as \\fBca: {pem: ...}\\fR are written beside it.",
        &["apply", "check", "diff", "render", "resolve"],
    ),
    (
        "/etc/kubernetes/credential-providers.yaml",
        "The kubelet's CredentialProviderConfig (\\fBpaths.credentialProviderConfig\\fR), named by the kubelet's \\fB\\-\\-image\\-credential\\-provider\\-config\\fR flag; read once at kubelet start.",
        &["apply", "check", "diff", "render"],
    ),
    (
        "/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/bin",
        "The kubelet's \\fB\\-\\-image\\-credential\\-provider\\-bin\\-dir\\fR (\\fBpaths.credentialProviderBinDir\\fR): each provider's executable; \\fBlint \\-\\-root\\fR checks they are there.",
        &["apply", "check", "diff", "render", "lint"],
    ),
    (
        "/etc/containerd/config.toml",
        "containerd's configuration, edited (one \\fBconfig_path\\fR line) only with \\fBcontainerd.manageConfig: true\\fR; a change needs a containerd restart.",
        &["apply", "check", "diff", "render"],
    ),
    (
        "/var/lib/mirrorctl/state.json",
        "The ownership record (\\fBpaths.stateDir\\fR): path, sha256 and mode of every file mirrorctl wrote; only recorded files are ever pruned.",
        &["apply", "check", "diff"],
    ),
    (
        "/var/lib/mirrorctl/lock",
        "Held with \\fBflock\\fR(2) by a writing run (\\fBcheck\\fR and \\fBdiff\\fR take none); a second one waits \\fB\\-\\-lock\\-timeout\\fR seconds.",
        &["apply"],
    ),
    (
        "/var/lib/mirrorctl/credential-plugin.json",
        "The credential plugin's grants (0600), written by \\fBapply\\fR from \\fBcredentialPlugin\\fR, read by \\fBcredential\\-provider\\fR on every request.",
        &["apply", "check", "diff", "credential-provider"],
    ),
];

/// Environment variables that are no option's `env`: (name, text, subcommands).
const ENVIRONMENT: &[(&str, &str, &[&str])] = &[(
    "NO_COLOR",
    "When set, \\fBlint\\fR never colours its text output (it colours only a terminal).",
    &["lint"],
)];

fn man_pages() -> Vec<(String, Vec<u8>)> {
    let command = Cli::command();
    let subcommands: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    let mut pages = Vec::new();
    let man = clap_mangen::Man::new(command.clone())
        .date(DATE)
        .manual("mirrorctl manual");
    let mut page = Vec::new();
    man.render_title(&mut page).expect("render");
    man.render_name_section(&mut page).expect("render");
    let lines: Vec<String> = subcommands
        .iter()
        .map(|sub| synopsis_line(&format!("mirrorctl {}", sub.get_name()), sub))
        .collect();
    page.extend_from_slice(synopsis_section(&lines).as_bytes());
    man.render_description_section(&mut page).expect("render");
    man.render_options_section(&mut page).expect("render");
    man.render_subcommands_section(&mut page).expect("render");
    page.extend_from_slice(EXIT_STATUS.as_bytes());
    page.extend_from_slice(environment_section(&subcommands).as_bytes());
    page.extend_from_slice(files_section(None).as_bytes());
    page.extend_from_slice(EXAMPLES.as_bytes());
    let mut see_also = String::from(".SH \"SEE ALSO\"\n");
    let mut names: Vec<String> = subcommands
        .iter()
        .map(|s| format!("\\fBmirrorctl\\-{}\\fR(1)", s.get_name()))
        .collect();
    names.push("\\fBmirrorctl\\-inventory\\fR(5)".to_string());
    see_also.push_str(&names.join(",\n"));
    see_also.push('\n');
    page.extend_from_slice(see_also.as_bytes());
    man.render_version_section(&mut page).expect("render");
    pages.push(("mirrorctl.1".to_string(), tidy(page)));
    for sub in subcommands {
        let name = format!("mirrorctl-{}", sub.get_name());
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let bin_name = format!("mirrorctl {}", sub.get_name());
        let renamed = sub.clone().name(static_name).bin_name(&bin_name);
        let man = clap_mangen::Man::new(renamed)
            .date(DATE)
            .manual("mirrorctl manual");
        let mut page = Vec::new();
        man.render_title(&mut page).expect("render");
        man.render_name_section(&mut page).expect("render");
        page.extend_from_slice(synopsis_section(&[synopsis_line(&bin_name, sub)]).as_bytes());
        man.render_description_section(&mut page).expect("render");
        // What `Man::render` renders of a subcommand: its options, its own subcommands and
        // after-help when it has them; no version (only the top command has one).
        if sub.get_arguments().any(|arg| !arg.is_hide_set()) {
            man.render_options_section(&mut page).expect("render");
        }
        if sub.has_subcommands() {
            man.render_subcommands_section(&mut page).expect("render");
        }
        if sub.get_after_help().is_some() || sub.get_after_long_help().is_some() {
            man.render_extra_section(&mut page).expect("render");
        }
        page.extend_from_slice(EXIT_STATUS.as_bytes());
        page.extend_from_slice(environment_section(&[sub]).as_bytes());
        page.extend_from_slice(files_section(Some(sub.get_name())).as_bytes());
        page.extend_from_slice(
            b".SH \"SEE ALSO\"\n\\fBmirrorctl\\fR(1),\n\\fBmirrorctl\\-inventory\\fR(5)\n",
        );
        pages.push((format!("{name}.1"), tidy(page)));
    }
    pages
}

/// Text for a roff line: backslashes and hyphens escaped, so `--root` is not a minus sign.
fn roff(text: &str) -> String {
    text.replace('\\', "\\\\").replace('-', "\\-")
}

fn synopsis_section(lines: &[String]) -> String {
    format!(".SH SYNOPSIS\n{}\n", lines.join("\n.br\n"))
}

/// One command's usage with every option's argument: `[-i|--inventory INVENTORY]`, the
/// values of an enumerated option (`[--output text|json]`), `...` when it repeats, no brackets
/// around what is required. Help and version are left to OPTIONS.
fn synopsis_line(bin_name: &str, command: &clap::Command) -> String {
    let mut parts = vec![format!("\\fB{}\\fR", roff(bin_name))];
    let options = command.get_arguments().filter(|arg| {
        !arg.is_positional()
            && !arg.is_hide_set()
            && !matches!(arg.get_id().as_str(), "help" | "version")
    });
    for arg in options {
        let mut names = Vec::new();
        if let Some(short) = arg.get_short() {
            names.push(format!("\\fB\\-{}\\fR", roff(&short.to_string())));
        }
        if let Some(long) = arg.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", roff(long)));
        }
        let mut text = names.join("|");
        if arg.get_action().takes_values() {
            text.push(' ');
            text.push_str(&value_text(arg));
        }
        parts.push(wrap(arg, text));
    }
    for arg in command.get_positionals().filter(|arg| !arg.is_hide_set()) {
        let name = arg
            .get_value_names()
            .and_then(|names| names.first())
            .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string);
        parts.push(wrap(arg, format!("\\fI{}\\fR", roff(&name))));
    }
    parts.join(" ")
}

/// What an option takes: its values when it has a fixed set, else its value name.
fn value_text(arg: &clap::Arg) -> String {
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|value| !value.is_hide_set())
        .map(|value| format!("\\fI{}\\fR", roff(value.get_name())))
        .collect();
    if !values.is_empty() {
        return values.join("|");
    }
    let name = arg
        .get_value_names()
        .map(|names| {
            names
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    format!("\\fI{}\\fR", roff(&name))
}

/// Brackets around what may be left out, `...` after what repeats.
fn wrap(arg: &clap::Arg, text: String) -> String {
    let repeats = matches!(arg.get_action(), clap::ArgAction::Append)
        || arg
            .get_num_args()
            .is_some_and(|range| range.max_values() > 1);
    let text = if arg.is_required_set() {
        text
    } else {
        format!("[{text}]")
    };
    if repeats { format!("{text}...") } else { text }
}

/// The variables the commands read: every option's `env` (with the option it stands for), then
/// those of [`ENVIRONMENT`] for these commands. None: no section.
fn environment_section(commands: &[&clap::Command]) -> String {
    let mut entries: Vec<(String, String)> = Vec::new();
    for command in commands {
        for arg in command.get_arguments() {
            let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let env = env.to_string_lossy().into_owned();
            if entries.iter().any(|(name, _)| *name == env) {
                continue;
            }
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            entries.push((
                env,
                format!(
                    "Stands for \\fB\\-\\-{}\\fR when the option is not given: {}",
                    roff(long),
                    roff(help.trim_end_matches('.'))
                ),
            ));
        }
    }
    for (name, text, users) in ENVIRONMENT {
        if commands.iter().any(|c| users.contains(&c.get_name())) {
            entries.push((name.to_string(), text.to_string()));
        }
    }
    if entries.is_empty() {
        return String::new();
    }
    let mut section = String::from(".SH ENVIRONMENT\n");
    for (name, text) in entries {
        section.push_str(&format!(".TP\n\\fB{}\\fR\n{text}.\n", roff(&name)));
    }
    section
}

/// FILES of one subcommand's page, or of mirrorctl(1) (`None`: all of them). None: no section.
fn files_section(subcommand: Option<&str>) -> String {
    let files: Vec<_> = FILES
        .iter()
        .filter(|(_, _, users)| subcommand.is_none_or(|name| users.contains(&name)))
        .collect();
    if files.is_empty() {
        return String::new();
    }
    let mut section = String::from(
        ".SH FILES\nDefaults, each below \\fB\\-\\-root\\fR; the inventory's \\fBpaths\\fR move them.\n",
    );
    for (path, text, _) in files {
        section.push_str(&format!(".TP\n\\fI{}\\fR\n{text}\n", roff(path)));
    }
    section
}

/// clap_mangen separates "Possible values" with `.br`, an empty line and `.br`, which mandoc
/// flags; one break says the same.
fn tidy(page: Vec<u8>) -> Vec<u8> {
    String::from_utf8(page)
        .expect("roff is UTF-8")
        .replace(".br\n\n.br\n", ".br\n")
        .into_bytes()
}

fn completions() -> Vec<(String, Vec<u8>)> {
    use clap_complete::{Shell, generate};
    [
        (Shell::Bash, "mirrorctl.bash"),
        (Shell::Zsh, "_mirrorctl"),
        (Shell::Fish, "mirrorctl.fish"),
    ]
    .into_iter()
    .map(|(shell, file)| {
        let mut out = Vec::new();
        generate(shell, &mut Cli::command(), "mirrorctl", &mut out);
        (file.to_string(), out)
    })
    .collect()
}

fn check_or_bless(dir: &str, files: Vec<(String, Vec<u8>)>) {
    let bless = std::env::var_os("MIRRORCTL_BLESS").is_some();
    for (name, bytes) in files {
        let path = root().join(dir).join(&name);
        if bless {
            std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
            std::fs::write(&path, &bytes).expect("write");
            continue;
        }
        let current = std::fs::read(&path).unwrap_or_default();
        assert!(
            current == bytes,
            "{dir}/{name} is stale: regenerate with `MIRRORCTL_BLESS=1 cargo test docs`"
        );
    }
}

#[test]
fn man_pages_are_current() {
    check_or_bless("man", man_pages());
}

#[test]
fn completions_are_current() {
    check_or_bless("completions", completions());
}

/// Every page, the hand-written section-5 page included, passes `mandoc -Tlint -Wwarning`. The
/// generated ones are linted as generated (equal to man/, see above), so that a bless run that
/// rewrites man/ meanwhile cannot race this test.
#[test]
fn man_pages_pass_mandoc_lint() {
    if !require("mandoc", have("mandoc")) {
        return;
    }
    let inventory_page =
        std::fs::read(root().join("man").join(INVENTORY_PAGE)).expect("the inventory page");
    let mut pages = man_pages();
    pages.push((INVENTORY_PAGE.to_string(), inventory_page));
    for (name, bytes) in pages {
        let mut child = std::process::Command::new("mandoc")
            .args(["-Tlint", "-Wwarning"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("mandoc");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &bytes)
            .expect("write to mandoc");
        let out = child.wait_with_output().expect("mandoc");
        assert!(
            out.status.success(),
            "mandoc -Tlint -Wwarning {name}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// man/ holds the generated pages and the inventory page, nothing else: a page of a removed
/// subcommand would stay behind otherwise.
#[test]
fn man_directory_holds_only_current_pages() {
    let mut expected: Vec<String> = man_pages().into_iter().map(|(name, _)| name).collect();
    expected.push(INVENTORY_PAGE.to_string());
    expected.sort();
    let mut present: Vec<String> = std::fs::read_dir(root().join("man"))
        .expect("man/")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    present.sort();
    assert_eq!(present, expected);
}

/// Each SYNOPSIS line shows what every option takes, and brackets what is optional.
#[test]
fn synopsis_shows_each_options_argument() {
    let pages: std::collections::BTreeMap<String, String> = man_pages()
        .into_iter()
        .map(|(name, bytes)| (name, String::from_utf8(bytes).expect("UTF-8")))
        .collect();
    let synopsis = |page: &str| -> String {
        let text = &pages[page];
        let start = text.find(".SH SYNOPSIS\n").expect("SYNOPSIS");
        let rest = &text[start + 13..];
        rest[..rest.find(".SH ").expect("next section")].to_string()
    };
    let mut problems = Vec::new();
    let apply = synopsis("mirrorctl-apply.1");
    for want in [
        "[\\fB\\-i\\fR|\\fB\\-\\-inventory\\fR \\fIINVENTORY\\fR]",
        "[\\fB\\-\\-root\\fR \\fIDIR\\fR]",
        "[\\fB\\-\\-output\\fR \\fItext\\fR|\\fIjson\\fR]",
        "[\\fB\\-\\-lock\\-timeout\\fR \\fISECONDS\\fR]",
        "[\\fB\\-\\-check\\fR]",
    ] {
        if !apply.contains(want) {
            problems.push(format!("apply's SYNOPSIS lacks {want}: {apply}"));
        }
    }
    let resolve = synopsis("mirrorctl-resolve.1");
    for want in [
        "\\fIIMAGE\\fR",
        "[\\fB\\-\\-annotation\\fR \\fIKEY=VALUE\\fR]...",
    ] {
        if !resolve.contains(want) {
            problems.push(format!("resolve's SYNOPSIS lacks {want}: {resolve}"));
        }
    }
    if resolve.contains("[\\fIIMAGE\\fR]") {
        problems.push(format!("resolve's required IMAGE is bracketed: {resolve}"));
    }
    let main = synopsis("mirrorctl.1");
    for sub in Cli::command()
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
    {
        let line = format!("\\fBmirrorctl {}\\fR", roff(sub.get_name()));
        if !main.contains(&line) {
            problems.push(format!("mirrorctl(1)'s SYNOPSIS lacks {line}"));
        }
    }
    for (name, text) in &pages {
        for section in [".SH ENVIRONMENT\n", ".SH FILES\n"] {
            let wanted = name == "mirrorctl.1" || name == "mirrorctl-apply.1";
            if wanted && !text.contains(section) {
                problems.push(format!("{name} lacks {}", section.trim()));
            }
        }
    }
    if !pages["mirrorctl-apply.1"]
        .contains("\\fBMIRRORCTL_INVENTORY\\fR\nStands for \\fB\\-\\-inventory\\fR")
    {
        problems.push("apply's ENVIRONMENT does not explain MIRRORCTL_INVENTORY".to_string());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// docs/lint.md documents exactly the codes of the `Code` enum, each once.
#[test]
fn lint_docs_list_every_finding_code() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lint.md"))
        .expect("docs/lint.md");
    let mut documented: Vec<String> = Vec::new();
    for line in docs.lines().filter(|l| l.starts_with("| ")) {
        let first = line.split('|').nth(1).unwrap_or_default();
        for word in first.split('/').map(str::trim) {
            let is_code = word.len() == 4
                && word.as_bytes()[0].is_ascii_uppercase()
                && word[1..].bytes().all(|b| b.is_ascii_digit());
            if is_code {
                documented.push(word.to_string());
            }
        }
    }
    let mut listed: Vec<String> = mirrorctl::code::Code::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    // K007 has a row in two tables (the providers and the plugin): count a code once.
    documented.sort();
    documented.dedup();
    listed.sort();
    assert_eq!(documented, listed, "docs/lint.md and the Code enum differ");
}
