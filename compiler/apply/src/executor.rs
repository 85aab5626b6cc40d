//! The executor: a plan's actions, in dependency order, in parallel, with state recorded after
//! every one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use carbonc_plan::{Action, Plan, ReplaceOrder, ResourceChange};
use carbonc_state::{ResourceState, ResourceStatus, State, Val, deposed_address, deposed_base};
use rustc_hash::FxHashMap as HashMap;
use tokio::task::JoinSet;

use crate::provider::{
    CreateRequest, DeleteRequest, FindRequest, Found, Provider, ProviderError, ReadRequest,
    Resolved, UpdateRequest,
};

/// Where the executor records state: after every intent and every finished action.
pub trait StateSink {
    fn save(&mut self, state: &State) -> Result<(), String>;
}

#[derive(Clone)]
pub struct ExecOptions {
    pub parallelism: usize,
    /// Set (by Ctrl-C) to stop starting actions; in-flight ones finish.
    pub stop: Arc<AtomicBool>,
    /// Attempts per call for retryable errors (throttling, 5xx, connections), with jittered
    /// exponential backoff from `backoff_base`.
    pub attempts: u32,
    pub backoff_base: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            parallelism: 32,
            stop: Arc::new(AtomicBool::new(false)),
            attempts: 8,
            backoff_base: Duration::from_millis(250),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Started {
        address: String,
        action: Action,
    },
    Retrying {
        address: String,
        attempt: u32,
        error: String,
    },
    Finished {
        address: String,
        action: Action,
        elapsed: Duration,
    },
    Adopted {
        address: String,
        id: String,
    },
    /// The action is under way and waits for AWS (see [`crate::waiting`]).
    Waiting {
        address: String,
        what: String,
    },
    Failed {
        address: String,
        error: String,
    },
    Skipped {
        address: String,
        because: String,
    },
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<(String, String)>,
    /// Not started because of a stop request.
    pub not_started: Vec<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.not_started.is_empty()
    }
}

