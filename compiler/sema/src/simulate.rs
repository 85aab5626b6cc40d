//! Region-failure analysis on the evaluated program: which user-facing entry points still reach a
//! healthy region when regions (or one service in a region) fail, through which path, and what the
//! data tiers need. Pure: it reads the `Program` and answers with plain structs.
//!
//! The model: a resource placed in a failed region is lost; global resources (CloudFront, Route53,
//! IAM) stay. A region serves API traffic while it is up and, when the program has EKS clusters, at
//! least one of its EKS clusters is up (`--fail-service eks@us-east-1` takes them down). CloudFront
//! follows its default cache behaviour's origin or origin group (failover to the second origin);
//! Route53 latency records route around regions whose health checks fail; a record without a health
//! check keeps sending its region's users to a dead region.

use std::collections::{BTreeMap, BTreeSet};

use crate::eval::{Instance, Program};
use crate::value::{Origin, Value};

/// What fails: whole regions (codes), and services in regions (`eks@us-east-1`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failure {
    pub regions: BTreeSet<String>,
    pub services: BTreeSet<(String, String)>,
}

impl Failure {
    pub fn region(code: &str) -> Failure {
        Failure {
            regions: BTreeSet::from([code.to_string()]),
            services: BTreeSet::new(),
        }
    }

    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.regions.iter().cloned().collect();
        parts.extend(self.services.iter().map(|(s, r)| format!("{s}@{r}")));
        parts.join(", ")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Distribution,
    RecordSet,
    Output,
}

/// A user-facing entry point and what it can be served by with nothing failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryPoint {
    pub name: String,
    pub kind: EntryKind,
    pub file: String,
    pub span: carbonc_syntax::Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryOutcome {
    pub entry: EntryPoint,
    pub served: bool,
    /// The regions that serve it now.
    pub serving: Vec<String>,
    /// One sentence: the path traffic takes, or what breaks.
    pub how: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataOutcome {
    pub name: String,
    pub kind: &'static str,
    /// Needs someone to act (a failover, a promotion) to restore full service.
    pub action_needed: bool,
    pub effect: String,
}

/// An alarm that goes into alarm because of the failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmOutcome {
    pub alarm: String,
    /// The alarm's region.
    pub region: String,
    /// Why it fires.
    pub why: String,
    /// The topics it notifies (addresses), none of them lost.
    pub topics: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub failure: Failure,
    pub entries: Vec<EntryOutcome>,
    pub data: Vec<DataOutcome>,
    /// The alarms that fire, in program order.
    pub alarms: Vec<AlarmOutcome>,
    /// The Synthetics canaries whose checks fail, in program order, with the topics their fired
    /// alarms notify.
    pub canaries: Vec<AlarmOutcome>,
    /// The alarms and canaries lost with a failed region: CloudWatch there neither evaluates
    /// nor notifies, and Synthetics runs nothing.
    pub silenced: Vec<String>,
    /// Whether the program declares alarms or canaries at all (without any, no failure alarms
    /// anywhere).
    pub monitored: bool,
    /// Addresses of the resources lost.
    pub lost: Vec<String>,
}

impl Report {
    pub fn all_served(&self) -> bool {
        self.entries.iter().all(|e| e.served)
    }
}

/// "which fails over ..." / "which is down: ...".
fn which(how: &str) -> String {
    match how.strip_prefix("DOWN: ") {
        Some(rest) => format!("is down: {rest}"),
        None => how.to_string(),
    }
}

fn service(ty: &str) -> &str {
    ty.split('.').nth(1).unwrap_or("")
}

struct World<'p> {
    p: &'p Program,
    failure: &'p Failure,
    /// The regions with an EKS cluster that survives the failure; `None` when the program has
    /// no cluster (then every region not lost serves).
    clusters_alive: Option<BTreeSet<&'p str>>,
}

