//! The AWS domain rules, run on the evaluated program. Each rule is a diagnostic with a stable code.

use carbonc_diagnostics::Diagnostic;

use crate::eval::Program;
use crate::ty::Catalog;

mod aurora;
mod availability;
mod edge;
mod eks;
mod elasticache;
mod route53;

pub(crate) fn check(p: &Program, cat: &Catalog) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    aurora::check(p, &mut out);
    elasticache::check(p, &mut out);
    route53::check(p, &mut out);
    edge::check(p, cat, &mut out);
    eks::check(p, &mut out);
    availability::check(p, &mut out);
    out
}
