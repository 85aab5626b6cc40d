//! Lowering to the resource graph: one node per instance, an edge for every reference and every
//! computed value that flows from one resource into another. Cycles are diagnostics.

use carbonc_diagnostics::{Diagnostic, Label};

use crate::db::{Db, SourceFile};
use crate::eval::{Instance, Program, evaluate_program, file_program};
use crate::value::{Origin, Value};

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ResourceGraph {
    /// For each instance (by index into `Program::instances`), the instances it depends on.
    pub deps: Vec<Vec<usize>>,
    /// Every instance, dependencies first; instances in cycles come last, in declaration order.
    pub order: Vec<usize>,
    /// Strongly connected groups of two or more instances, or one that depends on itself.
    pub cycles: Vec<Vec<usize>>,
}

/// The addresses a value refers to.
pub fn value_deps(v: &Value, out: &mut Vec<String>) {
    each_dep(v, &mut |a| out.push(a.to_string()));
}

/// Calls `f` with each address a value refers to, in the order [`value_deps`] lists them,
/// without copying them.
pub(crate) fn each_dep<'v>(v: &'v Value, f: &mut impl FnMut(&'v str)) {
    match v {
        Value::Ref { addr } => f(addr),
        Value::Unknown {
            origin: Origin::AfterApply(attrs),
            ..
        } => attrs
            .iter()
            .filter_map(|a| a.rsplit_once('.'))
            .for_each(|(addr, _)| f(addr)),
        Value::Secret(v) => each_dep(v, f),
        Value::List(items) => items.iter().for_each(|i| each_dep(i, f)),
        Value::Map(m) | Value::Record(m) => m.values().for_each(|i| each_dep(i, f)),
        _ => {}
    }
}

/// The addresses an instance's written fields refer to.
fn explicit_deps(inst: &Instance) -> Vec<String> {
    let mut addrs = Vec::new();
    inst.fields
        .values()
        .filter(|f| f.explicit)
        .for_each(|f| value_deps(&f.value, &mut addrs));
    addrs
}

pub fn build(p: &Program) -> ResourceGraph {
    let orderings = crate::ordering::Orderings::new(p);
    let deps: Vec<Vec<usize>> = p
        .instances
        .iter()
        .map(|inst| {
            let mut addrs = explicit_deps(inst);
            let extra = orderings.deps(inst, &addrs);
            addrs.extend(extra);
            positions(&addrs, |a| p.position(a))
        })
        .collect();
    graph_of(deps)
}

/// Addresses as sorted, distinct indices; unknown ones are left out.
fn positions(addrs: &[String], at: impl Fn(&str) -> Option<usize>) -> Vec<usize> {
    let mut d: Vec<usize> = addrs.iter().filter_map(|a| at(a)).collect();
    d.sort_unstable();
    d.dedup();
    d
}

/// What each instance of one file's part refers to, by address, in the part's order.
/// Span-free: an edit that changes no reference leaves it equal, and the cycle check that joins
/// these does not run again.
#[salsa::tracked(returns(ref))]
pub fn file_references(
    db: &dyn Db,
    root: SourceFile,
    file: SourceFile,
) -> Vec<(String, Vec<String>)> {
    file_program(db, root, file)
        .instances
        .iter()
        .map(|inst| (inst.address.clone(), explicit_deps(inst)))
        .collect()
}

/// The orderings AWS needs beyond references (`ordering.rs`), by address: a small projection of
/// the whole program, equal after most edits.
#[salsa::tracked(returns(ref))]
pub fn ordering_edges(db: &dyn Db, root: SourceFile) -> Vec<(String, Vec<String>)> {
    let p = evaluate_program(db, root);
    let orderings = crate::ordering::Orderings::new(p);
    // Only instances of the types an ordering starts from, and those that refer to one an
    // ordering waits on, can have one: the references come from each file's (equal after most
    // edits, so not computed again), not from every instance's fields.
    let targets: rustc_hash::FxHashSet<&str> = p
        .instances
        .iter()
        .filter(|i| crate::ordering::is_target(&i.ty))
        .map(|i| i.address.as_str())
        .collect();
    let mut out = Vec::new();
    for f in crate::eval::file_order(db, root) {
        for (addr, refs) in file_references(db, root, f) {
            let Some(inst) = p.instance(addr) else {
                continue;
            };
            if !crate::ordering::is_source(&inst.ty)
                && !refs.iter().any(|r| targets.contains(r.as_str()))
            {
                continue;
            }
            let extra = orderings.deps(inst, refs);
            if !extra.is_empty() {
                out.push((addr.clone(), extra));
            }
        }
    }
    out
}

/// One dependency cycle: each member's address and the members it needs.
pub type Cycle = Vec<(String, Vec<String>)>;