impl<'p> World<'p> {
    fn new(p: &'p Program, failure: &'p Failure) -> World<'p> {
        let mut w = World {
            p,
            failure,
            clusters_alive: None,
        };
        let clusters: Vec<&Instance> = p.of_type("aws.eks.Cluster").collect();
        if !clusters.is_empty() {
            let alive = clusters
                .iter()
                .filter(|c| !w.lost(c))
                .filter_map(|c| w.code(c.region))
                .collect();
            w.clusters_alive = Some(alive);
        }
        w
    }

    fn code(&self, idx: Option<usize>) -> Option<&'p str> {
        idx.and_then(|i| self.p.regions.get(i))
            .map(|r| r.code.as_str())
    }

    fn lost(&self, inst: &Instance) -> bool {
        match self.code(inst.region) {
            Some(code) => {
                self.failure.regions.contains(code)
                    || (!self.failure.services.is_empty()
                        && self
                            .failure
                            .services
                            .contains(&(service(&inst.ty).to_string(), code.to_string())))
            }
            None => false,
        }
    }

    /// Whether region `code` can serve API traffic.
    fn serves(&self, code: &str) -> bool {
        if self.failure.regions.contains(code) {
            return false;
        }
        self.clusters_alive
            .as_ref()
            .is_none_or(|alive| alive.contains(code))
    }

    fn region_name(&self, code: &str) -> String {
        match self.p.regions.iter().find(|r| r.code == code) {
            Some(r) => format!("{code} ({})", r.name),
            None => code.to_string(),
        }
    }

    fn region_of_value(&self, v: &Value) -> Option<String> {
        match v.reveal() {
            Value::Region { code, .. } => Some(code.clone()),
            v => v
                .provenance(&|a| self.p.instance(a).and_then(|i| i.region))
                .and_then(|r| self.code(Some(r)).map(str::to_string)),
        }
    }

    /// The distribution a value comes from (an alias or output of `edge.domain_name`).
    fn distribution_of(&self, v: &Value) -> Option<&'p Instance> {
        let Value::Unknown {
            origin: Origin::AfterApply(attrs),
            ..
        } = v.reveal()
        else {
            return None;
        };
        attrs
            .iter()
            .filter_map(|a| a.rsplit_once('.'))
            .find_map(|(addr, _)| {
                self.p
                    .instance(addr)
                    .filter(|i| i.ty == "aws.cloudfront.Distribution")
            })
    }

    fn distribution(&self, d: &Instance) -> (bool, Vec<String>, String) {
        let origins: Vec<(String, Option<String>)> = match d.get("origins").map(Value::reveal) {
            Some(Value::List(l)) => l
                .iter()
                .filter_map(|o| match o {
                    Value::Record(m) => Some((
                        m.get("id")?.as_str()?.to_string(),
                        crate::rules::origin_region(self.p, m)
                            .and_then(|r| self.code(Some(r)).map(str::to_string)),
                    )),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let region_of = |id: &str| {
            origins
                .iter()
                .find(|(o, _)| o == id)
                .and_then(|(_, r)| r.clone())
        };
        let target = d
            .get("default_cache_behavior")
            .and_then(|b| match b.reveal() {
                Value::Record(m) => m
                    .get("target_origin_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            });
        let Some(target) = target else {
            return (false, Vec::new(), "has no default cache behaviour".into());
        };
        let group: Option<Vec<String>> = match d.get("origin_groups").map(Value::reveal) {
            Some(Value::List(gs)) => gs.iter().find_map(|g| match g {
                Value::Record(m)
                    if m.get("id").and_then(Value::as_str) == Some(target.as_str()) =>
                {
                    match m.get("members") {
                        Some(Value::List(ms)) => Some(
                            ms.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect(),
                        ),
                        _ => None,
                    }
                }
                _ => None,
            }),
            _ => None,
        };
        let members = group.clone().unwrap_or_else(|| vec![target.clone()]);
        let describe = |id: &str| match region_of(id) {
            Some(r) => format!("origin {id} in {}", self.region_name(&r)),
            None => format!("origin {id} (region unknown: give the origin a `region`)"),
        };
        let healthy: Vec<&String> = members
            .iter()
            .filter(|m| region_of(m).is_none_or(|r| self.serves(&r)))
            .collect();
        let mut serving: Vec<String> = healthy.iter().filter_map(|m| region_of(m)).collect();
        serving.dedup();
        match (healthy.first(), group.is_some()) {
            (None, _) => (
                false,
                serving,
                format!(
                    "DOWN: {} {} lost",
                    members
                        .iter()
                        .map(|m| describe(m))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    if members.len() > 1 { "are" } else { "is" }
                ),
            ),
            (Some(first), true) if **first != members[0] => (
                true,
                serving,
                format!(
                    "fails over from {} to {} (origin group {target})",
                    describe(&members[0]),
                    describe(first)
                ),
            ),
            (Some(first), true) => {
                let standby = members
                    .iter()
                    .skip(1)
                    .find(|m| healthy.contains(m))
                    .map_or("no healthy standby".to_string(), |m| {
                        format!("standby {}", describe(m))
                    });
                (
                    true,
                    serving,
                    format!(
                        "served by {} (origin group {target}; {standby})",
                        describe(first)
                    ),
                )
            }
            (Some(first), false) => (
                true,
                serving,
                format!(
                    "served by {} (no origin group: no failover)",
                    describe(first)
                ),
            ),
        }
    }

    fn record_set(&self, members: &[&'p Instance]) -> (bool, Vec<String>, String) {
        // An alias to CloudFront follows the distribution.
        if let Some(d) = members.iter().find_map(|r| {
            r.get("alias").and_then(|a| match a.reveal() {
                Value::Record(m) => m.get("dns_name").and_then(|v| self.distribution_of(v)),
                _ => None,
            })
        }) {
            let (ok, serving, how) = self.distribution(d);
            return (
                ok,
                serving,
                format!("alias to `{}`, which {}", d.address, which(&how)),
            );
        }
        let latency: Vec<(&Instance, Option<String>)> = members
            .iter()
            .map(|r| {
                (
                    *r,
                    r.get("latency_region")
                        .and_then(|v| self.region_of_value(v)),
                )
            })
            .collect();
        if latency.iter().any(|(_, r)| r.is_some()) {
            let mut serving = Vec::new();
            let mut blackholed = Vec::new();
            let mut removed = Vec::new();
            for (r, region) in &latency {
                let Some(region) = region else { continue };
                let checked = r.get("health_check").is_some_and(|h| *h != Value::None);
                if self.serves(region) {
                    serving.push(region.clone());
                } else if checked {
                    removed.push(region.clone());
                } else {
                    blackholed.push(region.clone());
                }
            }
            let ok = !serving.is_empty() && blackholed.is_empty();
            let mut how = if serving.is_empty() {
                "DOWN: no region is left to serve it".to_string()
            } else {
                format!("latency routing to {}", serving.join(", "))
            };
            if !removed.is_empty() {
                how.push_str(&format!("; health checks take {} out", removed.join(", ")));
            }
            if !blackholed.is_empty() {
                how.push_str(&format!(
                    "; BROKEN for users routed to {}: no health check, so Route53 keeps sending them to a dead region",
                    blackholed.join(", ")
                ));
            }
            return (ok, serving, how);
        }
        // Other record sets: each member serves where its values come from. Failover and weighted
        // routing (several members with a set identifier) route around a dead member only when it
        // has a health check; Route53 treats a member without one as always healthy.
        let routed = members.len() > 1
            && members
                .iter()
                .any(|r| r.get("set_identifier").is_some_and(|v| *v != Value::None));
        let mut serving = Vec::new();
        let mut blackholed = Vec::new();
        let mut removed = Vec::new();
        for r in members {
            let Some(region) = r.get("records").and_then(|v| self.region_of_value(v)) else {
                continue;
            };
            let checked = r.get("health_check").is_some_and(|h| *h != Value::None);
            if self.serves(&region) {
                serving.push(region);
            } else if checked && routed {
                removed.push(region);
            } else {
                blackholed.push(region);
            }
        }
        serving.sort();
        serving.dedup();
        if serving.is_empty() && blackholed.is_empty() && removed.is_empty() {
            return (
                true,
                Vec::new(),
                "points outside this program (not analysed)".to_string(),
            );
        }
        let ok = !serving.is_empty() && blackholed.is_empty();
        if serving.is_empty() && !routed {
            return (
                false,
                serving,
                format!(
                    "DOWN: {} {} lost",
                    blackholed.join(", "),
                    if blackholed.len() == 1 { "is" } else { "are" }
                ),
            );
        }
        let mut how = if serving.is_empty() {
            "DOWN: no region is left to serve it".to_string()
        } else {
            format!("served by {}", serving.join(", "))
        };
        if !removed.is_empty() {
            how.push_str(&format!("; health checks take {} out", removed.join(", ")));
        }
        if !blackholed.is_empty() {
            let why = if routed {
                "no health check, so Route53 keeps answering with it"
            } else {
                "it is the only answer"
            };
            how.push_str(&format!(
                "; BROKEN where it answers with {}: {why}",
                blackholed.join(", ")
            ));
        }
        (ok, serving, how)
    }
}

/// The entry points of the program: CloudFront distributions, Route53 record sets (by name and
/// type), and `endpoint output`s.
pub fn entry_points(p: &Program) -> Vec<EntryPoint> {
    let mut out = Vec::new();
    for d in p.of_type("aws.cloudfront.Distribution") {
        out.push(EntryPoint {
            name: d.address.clone(),
            kind: EntryKind::Distribution,
            file: d.file.to_string(),
            span: d.span,
        });
    }
    let mut seen = BTreeSet::new();
    for r in p.of_type("aws.route53.Record") {
        let key = record_key(r);
        if seen.insert(key.clone()) {
            out.push(EntryPoint {
                name: key,
                kind: EntryKind::RecordSet,
                file: r.file.to_string(),
                span: r.span,
            });
        }
    }
    for (name, file, span) in &p.endpoints {
        out.push(EntryPoint {
            name: format!("output {name}"),
            kind: EntryKind::Output,
            file: file.clone(),
            span: *span,
        });
    }
    out
}

fn record_key(r: &Instance) -> String {
    let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
    let ty = r.get("type").and_then(Value::variant).unwrap_or("?");
    format!("{name} {ty}")
}

pub fn simulate(p: &Program, failure: &Failure) -> Report {
    let w = World::new(p, failure);
    let entries = entry_outcomes(&w, entry_points(p));
    let data = data_tiers(&w);
    let Watch {
        alarms,
        canaries,
        silenced,
        monitored,
    } = alarms(&w);
    let lost = p
        .instances
        .iter()
        .filter(|i| w.lost(i))
        .map(|i| i.address.clone())
        .collect();
    Report {
        failure: failure.clone(),
        entries,
        data,
        alarms,
        canaries,
        silenced,
        monitored,
        lost,
    }
}

/// What becomes of each of `entries` in `w`'s failure (`entries` in `entry_points` order).
fn entry_outcomes(w: &World<'_>, entries: Vec<EntryPoint>) -> Vec<EntryOutcome> {
    let p = w.p;
    let mut record_sets: BTreeMap<String, Vec<&Instance>> = BTreeMap::new();
    for r in p.of_type("aws.route53.Record") {
        record_sets.entry(record_key(r)).or_default().push(r);
    }
    let mut entries_out = Vec::new();
    for entry in entries {
        let (served, serving, how) = match entry.kind {
            EntryKind::Distribution => match p.instance(&entry.name) {
                Some(d) => w.distribution(d),
                None => (false, Vec::new(), "missing".into()),
            },
            EntryKind::RecordSet => w.record_set(
                record_sets
                    .get(&entry.name)
                    .map_or(&[][..], |members| &members[..]),
            ),
            EntryKind::Output => {
                let name = entry.name.trim_start_matches("output ");
                let v = p
                    .outputs
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::None);
                match w.distribution_of(&v) {
                    Some(d) => {
                        let (ok, serving, how) = w.distribution(d);
                        (
                            ok,
                            serving,
                            format!("comes from `{}`, which {}", d.address, which(&how)),
                        )
                    }
                    None => match w.region_of_value(&v) {
                        Some(r) if w.serves(&r) => (
                            true,
                            vec![r.clone()],
                            format!("served by {}", w.region_name(&r)),
                        ),
                        Some(r) => (
                            false,
                            Vec::new(),
                            format!("DOWN: it comes from {}, which is lost", w.region_name(&r)),
                        ),
                        None => (
                            true,
                            Vec::new(),
                            "not tied to a region (not analysed)".into(),
                        ),
                    },
                }
            }
        };
        entries_out.push(EntryOutcome {
            entry,
            served,
            serving,
            how,
        });
    }
    entries_out
}

/// What becomes of the program's entry points when each region fails on its own, one list per
/// region in region order, each in `entry_points` order: the part of [`single_region_failures`]
/// that P0108 reads.
pub(crate) fn single_region_entry_outcomes(p: &Program) -> Vec<Vec<EntryOutcome>> {
    let entries = entry_points(p);
    p.regions
        .iter()
        .map(|r| {
            let failure = Failure::region(&r.code);
            entry_outcomes(&World::new(p, &failure), entries.clone())
        })
        .collect()
}

/// What the observability tier makes of a failure.
struct Watch {
    alarms: Vec<AlarmOutcome>,
    canaries: Vec<AlarmOutcome>,
    silenced: Vec<String>,
    monitored: bool,
}

/// The region a canary probes: where its check's URL comes from (a load balancer's DNS name is
/// in the load balancer's region).
pub(crate) fn probed_region(p: &Program, canary: &Instance) -> Option<usize> {
    match canary.get("check").map(Value::reveal) {
        Some(Value::Record(m)) => m
            .get("url")?
            .provenance(&|a| p.instance(a).and_then(|i| i.region)),
        _ => None,
    }
}

/// The alarms the failure sets off, and those it silences: a health-check alarm when the checked
/// endpoint's region stops serving, a secondary's replication-lag alarm when the primary of its
/// global database is lost, an alarm that counts missing data as breaching when the resource it
/// watches is lost, and a composite alarm when any (or all) of its alarms fire.
fn alarms(w: &World<'_>) -> Watch {
    let p = w.p;
    let metric_alarms: Vec<&Instance> = p.of_type("aws.cloudwatch.MetricAlarm").collect();
    let composites: Vec<&Instance> = p.of_type("aws.cloudwatch.CompositeAlarm").collect();
    let canaries: Vec<&Instance> = p.of_type("aws.synthetics.Canary").collect();
    let monitored = !metric_alarms.is_empty() || !composites.is_empty() || !canaries.is_empty();
    let silenced: Vec<String> = metric_alarms
        .iter()
        .chain(&composites)
        .chain(&canaries)
        .filter(|a| w.lost(a))
        .map(|a| a.address.clone())
        .collect();
    // A canary fails when the region its check probes stops serving.
    let failing: Vec<(&Instance, String)> = canaries
        .iter()
        .filter(|c| !w.lost(c))
        .filter_map(|c| {
            let r = w.code(probed_region(p, c))?;
            (!w.serves(r)).then(|| {
                (
                    *c,
                    format!(
                        "its check of the endpoint in {} gets no answer",
                        w.region_name(r)
                    ),
                )
            })
        })
        .collect();
    let refs = |a: &Instance, field: &str| -> Vec<String> {
        match a.get(field).map(Value::reveal) {
            Some(Value::List(l)) => l
                .iter()
                .filter_map(|v| match v.reveal() {
                    Value::Ref { addr } => Some(addr.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let outcome = |a: &Instance, why: String| AlarmOutcome {
        alarm: a.address.clone(),
        region: w.code(a.region).unwrap_or("global").to_string(),
        why,
        topics: refs(a, "alarm_actions")
            .into_iter()
            .filter(|t| p.instance(t).is_some_and(|t| !w.lost(t)))
            .collect(),
    };
    let mut out = Vec::new();
    for a in metric_alarms.iter().filter(|a| !w.lost(a)) {
        let Some(watched) = crate::rules::watched(p, a) else {
            continue;
        };
        let Some(src) = watched.source else { continue };
        let breaching = a.get("treat_missing_data").and_then(Value::variant) == Some("breaching");
        let why = match src.ty.as_str() {
            "aws.route53.HealthCheck" => src
                .get("fqdn")
                .and_then(|v| w.region_of_value(v))
                .filter(|r| !w.serves(r))
                .map(|r| {
                    format!(
                        "Route 53 finds the endpoint of `{}` in {} unhealthy",
                        src.address,
                        w.region_name(&r)
                    )
                }),
            "aws.synthetics.Canary" => failing
                .iter()
                .find(|(c, _)| c.address == src.address)
                .map(|(c, why)| format!("canary `{}` fails: {why}", c.address)),
            "aws.elasticache.ReplicationGroup"
                if watched.name == "GlobalDatastoreReplicationLag" =>
            {
                target(p, src, "global_replication_group")
                    .and_then(|g| target(p, g, "primary"))
                    .filter(|pr| pr.address != src.address && w.lost(pr))
                    .map(|pr| {
                        format!(
                            "replication from the lost primary `{}` stops and `{}` falls behind",
                            pr.address, src.address
                        )
                    })
            }
            "aws.rds.Cluster"
                if watched.name.starts_with("AuroraGlobalDB")
                    && src.get("global_role").and_then(Value::variant) == Some("secondary") =>
            {
                let g = target(p, src, "global_cluster");
                p.instances
                    .iter()
                    .find(|c| {
                        c.ty == "aws.rds.Cluster"
                            && c.get("global_role").and_then(Value::variant) == Some("primary")
                            && g.is_some_and(|g| {
                                target(p, c, "global_cluster")
                                    .is_some_and(|x| x.address == g.address)
                            })
                    })
                    .filter(|pr| w.lost(pr))
                    .map(|pr| {
                        format!(
                            "replication from the lost primary `{}` stops and `{}` falls behind",
                            pr.address, src.address
                        )
                    })
            }
            _ => None,
        }
        .or_else(|| {
            (w.lost(src) && breaching).then(|| {
                format!(
                    "`{}` is lost: its metric stops, and missing data counts as breaching",
                    src.address
                )
            })
        });
        if let Some(why) = why {
            out.push(outcome(a, why));
        }
    }
    for c in composites.iter().filter(|c| !w.lost(c)) {
        let watched = refs(c, "alarms");
        let fired: Vec<&String> = watched
            .iter()
            .filter(|a| out.iter().any(|o| &o.alarm == *a))
            .collect();
        let all = c.get("combine").and_then(Value::variant) == Some("all");
        let fires = if all {
            !watched.is_empty() && fired.len() == watched.len()
        } else {
            !fired.is_empty()
        };
        if fires {
            let names: Vec<String> = fired.iter().map(|a| format!("`{a}`")).collect();
            out.push(outcome(
                c,
                format!(
                    "{} of its alarms fire{}: {}",
                    if all { "all" } else { "some" },
                    if fired.len() == 1 { "s" } else { "" },
                    names.join(", ")
                ),
            ));
        }
    }
    // Each failing canary, with the topics its fired alarms notify.
    let canaries = failing
        .into_iter()
        .map(|(c, why)| {
            let mut topics: Vec<String> = metric_alarms
                .iter()
                .filter(|a| {
                    out.iter().any(|o| o.alarm == a.address)
                        && crate::rules::watched(p, a)
                            .and_then(|x| x.source)
                            .is_some_and(|s| s.address == c.address)
                })
                .flat_map(|a| {
                    out.iter()
                        .filter(|o| o.alarm == a.address)
                        .flat_map(|o| o.topics.clone())
                        .collect::<Vec<_>>()
                })
                .collect();
            topics.sort();
            topics.dedup();
            AlarmOutcome {
                alarm: c.address.clone(),
                region: w.code(c.region).unwrap_or("global").to_string(),
                why,
                topics,
            }
        })
        .collect();
    Watch {
        alarms: out,
        canaries,
        silenced,
        monitored,
    }
}

fn target<'p>(p: &'p Program, inst: &Instance, field: &str) -> Option<&'p Instance> {
    match inst.get(field)?.reveal() {
        Value::Ref { addr } => p.instance(addr),
        _ => None,
    }
}

fn data_tiers(w: &World<'_>) -> Vec<DataOutcome> {
    let p = w.p;
    let mut out = Vec::new();
    // Aurora Global Database.
    let mut members: BTreeMap<String, Vec<&Instance>> = BTreeMap::new();
    for c in p.of_type("aws.rds.Cluster") {
        if let Some(g) = target(p, c, "global_cluster") {
            members.entry(g.address.clone()).or_default().push(c);
        }
    }
    for (g, ms) in &members {
        let primary = ms
            .iter()
            .find(|c| c.get("global_role").and_then(Value::variant) == Some("primary"));
        let lost: Vec<&&Instance> = ms.iter().filter(|c| w.lost(c)).collect();
        if lost.is_empty() {
            continue;
        }
        let alive: Vec<String> = ms
            .iter()
            .filter(|c| !w.lost(c))
            .filter_map(|c| w.code(c.region).map(str::to_string))
            .collect();
        let (action_needed, effect) = match primary {
            Some(pr) if w.lost(pr) && alive.is_empty() => (
                true,
                format!(
                    "the writer `{}` in {} is lost and there is no secondary: reads and writes stop until the region is \
                     back, and there is nothing to fail over to (add a secondary cluster in another region)",
                    pr.address,
                    w.code(pr.region).unwrap_or("?")
                ),
            ),
            Some(pr) if w.lost(pr) => (
                true,
                format!(
                    "the writer `{}` in {} is lost; reads continue on the secondaries in {}; writes stop until a managed \
                     failover promotes a secondary (`FailoverGlobalCluster` with data loss allowed: RPO is the replication \
                     lag, typically under a second; RTO is minutes), or a switchover once the region is back (RPO 0)",
                    pr.address,
                    w.code(pr.region).unwrap_or("?"),
                    alive.join(", ")
                ),
            ),
            _ => (
                false,
                format!(
                    "secondary {} lost ({}); the writer is unaffected and reads move to the other regions",
                    lost.iter()
                        .map(|c| format!("`{}`", c.address))
                        .collect::<Vec<_>>()
                        .join(", "),
                    lost.iter()
                        .filter_map(|c| w.code(c.region))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        };
        out.push(DataOutcome {
            name: g.clone(),
            kind: "Aurora global database",
            action_needed,
            effect,
        });
    }
    // ElastiCache Global Datastore, and regional caches.
    let mut in_global = BTreeSet::new();
    let mut datastore_secondaries: BTreeMap<&str, Vec<&Instance>> = BTreeMap::new();
    for c in p.of_type("aws.elasticache.ReplicationGroup") {
        if let Some(g) = target(p, c, "global_replication_group") {
            datastore_secondaries
                .entry(g.address.as_str())
                .or_default()
                .push(c);
        }
    }
    for g in p.of_type("aws.elasticache.GlobalReplicationGroup") {
        let Some(primary) = target(p, g, "primary") else {
            continue;
        };
        in_global.insert(primary.address.clone());
        let secondaries = datastore_secondaries
            .get(g.address.as_str())
            .cloned()
            .unwrap_or_default();
        in_global.extend(secondaries.iter().map(|s| s.address.clone()));
        if w.lost(primary) {
            let alive: Vec<&str> = secondaries
                .iter()
                .filter(|s| !w.lost(s))
                .filter_map(|s| w.code(s.region))
                .collect();
            out.push(DataOutcome {
                name: g.address.clone(),
                kind: "ElastiCache Global Datastore",
                action_needed: true,
                effect: format!(
                    "the primary `{}` in {} is lost; a Global Datastore has no automatic cross-region failover: promote a \
                     secondary ({}) by hand (`FailoverGlobalReplicationGroup`); writes fail until then; RPO is the \
                     replication lag",
                    primary.address,
                    w.code(primary.region).unwrap_or("?"),
                    if alive.is_empty() { "none is left".to_string() } else { alive.join(", ") }
                ),
            });
        } else if let Some(s) = secondaries.iter().find(|s| w.lost(s)) {
            out.push(DataOutcome {
                name: g.address.clone(),
                kind: "ElastiCache Global Datastore",
                action_needed: false,
                effect: format!(
                    "secondary `{}` in {} is lost; the primary is unaffected",
                    s.address,
                    w.code(s.region).unwrap_or("?")
                ),
            });
        }
    }
    for c in p.instances.iter().filter(|i| {
        i.ty == "aws.elasticache.ReplicationGroup" && !in_global.contains(&i.address) && w.lost(i)
    }) {
        out.push(DataOutcome {
            name: c.address.clone(),
            kind: "regional cache",
            action_needed: false,
            effect: format!(
                "unreachable while {} is down (it is not replicated to another region)",
                w.code(c.region).unwrap_or("?")
            ),
        });
    }
    out
}

/// Every single-region failure, in region order.
pub fn single_region_failures(p: &Program) -> Vec<Report> {
    p.regions
        .iter()
        .map(|r| simulate(p, &Failure::region(&r.code)))
        .collect()
}
