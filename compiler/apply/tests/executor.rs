//! The executor against the in-memory provider: order, parallelism, failures, retries, stop,
//! crash adoption.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use carbonc_apply::memory::MemoryProvider;
use carbonc_apply::{Event, ExecOptions, StateSink, adopt_intents, execute};
use carbonc_plan::{Action, Plan, ResourceChange, Summary};
use carbonc_state::{ResourceStatus, State, Val};

fn change(address: &str, action: Action, deps: &[&str]) -> ResourceChange {
    ResourceChange {
        address: address.into(),
        ty: "aws.kms.Key".into(),
        region: Some("us-east-1".into()),
        action,
        replace_order: None,
        replace_reasons: vec![],
        before: None,
        after: Some(BTreeMap::from([(
            "description".to_string(),
            Val::Str(address.into()),
        )])),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
    }
}

fn plan(changes: Vec<ResourceChange>) -> Plan {
    Plan {
        format_version: carbonc_plan::PLAN_FORMAT_VERSION,
        carbonc_version: "test".into(),
        root: "test.carbon".into(),
        state: carbonc_plan::StateRef {
            lineage: None,
            serial: 0,
            path: None,
        },
        sources_digest: String::new(),
        variables_digest: String::new(),
        regions: vec![],
        resource_changes: changes,
        output_changes: vec![],
        summary: Summary::default(),
    }
}

#[derive(Default)]
struct Sink {
    saves: Vec<State>,
}

impl StateSink for Sink {
    fn save(&mut self, state: &State) -> Result<(), String> {
        self.saves.push(state.clone());
        Ok(())
    }
}

fn attrs_of(c: &ResourceChange, _: &State) -> Result<carbonc_apply::ResolvedAttrs, String> {
    Ok((c.after.clone().unwrap_or_default(), BTreeMap::new()))
}

async fn run(
    p: &Plan,
    provider: Arc<MemoryProvider>,
    opts: &ExecOptions,
) -> (State, carbonc_apply::Outcome, Sink, Vec<Event>) {
    let mut sink = Sink::default();
    let mut events = Vec::new();
    let (state, outcome) = execute(
        p,
        State::new("lineage-1".into()),
        provider,
        &mut sink,
        &mut attrs_of,
        opts,
        &mut |e| events.push(e.clone()),
    )
    .await;
    (state, outcome, sink, events)
}

#[tokio::test]
async fn dependencies_first_and_state_after_every_action() {
    let p = plan(vec![
        change("c", Action::Create, &["b"]),
        change("b", Action::Create, &["a"]),
        change("a", Action::Create, &[]),
    ]);
    let provider = Arc::new(MemoryProvider::new(Duration::from_millis(5)));
    let (state, outcome, sink, _) = run(&p, provider.clone(), &ExecOptions::default()).await;
    assert!(outcome.ok(), "{outcome:?}");
    let order: Vec<String> = provider.calls().iter().map(|c| c.address.clone()).collect();
    assert_eq!(order, ["a", "b", "c"]);
    assert_eq!(state.resources.len(), 3);
    assert!(
        state
            .resources
            .iter()
            .all(|r| r.status == ResourceStatus::Created && r.id.is_some())
    );
    // An intent before each create, a record after: six saves, serials 1..=6.
    assert_eq!(sink.saves.len(), 6);
    assert_eq!(
        sink.saves.iter().map(|s| s.serial).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(sink.saves[0].resources[0].status, ResourceStatus::Intent);
}

#[tokio::test]
async fn independent_work_runs_in_parallel_up_to_the_bound() {
    let changes: Vec<ResourceChange> = (0..20)
        .map(|i| change(&format!("k{i}"), Action::Create, &[]))
        .collect();
    let p = plan(changes);
    let provider = Arc::new(MemoryProvider::new(Duration::from_millis(50)));
    let opts = ExecOptions {
        parallelism: 5,
        ..ExecOptions::default()
    };
    let (_, outcome, _, _) = run(&p, provider.clone(), &opts).await;
    assert!(outcome.ok());
    let calls = provider.calls();
    // The most calls under way at one instant (a sweep over starts and ends; an end at the same
    // instant as a start comes first). Counting the calls that overlap one call would overcount: a
    // long call can overlap two batches that never ran together.
    let mut events: Vec<(Duration, i32)> = calls
        .iter()
        .flat_map(|c| [(c.start, 1), (c.end, -1)])
        .collect();
    events.sort();
    let (mut now, mut max_overlap) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        max_overlap = max_overlap.max(now);
    }
    assert!(
        max_overlap <= 5,
        "{max_overlap} calls ran at once with a bound of 5"
    );
    assert!(
        max_overlap >= 4,
        "work did not run in parallel ({max_overlap})"
    );
}

