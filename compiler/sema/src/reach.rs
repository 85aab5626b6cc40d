//! Who can talk to whom inside a region's EKS cluster, from the program's Kubernetes network
//! policies (`k8s.NetworkPolicy`) and the pods of its Helm releases (`k8s.HelmRelease`). Pure: it
//! reads the `Program` and answers with plain structs.
//!
//! The semantics are Kubernetes' (networking.k8s.io/v1, "Network Policies" in the Kubernetes
//! documentation):
//! - a pod is isolated for ingress when a policy of its namespace selects it and has `ingress`
//!   set, and for egress likewise; a pod that is not isolated accepts (sends) everything;
//! - an isolated pod accepts what the union of those policies' rules allows; a rule allows when
//!   its peers are empty or one matches, and its ports are empty or one matches;
//! - a connection needs both ends: the sender's egress and the receiver's ingress;
//! - a peer with only `pods` chooses pods of the policy's namespace; with `namespaces`, pods of the
//!   namespaces whose labels match (every namespace has `kubernetes.io/metadata.name`).
//!
//! Where Kubernetes leaves the choice to the network plugin, the model follows the VPC CNI, which
//! matches an `ipBlock` on pod addresses: pods take addresses in the cluster's subnets, so a block
//! that overlaps a subnet (not wholly excepted) is taken to reach those pods.
//!
//! Each cluster also has CoreDNS (`k8s-app: kube-dns` in `kube-system`, UDP and TCP 53), so that a
//! default-deny egress that forgets DNS shows.

use std::collections::BTreeMap;

use crate::cidr;
use crate::eval::{Instance, Program};
use crate::value::{Value, entries, items};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    fn from_variant(v: Option<&str>) -> Proto {
        match v {
            Some("UDP") => Proto::Udp,
            Some("SCTP") => Proto::Sctp,
            _ => Proto::Tcp,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
            Proto::Sctp => "SCTP",
        }
    }
}

/// A port range of one protocol, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ports {
    pub proto: Proto,
    pub lo: u16,
    pub hi: u16,
}

impl Ports {
    pub fn one(proto: Proto, port: u16) -> Ports {
        Ports {
            proto,
            lo: port,
            hi: port,
        }
    }

    fn every(proto: Proto) -> Ports {
        Ports {
            proto,
            lo: 1,
            hi: 65535,
        }
    }
}

impl std::fmt::Display for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.lo, self.hi) {
            (1, 65535) => write!(f, "{} any port", self.proto.name()),
            (lo, hi) if lo == hi => write!(f, "{} {lo}", self.proto.name()),
            (lo, hi) => write!(f, "{} {lo}-{hi}", self.proto.name()),
        }
    }
}

/// A set of ports, as sorted, disjoint ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSet(Vec<Ports>);

