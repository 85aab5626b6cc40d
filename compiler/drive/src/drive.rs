//! Making a plan: check the program, then plan against the state, feeding the state's computed
//! values back into evaluation until the set of resources being (re)created is stable.
//!
//! First every computed attribute in state is assumed to stay as it is. Resources that the plan
//! then creates or replaces get new computed values, so theirs are withdrawn and the program is
//! evaluated again; this can only withdraw more, so it ends (in practice after one or two rounds).

use std::collections::{BTreeMap, BTreeSet};

use carbonc_diagnostics::{Diagnostic, Label};
use carbonc_sema::{
    Db, InstanceResolver, RootDatabase, SourceFile, Value, catalog, check_program,
    evaluate_program, program_files, resource_graph,
};
use carbonc_state::{ResourceState, SecretKey, State, Val};
use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};

use carbonc_plan::{
    Action, OutputChange, PLAN_FORMAT_VERSION, Plan, RegionRef, ResourceChange, StateRef, Summary,
    plan_changes,
};

use crate::lower::{from_val, lower, lower_instance, to_val};

pub struct PlanRequest<'a> {
    pub root: SourceFile,
    pub state: Option<&'a State>,
    pub key: &'a SecretKey,
}

/// Why there is no plan: the program's diagnostics (errors, and the warnings that came with them).
pub type PlanError = Vec<Diagnostic>;

fn known_from_state(
    db: &RootDatabase,
    state: Option<&State>,
    except: &BTreeSet<String>,
) -> BTreeMap<String, BTreeMap<String, Value>> {
    let cat = catalog(db);
    let mut out = BTreeMap::new();
    for r in state.map(|s| s.resources.as_slice()).unwrap_or_default() {
        if except.contains(&r.address) {
            continue;
        }
        let attrs = known_attrs(cat, r);
        if !attrs.is_empty() {
            out.insert(r.address.clone(), attrs);
        }
    }
    out
}

/// The computed attributes of a resource in state, as language values.
fn known_attrs(cat: &carbonc_sema::Catalog, r: &ResourceState) -> BTreeMap<String, Value> {
    let Some(schema) = cat.resources.get(&r.ty) else {
        return BTreeMap::new();
    };
    schema
        .fields
        .iter()
        .filter(|f| f.computed)
        .filter_map(|f| Some((f.name.clone(), from_val(r.attributes.get(&f.name)?)?)))
        .collect()
}

