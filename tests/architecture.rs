//! The layers' boundaries, checked on the source itself: which crate may depend on which, no import
//! circles among the files of a folder, and no source file a newcomer has to scroll through for long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as its module path relative to `dir` (`portal/session` for
/// `portal/session.rs`; the crate root `lib.rs`/`main.rs` is the empty path).
fn modules(dir: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(dir).unwrap().with_extension("");
                let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                if matches!(parts.last().map(String::as_str), Some("lib" | "main" | "mod")) {
                    parts.pop();
                }
                out.insert(parts, path);
            }
        }
    }
    out
}

/// The source without comments and without its inline `mod tests`.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
    text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The files each file of `dir` names through `crate::…`, `super::…` or `self::…` paths.
fn imports(dir: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files = modules(dir);
    let mut graph = BTreeMap::new();
    for (module, path) in &files {
        let code = code_of(path);
        let mut deps = BTreeSet::new();
        for (i, _) in code.match_indices("::") {
            let before = &code[..i];
            let start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).map_or(0, |s| s + 1);
            let rest = &code[start..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            let segments: Vec<&str> = rest[..end].split("::").filter(|s| !s.is_empty()).collect();
            let (mut base, path): (Vec<String>, &[&str]) = match segments.split_first() {
                Some((&"crate", tail)) => (vec![], tail),
                Some((&"self", tail)) => (module.clone(), tail),
                Some((&"super", tail)) => (module[..module.len().saturating_sub(1)].to_vec(), tail),
                _ => continue,
            };
            let mut tail = path;
            while let Some((&"super", t)) = tail.split_first() {
                base.pop();
                tail = t;
            }
            base.extend(tail.iter().map(|s| (*s).to_owned()));
            if let Some(k) = (0..=base.len()).rev().find(|k| files.contains_key(&base[..*k]))
                && base[..k] != module[..]
            {
                deps.insert(base[..k].to_vec());
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// The circles among the files directly in `folder` (a module path), as lists of files.
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>, folder: &[String]) -> Vec<Vec<String>> {
    let nodes: Vec<&Vec<String>> =
        graph.keys().filter(|m| m.len() == folder.len() + 1 && m.starts_with(folder)).collect();
    let mut found = Vec::new();
    // A circle is a node that can reach itself; report each node's shortest way back.
    for start in &nodes {
        let mut seen = BTreeSet::new();
        let mut queue = vec![(*start, vec![start.join("/")])];
        while let Some((at, trail)) = queue.pop() {
            for next in graph.get(at).into_iter().flatten().filter(|d| nodes.contains(d)) {
                if next == *start {
                    found.push(trail.clone());
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.join("/"));
                    queue.push((next, t));
                }
            }
        }
    }
    found
}

#[test]
fn no_file_of_the_portal_the_store_the_app_or_the_binary_imports_in_a_circle() {
    let table: [(&str, &[&str]); 4] =
        [("crates/web/src", &["portal"]), ("crates/store/src", &[]), ("crates/app/src", &[]), ("src", &[])];
    let mut problems = Vec::new();
    for (dir, folder) in table {
        let folder: Vec<String> = folder.iter().map(|s| (*s).to_owned()).collect();
        for circle in circles(&imports(&root().join(dir)), &folder) {
            problems.push(format!("{dir}: {}", circle.join(" -> ")));
        }
    }
    assert!(problems.is_empty(), "import circles:\n{}", problems.join("\n"));
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod a;\nmod b;\nmod c;\n").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use crate::b::thing;\n").unwrap();
    std::fs::write(dir.path().join("b.rs"), "fn f() { super::a::other(); }\n").unwrap();
    std::fs::write(dir.path().join("c.rs"), "// crate::a::in_a_comment\nuse crate::a;\n").unwrap();
    let found = circles(&imports(dir.path()), &[]);
    let mut named: Vec<String> = found.iter().map(|c| c.join(" -> ")).collect();
    named.sort();
    assert_eq!(named, ["a -> b", "b -> a"]);
}

#[test]
fn no_source_file_is_over_600_lines_except_tests_and_data() {
    let mut long = Vec::new();
    for dir in ["src", "crates"] {
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if path.is_dir() {
                    if !matches!(name.as_str(), "tests" | "target" | "train" | "data") {
                        stack.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "rs") && name != "tests.rs" {
                    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                    if lines > 600 {
                        long.push(format!("{} ({lines} lines)", path.strip_prefix(root()).unwrap().display()));
                    }
                }
            }
        }
    }
    assert!(long.is_empty(), "split these: {long:?}");
}

/// The `[dependencies]` names of a crate's manifest.
fn dependencies(manifest: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(manifest)).unwrap();
    let section = text.split("[dependencies]").nth(1).unwrap_or_default();
    let section = section.split("\n[").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect()
}

#[test]
fn each_layer_depends_only_on_the_layers_below_it() {
    let table: [(&str, &[&str]); 5] = [
        ("crates/domain/Cargo.toml", &["bonafide-store", "bonafide-app", "bonafide-web", "sqlx", "axum"]),
        ("crates/directory/Cargo.toml", &["bonafide-store", "bonafide-app", "sqlx"]),
        ("crates/app/Cargo.toml", &["bonafide-web", "axum", "maud", "sqlx", "rusqlite"]),
        ("crates/web/Cargo.toml", &["bonafide-store", "sqlx", "rusqlite"]),
        ("crates/store/Cargo.toml", &["bonafide-app", "bonafide-web", "axum"]),
    ];
    for (manifest, refused) in table {
        let deps = dependencies(manifest);
        assert!(!deps.is_empty(), "{manifest} has dependencies");
        for name in refused {
            assert!(!deps.contains(*name), "{manifest} depends on {name}");
        }
    }
}