impl PortSet {
    pub fn all() -> PortSet {
        PortSet(vec![
            Ports::every(Proto::Tcp),
            Ports::every(Proto::Udp),
            Ports::every(Proto::Sctp),
        ])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_all(&self) -> bool {
        *self == PortSet::all()
    }

    pub fn ranges(&self) -> &[Ports] {
        &self.0
    }

    fn from_ranges(mut v: Vec<Ports>) -> PortSet {
        v.sort();
        let mut out: Vec<Ports> = Vec::new();
        for r in v {
            match out.last_mut() {
                Some(last)
                    if last.proto == r.proto && u32::from(r.lo) <= u32::from(last.hi) + 1 =>
                {
                    last.hi = last.hi.max(r.hi);
                }
                _ => out.push(r),
            }
        }
        PortSet(out)
    }

    fn union(&self, other: &PortSet) -> PortSet {
        PortSet::from_ranges(self.0.iter().chain(&other.0).copied().collect())
    }

    pub fn intersect(&self, other: &PortSet) -> PortSet {
        let mut v = Vec::new();
        for a in &self.0 {
            for b in other.0.iter().filter(|b| b.proto == a.proto) {
                let (lo, hi) = (a.lo.max(b.lo), a.hi.min(b.hi));
                if lo <= hi {
                    v.push(Ports {
                        proto: a.proto,
                        lo,
                        hi,
                    });
                }
            }
        }
        PortSet::from_ranges(v)
    }

    pub fn allows(&self, p: Ports) -> bool {
        self.0
            .iter()
            .any(|r| r.proto == p.proto && r.lo <= p.lo && p.hi <= r.hi)
    }
}

impl std::fmt::Display for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_all() {
            return f.write_str("every port");
        }
        if self.0.is_empty() {
            return f.write_str("denied");
        }
        let parts: Vec<String> = self.0.iter().map(Ports::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

pub type Labels = BTreeMap<String, String>;

/// A group of pods: a Helm release's, or the cluster's CoreDNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pods {
    /// The release's address; `None` for CoreDNS.
    pub address: Option<String>,
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    /// The ports they listen on; empty when not declared.
    pub ports: Vec<Ports>,
}

impl Pods {
    /// "`web` (shop)", "kube-dns (kube-system)".
    pub fn describe(&self) -> String {
        match self.address {
            Some(_) => format!("`{}` ({})", self.name, self.namespace),
            None => format!("{} ({})", self.name, self.namespace),
        }
    }
}

#[derive(Clone, Debug)]
enum Peer {
    Select {
        pods: Option<Labels>,
        namespaces: Option<Labels>,
    },
    Block {
        cidr: (u32, u32),
        text: String,
        except: Vec<(u32, u32)>,
    },
}

#[derive(Clone, Debug)]
struct Rule {
    peers: Vec<Peer>,
    ports: PortSet,
}

#[derive(Clone, Debug)]
struct Policy {
    address: String,
    namespace: String,
    selector: Labels,
    ingress: Option<Vec<Rule>>,
    egress: Option<Vec<Rule>>,
}

/// Where traffic from outside the cluster may come from (or go to), and on which ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outside {
    /// "anywhere", or a CIDR block.
    pub whom: String,
    pub ports: PortSet,
}

/// The pods and policies of one cluster.
#[derive(Clone, Debug)]
pub struct Cluster {
    pub address: String,
    pub region: String,
    pub pods: Vec<Pods>,
    subnets: Vec<(u32, u32)>,
    policies: Vec<Policy>,
}

fn labels(v: Option<&Value>) -> Option<Labels> {
    match v?.reveal() {
        Value::Map(m) | Value::Record(m) => Some(
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.reveal().as_str()?.to_string())))
                .collect(),
        ),
        _ => None,
    }
}

/// The ports of a `k8s.Port` list; empty when none is written.
fn ports(v: Option<&Value>) -> Vec<Ports> {
    items(v)
        .iter()
        .filter_map(entries)
        .map(|p| {
            let proto = Proto::from_variant(p.get("protocol").and_then(Value::variant));
            let port = p
                .get("port")
                .and_then(Value::as_int)
                .and_then(|n| u16::try_from(n).ok());
            let end = p
                .get("end_port")
                .and_then(Value::as_int)
                .and_then(|n| u16::try_from(n).ok());
            match (port, end) {
                (Some(lo), Some(hi)) if hi >= lo => Ports { proto, lo, hi },
                (Some(lo), _) => Ports::one(proto, lo),
                (None, _) => Ports::every(proto),
            }
        })
        .collect()
}

