//! The AWS domain rules, run on the evaluated program. Each rule is a diagnostic with a stable code.

use carbonc_diagnostics::{Applicability, Diagnostic, Fix, Label};

use crate::db::{Db, SourceFile};
use crate::eval::{Instance, Program, evaluate_program};
use crate::items::catalog;
use crate::ty::Catalog;
use crate::value::Value;

mod aurora;
mod availability;
mod cloudwatch;
pub(crate) use cloudwatch::watched;
mod edge;
pub use edge::cloudfront_certificates;
mod eks;
mod elasticache;
mod k8s;
pub(crate) use edge::origin_region;
mod policy;
mod route53;

/// A family's rules over its view.
type RunFamily = fn(&Program, &Catalog, &mut Vec<Diagnostic>);

/// The families of domain rules, each with the instance types it starts from. A family sees only
/// those instances and what they refer to ([`family_view`]), so an edit that touches none of them
/// does not run it again.
const FAMILIES: &[(&[&str], RunFamily)] = &[
    (
        &["aws.rds.Cluster", "aws.rds.ClusterInstance"],
        |p, _, out| aurora::check(p, out),
    ),
    (
        &[
            "aws.elasticache.ReplicationGroup",
            "aws.elasticache.GlobalReplicationGroup",
        ],
        |p, _, out| elasticache::check(p, out),
    ),
    (
        &["aws.route53.Record", "aws.route53.HealthCheck"],
        |p, _, out| route53::check(p, out),
    ),
    (
        &[
            "aws.acm.Certificate",
            "aws.cloudfront.Distribution",
            "aws.elbv2.LoadBalancer",
            "aws.wafv2.IpSet",
            "aws.wafv2.RuleGroup",
            "aws.wafv2.WebAcl",
        ],
        edge::check,
    ),
    // The health checks too: an alarm's metric names its check by id, which is no reference.
    (
        &[
            "aws.cloudwatch.MetricAlarm",
            "aws.cloudwatch.Dashboard",
            "aws.route53.HealthCheck",
            "aws.synthetics.Canary",
        ],
        |p, _, out| cloudwatch::check(p, out),
    ),
    (&["aws.eks.Cluster", "aws.eks.NodeGroup"], |p, _, out| {
        eks::check(p, out)
    }),
    (
        &[
            "aws.eks.AccessEntry",
            "aws.eks.AccessPolicyAssociation",
            "aws.eks.Addon",
            "aws.eks.PodIdentityAssociation",
        ],
        |p, _, out| eks::check_access(p, out),
    ),
    // The add-ons too: whether policies are enforced is the `vpc-cni` add-on's configuration,
    // which no policy refers to.
    (
        &[
            "k8s.NetworkPolicy",
            "k8s.HelmRelease",
            "k8s.ClickHouseCluster",
            "aws.eks.Addon",
        ],
        |p, _, out| k8s::check(p, out),
    ),
    (
        &[
            "aws.elasticache.ReplicationGroup",
            "aws.rds.Cluster",
            "aws.rds.ClusterInstance",
        ],
        |p, _, out| availability::check(p, out),
    ),
];

/// Every rule's diagnostics; `on(code)` is false for the policies a project turned off, which are
/// then not computed. The policies read the whole program (P0106 looks for any reference to a
/// web ACL, P0108 follows every entry point), the other families their views.
pub(crate) fn check(db: &dyn Db, root: SourceFile) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for family in 0..FAMILIES.len() {
        out.extend(family_diags(db, root, family as u8).iter().cloned());
    }
    out.extend(policy_diags(db, root).iter().cloned());
    out
}

/// The policies' diagnostics, on the whole program, without those `carbon.toml` turns off (which
/// are not computed).
#[salsa::tracked(returns(ref))]
fn policy_diags(db: &dyn Db, root: SourceFile) -> Vec<Diagnostic> {
    let levels = db.inputs().severities(db);
    let on = |code: &str| !matches!(levels.get(code), Some(None)) || !crate::configurable(code);
    let mut out = Vec::new();
    policy::check(evaluate_program(db, root), &on, &mut out);
    out
}

/// How many families of domain rules there are.
pub(crate) fn family_count() -> u8 {
    FAMILIES.len() as u8
}

/// Computes one family's diagnostics ahead of the check that reads them ([`crate::warm`]).
pub(crate) fn warm_family(db: &dyn Db, root: SourceFile, family: u8) {
    family_diags(db, root, family);
}

/// Computes the policies' diagnostics ahead of the check that reads them ([`crate::warm`]).
pub(crate) fn warm_policies(db: &dyn Db, root: SourceFile) {
    policy_diags(db, root);
}

/// One family's diagnostics, from its view.
#[salsa::tracked(returns(ref))]
fn family_diags(db: &dyn Db, root: SourceFile, family: u8) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let (_, run) = FAMILIES[family as usize];
    run(family_view(db, root, family), catalog(db), &mut out);
    out
}

