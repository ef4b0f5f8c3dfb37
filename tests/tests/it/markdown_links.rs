//! The repository's Markdown links resolve: each relative link names a file that exists,
//! and each `#anchor` a heading of its target, slugged as GitHub slugs headings.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Folders that are build output or tooling, not the repository's documents.
const SKIPPED_FOLDERS: &[&str] = &["target", ".git", ".vaultgate", "node_modules"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn markdown_files(folder: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIPPED_FOLDERS.contains(&name.as_str()) {
                markdown_files(&path, files);
            }
        } else if name.ends_with(".md") {
            files.push(path);
        }
    }
}

/// The text outside fenced code blocks and inline code spans, where links are links.
fn prose(markdown: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if !fenced {
            let outside_code: Vec<&str> = line.split('`').step_by(2).collect();
            out.push_str(&outside_code.join(" "));
        }
        out.push('\n');
    }
    out
}

/// The targets of the inline links `[text](target)` (the text may span lines).
fn link_targets(markdown: &str) -> Vec<String> {
    let prose = prose(markdown);
    prose
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &prose[at + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split_whitespace().next().unwrap_or_default();
            Some(target.trim_matches(|c| c == '<' || c == '>').to_owned())
        })
        .collect()
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped (letters, digits, `-`, `_`
/// and spaces kept), spaces to `-`; a repeated slug gets `-1`, `-2`, ...
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let Some(heading) = line.strip_prefix('#').filter(|_| !fenced) else { continue };
        let base = slug(heading.trim_start_matches('#').trim());
        let mut anchor = base.clone();
        let mut repeat = 0;
        while anchors.contains(&anchor) {
            repeat += 1;
            anchor = format!("{base}-{repeat}");
        }
        anchors.insert(anchor);
    }
    anchors
}

/// What is wrong with one link of `file`, if anything.
fn broken(file: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = target.split_once('#').map_or((target, None), |(p, a)| (p, Some(a)));
    let linked = if path.is_empty() { file.to_path_buf() } else { file.parent().unwrap().join(path) };
    if !linked.exists() {
        return Some(format!("{target}: no file {}", linked.display()));
    }
    let anchor = anchor?;
    let is_markdown = linked.extension().is_some_and(|ext| ext == "md");
    let headings = anchors(&std::fs::read_to_string(&linked).ok()?);
    (!is_markdown || !headings.contains(anchor)).then(|| format!("{target}: no heading with the anchor #{anchor}"))
}

#[test]
fn every_relative_link_and_anchor_in_the_repositorys_markdown_resolves() {
    let root = repo_root();
    let mut files = Vec::new();
    markdown_files(&root, &mut files);
    assert!(files.iter().any(|f| f.ends_with("README.md")), "the walk found the README");
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        for target in link_targets(&std::fs::read_to_string(file).unwrap()) {
            checked += 1;
            if let Some(problem) = broken(file, &target) {
                problems.push(format!("{}: {problem}", file.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(checked > 0, "no link was found in {} files", files.len());
    assert!(problems.is_empty(), "broken links:\n{}", problems.join("\n"));
}

#[test]
fn anchors_follow_githubs_slugs() {
    let markdown = "# Title\n## 7. Azure API Management\n## Who may post (`POST /events`)\n## Title\n\
                    ```sh\n# a comment, not a heading\n```\n";
    let expected = ["title", "7-azure-api-management", "who-may-post-post-events", "title-1"];
    assert_eq!(anchors(markdown), expected.map(str::to_owned).into());
}

#[test]
fn links_in_code_are_not_links_and_link_text_may_span_lines() {
    let markdown = "see\n[the\nguide](docs/A.md#b) and `[x](not-a-link)`\n```\n[y](nor-this)\n```\n[z](<c.md>)";
    assert_eq!(link_targets(markdown), ["docs/A.md#b", "c.md"]);
}
