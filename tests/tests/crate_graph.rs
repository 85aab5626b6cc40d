//! The layering ARCHITECTURE.md promises, checked on the real dependency graph: the apply engine
//! and the AWS provider do not link the compiler (no salsa, no chumsky, no carbonc-sema), and the
//! plan model is free of it too.

use std::process::Command;

/// Every package `package` depends on at run time (normal dependencies, all the way down).
fn closure(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-f",
            "{p}",
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_engine_and_the_provider_do_not_link_the_compiler() {
    for package in ["carbonc-plan", "carbonc-apply", "carbonc-aws"] {
        let deps = closure(package);
        assert!(
            deps.iter().any(|d| d == "carbonc-state"),
            "{package}: {deps:?}"
        );
        for compiler in [
            "salsa",
            "chumsky",
            "carbonc-sema",
            "carbonc-syntax",
            "ariadne",
        ] {
            assert!(
                !deps.iter().any(|d| d == compiler),
                "{package} depends on {compiler}: {deps:?}"
            );
        }
    }
}

#[test]
fn the_driver_is_where_the_compiler_meets_the_plan() {
    let deps = closure("carbonc-drive");
    for needed in ["carbonc-sema", "carbonc-plan", "salsa"] {
        assert!(deps.iter().any(|d| d == needed), "{needed}: {deps:?}");
    }
}
