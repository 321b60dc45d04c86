//! The shape of the code: no import circle between the modules of `src/`,
//! nor between the files of one module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The code of a file without comments and without its test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every name `prefix` is followed by in `code` (`crate::` → `pipeline`),
/// including those in a braced list right after it.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let list = &list[..list.find('}').unwrap_or(list.len())];
            for part in list.split(',') {
                let n = ident(part.trim());
                if !n.is_empty() && part.trim()[n.len()..].starts_with("::") {
                    out.insert(n);
                }
            }
        } else {
            let n = ident(rest);
            if !n.is_empty() {
                out.insert(n);
            }
        }
    }
    out
}

/// A circle in a graph, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_of_src_imports_one_that_imports_it_back() {
    let src = crate::repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let top_modules: BTreeSet<String> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            first.trim_end_matches(".rs").to_string()
        })
        .filter(|m| m != "lib" && m != "main")
        .collect();
    assert!(top_modules.len() > 10, "{top_modules:?}");

    // Between modules.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Between the files of one module: (module, file) → sibling files.
    let mut files_of: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .collect();
        let top = parts[0].clone();
        if !top_modules.contains(&top) {
            continue;
        }
        let text = code(f);
        let used: BTreeSet<String> = names_after(&text, "crate::")
            .into_iter()
            .filter(|m| top_modules.contains(m) && *m != top)
            .collect();
        graph.entry(top.clone()).or_default().extend(used);
        if parts.len() == 2 && parts[1] != "mod" {
            let dir = src.join(&top);
            let siblings: BTreeSet<String> = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(|e| {
                    let p = e.ok()?.path();
                    let n = p.file_stem()?.to_string_lossy().to_string();
                    (n != "mod").then_some(n)
                })
                .collect();
            let mut to: BTreeSet<String> = names_after(&text, "super::");
            to.extend(names_after(&text, &format!("crate::{top}::")));
            to.retain(|n| siblings.contains(n) && *n != parts[1]);
            files_of
                .entry(top.clone())
                .or_default()
                .insert(parts[1].clone(), to);
        }
    }
    assert!(
        graph["cli"].contains("pipeline") && graph["pipeline"].contains("store"),
        "the graph is read: {graph:?}"
    );
    if let Some(c) = circle(&graph) {
        panic!("an import circle between modules: {}", c.join(" → "));
    }
    for (module, g) in &files_of {
        if let Some(c) = circle(g) {
            panic!("an import circle in {module}/: {}", c.join(" → "));
        }
    }
}
