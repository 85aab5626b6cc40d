//! `apply` resolves each resource right before its call. `carbonc_drive::Resolver` does it one
//! resource at a time (the program expanded once, only the resource's cone re-read and
//! re-evaluated); `resolve_instance` evaluates the whole program each time. They must agree on
//! every resource, at every point of an apply, and after any known value changes.

use std::collections::BTreeMap;

use carbonc_cli::load::load_program;
use carbonc_drive::{PlanRequest, Resolver, make_plan, resolve_instance};
use carbonc_plan::{Action, Plan};
use carbonc_sema::{RootDatabase, SourceFile, VarValue};
use carbonc_state::{ResourceState, State, Val};
use carbonc_tests::{FIXTURE_LINEAGE, fake_computed, fixture_key, repo_root};

fn load(root: &str) -> (RootDatabase, SourceFile) {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let mut db = RootDatabase::default();
    let file = load_program(&mut db, root).expect("loads");
    // Every parameter without a default (secrets, in the examples) gets a value.
    let vars = file
        .text(&db)
        .lines()
        .filter_map(|l| l.strip_prefix("param "))
        .filter(|l| !l.contains('='))
        .filter_map(|l| l.split(':').next())
        .map(|name| {
            let value = VarValue {
                source: "\"correct horse battery staple\"".into(),
                origin: "test".into(),
                raw: false,
            };
            (name.trim().to_string(), value)
        })
        .collect();
    db.set_vars(vars);
    (db, file)
}

/// The state after `address` was created with `attrs`, its computed attributes stand-ins (with
/// `suffix` appended, to change them later).
fn record(
    state: &mut State,
    plan: &Plan,
    address: &str,
    attrs: &BTreeMap<String, Val>,
    suffix: &str,
) {
    let c = plan
        .resource_changes
        .iter()
        .find(|c| c.address == address)
        .expect("planned");
    let mut attributes = attrs.clone();
    for (k, v) in c.after.iter().flatten() {
        if *v == Val::Unknown {
            let fake = match fake_computed(&c.address, &c.ty, c.region.as_deref(), k) {
                Val::Str(s) => Val::Str(format!("{s}{suffix}")),
                other => other,
            };
            attributes.insert(k.clone(), fake);
        }
    }
    state.resources.retain(|r| r.address != address);
    state.resources.push(ResourceState {
        address: c.address.clone(),
        ty: c.ty.clone(),
        region: c.region.clone(),
        id: Some(format!("id-{}{suffix}", c.address)),
        status: Default::default(),
        attributes,
        dependencies: c.depends_on.clone(),
        token: None,
    });
}

fn agree(root: &str) {
    let key = fixture_key();
    let (mut whole_db, whole_root) = load(root);
    let plan = make_plan(
        &mut whole_db,
        PlanRequest {
            root: whole_root,
            state: None,
            key: &key,
        },
    )
    .unwrap_or_else(|d| panic!("{root}: {d:#?}"));
    let (mut planned_db, planned_root) = load(root);
    make_plan(
        &mut planned_db,
        PlanRequest {
            root: planned_root,
            state: None,
            key: &key,
        },
    )
    .unwrap_or_else(|d| panic!("{root}: {d:#?}"));
    let mut state = State::new(FIXTURE_LINEAGE.into());
    let acting: Vec<String> = plan
        .resource_changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Read))
        .map(|c| c.address.clone())
        .collect();
    assert!(acting.len() > 5, "{root}: {acting:?}");
    // A first apply, in the plan's order (dependencies first), then a second run that replaces
    // every resource (new computed values): each resource must see what it depends on as that
    // run left it.
    for suffix in ["", "-v2"] {
        state = run(
            root,
            (&mut whole_db, whole_root),
            (&planned_db, planned_root),
            &plan,
            &acting,
            state,
            suffix,
        );
        state.serial += 1;
    }
}

/// One run: each address in `order` resolved both ways, compared, then recorded with computed
/// values ending in `suffix`.
fn run(
    root: &str,
    (whole_db, whole_root): (&mut RootDatabase, SourceFile),
    (planned_db, planned_root): (&RootDatabase, SourceFile),
    plan: &Plan,
    order: &[String],
    mut state: State,
    suffix: &str,
) -> State {
    let key = fixture_key();
    let mut resolver = Resolver::new(
        planned_db,
        planned_root,
        &state,
        &key,
        order.iter().map(String::as_str),
    );
    for address in order {
        let whole = resolve_instance(whole_db, whole_root, &state, &key, address);
        let one = resolver.resolve(&state, address);
        let attrs = match (whole, one) {
            (Ok(w), Ok(o)) => {
                assert_eq!(w.attrs, o.attrs, "{root}{suffix}: {address}");
                assert_eq!(w.secrets, o.secrets, "{root}{suffix}: {address}");
                w.attrs
            }
            (Err(w), Err(o)) => {
                assert_eq!(w, o, "{root}{suffix}: {address}");
                BTreeMap::new()
            }
            (w, o) => panic!(
                "{root}{suffix}: {address}: whole program {:?}, one resource {:?}",
                w.map(|r| r.attrs),
                o.map(|r| r.attrs)
            ),
        };
        record(&mut state, plan, address, &attrs, suffix);
    }
    state
}

#[test]
fn one_resource_at_a_time_agrees_with_the_whole_program_on_the_global_footprint() {
    agree("examples/global.carbon");
}

#[test]
fn one_resource_at_a_time_agrees_with_the_whole_program_on_every_other_example() {
    for root in [
        "examples/network.carbon",
        "examples/single_region.carbon",
        "examples/aurora_global.carbon",
    ] {
        agree(root);
    }
}