/// The idempotency token of one attempt to create `address`: recorded with the intent, so a retry
/// after a crash sends the same one, while a later create of the same address (after a destroy)
/// gets another (`attempt` is the state serial when the intent was recorded). At most 64
/// characters.
pub fn token(lineage: &str, address: &str, attempt: u64) -> String {
    // FNV-1a over both, twice with different seeds, as 32 hex digits: stable across runs and
    // platforms, short enough for every AWS client token field.
    let fnv = |seed: u64| {
        let mut h = seed;
        let attempt = attempt.to_le_bytes();
        for b in lineage
            .bytes()
            .chain([0])
            .chain(address.bytes())
            .chain([0])
            .chain(attempt)
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h
    };
    format!(
        "carbon-{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

pub(crate) async fn with_retries<T, F, Fut>(
    opts: &ExecOptions,
    address: &str,
    events: &tokio::sync::mpsc::UnboundedSender<Event>,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 0;
    let mut seed =
        Instant::now().elapsed().as_nanos() as u64 ^ address.len() as u64 ^ 0x9E37_79B9_7F4A_7C15;
    loop {
        match call().await {
            Err(ProviderError::Retryable { code, message }) if attempt + 1 < opts.attempts => {
                attempt += 1;
                let _ = events.send(Event::Retrying {
                    address: address.to_string(),
                    attempt,
                    error: format!("{code}: {message}"),
                });
                // Full jitter: a random delay up to base * 2^attempt, capped at 20 s.
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let cap = (opts.backoff_base.as_millis() as u64)
                    .saturating_mul(1 << attempt.min(16))
                    .min(20_000);
                tokio::time::sleep(Duration::from_millis(seed % cap.max(1))).await;
            }
            other => return other,
        }
    }
}

/// A create, retried where that is safe. A failed attempt may still have made the resource: a
/// create of several calls that failed after the first (a security group whose rules were
/// throttled), or an answer lost after AWS acted, on an API without client tokens. So every retry
/// first looks for the resource by its tags and token, and when it is there brings it to the
/// desired attributes with an update instead of making a second one.
async fn create_once<P: Provider>(
    provider: &P,
    opts: &ExecOptions,
    events: &tokio::sync::mpsc::UnboundedSender<Event>,
    lineage: &str,
    req: &CreateRequest,
    exclude: &[String],
) -> Result<Found, ProviderError> {
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let r = &req.resource;
    // What an earlier attempt made, found by its tags or token (not a deposed predecessor), and
    // brought to the desired attributes.
    let adopt = || async {
        let find = FindRequest {
            address: r.address.clone(),
            ty: r.ty.clone(),
            region: r.region.clone(),
            lineage: lineage.to_string(),
            token: req.token.clone(),
            attrs: r.attrs.clone(),
            exclude: exclude.to_vec(),
        };
        match provider.find(find).await {
            Ok(Some(found)) => provider
                .update(UpdateRequest {
                    id: found.id,
                    before: found.attrs,
                    resource: r.clone(),
                })
                .await
                .map(Some),
            Ok(None) | Err(ProviderError::Unsupported { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    };
    with_retries(opts, &r.address, events, || async {
        if attempts.fetch_add(1, Ordering::SeqCst) > 0
            && let Some(found) = adopt().await?
        {
            return Ok(found);
        }
        match provider.create(req.clone()).await {
            // The name is taken. By this create's own earlier call, whose answer was lost and
            // which the SDK sent again: adopt it. By anything else: leave it alone, and say so.
            Err(e) if provider.name_taken(&r.ty, &e) => match adopt().await? {
                Some(found) => Ok(found),
                None => Err(match e {
                    ProviderError::Permanent { code, message } => ProviderError::Permanent {
                        code,
                        message: format!(
                            "{message} (it does not carry this address's carbon tags, so carbonc \
                             leaves it alone: give this resource another name, or bring the \
                             existing one under carbonc with `carbonc import`)"
                        ),
                    },
                    e => e,
                }),
            },
            other => other,
        }
    })
    .await
}

/// A task's request to the executor to record state before it goes on, answered with whether
/// the state was saved.
struct Checkpoint {
    address: String,
    ack: tokio::sync::oneshot::Sender<bool>,
}

/// What a finished task reports.
enum Done {
    Created(Found),
    Updated(Found),
    Replaced(Found),
    Deleted,
    Read(Found),
}

/// Whether `c` must wait for `other` (both actions of one run).
fn waits_for(c: &ResourceChange, other: &ResourceChange) -> bool {
    if c.address == other.address {
        return false;
    }
    if c.action != Action::Delete {
        return c.depends_on.contains(&other.address);
    }
    // A deposed object (the old half of a create-before-destroy replacement) goes last: after its
    // successor exists and everything that used it has moved to the successor.
    if let Some(base) = deposed_base(&c.address)
        && (other.address == base
            || (other.action != Action::Delete && other.depends_on.iter().any(|d| d == base)))
    {
        return true;
    }
    // Delete dependents first: whatever (still to be deleted) depends on `c`.
    other.action == Action::Delete && other.depends_on.contains(&c.address)
}

/// The addresses `v` refers to ([`Val::Ref`]), at any depth.
fn referenced<'v>(v: &'v Val, out: &mut BTreeSet<&'v str>) {
    match v {
        Val::Ref(a) => {
            out.insert(a);
        }
        Val::List(items) => items.iter().for_each(|i| referenced(i, out)),
        Val::Map(m) => m.values().for_each(|i| referenced(i, out)),
        _ => {}
    }
}

/// Where each address's record is in `state.resources`, kept by the executor as it records, so
/// that finding, replacing and removing one record does not scan the state (an apply of n
/// resources records 2n times). Replacing keeps a record's place; removing moves the last record
/// into the gap.
struct Records {
    at: HashMap<String, usize>,
}

impl Records {
    fn new(state: &State) -> Records {
        let mut r = Records {
            at: HashMap::default(),
        };
        r.rebuild(state);
        r
    }

    /// After changes made without it (rare: renames of deposed objects).
    fn rebuild(&mut self, state: &State) {
        self.at.clear();
        for (i, r) in state.resources.iter().enumerate() {
            self.at.entry(r.address.clone()).or_insert(i);
        }
    }

    fn get<'s>(&self, state: &'s State, address: &str) -> Option<&'s ResourceState> {
        self.at.get(address).map(|&i| &state.resources[i])
    }

    /// `record` becomes the state's record of its address.
    fn put(&mut self, state: &mut State, record: ResourceState) {
        match self.at.get(&record.address) {
            Some(&i) => state.resources[i] = record,
            None => {
                self.at
                    .insert(record.address.clone(), state.resources.len());
                state.resources.push(record);
            }
        }
    }

    /// The state no longer records `address`.
    fn remove(&mut self, state: &mut State, address: &str) {
        let Some(i) = self.at.remove(address) else {
            return;
        };
        state.resources.swap_remove(i);
        if let Some(moved) = state.resources.get(i) {
            self.at.insert(moved.address.clone(), i);
        }
    }
}

/// Who waits for whom among the actions of one run ([`waits_for`] over every pair), built from
/// the reverse of `depends_on` in linear time, and the actions still to finish with how many of
/// their blockers are still to finish, so that the ready ones are known without a scan. Actions
/// are numbered in address order; the bookkeeping is by number (no string is compared or hashed
/// after [`Todo::new`] but to find an address's number).
struct Todo {
    /// Each action's address, by number (in address order).
    names: Vec<String>,
    /// Each address's number.
    index: HashMap<String, usize>,
    /// Whether each action is still to finish (ready, running or blocked).
    left: Vec<bool>,
    /// For each action, the actions that wait for it.
    waited_by: Vec<Vec<usize>>,
    /// For each action still to finish, how many actions it waits for are still to finish.
    pending: Vec<usize>,
    /// The actions still to finish that wait for nothing (running ones included), the longest
    /// chain of work behind them first ([`Todo::chain_lengths`]), then by address (number).
    ready: BTreeSet<(std::cmp::Reverse<usize>, usize)>,
    /// Each action's chain length.
    rank: Vec<usize>,
}

impl Todo {
    fn new(changes: &BTreeMap<String, &ResourceChange>) -> Todo {
        let names: Vec<String> = changes.keys().cloned().collect();
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, a)| (a.clone(), i))
            .collect();
        // What depends on each address (one of the actions or not).
        let mut dependents: HashMap<&str, Vec<usize>> = HashMap::default();
        for (i, c) in changes.values().enumerate() {
            for d in &c.depends_on {
                dependents.entry(d.as_str()).or_default().push(i);
            }
        }
        let users = |of: &str| dependents.get(of).into_iter().flatten().copied();
        let mut waited_by: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
        let mut pending = vec![0; names.len()];
        for (i, (a, c)) in changes.iter().enumerate() {
            let mut blockers: Vec<usize> = Vec::new();
            if c.action != Action::Delete {
                blockers.extend(c.depends_on.iter().filter_map(|d| index.get(d).copied()));
            } else {
                if let Some(base) = deposed_base(a) {
                    blockers.extend(index.get(base).copied());
                    blockers.extend(
                        users(base).filter(|&o| changes[&names[o]].action != Action::Delete),
                    );
                }
                blockers.extend(users(a).filter(|&o| changes[&names[o]].action == Action::Delete));
            }
            blockers.sort_unstable();
            blockers.dedup();
            blockers.retain(|&b| b != i);
            debug_assert!(
                changes
                    .values()
                    .all(|o| waits_for(c, o) == blockers.contains(&index[&o.address])),
                "{a}"
            );
            for &b in &blockers {
                waited_by[b].push(i);
            }
            pending[i] = blockers.len();
        }
        let mut todo = Todo {
            left: vec![true; names.len()],
            names,
            index,
            waited_by,
            pending,
            ready: BTreeSet::new(),
            rank: Vec::new(),
        };
        todo.rank = todo.chain_lengths();
        todo.ready = (0..todo.names.len())
            .filter(|&i| todo.pending[i] == 0)
            .map(|i| (std::cmp::Reverse(todo.rank[i]), i))
            .collect();
        todo
    }

    /// The ready actions' addresses, in the order they should start.
    fn ready(&self) -> impl Iterator<Item = &str> {
        self.ready.iter().map(|&(_, i)| self.names[i].as_str())
    }

    /// The number of the action at address `a` (its place in address order).
    fn number(&self, a: &str) -> usize {
        self.index[a]
    }

    /// `a` finished, failed or was skipped: what waited only for it becomes ready.
    fn remove(&mut self, a: &str) -> bool {
        let Some(&i) = self.index.get(a) else {
            return false;
        };
        if !std::mem::replace(&mut self.left[i], false) {
            return false;
        }
        self.ready.remove(&(std::cmp::Reverse(self.rank[i]), i));
        for &w in &self.waited_by[i] {
            self.pending[w] -= 1;
            if self.pending[w] == 0 && self.left[w] {
                self.ready.insert((std::cmp::Reverse(self.rank[w]), w));
            }
        }
        true
    }

    /// The actions still to finish that wait for `a`.
    fn waiting_for(&self, a: &str) -> Vec<String> {
        let Some(&i) = self.index.get(a) else {
            return Vec::new();
        };
        self.waited_by[i]
            .iter()
            .filter(|&&w| self.left[w])
            .map(|&w| self.names[w].clone())
            .collect()
    }

    /// The actions still to finish, in address order.
    fn left(&self) -> Vec<String> {
        (0..self.names.len())
            .filter(|&i| self.left[i])
            .map(|i| self.names[i].clone())
            .collect()
    }

    /// For every action, the length of the longest chain of actions that wait for it (itself
    /// included): the executor's priority.
    fn chain_lengths(&self) -> Vec<usize> {
        // Depth-first without recursion (a long chain must not overflow the stack); a cycle cannot
        // be scheduled anyway, and must not hang the ranking.
        let n = self.names.len();
        let mut memo: Vec<Option<usize>> = vec![None; n];
        let mut on_path = vec![false; n];
        for start in 0..n {
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            while let Some((a, next)) = stack.pop() {
                if next == 0 {
                    if memo[a].is_some() {
                        continue;
                    }
                    on_path[a] = true;
                }
                let waiting = &self.waited_by[a];
                if let Some(&w) = waiting.get(next) {
                    stack.push((a, next + 1));
                    if memo[w].is_none() && !on_path[w] {
                        stack.push((w, 0));
                    }
                    continue;
                }
                let below = waiting
                    .iter()
                    .map(|&w| memo[w].unwrap_or(0))
                    .max()
                    .unwrap_or(0);
                on_path[a] = false;
                memo[a] = Some(below + 1);
            }
        }
        memo.into_iter().map(|m| m.unwrap_or(1)).collect()
    }
}

