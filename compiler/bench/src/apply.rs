//! `carbonc-bench apply [N...]`: a first apply and then a destroy of the `check` workload (stacks of
//! every resource family, references backward, in one file) through the real executor, the real
//! resolver (`carbonc_drive::Resolver`, as `carbonc apply` uses it) and the in-memory provider
//! with no latency and a state sink that discards: what is left is carbonc's own work. Reports the
//! time spent resolving resources (evaluation) and the rest (scheduling, recording), best of
//! several runs each (30 at 1k, 3 from 10k up), and the 10k/1k ratio of each (linear growth is
//! 10).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonc_apply::memory::MemoryProvider;
use carbonc_apply::{
    CreateRequest, DeleteRequest, ExecOptions, FindRequest, Found, Provider, ProviderError,
    ReadRequest, Resolved, SecretString, StateSink, UpdateRequest, execute,
};
use carbonc_plan::{Action, ResourceChange};
use carbonc_state::{State, Val};

use crate::workload;

struct Discard;

impl StateSink for Discard {
    fn save(&mut self, _: &State) -> Result<(), String> {
        Ok(())
    }
}

/// The in-memory provider, with a stand-in value for every attribute AWS computes (the plan's
/// "known after apply"): an endpoint, an ARN, a domain name.
struct Computing {
    memory: MemoryProvider,
    computed: BTreeMap<String, Vec<String>>,
}

impl Computing {
    fn fill(&self, address: &str, mut f: Found) -> Found {
        for attr in self.computed.get(address).into_iter().flatten() {
            f.attrs
                .entry(attr.clone())
                .or_insert_with(|| Val::Str(format!("{attr}-of-{address}")));
        }
        f
    }
}

impl Provider for Computing {
    async fn create(&self, req: CreateRequest) -> Result<Found, ProviderError> {
        let address = req.resource.address.clone();
        let f = self.memory.create(req).await?;
        Ok(self.fill(&address, f))
    }
    async fn read(&self, req: ReadRequest) -> Result<Option<Found>, ProviderError> {
        let address = req.address.clone();
        Ok(self.memory.read(req).await?.map(|f| self.fill(&address, f)))
    }
    async fn update(&self, req: UpdateRequest) -> Result<Found, ProviderError> {
        let address = req.resource.address.clone();
        let f = self.memory.update(req).await?;
        Ok(self.fill(&address, f))
    }
    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        self.memory.delete(req).await
    }
    async fn find(&self, req: FindRequest) -> Result<Option<Found>, ProviderError> {
        self.memory.find(req).await
    }
}

struct Row {
    resources: usize,
    resolving: Duration,
    apply: Duration,
    destroy: Duration,
}

