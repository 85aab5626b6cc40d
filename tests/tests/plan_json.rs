//! `carbonc plan --json` validates against the documented schema (`docs/plan-json.schema.json`),
//! for the footprint from nothing and for every engine fixture; broken documents do not.

use carbonc_state::format;
use carbonc_tests::{plan_fixture, repo_root};

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join("docs/plan-json.schema.json"))
        .expect("schema exists");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn plans_validate_against_the_documented_schema() {
    let v = validator();
    let vars = [(
        "db_master_password".to_string(),
        carbonc_sema::VarValue {
            source: "x".into(),
            origin: "test".into(),
            raw: true,
        },
    )];
    let plan = carbonc_tests::plan_program("examples/global.carbon", vars.into(), None);
    let doc = serde_json::to_value(plan.expect("plans")).expect("serialises");
    assert_valid(&v, &doc, "examples/global.carbon");
    for e in std::fs::read_dir(repo_root().join("tests/engine"))
        .expect("fixtures")
        .flatten()
    {
        let dir = format!("tests/engine/{}", e.file_name().to_string_lossy());
        if !repo_root().join(&dir).join("main.carbon").exists() {
            continue;
        }
        let state = std::fs::read_to_string(repo_root().join(&dir).join("state.json"))
            .ok()
            .map(|t| format::parse(std::path::Path::new("state.json"), &t).expect("fixture state"));
        let vars = repo_root().join(&dir).join("main.vars");
        let vars = vars.exists().then(|| format!("{dir}/main.vars"));
        let plan = plan_fixture(
            &format!("{dir}/main.carbon"),
            vars.as_deref(),
            state.as_ref(),
        )
        .expect("plans");
        assert_valid(&v, &serde_json::to_value(plan).expect("serialises"), &dir);
    }
}

#[test]
fn broken_plans_do_not_validate() {
    let v = validator();
    let plan = plan_fixture("tests/engine/plan-no-changes/main.carbon", None, None).expect("plans");
    let good = serde_json::to_value(plan).expect("serialises");
    assert_valid(&v, &good, "the unbroken document");
    let mut bad_action = good.clone();
    bad_action["resource_changes"][0]["action"] = "explode".into();
    assert!(!v.is_valid(&bad_action));
    let mut no_summary = good.clone();
    no_summary
        .as_object_mut()
        .expect("object")
        .remove("summary");
    assert!(!v.is_valid(&no_summary));
    let mut future = good;
    future["format_version"] = 2.into();
    assert!(!v.is_valid(&future));
}