/// Carries out `plan` against `state` with `provider`, saving state through `sink`. `resolve` gives
/// the final attributes of a resource about to be created or updated, from the state as it is then
/// (values that were "known after apply" in the plan are known by now).
pub async fn execute<P: Provider>(
    plan: &Plan,
    mut state: State,
    provider: Arc<P>,
    sink: &mut dyn StateSink,
    resolve: &mut dyn FnMut(&ResourceChange, &State) -> Result<crate::ResolvedAttrs, String>,
    opts: &ExecOptions,
    on_event: &mut dyn FnMut(&Event),
) -> (State, Outcome) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    // A replacement deleting first asks here, between its delete and its create, for the intent
    // of the create to be recorded.
    let (checkpoint_tx, mut checkpoints) = tokio::sync::mpsc::unbounded_channel::<Checkpoint>();
    let mut outcome = Outcome::default();
    // The deletion of each create-before-destroy replacement's old object, as an action of its
    // own at the deposed address (see `waits_for` for when it runs).
    let deposals: Vec<ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| {
            c.action == Action::Replace
                && c.replace_order == Some(ReplaceOrder::CreateBeforeDestroy)
        })
        .filter_map(|c| {
            let prior = state.resource(&c.address)?;
            Some(ResourceChange {
                address: deposed_address(&c.address, prior.id.as_deref()?),
                action: Action::Delete,
                replace_order: None,
                replace_reasons: Vec::new(),
                before: Some(prior.attributes.clone()),
                after: None,
                depends_on: prior.dependencies.clone(),
                ..c.clone()
            })
        })
        .collect();
    let changes: BTreeMap<String, &ResourceChange> = plan
        .resource_changes
        .iter()
        .chain(&deposals)
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c))
        .collect();
    let mut intents_pending: BTreeMap<String, ResourceState> = BTreeMap::new();
    // Intents that this plan does not create again are history: nothing was found for them (see
    // `adopt_intents`) and the program no longer has them.
    state.resources.retain(|r| {
        r.status != ResourceStatus::Intent
            || changes
                .get(&r.address)
                .is_some_and(|c| c.action == Action::Create)
    });
    let mut todo = Todo::new(&changes);
    // The actions by number, so that finding one is not a search of `changes` by address.
    let by_number: Vec<&ResourceChange> = changes.values().copied().collect();
    let mut records = Records::new(&state);
    // Whether the state holds deposed objects (the old halves of create-before-destroy
    // replacements): only then does a create look past them, and they are rare.
    let mut any_deposed = state
        .resources
        .iter()
        .any(|r| deposed_base(&r.address).is_some());
    let mut running: BTreeSet<String> = BTreeSet::new();
    let mut tasks: JoinSet<(String, Action, Instant, Result<Done, ProviderError>)> = JoinSet::new();
    let save = |state: &mut State, sink: &mut dyn StateSink, outcome: &mut Outcome| {
        state.serial += 1;
        if let Err(e) = sink.save(state) {
            outcome.failed.push(("(state)".into(), e));
            return false;
        }
        true
    };
    // A resource some dependency of which failed is skipped, and so are its dependents.
    let fail_dependents =
        |failed: &str, todo: &mut Todo, outcome: &mut Outcome, on_event: &mut dyn FnMut(&Event)| {
            let mut frontier = vec![failed.to_string()];
            while let Some(f) = frontier.pop() {
                // What waits for `f`: what depends on it, or, for deletions, what it depends on (a
                // resource is deleted only after everything that uses it is gone).
                for d in todo.waiting_for(&f) {
                    todo.remove(&d);
                    let because = format!("`{f}` failed");
                    on_event(&Event::Skipped {
                        address: d.clone(),
                        because: because.clone(),
                    });
                    outcome.skipped.push((d.clone(), because));
                    frontier.push(d);
                }
            }
        };
    loop {
        // Start everything that is ready, up to the parallelism.
        if !opts.stop.load(Ordering::SeqCst) {
            // Longest chain of work behind it first (`Todo::ready` is in that order): when the
            // parallelism is the limit, the resources that gate the most (a VPC before an EKS
            // cluster) go before the leaves.
            let mut tried: BTreeSet<String> = BTreeSet::new();
            while running.len() < opts.parallelism {
                let Some(address) = todo
                    .ready()
                    .find(|a| !running.contains(*a) && !tried.contains(*a))
                    .map(str::to_string)
                else {
                    break;
                };
                tried.insert(address.clone());
                let c = by_number[todo.number(&address)];
                let resolved = if matches!(
                    c.action,
                    Action::Create | Action::Update | Action::Replace | Action::Read
                ) {
                    // A value still unknown at apply time (a dependency recorded without the
                    // attribute it is read from) cannot be sent, nor recorded: the state holds
                    // only known values.
                    let resolved = resolve(c, &state).and_then(|(attrs, secrets)| {
                        match attrs.iter().find(|(_, v)| !v.is_known()) {
                            Some((field, _)) => Err(format!(
                                "`{field}` is not known: it is computed from a resource whose \
                                 recorded attributes lack it; run `carbonc refresh` to read them \
                                 from the cloud, then apply again"
                            )),
                            None => Ok((attrs, secrets)),
                        }
                    });
                    match resolved {
                        Ok((attrs, secrets)) => Some(Resolved {
                            secrets,
                            address: c.address.clone(),
                            ty: c.ty.clone(),
                            region: c.region.clone(),
                            // Only what the attributes refer to: a dependency through a value
                            // (an ARN in a policy) is in `attrs` already.
                            refs: {
                                let mut named = BTreeSet::new();
                                attrs.values().for_each(|v| referenced(v, &mut named));
                                named
                                    .into_iter()
                                    .filter_map(|d| {
                                        records.get(&state, d).cloned().map(|r| (d.to_string(), r))
                                    })
                                    .collect()
                            },
                            attrs,
                        }),
                        Err(e) => {
                            todo.remove(&address);
                            on_event(&Event::Failed {
                                address: address.clone(),
                                error: e.clone(),
                            });
                            outcome.failed.push((address.clone(), e));
                            fail_dependents(&address, &mut todo, &mut outcome, on_event);
                            continue;
                        }
                    }
                } else {
                    None
                };
                let prior = records.get(&state, &address).cloned();
                // The intent's token when retrying an interrupted create, a new one otherwise.
                let tok = match &prior {
                    Some(p) if p.status == ResourceStatus::Intent && p.token.is_some() => {
                        p.token.clone().unwrap_or_default()
                    }
                    _ => token(&state.lineage, &address, state.serial),
                };
                // Intent first: a crash after the create call but before the result is recorded
                // leaves a record that the next run resolves by looking the resource up.
                let intent = ResourceState {
                    address: address.clone(),
                    ty: c.ty.clone(),
                    region: c.region.clone(),
                    id: None,
                    status: ResourceStatus::Intent,
                    attributes: resolved
                        .as_ref()
                        .map(|r| r.attrs.clone())
                        .unwrap_or_default(),
                    dependencies: c.depends_on.clone(),
                    token: Some(tok.clone()),
                };
                match (c.action, c.replace_order) {
                    (Action::Create, _) => {
                        records.put(&mut state, intent);
                        if !save(&mut state, sink, &mut outcome) {
                            return (state, outcome);
                        }
                    }
                    // Create before destroy: the old object becomes deposed, in the same write as
                    // the new one's intent, so a crash at any point leaves both findable.
                    (Action::Replace, Some(ReplaceOrder::CreateBeforeDestroy)) => {
                        any_deposed = true;
                        for r in state.resources.iter_mut() {
                            if r.address == address
                                && let Some(id) = &r.id
                            {
                                r.address = deposed_address(&address, id);
                            }
                        }
                        state.resources.push(intent);
                        records.rebuild(&state);
                        if !save(&mut state, sink, &mut outcome) {
                            return (state, outcome);
                        }
                    }
                    // Delete before create: the intent replaces the old object once it is gone
                    // (a `Checkpoint` from the task).
                    (Action::Replace, _) => {
                        intents_pending.insert(address.clone(), intent);
                    }
                    _ => {}
                }
                // Objects with this address's tags that are not the one a create looks for.
                let exclude = if any_deposed {
                    state.deposed_ids(&address)
                } else {
                    Vec::new()
                };
                on_event(&Event::Started {
                    address: address.clone(),
                    action: c.action,
                });
                running.insert(address.clone());
                let provider = provider.clone();
                let opts2 = opts.clone();
                let tx = tx.clone();
                let action = c.action;
                let order = c.replace_order;
                let lineage = state.lineage.clone();
                let checkpoint_tx = checkpoint_tx.clone();
                let c_address = c.address.clone();
                let c_ty = c.ty.clone();
                let c_region = c.region.clone();
                let reporter = crate::progress::Reporter {
                    address: c_address.clone(),
                    events: tx.clone(),
                };
                tasks.spawn(crate::progress::REPORTER.scope(reporter, async move {
                    let start = Instant::now();
                    let mut tags = BTreeMap::new();
                    tags.insert(
                        "carbon:address".to_string(),
                        crate::provider::address_tag(&c_address),
                    );
                    tags.insert("carbon:lineage".to_string(), lineage.clone());
                    let delete_req = |p: &ResourceState| DeleteRequest {
                        address: c_address.clone(),
                        ty: p.ty.clone(),
                        region: p.region.clone(),
                        id: p.id.clone().unwrap_or_default(),
                        attrs: p.attributes.clone(),
                    };
                    let create = |r: Resolved| CreateRequest {
                        resource: r,
                        tags: tags.clone(),
                        token: tok.clone(),
                    };
                    let result = match action {
                        Action::Create => {
                            let r = resolved.expect("resolved for creates");
                            let req = create(r);
                            create_once(&*provider, &opts2, &tx, &lineage, &req, &exclude)
                                .await
                                .map(Done::Created)
                        }
                        Action::Update => {
                            let r = resolved.expect("resolved for updates");
                            let p = prior.expect("an update has a prior state");
                            with_retries(&opts2, &c_address, &tx, || {
                                provider.update(UpdateRequest {
                                    id: p.id.clone().unwrap_or_default(),
                                    before: p.attributes.clone(),
                                    resource: r.clone(),
                                })
                            })
                            .await
                            .map(Done::Updated)
                        }
                        Action::Replace => {
                            let r = resolved.expect("resolved for replacements");
                            let p = prior.expect("a replacement has a prior state");
                            let req = create(r);
                            if order == Some(ReplaceOrder::CreateBeforeDestroy) {
                                // The old object is deleted later, as its own action.
                                create_once(&*provider, &opts2, &tx, &lineage, &req, &exclude)
                                    .await
                                    .map(Done::Replaced)
                            } else {
                                match with_retries(&opts2, &c_address, &tx, || {
                                    provider.delete(delete_req(&p))
                                })
                                .await
                                {
                                    Ok(()) => {
                                        let (ack, recorded) = tokio::sync::oneshot::channel();
                                        let asked = checkpoint_tx.send(Checkpoint {
                                            address: c_address.clone(),
                                            ack,
                                        });
                                        if asked.is_ok() && recorded.await == Ok(true) {
                                            create_once(
                                                &*provider, &opts2, &tx, &lineage, &req, &exclude,
                                            )
                                            .await
                                            .map(Done::Replaced)
                                        } else {
                                            Err(ProviderError::Permanent {
                                                code: "StateNotSaved".into(),
                                                message: "the state could not be saved after \
                                                          the old object was deleted, so the \
                                                          new one was not created"
                                                    .into(),
                                            })
                                        }
                                    }
                                    Err(e) => Err(e),
                                }
                            }
                        }
                        Action::Delete => match prior {
                            Some(p) => with_retries(&opts2, &c_address, &tx, || {
                                provider.delete(delete_req(&p))
                            })
                            .await
                            .map(|_| Done::Deleted),
                            // Nothing recorded (a deposed object whose replacement put it back).
                            None => Ok(Done::Deleted),
                        },
                        Action::Read => {
                            let r = resolved.expect("resolved for reads");
                            let id = match r.attrs.get("arn") {
                                Some(Val::Str(s)) => s.clone(),
                                _ => String::new(),
                            };
                            let req = ReadRequest {
                                address: c_address.clone(),
                                ty: c_ty.clone(),
                                region: c_region.clone(),
                                id,
                                attrs: r.attrs.clone(),
                            };
                            match with_retries(&opts2, &c_address, &tx, || {
                                provider.read(req.clone())
                            })
                            .await
                            {
                                Ok(Some(found)) => Ok(Done::Read(found)),
                                Ok(None) => Err(ProviderError::Permanent {
                                    code: "NotFound".into(),
                                    message: format!("`{c_address}` does not exist"),
                                }),
                                Err(e) => Err(e),
                            }
                        }
                        Action::NoOp => unreachable!("no-ops are not scheduled"),
                    };
                    (c_address, action, start, result)
                }));
            }
        }
        while let Ok(e) = rx.try_recv() {
            on_event(&e);
        }
        if running.is_empty() {
            break;
        }
        // Wait for the next task, relaying retry events meanwhile.
        let joined = loop {
            tokio::select! {
                j = tasks.join_next() => break j,
                Some(e) = rx.recv() => on_event(&e),
                Some(cp) = checkpoints.recv() => {
                    // The old object is gone: the new one's intent takes its place.
                    records.remove(&mut state, &cp.address);
                    if let Some(intent) = intents_pending.remove(&cp.address) {
                        records.put(&mut state, intent);
                    }
                    let saved = save(&mut state, sink, &mut outcome);
                    let _ = cp.ack.send(saved);
                }
            }
        };
        let Some(joined) = joined else { break };
        let (address, action, start, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                outcome.failed.push((
                    "(task)".into(),
                    format!("this is a bug in carbonc; please report it: {e}"),
                ));
                continue;
            }
        };
        running.remove(&address);
        todo.remove(&address);
        let c = by_number[todo.number(&address)];
        match result {
            Ok(done) => {
                let record = |found: Found| ResourceState {
                    address: address.clone(),
                    ty: c.ty.clone(),
                    region: c.region.clone(),
                    id: Some(found.id),
                    status: ResourceStatus::Created,
                    attributes: found.attrs,
                    dependencies: c.depends_on.clone(),
                    token: None,
                };
                match done {
                    Done::Created(f) | Done::Updated(f) | Done::Replaced(f) | Done::Read(f) => {
                        records.put(&mut state, record(f))
                    }
                    Done::Deleted => records.remove(&mut state, &address),
                }
                if !save(&mut state, sink, &mut outcome) {
                    return (state, outcome);
                }
                on_event(&Event::Finished {
                    address: address.clone(),
                    action,
                    elapsed: start.elapsed(),
                });
                outcome.done.push(address);
            }
            Err(e) => {
                // A create that failed leaves no resource: drop its intent. A create-before-destroy
                // replacement's old object stays where it was.
                if matches!(action, Action::Create | Action::Replace) {
                    state
                        .resources
                        .retain(|r| r.address != address || r.status != ResourceStatus::Intent);
                    if state.resource(&address).is_none() {
                        for r in state.resources.iter_mut() {
                            if deposed_base(&r.address) == Some(address.as_str())
                                && changes.contains_key(&r.address)
                            {
                                r.address = address.clone();
                                break;
                            }
                        }
                    }
                    records.rebuild(&state);
                    if !save(&mut state, sink, &mut outcome) {
                        return (state, outcome);
                    }
                }
                let region = c.region.clone().unwrap_or_else(|| "global".into());
                let error = format!("{} {} in {region}: {e}", c.ty, address);
                on_event(&Event::Failed {
                    address: address.clone(),
                    error: error.clone(),
                });
                outcome.failed.push((address.clone(), error));
                fail_dependents(&address, &mut todo, &mut outcome, on_event);
            }
        }
    }
    outcome.not_started = todo.left();
    (state, outcome)
}