/// The dependency cycles of the program, as [`build`] finds them, from each file's references
/// and the orderings: after an edit that changes no reference it is not computed again.
#[salsa::tracked(returns(ref))]
pub fn dependency_cycles(db: &dyn Db, root: SourceFile) -> Vec<Cycle> {
    let mut addrs: Vec<&str> = Vec::new();
    let mut refs: Vec<&[String]> = Vec::new();
    for f in crate::eval::file_order(db, root) {
        for (addr, deps) in file_references(db, root, f) {
            addrs.push(addr);
            refs.push(deps);
        }
    }
    let mut index: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for (i, a) in addrs.iter().enumerate() {
        // The first of two instances with one address counts, as in `Program::instance`.
        index.entry(a).or_insert(i);
    }
    let extra: rustc_hash::FxHashMap<&str, &Vec<String>> = ordering_edges(db, root)
        .iter()
        .map(|(a, e)| (a.as_str(), e))
        .collect();
    let deps: Vec<Vec<usize>> = addrs
        .iter()
        .zip(&refs)
        .map(|(a, r)| {
            let mut all: Vec<String> = r.to_vec();
            if let Some(e) = extra.get(a) {
                all.extend(e.iter().cloned());
            }
            positions(&all, |x| index.get(x).copied())
        })
        .collect();
    let g = graph_of(deps);
    g.cycles
        .iter()
        .map(|cycle| {
            cycle
                .iter()
                .map(|&i| {
                    let on = g.deps[i]
                        .iter()
                        .filter(|d| cycle.contains(d))
                        .map(|&d| addrs[d].to_string())
                        .collect();
                    (addrs[i].to_string(), on)
                })
                .collect()
        })
        .collect()
}

/// The graph of `deps`: a dependency order and the cycles.
fn graph_of(deps: Vec<Vec<usize>>) -> ResourceGraph {
    // Kahn's algorithm, lowest index first, so the order is stable and follows the source.
    let n = deps.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pending: Vec<usize> = deps.iter().map(Vec::len).collect();
    for (i, ds) in deps.iter().enumerate() {
        for d in ds {
            dependents[*d].push(i);
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|i| pending[*i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &j in &dependents[i] {
            pending[j] -= 1;
            if pending[j] == 0 {
                ready.insert(j);
            }
        }
    }
    let cycles = if order.len() < n {
        strongly_connected(&deps, &order)
    } else {
        Vec::new()
    };
    let mut in_order = vec![false; n];
    order.iter().for_each(|i| in_order[*i] = true);
    order.extend((0..n).filter(|i| !in_order[*i]));
    ResourceGraph {
        deps,
        order,
        cycles,
    }
}

/// Tarjan's algorithm over the nodes not already ordered, iteratively (no recursion).
fn strongly_connected(deps: &[Vec<usize>], done: &[usize]) -> Vec<Vec<usize>> {
    let n = deps.len();
    let mut skip = vec![false; n];
    done.iter().for_each(|i| skip[*i] = true);
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for start in 0..n {
        if skip[start] || index[start] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some((v, i)) = work.pop() {
            if i < deps[v].len() {
                work.push((v, i + 1));
                let w = deps[v][i];
                if skip[w] {
                    continue;
                }
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 || deps[v].contains(&v) {
                    comp.sort_unstable();
                    out.push(comp);
                }
            }
        }
    }
    out.sort();
    out
}

#[salsa::tracked(returns(ref))]
pub fn resource_graph(db: &dyn Db, root: SourceFile) -> ResourceGraph {
    build(evaluate_program(db, root))
}

/// E0117 for each cycle, its labels on the members' declarations.
pub(crate) fn cycle_diagnostics(p: &Program, cycles: &[Cycle]) -> Vec<Diagnostic> {
    cycles
        .iter()
        .filter_map(|cycle| {
            let names: Vec<String> = cycle.iter().map(|(a, _)| format!("`{a}`")).collect();
            let needs = |(addr, on): &(String, Vec<String>)| {
                let inst = p.instance(addr)?;
                let on: Vec<String> = on.iter().map(|d| format!("`{d}`")).collect();
                Some(Label::new(
                    &*inst.file,
                    inst.span,
                    format!("`{addr}` needs {}", on.join(", ")),
                ))
            };
            let mut d = Diagnostic::error(
                "E0117",
                format!("Dependency cycle between {}", names.join(", ")),
                needs(cycle.first()?)?,
            );
            for member in &cycle[1..] {
                d = d.with_label(needs(member)?);
            }
            Some(
                d.with_note(
                    "carbonc creates resources in dependency order; a cycle has no first resource",
                )
                .with_help(
                    "remove one of the references, or pass a value that is known before apply",
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cycles_without_recursion() {
        let deps = vec![vec![1], vec![2], vec![0], vec![], vec![4]];
        let done = vec![3];
        assert_eq!(
            strongly_connected(&deps, &done),
            vec![vec![0, 1, 2], vec![4]]
        );
        // A long chain does not overflow the stack.
        let n = 200_000;
        let mut deps: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        deps.push(vec![]);
        assert_eq!(strongly_connected(&deps, &[n])[0].len(), n);
    }
}
