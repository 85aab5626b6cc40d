//! The executor benchmark: a synthetic multi-region footprint whose resources take as long as
//! their AWS counterparts (scaled: 1 ms here per second there), run by the real executor against
//! the in-memory provider. Reports the makespan against the critical path (the longest chain of
//! dependent durations, which no schedule can beat) and the speedup over Terraform's parallelism
//! of 10.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonc_apply::memory::MemoryProvider;
use carbonc_apply::{ExecOptions, StateSink, execute};
use carbonc_plan::{Action, Plan, ResourceChange, Summary};
use carbonc_state::State;

struct Node {
    address: String,
    ms: u64,
    deps: Vec<String>,
}

/// Resources of a three-region footprint like `examples/global.carbon`, with typical creation
/// times in seconds (EKS ~10 min, Aurora ~10 min, NAT ~1.5 min, a subnet ~1 s).
fn footprint(regions: usize) -> Vec<Node> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut add = |address: String, ms: u64, deps: &[String]| {
        nodes.push(Node {
            address: address.clone(),
            ms,
            deps: deps.to_vec(),
        });
        address
    };
    let cluster_role = add("eks_cluster_role".into(), 2, &[]);
    let node_role = add("eks_node_role".into(), 2, &[]);
    for p in 0..4 {
        add(
            format!("node_policy[{p}]"),
            1,
            std::slice::from_ref(&node_role),
        );
    }
    let global_db = add("aurora_global".into(), 5, &[]);
    let mut primary: Option<String> = None;
    let mut origins = Vec::new();
    for r in 0..regions {
        let key = add(format!("key[{r}]"), 1, &[]);
        add(format!("alias[{r}]"), 1, std::slice::from_ref(&key));
        let vpc = add(format!("vpc[{r}]"), 2, &[]);
        let igw = add(format!("igw[{r}]"), 1, std::slice::from_ref(&vpc));
        let subnets: Vec<String> = (0..6)
            .map(|s| add(format!("subnet[{r},{s}]"), 1, std::slice::from_ref(&vpc)))
            .collect();
        let eip = add(format!("nat_ip[{r}]"), 1, &[]);
        let nat = add(format!("nat[{r}]"), 90, &[subnets[0].clone(), eip]);
        add(format!("public_rt[{r}]"), 2, &[vpc.clone(), igw]);
        add(format!("private_rt[{r}]"), 2, &[vpc.clone(), nat]);
        let sgs: Vec<String> = (0..4)
            .map(|g| add(format!("sg[{r},{g}]"), 2, std::slice::from_ref(&vpc)))
            .collect();
        // Many small things that crowd the queue: security group rules, IAM, tags, secrets.
        for w in 0..24 {
            add(
                format!("rule[{r},{w}]"),
                1,
                std::slice::from_ref(&sgs[w % 4]),
            );
        }
        let mut deps = subnets.clone();
        deps.extend([cluster_role.clone(), sgs[0].clone(), key.clone()]);
        let cluster = add(format!("eks[{r}]"), 600, &deps);
        for ng in ["general", "gpu"] {
            add(
                format!("nodegroup[{r},{ng}]"),
                300,
                &[cluster.clone(), node_role.clone()],
            );
        }
        let mut deps = subnets.clone();
        deps.extend([sgs[1].clone(), key.clone(), global_db.clone()]);
        deps.extend(primary.clone());
        let db = add(format!("aurora[{r}]"), 600, &deps);
        for i in 0..2 {
            add(
                format!("aurora_instance[{r},{i}]"),
                480,
                std::slice::from_ref(&db),
            );
        }
        if primary.is_none() {
            primary = Some(db);
        }
        let mut deps = subnets.clone();
        deps.push(sgs[2].clone());
        add(format!("redis[{r}]"), 400, &deps);
        let hc = add(format!("health_check[{r}]"), 30, &[]);
        origins.push(add(format!("record[{r}]"), 60, &[hc, cluster]));
    }
    add("distribution".into(), 900, &origins);
    nodes
}

/// The longest chain of durations (nodes come in dependency order).
fn critical_path(nodes: &[Node]) -> u64 {
    let mut finish: BTreeMap<&str, u64> = BTreeMap::new();
    for n in nodes {
        let start = n.deps.iter().map(|d| finish[d.as_str()]).max().unwrap_or(0);
        finish.insert(&n.address, start + n.ms);
    }
    finish.values().copied().max().unwrap_or(0)
}

struct Discard;

impl StateSink for Discard {
    fn save(&mut self, _: &State) -> Result<(), String> {
        Ok(())
    }
}

fn run(nodes: &[Node], parallelism: usize) -> Duration {
    let plan = Plan {
        format_version: carbonc_plan::PLAN_FORMAT_VERSION,
        carbonc_version: "bench".into(),
        root: "bench.carbon".into(),
        state: carbonc_plan::StateRef {
            lineage: None,
            serial: 0,
            path: None,
        },
        sources_digest: String::new(),
        variables_digest: String::new(),
        regions: vec![],
        resource_changes: nodes
            .iter()
            .map(|n| ResourceChange {
                address: n.address.clone(),
                ty: "aws.kms.Key".into(),
                region: Some("us-east-1".into()),
                action: Action::Create,
                replace_order: None,
                replace_reasons: vec![],
                before: None,
                after: Some(BTreeMap::new()),
                depends_on: n.deps.clone(),
            })
            .collect(),
        output_changes: vec![],
        summary: Summary::default(),
    };
    let provider = Arc::new(MemoryProvider::new(Duration::ZERO));
    for n in nodes {
        provider.set_latency(&n.address, Duration::from_millis(n.ms));
    }
    let opts = ExecOptions {
        parallelism,
        ..ExecOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let (_, outcome) = rt.block_on(execute(
        &plan,
        State::new("bench".into()),
        provider,
        &mut Discard,
        &mut |c, _| Ok((c.after.clone().unwrap_or_default(), BTreeMap::new())),
        &opts,
        &mut |_| {},
    ));
    let elapsed = start.elapsed();
    assert!(outcome.ok(), "{outcome:?}");
    elapsed
}

pub fn bench_executor(regions: usize) {
    let nodes = footprint(regions);
    let critical = critical_path(&nodes);
    println!(
        "executor: {} resources in {regions} regions, critical path {critical} ms (1 ms = 1 s of AWS time)",
        nodes.len()
    );
    let mut at = BTreeMap::new();
    for parallelism in [10, 32] {
        let ms = run(&nodes, parallelism).as_secs_f64() * 1000.0;
        println!(
            "  parallelism {parallelism:>2}: makespan {ms:7.0} ms = {:.3} x critical path",
            ms / critical as f64
        );
        at.insert(parallelism, ms);
    }
    println!("  speedup of 32 over 10: {:.2}x", at[&10] / at[&32]);
}