/// The instances of a family's types and every instance they refer to, directly or not, in
/// program order, with the regions: equal after an edit that changes none of them.
#[salsa::tracked(returns(ref))]
fn family_view(db: &dyn Db, root: SourceFile, family: u8) -> Program {
    let p = evaluate_program(db, root);
    let (types, _) = FAMILIES[family as usize];
    let mut keep = vec![false; p.instances.len()];
    let mut todo: Vec<usize> = types
        .iter()
        .flat_map(|ty| p.positions_of_type(ty))
        .copied()
        .collect();
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut keep[i], true) {
            continue;
        }
        for f in p.instances[i].fields.values() {
            crate::graph::each_dep(&f.value, &mut |a| todo.extend(p.position(a)));
        }
    }
    let mut view = p.view(|i| keep[i]);
    // The rules read `carbon.toml`'s availability; evaluation does not.
    view.regions_available = *db.inputs().regions_available(db);
    view
}

/// The instance a reference-valued field points to.
pub(crate) fn target<'p>(p: &'p Program, inst: &Instance, field: &str) -> Option<&'p Instance> {
    match inst.get(field)?.reveal() {
        Value::Ref { addr } => p.instance(addr),
        _ => None,
    }
}

pub(crate) fn label(inst: &Instance, field: &str, msg: impl Into<String>) -> Label {
    Label::new(&*inst.file, inst.field_span(field), msg)
}

pub(crate) fn name_label(inst: &Instance, msg: impl Into<String>) -> Label {
    Label::new(&*inst.file, inst.span, msg)
}

/// A fix, titled `title`, that gives `field` of `inst` the value `v`: written over the argument
/// the value came through when a module's `use` passed it, else over the field's expression
/// (outside modules). `None` when the field holds its schema default (nothing written to
/// replace), when a module writes it itself (an edit there would change every user of the
/// module), or when `v` has no literal form. Certain only when `certain` (the new value is the
/// one meant) and what it replaces is a literal.
pub(crate) fn set_field(
    p: &Program,
    inst: &Instance,
    field: &str,
    v: &Value,
    title: impl Into<String>,
    certain: bool,
) -> Option<Fix> {
    let f = inst.fields.get(field).filter(|f| f.explicit)?;
    let (file, span) = match f.written_at.as_deref() {
        Some(w) => w.clone(),
        None if inst.uses.is_empty() => (inst.file.to_string(), f.span),
        None => return None,
    };
    let text = v.reveal().source_text(&p.regions)?;
    Some(Fix::replace(
        title,
        file,
        span,
        text,
        if certain && f.literal {
            Applicability::MachineApplicable
        } else {
            Applicability::MaybeIncorrect
        },
    ))
}

/// `d` as a warning.
pub(crate) fn warning(d: Diagnostic) -> Diagnostic {
    Diagnostic {
        severity: carbonc_diagnostics::Severity::Warning,
        ..d
    }
}

/// Whether no part of `v` has a region: a hostname or address written as text (or a parameter
/// not known at check time), not a placed resource's attribute. An empty or absent value is not.
pub(crate) fn unplaced(v: &Value, inst_region: &dyn Fn(&str) -> Option<usize>) -> bool {
    match v {
        Value::List(items) => !items.is_empty() && items.iter().all(|x| unplaced(x, inst_region)),
        Value::Secret(x) => unplaced(x, inst_region),
        Value::None => false,
        v => v.provenance(inst_region).is_none(),
    }
}

/// A hostname's text, to show in a message (`None` for a secret or a value not known yet).
pub(crate) fn shown(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(format!("`{s}`")),
        Value::List(items) => {
            let all: Option<Vec<String>> = items.iter().map(shown).collect();
            all.map(|a| a.join(", "))
        }
        _ => None,
    }
}

/// The enum variant `.name`, as a value for [`set_field`] to write.
pub(crate) fn variant(name: &str) -> Value {
    Value::enum_variant("", name, "")
}

/// `d` with `fix`, or with `help` as advice when there is no fix (the fix's title says the same).
pub(crate) fn fix_or_help(d: Diagnostic, fix: Option<Fix>, help: impl Into<String>) -> Diagnostic {
    match fix {
        Some(f) => d.with_fix(f),
        None => d.with_help(help),
    }
}

/// "`db_primary[us-east-1].cluster` (us-east-1)".
pub(crate) fn describe(p: &Program, inst: &Instance) -> String {
    format!("`{}` ({})", inst.address, p.region_code(inst.region))
}

pub(crate) fn scalar(inst: &Instance, field: &str) -> Option<String> {
    match inst.get(field)?.reveal() {
        Value::Unknown { .. } | Value::None => None,
        v => v.display_plain().ok(),
    }
}