fn digest_sources(db: &dyn Db, root: SourceFile) -> String {
    let mut h = Sha256::new();
    for f in program_files(db, root) {
        h.update(f.path(db).as_bytes());
        h.update([0]);
        h.update(f.text(db).as_bytes());
        h.update([0]);
    }
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    format!(
        "sha256:{}",
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn program_diagnostics(db: &RootDatabase, root: SourceFile) -> Vec<Diagnostic> {
    carbonc_sema::warm(db, root);
    let mut diags = check_program(db, root).clone();
    let program = evaluate_program(db, root);
    let path = root.path(db).clone();
    for (name, file, span) in &program.missing_params {
        diags.push(
            Diagnostic::error("E0114", format!("No value for parameter `{name}`"), Label::new(file, *span, "declared without a default"))
                .with_help(format!("pass `--var {name}=...`, put `{name} = ...` in a `--var-file`, or set `CARBON_VAR_{name}`")),
        );
    }
    let declared: Vec<(String, carbonc_diagnostics::Span)> = carbonc_sema::parse_file(db, root)
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            carbonc_sema::syntax::ast::ItemKind::Param { name, .. } => {
                Some((name.text.clone(), name.span))
            }
            _ => None,
        })
        .collect();
    for v in &program.unknown_vars {
        let given = db
            .inputs()
            .vars(db)
            .get(v)
            .map_or("", |x| x.origin.as_str());
        let title =
            format!("A variable `{v}` was given ({given}), but `{path}` has no parameter `{v}`");
        // The parameter it was probably meant for is where the label goes; with none close,
        // the root file.
        let meant = carbonc_sema::closest(v, declared.iter().map(|(n, _)| n.as_str()))
            .and_then(|(n, _)| declared.iter().find(|(d, _)| d == n));
        let d = match meant {
            Some((n, span)) => Diagnostic::error(
                "E0116",
                title,
                Label::new(
                    &path,
                    *span,
                    format!("the parameter `{n}` is the closest name"),
                ),
            )
            .with_help(format!("did you mean `{n}`? otherwise remove `{v}`")),
            None if declared.is_empty() => Diagnostic::error(
                "E0116",
                title,
                Label::new(&path, Default::default(), "the root file"),
            )
            .with_help("remove it: the root file declares no parameters"),
            None => Diagnostic::error(
                "E0116",
                title,
                Label::new(&path, Default::default(), "the root file"),
            )
            .with_help(format!(
                "remove it; the root file's parameters are {}",
                declared
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        diags.push(d);
    }
    diags
}

/// Checks the program rooted at `req.root` and plans it against `req.state`.
pub fn make_plan(db: &mut RootDatabase, req: PlanRequest<'_>) -> Result<Plan, PlanError> {
    // An intent (a create that a crash interrupted) is not a resource yet: plan to create it. `apply`
    // first asks the provider whether the resource exists and adopts it.
    let settled: Option<State> = req.state.map(|s| {
        let mut s = s.clone();
        s.resources
            .retain(|r| r.status != carbonc_state::ResourceStatus::Intent);
        s
    });
    let req = PlanRequest {
        state: settled.as_ref(),
        ..req
    };
    let mut withdrawn: BTreeSet<String> = BTreeSet::new();
    loop {
        db.set_known(known_from_state(db, req.state, &withdrawn));
        let diags = program_diagnostics(db, req.root);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(diags);
        }
        let program = evaluate_program(db, req.root);
        let graph = resource_graph(db, req.root);
        let desired = lower(program, graph, catalog(db), req.key);
        let changes = plan_changes(&desired, req.state);
        // What the state says of these is stale: new resources, and lookups read anew.
        let recreated: BTreeSet<String> = changes
            .iter()
            .filter(|c| matches!(c.action, Action::Create | Action::Replace) || c.reads_anew())
            .map(|c| c.address.clone())
            .collect();
        if !recreated.is_subset(&withdrawn) {
            withdrawn.extend(recreated);
            continue;
        }
        let mut refused = Vec::new();
        for (c, d) in changes.iter().zip(&desired) {
            if d.prevent_destroy
                && c.action == Action::Replace
                && let Some(inst) = program.instance(&d.address)
            {
                // The change that forces the replacement is the mistake (or the intent): the
                // label goes on the field written for it, the lifecycle that forbids it beside.
                let title = format!(
                    "`{}` must be replaced, but it is marked `prevent_destroy`",
                    c.address
                );
                let field = c.replace_reasons.iter().find_map(|r| {
                    let f = inst.fields.get(r).filter(|f| f.explicit)?;
                    let (file, span) = f
                        .written_at
                        .as_deref()
                        .cloned()
                        .unwrap_or((inst.file.to_string(), f.span));
                    Some((r, file, span))
                });
                let d = match field {
                    Some((r, file, span)) => Diagnostic::error(
                        "E0118",
                        title,
                        Label::new(file, span, format!("a new `{r}` replaces `{}`", c.address)),
                    )
                    .with_label(Label::new(
                        &*inst.file,
                        inst.span,
                        "marked `prevent_destroy` in its `lifecycle`",
                    )),
                    None => Diagnostic::error(
                        "E0118",
                        title,
                        Label::new(&*inst.file, inst.span, "declared here"),
                    ),
                };
                refused.push(
                    d.with_note(format!(
                        "replaced because of: {}; AWS cannot change it in place",
                        c.replace_reasons.join(", ")
                    ))
                    .with_help("if the replacement is meant, `prevent_destroy` comes out of its `lifecycle` first; otherwise the old value keeps the resource"),
                );
            }
        }
        if !refused.is_empty() {
            return Err(refused);
        }
        let outputs = program
            .outputs
            .iter()
            .map(|(n, v)| (n.clone(), to_val(v, req.key)))
            .collect::<Vec<_>>();
        return Ok(assemble(db, req, program, changes, outputs));
    }
}

fn assemble(
    db: &RootDatabase,
    req: PlanRequest<'_>,
    program: &carbonc_sema::Program,
    changes: Vec<ResourceChange>,
    outputs: Vec<(String, Val)>,
) -> Plan {
    let mut summary = Summary::default();
    for c in &changes {
        match c.action {
            Action::Create => summary.add += 1,
            Action::Update => summary.change += 1,
            Action::Replace => {
                summary.add += 1;
                summary.destroy += 1;
            }
            Action::Delete => summary.destroy += 1,
            Action::Read if c.reads_anew() => summary.read += 1,
            Action::Read => {}
            Action::NoOp => {}
        }
    }
    let prior = req.state.map(|s| &s.outputs);
    let mut output_changes: Vec<OutputChange> = outputs
        .into_iter()
        .map(|(name, after)| {
            let before = prior.and_then(|p| p.get(&name)).cloned();
            let action = match &before {
                None => Action::Create,
                Some(b) if *b == after && after.is_known() => Action::NoOp,
                Some(_) => Action::Update,
            };
            OutputChange {
                name,
                action,
                before,
                after: Some(after),
            }
        })
        .collect();
    for (name, before) in prior.into_iter().flatten() {
        if !output_changes.iter().any(|o| &o.name == name) {
            output_changes.push(OutputChange {
                name: name.clone(),
                action: Action::Delete,
                before: Some(before.clone()),
                after: None,
            });
        }
    }
    let vars: BTreeMap<&String, &String> = db
        .inputs()
        .vars(db)
        .iter()
        .map(|(k, v)| (k, &v.source))
        .collect();
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        carbonc_version: env!("CARGO_PKG_VERSION").to_string(),
        root: req.root.path(db).clone(),
        state: StateRef {
            lineage: req.state.map(|s| s.lineage.clone()),
            serial: req.state.map_or(0, |s| s.serial),
            path: None,
        },
        sources_digest: digest_sources(db, req.root),
        variables_digest: req
            .key
            .hash(&serde_json::to_string(&vars).expect("strings serialise")),
        regions: program
            .regions
            .iter()
            .map(|r| RegionRef {
                name: r.name.clone(),
                code: r.code.clone(),
            })
            .collect(),
        resource_changes: changes,
        output_changes,
        summary,
    }
}

/// What [`resolve_instance`] returns.
pub struct ResolvedInstance {
    /// Every attribute, all known.
    pub attrs: BTreeMap<String, Val>,
    /// The plain values of the secret attributes, by field name.
    pub secrets: BTreeMap<String, String>,
}

/// The attributes of `address` as the program gives them with everything in `state` known: what
/// `apply` sends to the provider right before acting on it. Also the plain values of its secrets.
/// This evaluates the whole program; [`Resolver`] gives the same answer for one resource at a time.
pub fn resolve_instance(
    db: &mut RootDatabase,
    root: SourceFile,
    state: &State,
    key: &SecretKey,
    address: &str,
) -> Result<ResolvedInstance, String> {
    db.set_known(known_from_state(db, Some(state), &BTreeSet::new()));
    let program = evaluate_program(db, root);
    let graph = resource_graph(db, root);
    let idx = program
        .instances
        .iter()
        .position(|i| i.address == address)
        .ok_or_else(|| format!("`{address}` is no longer in the program"))?;
    let deps = graph.deps[idx]
        .iter()
        .map(|d| program.instances[*d].address.clone())
        .collect();
    let inst = &program.instances[idx];
    resolved(
        inst,
        lower_instance(inst, &program.regions, deps, catalog(db), key),
    )
}

/// What `apply` sends for one instance: every attribute known, and the plain values of secrets.
fn resolved(
    inst: &carbonc_sema::Instance,
    d: carbonc_plan::Desired,
) -> Result<ResolvedInstance, String> {
    let mut secrets = BTreeMap::new();
    for (name, f) in &inst.fields {
        if let Value::Secret(inner) = &f.value
            && let Value::Str(s) = inner.reveal()
        {
            secrets.insert(name.to_string(), s.clone());
        }
    }
    if let Some((name, _)) = d
        .attrs
        .iter()
        .find(|(_, v)| !v.is_known() && !matches!(v, Val::Sensitive(None)))
    {
        return Err(format!(
            "`{}.{name}` is still unknown: a resource it depends on did not report it",
            d.address
        ));
    }
    Ok(ResolvedInstance {
        attrs: d.attrs,
        secrets,
    })
}

/// Resolves resources one at a time while `apply` runs, each right before its call, with the
/// state as it is then. The program is expanded once; each resolution evaluates only what the
/// resource reads, so an apply of n resources costs n cones of the resource graph, where
/// [`resolve_instance`] costs n whole programs.
///
/// Known values come from the state at the start of the run, and each address the run acts on is
/// read again once, the first time something that depends on it is resolved: the executor starts
/// a resource only after everything it depends on has finished, and acts on each address once, so
/// by then that record is final for the run. A finished record was written last, so it is looked
/// for from the end of the state.
pub struct Resolver<'db> {
    cat: &'db carbonc_sema::Catalog,
    key: &'db SecretKey,
    inner: InstanceResolver<'db>,
    /// Each instance's direct dependencies in the resource graph, by address.
    deps: FxHashMap<String, Vec<String>>,
    /// The addresses this run acts on whose records have not been read since they finished.
    unread: FxHashSet<String>,
    /// The addresses whose dependencies, transitively, have all been read: a later walk stops
    /// at them, so that the walks of a whole run visit each address about once.
    walked: FxHashSet<String>,
    positions: Positions,
}

