//! The AWS domain rules, run on the evaluated program. Each rule is a diagnostic with a stable code.

use carbonc_diagnostics::{Diagnostic, Label};

use crate::eval::{Instance, Program};
use crate::ty::Catalog;
use crate::value::Value;

mod aurora;
mod availability;
mod edge;
mod eks;
mod elasticache;
mod policy;
mod route53;

/// Every rule's diagnostics; `on(code)` is false for the policies a project turned off, which are
/// then not computed.
pub(crate) fn check(p: &Program, cat: &Catalog, on: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    aurora::check(p, &mut out);
    elasticache::check(p, &mut out);
    route53::check(p, &mut out);
    edge::check(p, cat, &mut out);
    eks::check(p, &mut out);
    availability::check(p, &mut out);
    policy::check(p, on, &mut out);
    out
}

pub(crate) fn of_type<'p>(p: &'p Program, ty: &'p str) -> impl Iterator<Item = &'p Instance> + 'p {
    p.instances.iter().map(|i| &**i).filter(move |i| i.ty == ty)
}

/// The instance a reference-valued field points to.
pub(crate) fn target<'p>(p: &'p Program, inst: &Instance, field: &str) -> Option<&'p Instance> {
    match inst.get(field)?.reveal() {
        Value::Ref { addr } => p.instance(addr),
        _ => None,
    }
}

pub(crate) fn label(inst: &Instance, field: &str, msg: impl Into<String>) -> Label {
    Label::new(&inst.file, inst.field_span(field), msg)
}

pub(crate) fn name_label(inst: &Instance, msg: impl Into<String>) -> Label {
    Label::new(&inst.file, inst.span, msg)
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