fn rules(v: Option<&Value>) -> Option<Vec<Rule>> {
    let v = v?;
    if matches!(v.reveal(), Value::None) {
        return None;
    }
    Some(
        items(Some(v))
            .iter()
            .filter_map(entries)
            .map(|r| {
                let peers = items(r.get("peers"))
                    .iter()
                    .filter_map(entries)
                    .filter_map(|peer| {
                        if let Some(b) = peer.get("ip_block").and_then(entries) {
                            let text = b.get("cidr")?.as_str()?.to_string();
                            let cidr = cidr::block(&text).ok()?;
                            let except = items(b.get("except"))
                                .iter()
                                .filter_map(|e| cidr::block(e.as_str()?).ok())
                                .collect();
                            return Some(Peer::Block { cidr, text, except });
                        }
                        Some(Peer::Select {
                            pods: labels(peer.get("pods")),
                            namespaces: labels(peer.get("namespaces")),
                        })
                    })
                    .collect();
                let ports = ports(r.get("ports"));
                Rule {
                    peers,
                    ports: if ports.is_empty() {
                        PortSet::all()
                    } else {
                        PortSet::from_ranges(ports)
                    },
                }
            })
            .collect(),
    )
}

/// The labels a `helm create` chart gives its pods: the chart's name (the last part of its path
/// or reference) and the release's.
pub fn chart_pod_labels(chart: &str, release: &str) -> Labels {
    let base = chart
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(chart);
    let base = base.strip_suffix(".tgz").unwrap_or(base);
    Labels::from([
        ("app.kubernetes.io/name".to_string(), base.to_string()),
        (
            "app.kubernetes.io/instance".to_string(),
            release.to_string(),
        ),
    ])
}

/// The pods of a `k8s.HelmRelease`.
pub fn release_pods(r: &Instance) -> Option<Pods> {
    let name = r.get("name")?.as_str()?.to_string();
    let labels = labels(r.get("pod_labels")).unwrap_or_else(|| {
        chart_pod_labels(r.get("chart").and_then(Value::as_str).unwrap_or(""), &name)
    });
    Some(Pods {
        address: Some(r.address.clone()),
        namespace: r.get("namespace")?.as_str()?.to_string(),
        name,
        labels,
        ports: ports(r.get("ports")),
    })
}

/// The pods of a `k8s.ClickHouseCluster`: its servers and its Keeper nodes, with the labels and
/// ports carbonc's chart gives them.
fn clickhouse_pods(ch: &Instance) -> Vec<Pods> {
    use carbonc_k8s::clickhouse::{KEEPER_PORTS, SERVER_PORTS, pod_labels};
    let (Some(name), Some(namespace)) = (
        ch.get("name").and_then(Value::as_str),
        ch.get("namespace").and_then(Value::as_str),
    ) else {
        return Vec::new();
    };
    let pods = |component: &str, ports: &[u16]| Pods {
        address: Some(ch.address.clone()),
        namespace: namespace.to_string(),
        name: format!("{name}-{component}"),
        labels: pod_labels(name, component)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ports: ports.iter().map(|p| Ports::one(Proto::Tcp, *p)).collect(),
    };
    vec![pods("server", &SERVER_PORTS), pods("keeper", &KEEPER_PORTS)]
}

fn core_dns() -> Pods {
    Pods {
        address: None,
        name: "kube-dns".into(),
        namespace: "kube-system".into(),
        labels: Labels::from([("k8s-app".to_string(), "kube-dns".to_string())]),
        ports: vec![Ports::one(Proto::Udp, 53), Ports::one(Proto::Tcp, 53)],
    }
}

fn subset(sel: &Labels, of: &Labels) -> bool {
    sel.iter().all(|(k, v)| of.get(k) == Some(v))
}

