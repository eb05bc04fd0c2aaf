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

fn man_pages() -> Vec<(String, Vec<u8>)> {
    let command = Cli::command();
    let mut pages = Vec::new();
    let man = clap_mangen::Man::new(command.clone())
        .date(DATE)
        .manual("mirrorctl manual");
    let mut page = Vec::new();
    man.render_title(&mut page).expect("render");
    man.render_name_section(&mut page).expect("render");
    man.render_synopsis_section(&mut page).expect("render");
    man.render_description_section(&mut page).expect("render");
    man.render_options_section(&mut page).expect("render");
    man.render_subcommands_section(&mut page).expect("render");
    page.extend_from_slice(EXIT_STATUS.as_bytes());
    page.extend_from_slice(EXAMPLES.as_bytes());
    let mut see_also = String::from(".SH \"SEE ALSO\"\n");
    let subcommands: Vec<String> = command
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| format!("\\fBmirrorctl\\-{}\\fR(1)", s.get_name()))
        .collect();
    see_also.push_str(&subcommands.join(",\n"));
    see_also.push('\n');
    page.extend_from_slice(see_also.as_bytes());
    man.render_version_section(&mut page).expect("render");
    pages.push(("mirrorctl.1".to_string(), tidy(page)));
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("mirrorctl-{}", sub.get_name());
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let sub = sub
            .clone()
            .name(static_name)
            .bin_name(format!("mirrorctl {}", sub.get_name()));
        let man = clap_mangen::Man::new(sub)
            .date(DATE)
            .manual("mirrorctl manual");
        let mut page = Vec::new();
        man.render(&mut page).expect("render");
        page.extend_from_slice(EXIT_STATUS.as_bytes());
        page.extend_from_slice(b".SH \"SEE ALSO\"\n\\fBmirrorctl\\fR(1)\n");
        pages.push((format!("{name}.1"), tidy(page)));
    }
    pages
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

#[test]
fn man_pages_pass_mandoc_lint() {
    if !require("mandoc", have("mandoc")) {
        return;
    }
    for (name, _) in man_pages() {
        let path = root().join("man").join(&name);
        let out = std::process::Command::new("mandoc")
            .args(["-Tlint", "-Wwarning"])
            .arg(&path)
            .output()
            .expect("mandoc");
        assert!(
            out.status.success(),
            "mandoc -Tlint {name}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
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
