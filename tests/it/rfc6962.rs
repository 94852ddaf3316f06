//! The Merkle proof verifier against every RFC 6962 test vector in tests/fixtures/rfc6962.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use shopcrew::merkle::{Hash, verify_consistency, verify_inclusion};

fn cases(kind: &str) -> Vec<(PathBuf, serde_json::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rfc6962").join(kind);
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, serde_json::from_str(&text).unwrap()));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn bytes(v: &serde_json::Value) -> Option<Vec<u8>> {
    STANDARD.decode(v.as_str()?).ok()
}

/// A 32-byte hash from base64; anything else (garbage, extra bytes) is a malformed input.
fn hash(v: &serde_json::Value) -> Option<Hash> {
    bytes(v)?.try_into().ok()
}

fn proof(v: &serde_json::Value) -> Option<Vec<Hash>> {
    match v {
        serde_json::Value::Null => Some(Vec::new()),
        serde_json::Value::Array(items) => items.iter().map(hash).collect(),
        _ => None,
    }
}

fn check(kind: &str, verify: impl Fn(&serde_json::Value) -> bool) {
    let all = cases(kind);
    assert!(all.len() > 20, "too few {kind} vectors found ({}): is tests/fixtures/rfc6962 there?", all.len());
    let wrong: Vec<String> = all
        .iter()
        .filter(|(_, case)| verify(case) == case["wantErr"].as_bool().unwrap())
        .map(|(path, case)| format!("{} ({}; wantErr {})", path.display(), case["desc"], case["wantErr"]))
        .collect();
    assert!(wrong.is_empty(), "{} of {} {kind} vectors disagree:\n{}", wrong.len(), all.len(), wrong.join("\n"));
}

#[test]
fn inclusion_proofs_match_every_vector() {
    check("inclusion", |c| {
        let (Some(index), Some(size)) = (c["leafIdx"].as_u64(), c["treeSize"].as_u64()) else { return false };
        let (Some(root), Some(leaf), Some(proof)) = (bytes(&c["root"]), hash(&c["leafHash"]), proof(&c["proof"]))
        else {
            return false;
        };
        verify_inclusion(index, size, &leaf, &proof, &root).is_ok()
    });
}

#[test]
fn consistency_proofs_match_every_vector() {
    check("consistency", |c| {
        let (Some(old), Some(new)) = (c["size1"].as_u64(), c["size2"].as_u64()) else { return false };
        let (Some(r1), Some(r2), Some(proof)) = (bytes(&c["root1"]), bytes(&c["root2"]), proof(&c["proof"])) else {
            return false;
        };
        verify_consistency(old, new, &r1, &r2, &proof).is_ok()
    });
}