fn run(n: usize) -> Row {
    // One file: the root's parameters take variables (the password), an imported file's do not.
    let files = workload::stacks(n, 1, workload::Refs::Backward);
    let (mut db, root) = crate::load(&files);
    let mut vars = BTreeMap::new();
    vars.insert(
        "db_master_password".to_string(),
        carbonc_sema::VarValue {
            source: "\"correct horse battery staple\"".into(),
            origin: "bench".into(),
            raw: false,
        },
    );
    db.set_vars(vars);
    let key = carbonc_state::SecretKey::generate();
    let plan = carbonc_drive::make_plan(
        &mut db,
        carbonc_drive::PlanRequest {
            root,
            state: None,
            key: &key,
        },
    )
    .unwrap_or_else(|d| panic!("the workload plans: {d:#?}"));
    let provider = Arc::new(Computing {
        memory: MemoryProvider::new(Duration::ZERO),
        computed: plan
            .resource_changes
            .iter()
            .map(|c| {
                let unknown = c
                    .after
                    .iter()
                    .flatten()
                    .filter(|(_, v)| **v == Val::Unknown)
                    .map(|(k, _)| k.clone())
                    .collect();
                (c.address.clone(), unknown)
            })
            .collect(),
    });
    // What the lookups find: the certificates and load balancers exist outside the program
    // (a certificate is read by its ARN, a load balancer by its name).
    for c in plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::Read)
    {
        let id = match c.after.as_ref().and_then(|a| a.get("arn")) {
            Some(Val::Str(arn)) => arn.clone(),
            _ => format!("lookup:{}", c.address),
        };
        provider.memory.plant_at(
            &id,
            &CreateRequest {
                resource: Resolved {
                    address: c.address.clone(),
                    ty: c.ty.clone(),
                    region: c.region.clone(),
                    // What AWS reports of it is filled in when it is read.
                    attrs: c
                        .after
                        .iter()
                        .flatten()
                        .filter(|(_, v)| v.is_known())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    secrets: BTreeMap::new(),
                    refs: BTreeMap::new(),
                },
                tags: BTreeMap::new(),
                token: String::new(),
            },
        );
    }
    let opts = ExecOptions {
        parallelism: 32,
        ..ExecOptions::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let empty = State::new("bench".into());
    let mut resolving = Duration::ZERO;
    let start = Instant::now();
    let (state, outcome) = {
        let acting = plan.resource_changes.iter().map(|c| c.address.as_str());
        let mut resolver = carbonc_drive::Resolver::new(&db, root, &empty, &key, acting);
        let mut resolve = |c: &ResourceChange, s: &State| {
            let at = Instant::now();
            let r = resolver.resolve(s, &c.address).map(|r| {
                let secrets = r
                    .secrets
                    .into_iter()
                    .map(|(k, v)| (k, SecretString::new(v)))
                    .collect();
                (r.attrs, secrets)
            });
            resolving += at.elapsed();
            r
        };
        rt.block_on(execute(
            &plan,
            empty.clone(),
            provider.clone(),
            &mut Discard,
            &mut resolve,
            &opts,
            &mut |_| {},
        ))
    };
    let apply = start.elapsed();
    assert!(outcome.ok(), "{outcome:?}");
    let resources = state.resources.len();
    // Destroy, as `carbonc destroy` plans it: every created resource (not the lookups), dependents
    // first.
    let destroy_plan = carbonc_drive::destroy_plan(&db, &plan, &state);
    let start = Instant::now();
    let (left, outcome) = rt.block_on(execute(
        &destroy_plan,
        state,
        provider,
        &mut Discard,
        &mut |_, _| Err("a deletion resolves nothing".into()),
        &opts,
        &mut |_| {},
    ));
    let destroy = start.elapsed();
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(
        left.resources.len(),
        resources - destroy_plan.resource_changes.len(),
        "only the lookups are left"
    );
    Row {
        resources,
        resolving,
        apply,
        destroy,
    }
}

pub fn bench_apply(sizes: &[usize]) {
    println!(
        "{:>8} {:>10} {:>12} {:>14} {:>12}",
        "N", "resources", "resolving s", "apply other s", "destroy s"
    );
    let mut rows = BTreeMap::new();
    for &n in sizes {
        // Best of several runs for each figure: this machine's noise is larger than a 1k run, so
        // small sizes run more often (30 at 1k, 3 from 10k) for a minimum as steady as a large
        // one's.
        // `CARBONC_BENCH_RUNS` sets the count (to compare instruction counts between sizes).
        let runs = std::env::var("CARBONC_BENCH_RUNS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or((30_000 / n.max(1)).clamp(3, 30));
        let r = (0..runs).map(|_| run(n)).fold(None::<Row>, |best, r| {
            Some(match best {
                None => r,
                Some(b) => Row {
                    resources: r.resources,
                    resolving: b.resolving.min(r.resolving),
                    apply: b.apply.min(r.apply),
                    destroy: b.destroy.min(r.destroy),
                },
            })
        });
        let r = r.expect("at least one run");
        println!(
            "{n:>8} {:>10} {:>12.3} {:>14.3} {:>12.3}",
            r.resources,
            r.resolving.as_secs_f64(),
            (r.apply - r.resolving).as_secs_f64(),
            r.destroy.as_secs_f64()
        );
        rows.insert(n, r);
    }
    if let (Some(a), Some(b)) = (rows.get(&1_000), rows.get(&10_000)) {
        let ratio = |x: Duration, y: Duration| y.as_secs_f64() / x.as_secs_f64();
        println!(
            "ratio 10k / 1k (linear is 10): resolving {:.1}, apply other {:.1}, destroy {:.1}",
            ratio(a.resolving, b.resolving),
            ratio(a.apply - a.resolving, b.apply - b.resolving),
            ratio(a.destroy, b.destroy)
        );
    }
}