#[tokio::test]
async fn a_failure_stops_its_dependents_only() {
    let p = plan(vec![
        change("a", Action::Create, &[]),
        change("b", Action::Create, &["a"]),
        change("c", Action::Create, &["b"]),
        change("x", Action::Create, &[]),
    ]);
    let mut provider = MemoryProvider::new(Duration::ZERO);
    provider.broken.insert("a".into());
    let (state, outcome, _, events) = run(&p, Arc::new(provider), &ExecOptions::default()).await;
    assert_eq!(outcome.done, ["x"]);
    assert_eq!(outcome.failed.len(), 1);
    assert!(
        outcome.failed[0]
            .1
            .contains("aws.kms.Key a in us-east-1: AccessDenied"),
        "{:?}",
        outcome.failed
    );
    assert_eq!(
        outcome
            .skipped
            .iter()
            .map(|(a, _)| a.as_str())
            .collect::<Vec<_>>(),
        ["b", "c"]
    );
    assert!(
        state.resource("a").is_none(),
        "a failed create leaves no intent behind"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Skipped { address, .. } if address == "c"))
    );
}

/// A value still unknown at apply time (its source recorded without it) is never sent nor
/// written to the state, whose file may hold only known values: the action fails, naming the
/// field, and stops its dependents.
#[tokio::test]
async fn an_attribute_still_unknown_at_apply_time_fails_the_action_and_records_nothing() {
    let mut unknown = change("secret", Action::Create, &["db"]);
    unknown.after = Some(BTreeMap::from([
        ("name".to_string(), Val::Str("db/master".into())),
        ("secret_string".to_string(), Val::Sensitive(None)),
    ]));
    let p = plan(vec![
        change("db", Action::Create, &[]),
        unknown,
        change("rotation", Action::Create, &["secret"]),
    ]);
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    let (state, outcome, sink, _) = run(&p, provider.clone(), &ExecOptions::default()).await;
    assert_eq!(outcome.done, ["db"]);
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    assert!(
        outcome.failed[0].1.contains("`secret_string` is not known")
            && outcome.failed[0].1.contains("carbonc refresh"),
        "{:?}",
        outcome.failed
    );
    assert_eq!(outcome.skipped.len(), 1);
    assert!(provider.calls().iter().all(|c| c.address == "db"));
    for saved in &sink.saves {
        assert!(
            saved
                .resources
                .iter()
                .all(|r| r.attributes.values().all(Val::is_known)),
            "an unknown value was written to the state"
        );
    }
    assert!(state.resource("secret").is_none());
}

#[tokio::test]
async fn throttling_is_retried() {
    let p = plan(vec![change("a", Action::Create, &[])]);
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    provider.flaky("a", 3);
    let opts = ExecOptions {
        backoff_base: Duration::from_millis(1),
        ..ExecOptions::default()
    };
    let (_, outcome, _, events) = run(&p, provider.clone(), &opts).await;
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Retrying { .. }))
            .count(),
        3
    );
    assert_eq!(provider.resources().len(), 1);
}

#[tokio::test]
async fn a_stop_request_finishes_in_flight_work_and_starts_nothing_new() {
    let changes: Vec<ResourceChange> = (0..10)
        .map(|i| change(&format!("k{i}"), Action::Create, &[]))
        .collect();
    let p = plan(changes);
    let provider = Arc::new(MemoryProvider::new(Duration::from_millis(30)));
    let opts = ExecOptions {
        parallelism: 2,
        ..ExecOptions::default()
    };
    let stop = opts.stop.clone();
    let mut sink = Sink::default();
    let mut events = Vec::new();
    let (state, outcome) = execute(
        &p,
        State::new("l".into()),
        provider.clone(),
        &mut sink,
        &mut attrs_of,
        &opts,
        &mut |e| {
            if matches!(e, Event::Finished { .. }) {
                stop.store(true, Ordering::SeqCst);
            }
            events.push(e.clone());
        },
    )
    .await;
    assert!(!outcome.not_started.is_empty());
    // Everything that was created is in the state, and nothing else.
    assert_eq!(
        state
            .resources
            .iter()
            .filter(|r| r.status == ResourceStatus::Created)
            .count(),
        provider.resources().len()
    );
    assert_eq!(outcome.done.len() + outcome.not_started.len(), 10);
}

