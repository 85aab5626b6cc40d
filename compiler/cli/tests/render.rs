//! `carbonc render`: the network policies' manifests, validated against the Kubernetes OpenAPI
//! schemas of the cluster's version in strict mode (unknown fields refused) by
//! `kubernetes-validate`, installed in the project's venv by `scripts/emulator install`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::repo;

fn validator() -> PathBuf {
    std::env::var("CARBONC_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/carbonc/venv")
        })
        .join("bin/kubernetes-validate")
}

/// Runs the strict validator for Kubernetes `version` on `files`: (success, output).
fn validate(version: &str, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(validator())
        .args(["--strict", "-k", version])
        .args(files)
        .output()
        .expect("kubernetes-validate runs (scripts/emulator install puts it in the venv)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// An empty scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carbonc-render-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

#[test]
fn rendered_policies_validate_strictly() {
    let dir = scratch("valid");
    let mut rendered = 0;
    for f in [
        "tests/reach/shop.carbon",
        "tests/reach/namespaces.carbon",
        "tests/check/ok/k8s_object_refused.carbon",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
            .args(["render", f, "--out"])
            .arg(&dir)
            .current_dir(repo())
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{f}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        rendered += stdout.lines().count();
    }
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    assert_eq!(files.len(), rendered);
    assert!(files.len() >= 10, "{files:?}");
    // The fixtures' clusters run Kubernetes 1.35.
    let (ok, out) = validate("1.35", &files);
    assert!(ok, "{out}");
    assert_eq!(out.matches(" passed ").count(), files.len(), "{out}");

    // The validator is strict: a field NetworkPolicy does not have is refused.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).expect("read")).expect("JSON");
    doc["spec"]["podSelector"]["matchLabelz"] = serde_json::json!({ "app": "x" });
    let bad = dir.join("bad.json");
    std::fs::write(&bad, doc.to_string()).expect("write");
    let (ok, out) = validate("1.35", &[bad]);
    assert!(!ok && out.contains("matchLabelz"), "{out}");
}

/// A policy whose CIDR is known only after apply is not rendered, and says so.
#[test]
fn a_policy_known_only_after_apply_is_not_rendered() {
    let dir = scratch("unknown");
    let src = dir.join("p.carbon");
    let shop = std::fs::read_to_string(repo().join("tests/reach/shop.carbon")).expect("fixture");
    // The VPC's CIDR from IPAM-like computed attributes: here, the subnet's id stands in for a
    // value AWS decides.
    let text = shop.replace(
        "ingress = []\n        egress = []",
        "ingress = [{ peers = [{ ip_block = { cidr = private[r, \"a\"].id } }] }]\n        egress = []",
    );
    assert_ne!(text, shop);
    std::fs::write(&src, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(["render"])
        .arg(&src)
        .args(["--out"])
        .arg(dir.join("out"))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`deny_all[us-east-1]` is not rendered: it uses a value known only after apply; run `carbonc apply` first"), "{err}");
}