/// Resolves the intents a crashed or interrupted apply left in `state`: each is looked up by its
/// tags and token; found ones are adopted as created. Missing ones stay intents, which plans treat
/// as absent: the next create of that address sends the intent's token again, so a create that
/// AWS finishes late is not made twice where the API takes a token. Returns the addresses adopted
/// and not found.
///
/// A create sent just before a crash may still be landing when the next run starts (AWS finishes
/// a request whose connection was cut), so intents not found are looked for once more after
/// `settle`.
pub async fn adopt_intents<P: Provider>(
    state: &mut State,
    provider: &P,
    settle: Duration,
) -> Result<(Vec<String>, Vec<String>), ProviderError> {
    let mut adopted = Vec::new();
    let mut missing = find_intents(state, provider, &mut adopted).await?;
    if !missing.is_empty() && !settle.is_zero() {
        tokio::time::sleep(settle).await;
        missing = find_intents(state, provider, &mut adopted).await?;
    }
    Ok((adopted, missing))
}

/// One pass of [`adopt_intents`]: adopts what is found, returns the addresses not found.
async fn find_intents<P: Provider>(
    state: &mut State,
    provider: &P,
    adopted: &mut Vec<String>,
) -> Result<Vec<String>, ProviderError> {
    let mut dropped = Vec::new();
    let intents: Vec<ResourceState> = state
        .resources
        .iter()
        .filter(|r| r.status == ResourceStatus::Intent)
        .cloned()
        .collect();
    for r in intents {
        let req = FindRequest {
            address: r.address.clone(),
            ty: r.ty.clone(),
            region: r.region.clone(),
            lineage: state.lineage.clone(),
            token: r
                .token
                .clone()
                .unwrap_or_else(|| token(&state.lineage, &r.address, 0)),
            attrs: r.attributes.clone(),
            exclude: state.deposed_ids(&r.address),
        };
        let Some(f) = provider.find(req).await? else {
            dropped.push(r.address);
            continue;
        };
        state.resources.retain(|x| x.address != r.address);
        {
            {
                state.resources.push(ResourceState {
                    id: Some(f.id),
                    status: ResourceStatus::Created,
                    attributes: f.attrs,
                    token: None,
                    ..r.clone()
                });
                adopted.push(r.address);
            }
        }
    }
    Ok(dropped)
}