#[tokio::test]
async fn deletions_run_dependents_first() {
    let mut a = change("a", Action::Delete, &[]);
    let mut b = change("b", Action::Delete, &["a"]);
    a.after = None;
    b.after = None;
    let p = plan(vec![a, b]);
    let provider = Arc::new(MemoryProvider::new(Duration::from_millis(5)));
    let mut state = State::new("l".into());
    for (addr, deps) in [("a", vec![]), ("b", vec!["a".to_string()])] {
        state.resources.push(carbonc_state::ResourceState {
            address: addr.into(),
            ty: "aws.kms.Key".into(),
            region: None,
            id: Some(format!("id-{addr}")),
            status: ResourceStatus::Created,
            attributes: BTreeMap::new(),
            dependencies: deps,
            token: None,
        });
    }
    let mut sink = Sink::default();
    let (state, outcome) = execute(
        &p,
        state,
        provider.clone(),
        &mut sink,
        &mut attrs_of,
        &ExecOptions::default(),
        &mut |_| {},
    )
    .await;
    assert!(outcome.ok());
    assert!(state.resources.is_empty());
    let order: Vec<String> = provider.calls().iter().map(|c| c.address.clone()).collect();
    assert_eq!(order, ["b", "a"]);
}

/// When the parallelism is the limit, what gates the longest chain starts first, whatever its name.
#[tokio::test]
async fn the_longest_chain_starts_first() {
    let p = plan(vec![
        change("a_leaf", Action::Create, &[]),
        change("b_leaf", Action::Create, &[]),
        change("z1", Action::Create, &[]),
        change("z2", Action::Create, &["z1"]),
        change("z3", Action::Create, &["z2"]),
    ]);
    let provider = Arc::new(MemoryProvider::new(Duration::from_millis(2)));
    let opts = ExecOptions {
        parallelism: 1,
        ..ExecOptions::default()
    };
    let (_, outcome, _, _) = run(&p, provider.clone(), &opts).await;
    assert!(outcome.ok(), "{outcome:?}");
    let order: Vec<String> = provider.calls().iter().map(|c| c.address.clone()).collect();
    assert_eq!(order[0], "z1");
}

#[tokio::test]
async fn intents_left_by_a_crash_are_adopted_or_dropped() {
    let provider = MemoryProvider::new(Duration::ZERO);
    let mut state = State::new("lineage-9".into());
    // "made" was created by AWS before the crash; "lost" never was.
    for addr in ["made", "lost"] {
        state.resources.push(carbonc_state::ResourceState {
            address: addr.into(),
            ty: "aws.kms.Key".into(),
            region: Some("us-east-1".into()),
            id: None,
            status: ResourceStatus::Intent,
            attributes: BTreeMap::new(),
            dependencies: vec![],
            token: Some(carbonc_apply::token("lineage-9", addr, 1)),
        });
    }
    let req = carbonc_apply::CreateRequest {
        resource: carbonc_apply::Resolved {
            address: "made".into(),
            ty: "aws.kms.Key".into(),
            region: Some("us-east-1".into()),
            attrs: BTreeMap::new(),
            secrets: BTreeMap::new(),
            refs: BTreeMap::new(),
        },
        tags: BTreeMap::from([
            ("carbon:address".to_string(), "made".to_string()),
            ("carbon:lineage".to_string(), "lineage-9".to_string()),
        ]),
        token: carbonc_apply::token("lineage-9", "made", 1),
    };
    let id = provider.plant(&req);
    let (adopted, dropped) = adopt_intents(&mut state, &provider, Duration::ZERO)
        .await
        .expect("finds");
    assert_eq!(
        (adopted, dropped),
        (vec!["made".to_string()], vec!["lost".to_string()])
    );
    let made = state.resource("made").expect("adopted");
    assert_eq!(made.id.as_deref(), Some(id.as_str()));
    assert_eq!(made.status, ResourceStatus::Created);
    // "lost" stays an intent, so its create is retried with the same token.
    let lost = state.resource("lost").expect("kept");
    assert_eq!(lost.status, ResourceStatus::Intent);
    assert_eq!(
        lost.token.as_deref(),
        Some(carbonc_apply::token("lineage-9", "lost", 1).as_str())
    );
}