/// Where records are in the state, learnt as the state grows: the executor appends records and
/// replaces them in place, so each position is looked at once; a record found elsewhere than
/// remembered (a deletion moved it) makes it look at all of them again.
#[derive(Default)]
struct Positions {
    at: FxHashMap<String, usize>,
    /// How many records, from the start, are in `at`.
    seen: usize,
}

impl Positions {
    fn find<'s>(&mut self, state: &'s State, address: &str) -> Option<&'s ResourceState> {
        if self.seen > state.resources.len() {
            self.forget();
        }
        self.learn(state);
        let i = *self.at.get(address)?;
        match state.resources.get(i) {
            Some(r) if r.address == address => Some(r),
            // A deletion moved records: learn every position again.
            _ => {
                self.forget();
                self.learn(state);
                self.at.get(address).map(|&i| &state.resources[i])
            }
        }
    }

    fn learn(&mut self, state: &State) {
        for (i, r) in state.resources.iter().enumerate().skip(self.seen) {
            self.at.insert(r.address.clone(), i);
        }
        self.seen = state.resources.len();
    }

    fn forget(&mut self) {
        self.at.clear();
        self.seen = 0;
    }
}

impl<'db> Resolver<'db> {
    /// `db` holds the program as planned; `state` is the state the run starts from; `acting`
    /// are the addresses the run creates, updates, replaces, reads or deletes.
    pub fn new<'a>(
        db: &'db RootDatabase,
        root: SourceFile,
        state: &State,
        key: &'db SecretKey,
        acting: impl IntoIterator<Item = &'a str>,
    ) -> Resolver<'db> {
        let program = evaluate_program(db, root);
        let graph = resource_graph(db, root);
        let deps: FxHashMap<String, Vec<String>> = program
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let ds = graph.deps[i]
                    .iter()
                    .map(|d| program.instances[*d].address.clone())
                    .collect();
                (inst.address.clone(), ds)
            })
            .collect();
        let mut inner = InstanceResolver::new(db, root);
        for (address, attrs) in known_from_state(db, Some(state), &BTreeSet::new()) {
            inner.set_known(&address, attrs);
        }
        Resolver {
            cat: catalog(db),
            key,
            inner,
            deps,
            unread: acting.into_iter().map(str::to_string).collect(),
            walked: FxHashSet::default(),
            positions: Positions::default(),
        }
    }

    /// What [`resolve_instance`] gives for `address` against `state`, provided everything it
    /// depends on has finished.
    pub fn resolve(&mut self, state: &State, address: &str) -> Result<ResolvedInstance, String> {
        let gone = || format!("`{address}` is no longer in the program");
        let deps = self.deps.get(address).ok_or_else(gone)?.clone();
        // Everything it depends on, transitively: finished records not read yet are read now.
        // What it depends on has finished, and so has what that depends on: an address walked
        // before has nothing left to read behind it.
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        seen.insert(address);
        let mut stack: Vec<&str> = vec![address];
        let mut fresh: Vec<(String, BTreeMap<String, Value>)> = Vec::new();
        while let Some(a) = stack.pop() {
            for d in self.deps.get(a).into_iter().flatten() {
                if !seen.insert(d) {
                    continue;
                }
                if !self.walked.contains(d.as_str()) {
                    stack.push(d);
                }
                if self.unread.remove(d.as_str()) {
                    let attrs = self
                        .positions
                        .find(state, d)
                        .map(|r| known_attrs(self.cat, r))
                        .unwrap_or_default();
                    fresh.push((d.clone(), attrs));
                }
            }
        }
        for a in seen {
            if !self.walked.contains(a) {
                self.walked.insert(a.to_string());
            }
        }
        for (a, attrs) in fresh {
            self.inner.set_known(&a, attrs);
        }
        let regions = self.inner.regions().to_vec();
        let inst = self.inner.instance(address).ok_or_else(gone)?;
        resolved(
            inst,
            lower_instance(inst, &regions, deps, self.cat, self.key),
        )
    }
}

