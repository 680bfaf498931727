//! The house rule that keeps each part readable alone: no top-level module of the server or of
//! the store imports, directly or through others, a module that imports it back. Read from the
//! sources, so a new cycle fails here with the modules named.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level modules of the crate at `src` and, for each, the top-level modules it names.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            modules.entry(name).or_default().extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            modules.entry(name).or_default().push(path);
        }
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(module, files)| {
            let mut used = BTreeSet::new();
            for file in files {
                let source = fs::read_to_string(file).unwrap();
                for name in named_after_crate(&source) {
                    if names.contains(&name) && &name != module {
                        used.insert(name);
                    }
                }
            }
            (module.clone(), used)
        })
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The first path segment after each `crate::`, including each name of `crate::{a, b::c}`.
fn named_after_crate(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                names.push(leading_ident(item.trim()));
            }
        } else {
            names.push(leading_ident(rest));
        }
    }
    names
}

fn leading_ident(s: &str) -> String {
    s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// Each pair (a, b) where a imports b and b reaches a back.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (a, uses) in graph {
        for b in uses {
            let mut seen = BTreeSet::new();
            let mut stack = vec![b.clone()];
            while let Some(m) = stack.pop() {
                if &m == a {
                    found.push((a.clone(), b.clone()));
                    break;
                }
                if seen.insert(m.clone()) {
                    stack.extend(graph.get(&m).into_iter().flatten().cloned());
                }
            }
        }
    }
    found
}

fn assert_no_cycle(crate_src: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(crate_src);
    let graph = imports(&src);
    assert!(graph.len() > 5, "modules of {} not found", src.display());
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles between top-level modules of {crate_src}: {found:?}\n{graph:#?}");
}

#[test]
fn no_top_level_module_of_the_server_imports_one_that_imports_it_back() {
    assert_no_cycle("src");
}

#[test]
fn no_top_level_module_of_the_store_imports_one_that_imports_it_back() {
    assert_no_cycle("../crates/mandate-store/src");
}

#[test]
fn pages_and_protocol_endpoints_do_not_import_each_other() {
    let graph = imports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(!graph["oidc"].contains("pages"), "oidc imports pages");
    assert!(!graph["pages"].contains("oidc"), "pages imports oidc");
    for lower in ["web", "protocol"] {
        for upper in ["oidc", "pages", "startup"] {
            assert!(!graph[lower].contains(upper), "{lower} imports {upper}, a layer above it");
        }
    }
    assert!(!graph["protocol"].contains("web"), "the protocol core imports the web layer");
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("d".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    let found = cycles(&graph);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(!found.iter().any(|(a, _)| a == "d"));
    assert_eq!(named_after_crate("use crate::{web::x, state};\nlet y = crate::keys::z;"), ["web", "state", "keys"]);
}
