//! Plan fixtures: `tests/engine/<op>-<scenario>/` holds `main.carbon` (the configuration),
//! `state.json` (what exists) and optionally `main.vars`. The rendered plan is snapshotted exactly
//! as `carbonc plan` prints it. `state.json` is generated from `before.carbon` (and `before.vars`)
//! by planning it from nothing and applying the plan with a stand-in provider; regenerate with
//! `UPDATE_FIXTURES=1 cargo test -p carbonc-tests --test engine`.

use std::path::Path;

use carbonc_plan::{Action, render::render};
use carbonc_state::{State, format};
use carbonc_tests::{fake_apply, plan_fixture, repo_root};

fn opt(dir: &str, name: &str) -> Option<String> {
    let p = format!("{dir}/{name}");
    repo_root().join(&p).exists().then_some(p)
}

fn fixture_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir(repo_root().join("tests/engine"))
        .expect("tests/engine exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("main.carbon").exists())
        .map(|e| format!("tests/engine/{}", e.file_name().to_string_lossy()))
        .collect();
    dirs.sort();
    dirs
}

fn load_state(dir: &str) -> Option<State> {
    if std::env::var_os("UPDATE_FIXTURES").is_some()
        && let Some(before) = opt(dir, "before.carbon")
    {
        let plan = plan_fixture(&before, opt(dir, "before.vars").as_deref(), None)
            .unwrap_or_else(|e| panic!("{before}:\n{e}"));
        let mut state = fake_apply(&plan, None);
        // Outputs are known once their resources exist: plan again to learn them, as apply would.
        let again = plan_fixture(&before, opt(dir, "before.vars").as_deref(), Some(&state))
            .unwrap_or_else(|e| panic!("{before}:\n{e}"));
        state.outputs = again
            .output_changes
            .iter()
            .filter_map(|o| Some((o.name.clone(), o.after.clone()?)))
            .collect();
        std::fs::write(
            repo_root().join(dir).join("state.json"),
            format::to_text(&state),
        )
        .expect("writable");
    }
    let path = repo_root().join(dir).join("state.json");
    let text = std::fs::read_to_string(&path).ok()?;
    Some(format::parse(Path::new(&path), &text).expect("fixture state parses"))
}

/// Values given for secrets (and secret literals, marked `# secret:` in a fixture), which must
/// appear in no output and never in plain text in state.
fn secret_values(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = ["before.vars", "main.vars"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(repo_root().join(dir).join(f)).ok())
        .flat_map(|t| {
            t.lines()
                .filter_map(|l| {
                    l.split_once('=')
                        .map(|(_, v)| v.trim().trim_matches('"').to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if let Ok(main) = std::fs::read_to_string(repo_root().join(dir).join("main.carbon")) {
        out.extend(main.lines().filter_map(|l| {
            l.split_once("# secret: ")
                .map(|(_, v)| v.trim().to_string())
        }));
    }
    out
}

#[test]
fn plan_fixtures_match_snapshots() {
    let dirs = fixture_dirs();
    assert!(dirs.len() >= 8, "{dirs:?}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("tests/engine/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for dir in &dirs {
            let state = load_state(dir);
            let main = format!("{dir}/main.carbon");
            let plan = plan_fixture(&main, opt(dir, "main.vars").as_deref(), state.as_ref())
                .unwrap_or_else(|e| panic!("{main}:\n{e}"));
            let mut shown = render(&plan, false);
            let json = carbonc_plan::json::to_json(&plan);
            let state_text = std::fs::read_to_string(repo_root().join(dir).join("state.json"))
                .unwrap_or_default();
            for secret in secret_values(dir) {
                assert!(
                    !shown.contains(&secret) && !json.contains(&secret),
                    "{dir}: a secret value appears in the plan"
                );
                assert!(
                    !state_text.contains(&secret),
                    "{dir}: a secret value appears in plain text in the state"
                );
            }
            if dir.ends_with("stale-saved-plan") {
                // Save the plan, let the state move on (someone else applied), and try to use it.
                let saved = carbonc_plan::json::from_json(&json).expect("a saved plan reads back");
                assert_eq!(saved, plan);
                assert!(saved.check_fresh(state.as_ref()).is_ok());
                let mut moved = state.clone().expect("the fixture has a state");
                moved.serial += 1;
                let err = saved
                    .check_fresh(Some(&moved))
                    .expect_err("a stale plan is refused");
                shown.push_str(&format!(
                    "\n---- carbonc show plan.json, after the state moved on:\nerror: {err}\n"
                ));
            }
            let name = dir.rsplit('/').next().expect("a name");
            insta::assert_snapshot!(name, shown);
        }
    });
}

#[test]
fn no_changes_means_no_changes() {
    let dir = "tests/engine/plan-no-changes";
    let state = load_state(dir);
    let plan = plan_fixture(&format!("{dir}/main.carbon"), None, state.as_ref()).expect("plans");
    assert!(!plan.has_changes());
    assert!(
        plan.resource_changes
            .iter()
            .all(|c| c.action == Action::NoOp)
    );
    // Computed values known in state are not "known after apply".
    let outputs = &plan.output_changes[0];
    assert_eq!(outputs.action, Action::NoOp, "{outputs:?}");
}

#[test]
fn removed_region_is_deleted_dependents_first_and_nothing_else_moves() {
    let dir = "tests/engine/plan-delete-removed-region";
    let state = load_state(dir);
    let plan = plan_fixture(&format!("{dir}/main.carbon"), None, state.as_ref()).expect("plans");
    let deleted: Vec<&str> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.as_str())
        .collect();
    assert_eq!(deleted.len(), 4);
    assert!(
        plan.resource_changes
            .iter()
            .filter(|c| c.action != Action::Delete)
            .all(|c| c.action == Action::NoOp)
    );
    let pos = |a: &str| {
        deleted
            .iter()
            .position(|d| *d == a)
            .unwrap_or_else(|| panic!("{a} not deleted"))
    };
    assert!(pos("secret[ap-southeast-1]") < pos("key[ap-southeast-1]"));
    assert!(pos("subnet[ap-southeast-1]") < pos("vpc[ap-southeast-1]"));
}