/// Every cluster that has releases or policies, in program order.
pub fn clusters(p: &Program) -> Vec<Cluster> {
    let mut order: Vec<String> = Vec::new();
    let mut by: BTreeMap<String, Cluster> = BTreeMap::new();
    let mut entry = |inst: &Instance| -> Option<String> {
        let Value::Ref { addr } = inst.get("cluster")?.reveal() else {
            return None;
        };
        if !by.contains_key(addr) {
            let subnets = p
                .instance(addr)
                .map(|c| {
                    items(c.get("subnets"))
                        .iter()
                        .filter_map(|s| match s.reveal() {
                            Value::Ref { addr } => p.instance(addr),
                            _ => None,
                        })
                        .filter_map(|s| cidr::block(s.get("cidr_block")?.as_str()?).ok())
                        .collect()
                })
                .unwrap_or_default();
            order.push(addr.clone());
            by.insert(
                addr.clone(),
                Cluster {
                    address: addr.clone(),
                    region: p.region_code(inst.region).to_string(),
                    pods: Vec::new(),
                    subnets,
                    policies: Vec::new(),
                },
            );
        }
        Some(addr.clone())
    };
    let mut releases = Vec::new();
    for r in p.of_type("k8s.HelmRelease") {
        if let (Some(c), Some(pods)) = (entry(r), release_pods(r)) {
            releases.push((c, pods));
        }
    }
    for ch in p.of_type("k8s.ClickHouseCluster") {
        let Some(c) = entry(ch) else { continue };
        releases.extend(
            clickhouse_pods(ch)
                .into_iter()
                .map(|pods| (c.clone(), pods)),
        );
    }
    let mut policies = Vec::new();
    for np in p.of_type("k8s.NetworkPolicy") {
        let (Some(c), Some(ns)) = (entry(np), np.get("namespace").and_then(Value::as_str)) else {
            continue;
        };
        policies.push((
            c,
            Policy {
                address: np.address.clone(),
                namespace: ns.to_string(),
                selector: labels(np.get("pod_selector")).unwrap_or_default(),
                ingress: rules(np.get("ingress")),
                egress: rules(np.get("egress")),
            },
        ));
    }
    for (c, pods) in releases {
        by.get_mut(&c).expect("entered").pods.push(pods);
    }
    for (c, pol) in policies {
        by.get_mut(&c).expect("entered").policies.push(pol);
    }
    order
        .into_iter()
        .map(|a| {
            let mut c = by.remove(&a).expect("entered");
            c.pods.push(core_dns());
            c
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    In,
    Out,
}

impl Cluster {
    fn selecting(&self, pods: &Pods, way: Way) -> impl Iterator<Item = (&Policy, &Vec<Rule>)> {
        self.policies.iter().filter_map(move |pol| {
            let rules = match way {
                Way::In => pol.ingress.as_ref(),
                Way::Out => pol.egress.as_ref(),
            }?;
            (pol.namespace == pods.namespace && subset(&pol.selector, &pods.labels))
                .then_some((pol, rules))
        })
    }

    /// The policies that isolate `pods` for ingress (`In`) or egress (`Out`); none: not isolated.
    fn isolating(&self, pods: &Pods, way: Way) -> Vec<&str> {
        self.selecting(pods, way)
            .map(|(p, _)| p.address.as_str())
            .collect()
    }

    pub fn ingress_isolated_by(&self, i: usize) -> Vec<&str> {
        self.isolating(&self.pods[i], Way::In)
    }

    pub fn egress_isolated_by(&self, i: usize) -> Vec<&str> {
        self.isolating(&self.pods[i], Way::Out)
    }

    fn peer_matches(&self, peer: &Peer, policy_ns: &str, other: &Pods) -> bool {
        match peer {
            Peer::Select { pods, namespaces } => {
                let ns_ok = match namespaces {
                    None => other.namespace == policy_ns,
                    Some(sel) => subset(
                        sel,
                        &Labels::from([(
                            "kubernetes.io/metadata.name".to_string(),
                            other.namespace.clone(),
                        )]),
                    ),
                };
                ns_ok && pods.as_ref().is_none_or(|sel| subset(sel, &other.labels))
            }
            Peer::Block { cidr, except, .. } => self.subnets.iter().any(|s| {
                cidr::overlaps(*cidr, *s) && !except.iter().any(|e| cidr::contains(*e, *s))
            }),
        }
    }

    /// What `pods` allows `way` (to or from `other`).
    fn allowance(&self, pods: &Pods, way: Way, other: &Pods) -> PortSet {
        let mut isolated = false;
        let mut set = PortSet::default();
        for (pol, rules) in self.selecting(pods, way) {
            isolated = true;
            for r in rules {
                if r.peers.is_empty()
                    || r.peers
                        .iter()
                        .any(|peer| self.peer_matches(peer, &pol.namespace, other))
                {
                    set = set.union(&r.ports);
                }
            }
        }
        if isolated { set } else { PortSet::all() }
    }

    /// The ports on which pods of `from` can open connections to pods of `to`: what `from`'s
    /// egress and `to`'s ingress both allow, limited to the ports `to` listens on when declared.
    pub fn allowed(&self, from: usize, to: usize) -> PortSet {
        let (a, b) = (&self.pods[from], &self.pods[to]);
        let both = self
            .allowance(a, Way::Out, b)
            .intersect(&self.allowance(b, Way::In, a));
        if b.ports.is_empty() {
            both
        } else {
            both.intersect(&PortSet::from_ranges(b.ports.clone()))
        }
    }

    /// What may reach `pods[i]` from outside the cluster (`In`), or what it may reach there
    /// (`Out`): "anywhere" for a pod that is not isolated or a rule without peers, else the IP
    /// blocks of its rules.
    fn outside(&self, i: usize, way: Way) -> Vec<Outside> {
        let pods = &self.pods[i];
        let mut anywhere = PortSet::default();
        let mut blocks: BTreeMap<String, PortSet> = BTreeMap::new();
        let mut isolated = false;
        for (_, rules) in self.selecting(pods, way) {
            isolated = true;
            for r in rules {
                if r.peers.is_empty() {
                    anywhere = anywhere.union(&r.ports);
                }
                for peer in &r.peers {
                    if let Peer::Block { text, .. } = peer {
                        let e = blocks.entry(text.clone()).or_default();
                        *e = e.union(&r.ports);
                    }
                }
            }
        }
        if !isolated {
            anywhere = PortSet::all();
        }
        let limit = |s: PortSet| {
            if way == Way::In && !pods.ports.is_empty() {
                s.intersect(&PortSet::from_ranges(pods.ports.clone()))
            } else {
                s
            }
        };
        let mut out = Vec::new();
        let anywhere = limit(anywhere);
        if !anywhere.is_empty() {
            out.push(Outside {
                whom: "anywhere".into(),
                ports: anywhere,
            });
        }
        for (whom, ports) in blocks {
            let ports = limit(ports);
            if !ports.is_empty() {
                out.push(Outside { whom, ports });
            }
        }
        out
    }

    pub fn from_outside(&self, i: usize) -> Vec<Outside> {
        self.outside(i, Way::In)
    }

    pub fn to_outside(&self, i: usize) -> Vec<Outside> {
        self.outside(i, Way::Out)
    }

    /// Every pair `(from, to, ports)` with some port allowed, in pod order: the cluster's matrix.
    pub fn matrix(&self) -> Vec<(usize, usize, PortSet)> {
        let mut out = Vec::new();
        for from in 0..self.pods.len() {
            for to in 0..self.pods.len() {
                let ports = self.allowed(from, to);
                if !ports.is_empty() {
                    out.push((from, to, ports));
                }
            }
        }
        out
    }

    /// The policies whose `pod_selector` chooses none of the releases of their namespace, when
    /// it has some: `(policy address, namespace, selector)`. Usually a label written wrong, and
    /// the policy then protects nothing.
    pub fn selecting_nothing(&self) -> Vec<(&str, &str, &Labels)> {
        self.policies
            .iter()
            .filter(|pol| {
                let mut here = self
                    .pods
                    .iter()
                    .filter(|p| p.address.is_some() && p.namespace == pol.namespace)
                    .peekable();
                here.peek().is_some() && !here.any(|p| subset(&pol.selector, &p.labels))
            })
            .map(|pol| (pol.address.as_str(), pol.namespace.as_str(), &pol.selector))
            .collect()
    }

    /// The CoreDNS pods' index.
    pub fn dns(&self) -> usize {
        self.pods.len() - 1
    }
}