#[test]
fn tokens_are_stable_and_short() {
    let t = carbonc_apply::token("l", "db_key[us-east-1]", 3);
    assert_eq!(t, carbonc_apply::token("l", "db_key[us-east-1]", 3));
    assert_ne!(t, carbonc_apply::token("l2", "db_key[us-east-1]", 3));
    assert_ne!(t, carbonc_apply::token("l", "db_key[us-east-1]", 4));
    assert!(t.len() <= 64);
}

/// A resource whose deletion failed is still there, so what it uses must stay too: the key of a
/// secret that could not be deleted is not deleted.
#[tokio::test]
async fn a_failed_delete_keeps_what_it_uses() {
    let mut provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    let create = plan(vec![
        change("key", Action::Create, &[]),
        change("secret", Action::Create, &["key"]),
        change("other", Action::Create, &[]),
    ]);
    let (state, outcome, _, _) = run(&create, provider.clone(), &ExecOptions::default()).await;
    assert!(outcome.ok(), "{outcome:?}");
    Arc::get_mut(&mut provider)
        .expect("no other handle")
        .broken
        .insert("secret".into());
    let delete = |a: &str, deps: &[&str]| ResourceChange {
        before: state.resource(a).map(|r| r.attributes.clone()),
        after: None,
        ..change(a, Action::Delete, deps)
    };
    let destroy = plan(vec![
        delete("key", &[]),
        delete("secret", &["key"]),
        delete("other", &[]),
    ]);
    let mut sink = Sink::default();
    let (state, outcome) = execute(
        &destroy,
        state,
        provider.clone(),
        &mut sink,
        &mut attrs_of,
        &ExecOptions::default(),
        &mut |_| {},
    )
    .await;
    assert_eq!(outcome.done, ["other"]);
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    assert_eq!(
        outcome
            .skipped
            .iter()
            .map(|(a, _)| a.as_str())
            .collect::<Vec<_>>(),
        ["key"]
    );
    assert!(state.resource("key").is_some() && state.resource("secret").is_some());
    assert_eq!(provider.resources().len(), 2);
}