/// The program's outputs with everything in `state` known.
pub fn resolve_outputs(
    db: &mut RootDatabase,
    root: SourceFile,
    state: &State,
    key: &SecretKey,
) -> BTreeMap<String, Val> {
    db.set_known(known_from_state(db, Some(state), &BTreeSet::new()));
    evaluate_program(db, root)
        .outputs
        .iter()
        .map(|(n, v)| (n.clone(), to_val(v, key)))
        .collect()
}

/// What `carbonc destroy` carries out: `plan` (made against `state`) with its changes replaced by
/// the deletion of every resource the state records as created, except lookups (which carbonc
/// reads and never owns). The executor orders deletions dependents first. No output changes.
pub fn destroy_plan(db: &RootDatabase, plan: &Plan, state: &State) -> Plan {
    let cat = catalog(db);
    let resource_changes: Vec<ResourceChange> = state
        .resources
        .iter()
        .filter(|r| r.status == carbonc_state::ResourceStatus::Created)
        .filter(|r| !cat.resources.get(&r.ty).is_some_and(|s| s.lookup))
        .map(|r| ResourceChange {
            address: r.address.clone(),
            ty: r.ty.clone(),
            region: r.region.clone(),
            action: Action::Delete,
            replace_order: None,
            replace_reasons: vec![],
            before: Some(r.attributes.clone()),
            after: None,
            depends_on: r.dependencies.clone(),
        })
        .collect();
    Plan {
        summary: Summary {
            destroy: resource_changes.len(),
            ..Default::default()
        },
        resource_changes,
        output_changes: Vec::new(),
        ..plan.clone()
    }
}
