//! `carbonc plan`, `show`, `graph` and `force-unlock` as a user meets them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(
        // At run time: a test binary built from another checkout (the shared target directory) still
        // reads this one.
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn carbonc(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carbonc"));
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("carbonc runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch copy of `examples/` for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carbonc-plan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("examples/modules")).expect("temp dir");
    for f in [
        "global.carbon",
        "single_region.carbon",
        "modules/eks.carbon",
        "modules/aurora_global.carbon",
    ] {
        std::fs::copy(repo().join("examples").join(f), d.join("examples").join(f)).expect("copy");
    }
    d
}

const SECRET: &str = "s3cr3t-do-not-print";
const PW: (&str, &str) = ("CARBON_VAR_db_master_password", SECRET);

#[test]
fn plan_of_the_footprint_from_nothing() {
    let d = scratch("global");
    let r = carbonc(&d, &["plan", "examples/global.carbon"], &[PW]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for header in [
        "── global ",
        "── us-east-1 (use1) ",
        "── eu-west-1 (euw1) ",
        "── ap-southeast-1 (apse1) ",
    ] {
        assert!(r.stdout.contains(header), "missing {header}");
    }
    assert!(
        r.stdout.contains("to add, 0 to change, 0 to destroy."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("master_password              = (sensitive value)"),
        "secrets are shown as sensitive"
    );
    assert!(r.stdout.contains("(known after apply)"));
    assert!(!r.stdout.contains(SECRET) && !r.stderr.contains(SECRET));
    // A creation plan: every resource in the dependency order (a reference never points forward
    // within a region's group).
    let mut seen: Vec<String> = Vec::new();
    for line in r.stdout.lines() {
        if let Some(rest) = line
            .strip_prefix("  # ")
            .and_then(|l| l.strip_suffix(" will be created"))
        {
            seen.push(rest.to_string());
        }
    }
    assert!(seen.len() > 80, "{}", seen.len());
    assert!(
        seen.iter().position(|a| a == "vpc[us-east-1]")
            < seen.iter().position(|a| a == "private[us-east-1, a]")
    );
    assert!(
        seen.iter().position(|a| a == "api[us-east-1].main")
            < seen.iter().position(|a| a == "api[us-east-1].gpu")
    );

    let r = carbonc(
        &d,
        &["plan", "--detailed-exitcode", "examples/global.carbon"],
        &[PW],
    );
    assert_eq!(r.code, 2);

    let r = carbonc(&d, &["plan", "--json", "examples/global.carbon"], &[PW]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["format_version"], 1);
    let changes = v["resource_changes"].as_array().expect("changes");
    assert!(
        changes
            .iter()
            .all(|c| c["action"] == "create" || c["action"] == "read")
    );
    assert_eq!(
        v["summary"]["add"].as_u64().unwrap() as usize,
        changes.iter().filter(|c| c["action"] == "create").count()
    );
    assert!(!r.stdout.contains(SECRET));
}

#[test]
fn parameters_and_their_errors() {
    let d = scratch("params");
    // Missing secret parameter.
    let r = carbonc(&d, &["plan", "examples/global.carbon"], &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("[E0114]") && r.stderr.contains("db_master_password"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("CARBON_VAR_db_master_password"),
        "{}",
        r.stderr
    );
    // Unknown variable.
    let r = carbonc(
        &d,
        &[
            "plan",
            "--var",
            "db_master_pasword=x",
            "examples/global.carbon",
        ],
        &[PW],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("[E0116]") && r.stderr.contains("did you mean `db_master_password`?"),
        "{}",
        r.stderr
    );
    // A value of the wrong type for a secret parameter is refused without echoing it.
    std::fs::write(d.join("pin.carbon"), "region use1 { code = \"us-east-1\" role = .primary }\nparam pin: Secret<Int>\nparam zones: List<String> = [\"a\"]\nresource aws.kms.Key k @ use1 { description = \"${zones[0]}\" }\n").unwrap();
    let r = carbonc(&d, &["plan", "--var", "pin=hunter2", "pin.carbon"], &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("[E0115]") && !r.stderr.contains("hunter2"),
        "{}",
        r.stderr
    );
    // Precedence: environment < variables file < --var; lists as carbon literals.
    std::fs::write(
        d.join("vars.carbonvars"),
        "# comment\npin = 1234\nzones = [\"b\", \"c\"]\n",
    )
    .unwrap();
    let r = carbonc(
        &d,
        &["plan", "--var-file", "vars.carbonvars", "pin.carbon"],
        &[("CARBON_VAR_zones", "[\"x\"]")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let description = |out: &str| {
        out.lines()
            .find(|l| l.contains("+ description"))
            .map(|l| l.rsplit("= ").next().unwrap_or("").to_string())
    };
    assert_eq!(
        description(&r.stdout).as_deref(),
        Some("\"b\""),
        "{}",
        r.stdout
    );
    let r = carbonc(
        &d,
        &[
            "plan",
            "--var-file",
            "vars.carbonvars",
            "--var",
            "zones=[\"z\"]",
            "pin.carbon",
        ],
        &[],
    );
    assert_eq!(
        description(&r.stdout).as_deref(),
        Some("\"z\""),
        "{}",
        r.stdout
    );
    std::fs::write(d.join("bad.carbonvars"), "pin = = 3\n").unwrap();
    let r = carbonc(
        &d,
        &["plan", "--var-file", "bad.carbonvars", "pin.carbon"],
        &[],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("bad.carbonvars:1:"), "{}", r.stderr);
}

fn write_state(path: &Path, state: &carbonc_state::State) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, carbonc_state::format::to_text(state)).unwrap();
}

#[test]
fn lock_contention_names_the_holder_and_force_unlock_clears_it() {
    let d = scratch("lock");
    let backend =
        carbonc_state::LocalBackend::new(d.join("examples/.carbon/single_region.state.json"));
    let guard = backend
        .lock("apply", std::time::Duration::ZERO)
        .expect("lock");
    let id = guard.info.id.clone();
    let r = carbonc(
        &d,
        &[
            "plan",
            "--lock-timeout",
            "300ms",
            "examples/single_region.carbon",
        ],
        &[("CARBON_VAR_api_token", "t")],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("locked") && r.stderr.contains(&id) && r.stderr.contains("apply"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("carbonc force-unlock {id}")),
        "{}",
        r.stderr
    );
    std::mem::forget(guard); // as if its process had died
    let r = carbonc(
        &d,
        &[
            "force-unlock",
            "not-the-id",
            "examples/single_region.carbon",
        ],
        &[],
    );
    assert_eq!(r.code, 1);
    let r = carbonc(
        &d,
        &["force-unlock", &id, "examples/single_region.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = carbonc(
        &d,
        &["plan", "examples/single_region.carbon"],
        &[("CARBON_VAR_api_token", "t")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!backend.lock_path().exists(), "plan released its lock");
}

#[test]
fn a_damaged_state_is_reported_and_left_alone() {
    let d = scratch("damaged");
    let path = d.join("examples/.carbon/single_region.state.json");
    let mut state = carbonc_state::State::new(carbonc_state::new_lineage());
    state.serial = 4;
    let text = carbonc_state::format::to_text(&state);
    let broken = &text[..text.len() - 20];
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, broken).unwrap();
    let r = carbonc(
        &d,
        &["plan", "examples/single_region.carbon"],
        &[("CARBON_VAR_api_token", "t")],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("single_region.state.json:") && r.stderr.contains("damaged"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(".backup"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[test]
fn saved_plans_are_shown_and_refused_when_stale() {
    let d = scratch("saved");
    let path = d.join("examples/.carbon/single_region.state.json");
    let mut state = carbonc_state::State::new(carbonc_state::new_lineage());
    state.serial = 1;
    write_state(&path, &state);
    let env = [("CARBON_VAR_api_token", "t")];
    let r = carbonc(
        &d,
        &[
            "plan",
            "--out",
            "saved.json",
            "examples/single_region.carbon",
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Saved the plan to saved.json"));
    let r = carbonc(&d, &["show", "saved.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Plan: "), "{}", r.stdout);
    state.serial = 2;
    write_state(&path, &state);
    let r = carbonc(&d, &["show", "saved.json"], &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("stale")
            && r.stderr.contains("serial 1")
            && r.stderr.contains("serial 2"),
        "{}",
        r.stderr
    );
}

#[test]
fn graph_as_dot_and_svg() {
    let d = scratch("graph");
    let r = carbonc(&d, &["graph", "examples/global.carbon"], &[PW]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("digraph plan {"));
    assert!(
        r.stdout.contains("subgraph cluster_") && r.stdout.contains("label=\"us-east-1 (use1)\"")
    );
    assert!(
        r.stdout
            .contains("\"private[us-east-1, a]\" -> \"vpc[us-east-1]\";"),
        "edges point at dependencies"
    );
    let r = carbonc(
        &d,
        &[
            "graph",
            "--format",
            "svg",
            "-o",
            "plan.svg",
            "examples/global.carbon",
        ],
        &[PW],
    );
    assert_eq!(
        r.code, 0,
        "{} (the test script installs Graphviz)",
        r.stderr
    );
    let svg = std::fs::read_to_string(d.join("plan.svg")).unwrap();
    // Graphviz escapes `-` in text as `&#45;`.
    assert!(
        svg.contains("<svg") && svg.contains("vpc[eu&#45;west&#45;1]"),
        "{}",
        &svg[..svg.len().min(500)]
    );
}

#[test]
fn plan_writes_nothing_and_usage_errors_never_look_like_changes() {
    let d = scratch("readonly");
    let r = carbonc(
        &d,
        &["plan", "examples/single_region.carbon"],
        &[("CARBON_VAR_api_token", "t")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !d.join("examples/.carbon")
            .join("single_region.state.json.key")
            .exists(),
        "plan without --out created a key"
    );
    assert!(!d.join("examples/.carbon/single_region.state.json").exists());
    let r = carbonc(
        &d,
        &[
            "plan",
            "--detailed-exitcode",
            "--bogus",
            "examples/single_region.carbon",
        ],
        &[],
    );
    assert_eq!(
        r.code, 1,
        "a usage error with --detailed-exitcode exits 1, not 2"
    );
    let r = carbonc(
        &d,
        &[
            "plan",
            "--lock-timeout",
            "99999999999999999999999h",
            "examples/single_region.carbon",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("internal error"), "{}", r.stderr);
}

#[test]
fn the_lock_hint_is_a_command_that_works() {
    let d = scratch("hint");
    let backend =
        carbonc_state::LocalBackend::new(d.join("examples/.carbon/single_region.state.json"));
    std::mem::forget(
        backend
            .lock("apply", std::time::Duration::ZERO)
            .expect("lock"),
    );
    let env = [("CARBON_VAR_api_token", "t")];
    let r = carbonc(&d, &["plan", "./examples/single_region.carbon"], &env);
    assert_eq!(r.code, 1);
    let hint = r
        .stderr
        .lines()
        .find_map(|l| l.split("run `").nth(1))
        .and_then(|l| l.split('`').next())
        .expect("a hint")
        .to_string();
    let args: Vec<&str> = hint.split(' ').skip(1).collect();
    let r = carbonc(&d, &args, &[]);
    assert_eq!(r.code, 0, "`{hint}`: {}", r.stderr);
    assert_eq!(
        carbonc(&d, &["plan", "examples/single_region.carbon"], &env).code,
        0
    );
}

#[test]
fn show_finds_the_plans_state_from_any_directory() {
    let d = scratch("showdir");
    let path = d.join("examples/.carbon/single_region.state.json");
    let mut state = carbonc_state::State::new(carbonc_state::new_lineage());
    state.serial = 3;
    write_state(&path, &state);
    let r = carbonc(
        &d,
        &[
            "plan",
            "--out",
            "saved.json",
            "examples/single_region.carbon",
        ],
        &[("CARBON_VAR_api_token", "t")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        d.join("examples/.carbon/single_region.state.json.key")
            .exists(),
        "a saved plan keeps its key"
    );
    let r = carbonc(&d.join("examples"), &["show", "../saved.json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// In-cluster objects wait for their cluster to be ready: the stdlib ClickHouse module's cluster
/// (a Helm release) comes after the Pod Identity agent add-on and the backup role's association,
/// beside the EKS cluster it refers to.
#[test]
fn in_cluster_objects_wait_for_the_cluster_to_be_ready() {
    let d = std::env::temp_dir().join(format!("carbonc-plan-in-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    std::fs::copy(
        repo().join("tests/check/ok/module_clickhouse_keeper_zone.carbon"),
        d.join("main.carbon"),
    )
    .expect("copy");
    let run = carbonc(&d, &["plan", "--json", "main.carbon"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let deps = |addr: &str| -> Vec<String> {
        plan["resource_changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|c| c["address"] == addr)
            .unwrap_or_else(|| panic!("{addr} is planned"))["depends_on"]
            .as_array()
            .expect("depends_on")
            .iter()
            .map(|d| d.as_str().expect("address").to_string())
            .collect()
    };
    for (object, before) in [
        (
            "analytics[eu-west-1].servers",
            "pod_identity_agent[eu-west-1]",
        ),
        (
            "analytics[eu-west-1].servers",
            "analytics[eu-west-1].backup_identity",
        ),
    ] {
        assert!(
            deps(object).iter().any(|d| d == before),
            "{object} waits for {before}: {:?}",
            deps(object)
        );
    }
    // Nothing of the other region's cluster.
    assert!(
        !deps("analytics[eu-west-1].servers")
            .iter()
            .any(|d| d.contains("us-east-1"))
    );
}
