//! Every environment variable vaultgate reads has a row in `docs/CONFIGURATION.md`, and every
//! row names a variable it reads. The names read are collected from the source, not from a
//! list kept by hand, so a new variable without documentation fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The source folders of the shipped code.
const SOURCES: &[&str] = &["config/src", "app/src"];
/// Functions that read a variable named by their first argument, besides `Env`'s readers
/// (which are found in `config/src/env.rs`): the standard library's, `Env::first_set` and
/// the network settings' `proxy` (a lowercase and an uppercase name each), and env_logger's.
const OTHER_READERS: &[&str] = &["var", "var_os", "lookup", "first_set", "proxy", "filter_or", "write_style"];
/// Lists of names that are each read.
const NAME_LISTS: &[&str] = &["HOSTING_VARIABLES"];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Each `.rs` file under the folders, without its unit tests and comment lines.
fn shipped_sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for folder in SOURCES {
        collect_rust_files(&repo(folder), &mut files);
    }
    files.into_iter().map(|path| (path.clone(), shipped_code(&read(&path)))).collect()
}

fn collect_rust_files(folder: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The code before the `#[cfg(test)] mod tests` block, comment lines dropped.
fn shipped_code(source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let end = lines
        .windows(2)
        .position(|pair| pair[0].trim() == "#[cfg(test)]" && pair[1].trim_start().starts_with("mod tests"))
        .unwrap_or(lines.len());
    lines[..end].iter().filter(|line| !line.trim_start().starts_with("//")).copied().collect::<Vec<_>>().join("\n")
}

/// `Env`'s readers: its methods taking the variable's `name: &str`.
fn env_readers(env_rs: &str) -> Vec<String> {
    env_rs
        .split("fn ")
        .skip(1)
        .filter(|function| function.split('{').next().unwrap_or_default().contains("name: &str"))
        .filter_map(|function| {
            let name: String = function.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_variable_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && text.chars().all(is_identifier_char)
}

/// The string literals at the start of `text`: `"A"`, or `["a", "A"]`.
fn literals_at(text: &str) -> Option<Vec<String>> {
    let text = text.trim_start();
    if let Some(list) = text.strip_prefix('[') {
        let inside = &list[..list.find(']')?];
        return Some(inside.split(',').map(|item| item.trim().trim_matches('"').to_owned()).collect());
    }
    let rest = text.strip_prefix('"')?;
    Some(vec![rest[..rest.find('"')?].to_owned()])
}

/// `const NAME: &str = "VALUE";` anywhere in the sources, for readers given a constant.
fn string_constants(sources: &[(PathBuf, String)]) -> Vec<(String, String)> {
    let mut constants = Vec::new();
    for (_, code) in sources {
        for declaration in code.split("const ").skip(1) {
            let Some((name, rest)) = declaration.split_once(':') else { continue };
            let Some(value) = rest.trim_start().strip_prefix("&str").and_then(|r| r.trim_start().strip_prefix('='))
            else {
                continue;
            };
            if let Some(literal) = literals_at(value).and_then(|mut v| v.pop()) {
                constants.push((name.trim().to_owned(), literal));
            }
        }
    }
    constants
}

/// The names `code` reads: the first argument of each reader call (a literal, a list of
/// literals, or a constant), and the items of each name list.
fn names_read(code: &str, readers: &[String], constants: &[(String, String)]) -> Result<BTreeSet<String>, String> {
    let mut names = BTreeSet::new();
    for reader in readers {
        let call = format!("{reader}(");
        for (at, _) in code.match_indices(&call) {
            if code[..at].ends_with(is_identifier_char) || code[..at].ends_with("fn ") {
                continue;
            }
            let argument = &code[at + call.len()..];
            if let Some(literals) = literals_at(argument) {
                names.extend(literals.into_iter().filter(|name| is_variable_name(name)));
                continue;
            }
            let identifier: String = argument.trim_start().chars().take_while(|c| is_identifier_char(*c)).collect();
            // A constant's name is in capitals; a lowercase one is a parameter (the readers
            // themselves, or a loop over a name list).
            if identifier.starts_with(|c: char| c.is_ascii_uppercase()) {
                let value = constants.iter().find(|(name, _)| *name == identifier).map(|(_, value)| value.clone());
                names.insert(value.ok_or_else(|| format!("{reader}({identifier}): no string constant of that name"))?);
            }
        }
    }
    for list in NAME_LISTS {
        let Some(start) = code.find(&format!("const {list}: &[&str] = &[")) else { continue };
        let items = &code[start..];
        let items = &items[items.find("&[").unwrap() + 2..items.find("];").unwrap()];
        for item in items.lines().map(|line| line.split("//").next().unwrap_or_default()) {
            names.extend(item.split('"').skip(1).step_by(2).map(str::to_owned));
        }
    }
    Ok(names)
}

fn variables_read_by_the_code() -> BTreeSet<String> {
    let sources = shipped_sources();
    let mut readers = env_readers(&read(&repo("config/src/env.rs")));
    assert!(readers.iter().any(|r| r == "seconds"), "env.rs's readers were not found: {readers:?}");
    readers.extend(OTHER_READERS.iter().map(|r| (*r).to_owned()));
    let everywhere = string_constants(&sources);
    let mut names = BTreeSet::new();
    for (path, code) in &sources {
        // A constant of the same file first: `NAME` may be declared in more than one function.
        let mut constants = string_constants(std::slice::from_ref(&(path.clone(), code.clone())));
        constants.extend(everywhere.iter().cloned());
        names.extend(names_read(code, &readers, &constants).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    names
}

/// The backquoted names in the first cell of each row of the tables headed `| variable |`.
fn documented_variables(markdown: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_table = false;
    for line in markdown.lines() {
        let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        if !line.trim_start().starts_with('|') || cells.len() < 3 {
            in_table = false;
            continue;
        }
        if cells[1] == "variable" {
            in_table = true;
            continue;
        }
        if in_table {
            let quoted = cells[1].split('`').skip(1).step_by(2);
            names.extend(quoted.filter(|name| is_variable_name(name)).map(str::to_owned));
        }
    }
    names
}

#[test]
fn every_variable_read_is_documented_in_configuration_md_and_every_documented_one_is_read() {
    let read = variables_read_by_the_code();
    let documented = documented_variables(&read_doc());
    let undocumented: Vec<&String> = read.difference(&documented).collect();
    let unread: Vec<&String> = documented.difference(&read).collect();
    assert!(
        undocumented.is_empty() && unread.is_empty(),
        "read by the code but not in docs/CONFIGURATION.md's variable tables: {undocumented:?}; \
         documented there but read nowhere in config/src or app/src: {unread:?}"
    );
}

fn read_doc() -> String {
    read(&repo("docs/CONFIGURATION.md"))
}

#[test]
fn the_scan_finds_each_way_the_code_reads_a_variable() {
    let readers: Vec<String> = ["seconds", "text", "var", "proxy"].map(str::to_owned).into();
    let constants = vec![("PORT_VARIABLE".to_owned(), "SOME_PORT".to_owned())];
    let code = r#"
        let a = env.seconds("NEW_SETTING_SECS", 1, 0..=2);
        let b = env.text(PORT_VARIABLE);
        let c = proxy(["new_proxy", "NEW_PROXY"]);
        let d = std::env::var("DIRECT");
        let e = env.text(name);
        let f = context("NOT_A_READER");
        pub const HOSTING_VARIABLES: &[&str] = &[
            "ONE_HOST", // where
            "OTHER_HOST",
        ];
    "#;
    let names = names_read(code, &readers, &constants).unwrap();
    let expected = ["DIRECT", "NEW_PROXY", "NEW_SETTING_SECS", "ONE_HOST", "OTHER_HOST", "SOME_PORT", "new_proxy"];
    assert_eq!(names, expected.map(str::to_owned).into());
    assert!(names_read("env.text(UNKNOWN)", &readers, &constants).is_err(), "an unresolved constant fails");
}

#[test]
fn only_the_first_cell_of_variable_tables_documents_a_variable() {
    let markdown = "| variable | meaning | default |\n|---|---|---|\n| `A_VAR`, `b_var` | not `C_VAR` | `D` |\n\n\
                    | route | access |\n|---|---|\n| `NOT_A_VAR` | open |\n";
    assert_eq!(documented_variables(markdown), ["A_VAR", "b_var"].map(str::to_owned).into());
}