#[tokio::test]
async fn what_an_action_waits_for_reaches_the_caller_with_its_address() {
    let p = plan(vec![
        change("a", Action::Create, &[]),
        change("b", Action::Create, &["a"]),
    ]);
    let provider = Arc::new(MemoryProvider::new(Duration::from_millis(5)));
    let (_, outcome, _, events) = run(&p, provider, &ExecOptions::default()).await;
    assert!(outcome.ok(), "{outcome:?}");
    let waits: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Waiting { address, what } => Some((address.clone(), what.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        waits,
        [
            ("a".to_string(), "create to finish (5 ms)".to_string()),
            ("b".to_string(), "create to finish (5 ms)".to_string())
        ]
    );
    // Reported between the action's start and its end.
    let pos = |f: &dyn Fn(&Event) -> bool| events.iter().position(f).unwrap();
    let started = pos(&|e| matches!(e, Event::Started { address, .. } if address == "b"));
    let waiting = pos(&|e| matches!(e, Event::Waiting { address, .. } if address == "b"));
    let finished = pos(&|e| matches!(e, Event::Finished { address, .. } if address == "b"));
    assert!(started < waiting && waiting < finished, "{events:?}");
}

#[tokio::test]
async fn a_retried_create_whose_first_attempt_acted_makes_no_second_resource() {
    // The first create makes the key and loses the answer (no client token on this API); the
    // retry finds it by its tags and updates it instead of creating another.
    let p = plan(vec![change("a", Action::Create, &[])]);
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    provider.lose_answers("a", 1);
    let opts = ExecOptions {
        backoff_base: Duration::from_millis(1),
        ..ExecOptions::default()
    };
    let (state, outcome, _, _) = run(&p, provider.clone(), &opts).await;
    assert!(outcome.ok(), "{outcome:?}");
    let stored = provider.resources();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let ops: Vec<&str> = provider.calls().iter().map(|c| c.op).collect();
    assert_eq!(ops, ["create", "find", "update"]);
    assert_eq!(
        state.resource("a").and_then(|r| r.id.clone()).as_deref(),
        Some("mem-1")
    );
}

/// Plants `address` in `provider` as an earlier run made it, and returns its state record.
fn existing(
    provider: &MemoryProvider,
    address: &str,
    deps: &[&str],
) -> carbonc_state::ResourceState {
    let req = carbonc_apply::CreateRequest {
        resource: carbonc_apply::Resolved {
            address: address.into(),
            ty: "aws.kms.Key".into(),
            region: Some("us-east-1".into()),
            attrs: BTreeMap::new(),
            secrets: BTreeMap::new(),
            refs: BTreeMap::new(),
        },
        tags: BTreeMap::from([
            (
                "carbon:address".to_string(),
                carbonc_apply::address_tag(address),
            ),
            ("carbon:lineage".to_string(), "lineage-1".to_string()),
        ]),
        token: format!("planted-{address}"),
    };
    let id = provider.plant(&req);
    carbonc_state::ResourceState {
        address: address.into(),
        ty: "aws.kms.Key".into(),
        region: Some("us-east-1".into()),
        id: Some(id),
        status: ResourceStatus::Created,
        attributes: BTreeMap::new(),
        dependencies: deps.iter().map(|d| d.to_string()).collect(),
        token: None,
    }
}

/// `x` replaced create-before-destroy, and `y`, which uses it, updated to the new one.
fn replace_x_used_by_y(
    provider: &MemoryProvider,
    order: carbonc_plan::ReplaceOrder,
) -> (Plan, State) {
    let mut state = State::new("lineage-1".into());
    state.resources.push(existing(provider, "x", &[]));
    state.resources.push(existing(provider, "y", &["x"]));
    let mut x = change("x", Action::Replace, &[]);
    x.replace_order = Some(order);
    x.before = Some(BTreeMap::new());
    let mut y = change("y", Action::Update, &["x"]);
    y.before = Some(BTreeMap::new());
    (plan(vec![x, y]), state)
}

async fn run_from(
    p: &Plan,
    state: State,
    provider: Arc<MemoryProvider>,
) -> (State, carbonc_apply::Outcome, Sink) {
    let mut sink = Sink::default();
    let opts = ExecOptions {
        backoff_base: Duration::from_millis(1),
        ..ExecOptions::default()
    };
    let (state, outcome) = execute(
        p,
        state,
        provider,
        &mut sink,
        &mut attrs_of,
        &opts,
        &mut |_| {},
    )
    .await;
    (state, outcome, sink)
}

#[tokio::test]
async fn create_before_destroy_records_an_intent_and_deletes_the_old_object_after_its_users() {
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    let (p, state) =
        replace_x_used_by_y(&provider, carbonc_plan::ReplaceOrder::CreateBeforeDestroy);
    let old = state.resource("x").and_then(|r| r.id.clone()).unwrap();
    let deposed = carbonc_state::deposed_address("x", &old);
    let (state, outcome, sink) = run_from(&p, state, provider.clone()).await;
    assert!(outcome.ok(), "{outcome:?}");
    // The first write, before any call: the new object's intent, and the old one deposed.
    let first = &sink.saves[0];
    assert_eq!(
        first.resource("x").map(|r| r.status),
        Some(ResourceStatus::Intent)
    );
    assert_eq!(
        first.resource(&deposed).and_then(|r| r.id.clone()),
        Some(old.clone())
    );
    // Create, move the user over, then delete the old object.
    let calls: Vec<(&str, String)> = provider
        .calls()
        .iter()
        .map(|c| (c.op, c.address.clone()))
        .collect();
    assert_eq!(
        calls,
        [
            ("create", "x".to_string()),
            ("update", "y".to_string()),
            ("delete", deposed.clone()),
        ]
    );
    let new = state.resource("x").and_then(|r| r.id.clone()).unwrap();
    assert_ne!(new, old);
    assert!(state.resource(&deposed).is_none(), "{state:?}");
    assert_eq!(provider.resources().len(), 2);
}

#[tokio::test]
async fn a_lost_create_before_destroy_answer_adopts_the_new_object_not_the_old() {
    // The create acts and its answer is lost; the retry looks for `x` by its tags, which the old
    // object carries too. Adopting the old one would have it deleted as deposed.
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    provider.lose_answers("x", 1);
    let (p, state) =
        replace_x_used_by_y(&provider, carbonc_plan::ReplaceOrder::CreateBeforeDestroy);
    let old = state.resource("x").and_then(|r| r.id.clone()).unwrap();
    let (state, outcome, _) = run_from(&p, state, provider.clone()).await;
    assert!(outcome.ok(), "{outcome:?}");
    let new = state.resource("x").and_then(|r| r.id.clone()).unwrap();
    assert_ne!(new, old);
    let stored = provider.resources();
    assert_eq!(stored.len(), 2, "one x and one y: {stored:?}");
    assert!(stored.iter().any(|s| s.address == "x"));
}

#[tokio::test]
async fn a_failed_create_before_destroy_keeps_the_old_object_in_place() {
    let mut provider = MemoryProvider::new(Duration::ZERO);
    provider.broken.insert("x".into());
    let provider = Arc::new(provider);
    let (p, state) =
        replace_x_used_by_y(&provider, carbonc_plan::ReplaceOrder::CreateBeforeDestroy);
    let old = state.resource("x").cloned().unwrap();
    let (state, outcome, _) = run_from(&p, state, provider.clone()).await;
    assert_eq!(outcome.failed.len(), 1, "{outcome:?}");
    // Its user and the deletion of the old object wait for it, so neither ran.
    assert_eq!(outcome.skipped.len(), 2, "{outcome:?}");
    assert_eq!(state.resource("x"), Some(&old));
    assert_eq!(state.resources.len(), 2, "{state:?}");
    assert_eq!(provider.resources().len(), 2);
}

#[tokio::test]
async fn delete_before_create_records_the_intent_between_its_calls() {
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    let (p, state) = replace_x_used_by_y(&provider, carbonc_plan::ReplaceOrder::DeleteBeforeCreate);
    let old = state.resource("x").and_then(|r| r.id.clone()).unwrap();
    let (state, outcome, sink) = run_from(&p, state, provider.clone()).await;
    assert!(outcome.ok(), "{outcome:?}");
    // A write after the delete and before the create: the old object gone, the intent in its place
    // (a crash after the create call is then resolved by finding the new object).
    let between: Vec<&State> = sink
        .saves
        .iter()
        .filter(|s| {
            s.resources
                .iter()
                .filter(|r| r.address.starts_with('x'))
                .map(|r| r.status)
                .collect::<Vec<_>>()
                == [ResourceStatus::Intent]
        })
        .collect();
    assert_eq!(between.len(), 1, "{:?}", sink.saves);
    let ops: Vec<&str> = provider.calls().iter().map(|c| c.op).collect();
    assert_eq!(ops, ["delete", "create", "update"]);
    assert_ne!(state.resource("x").and_then(|r| r.id.clone()).unwrap(), old);
    assert_eq!(provider.resources().len(), 2);
}

#[tokio::test]
async fn a_deposed_object_left_by_a_crash_is_deleted_after_its_successor_exists() {
    // A crash after the deposed write: `x` is an intent nobody found (planned as a create) and the
    // old object waits at its deposed address (planned as a deletion, as the program has no such
    // address).
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    let mut state = State::new("lineage-1".into());
    let mut old = existing(&provider, "x", &[]);
    let deposed = carbonc_state::deposed_address("x", old.id.as_deref().unwrap());
    old.address = deposed.clone();
    state.resources.push(old);
    let mut gone = change(&deposed, Action::Delete, &[]);
    gone.after = None;
    let p = plan(vec![gone, change("x", Action::Create, &[])]);
    let (state, outcome, _) = run_from(&p, state, provider.clone()).await;
    assert!(outcome.ok(), "{outcome:?}");
    let calls: Vec<(&str, String)> = provider
        .calls()
        .iter()
        .map(|c| (c.op, c.address.clone()))
        .collect();
    assert_eq!(
        calls,
        [("create", "x".to_string()), ("delete", deposed.clone())]
    );
    assert_eq!(
        state
            .resources
            .iter()
            .map(|r| r.address.as_str())
            .collect::<Vec<_>>(),
        ["x"]
    );
}
