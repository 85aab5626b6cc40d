//! The planner: a pure function from desired resources and the prior state to resource changes.

use std::collections::{BTreeMap, BTreeSet};

use carbonc_state::{ResourceState, State, Val};

use crate::model::{Action, Desired, ReplaceOrder, ResourceChange};

/// Whether a value refers to one of `replaced` (whose identity changes, so the reference does).
fn refers_to(v: &Val, replaced: &BTreeSet<String>) -> bool {
    match v {
        Val::Ref(a) => replaced.contains(a),
        Val::List(items) => items.iter().any(|i| refers_to(i, replaced)),
        Val::Map(m) => m.values().any(|i| refers_to(i, replaced)),
        _ => false,
    }
}

/// Whether two attribute values are the same for planning. A missing attribute equals `null`.
fn same(a: Option<&Val>, b: Option<&Val>) -> bool {
    let norm = |v: Option<&Val>| match v {
        None | Some(Val::Null) => None,
        Some(v) => Some(v.clone()),
    };
    match (norm(a), norm(b)) {
        (_, Some(v)) if !v.is_known() => false,
        (x, y) => x == y,
    }
}

fn change_for(
    d: &Desired,
    prior: Option<&ResourceState>,
    replaced: &BTreeSet<String>,
) -> ResourceChange {
    let mut after = d.attrs.clone();
    let base = ResourceChange {
        address: d.address.clone(),
        ty: d.ty.clone(),
        region: d.region.clone(),
        action: Action::NoOp,
        replace_order: None,
        replace_reasons: Vec::new(),
        before: prior.map(|p| p.attributes.clone()),
        after: None,
        depends_on: d.deps.clone(),
    };
    let unknown_computed = |after: &mut BTreeMap<String, Val>| {
        for c in &d.computed {
            after.insert(c.clone(), Val::Unknown);
        }
    };
    if d.lookup {
        unknown_computed(&mut after);
        return ResourceChange {
            action: Action::Read,
            after: Some(after),
            ..base
        };
    }
    let Some(prior) = prior else {
        unknown_computed(&mut after);
        return ResourceChange {
            action: Action::Create,
            after: Some(after),
            ..base
        };
    };
    let mut reasons = Vec::new();
    if prior.ty != d.ty {
        reasons.push("resource type".to_string());
    }
    if prior.region != d.region {
        reasons.push("placement".to_string());
    }
    let keys: BTreeSet<&String> = d
        .attrs
        .keys()
        .chain(prior.attributes.keys().filter(|k| !d.computed.contains(k)))
        .collect();
    let changed: Vec<&String> = keys
        .into_iter()
        .filter(|k| prior.attributes.contains_key(*k) || !d.defaulted.contains(k))
        .filter(|k| {
            !same(prior.attributes.get(*k), d.attrs.get(*k))
                || d.attrs.get(*k).is_some_and(|v| refers_to(v, replaced))
        })
        .collect();
    reasons.extend(
        changed
            .iter()
            .filter(|k| d.forces_new.contains(k))
            .map(|k| k.to_string()),
    );
    if !reasons.is_empty() {
        unknown_computed(&mut after);
        let order = if d.create_before_destroy {
            ReplaceOrder::CreateBeforeDestroy
        } else {
            ReplaceOrder::DeleteBeforeCreate
        };
        return ResourceChange {
            action: Action::Replace,
            replace_order: Some(order),
            replace_reasons: reasons,
            after: Some(after),
            ..base
        };
    }
    // Computed attributes keep their known values through an in-place update.
    for c in &d.computed {
        after.insert(
            c.clone(),
            prior.attributes.get(c).cloned().unwrap_or(Val::Unknown),
        );
    }
    let action = if changed.is_empty() {
        Action::NoOp
    } else {
        Action::Update
    };
    ResourceChange {
        action,
        after: Some(after),
        ..base
    }
}

/// Resources in state but not in the configuration are deleted, dependents first.
fn deletions(state: &State, desired: &BTreeSet<&str>) -> Vec<ResourceChange> {
    let gone: Vec<&ResourceState> = state
        .resources
        .iter()
        .filter(|r| !desired.contains(r.address.as_str()))
        .collect();
    let index: BTreeMap<&str, usize> = gone
        .iter()
        .enumerate()
        .map(|(i, r)| (r.address.as_str(), i))
        .collect();
    // `blockers[i]`: how many gone resources depend on i (they go first).
    let mut blockers = vec![0usize; gone.len()];
    for r in &gone {
        for d in &r.dependencies {
            if let Some(&j) = index.get(d.as_str()) {
                blockers[j] += 1;
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..gone.len()).filter(|i| blockers[*i] == 0).collect();
    let mut order = Vec::new();
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for d in &gone[i].dependencies {
            if let Some(&j) = index.get(d.as_str()) {
                blockers[j] -= 1;
                if blockers[j] == 0 {
                    ready.insert(j);
                }
            }
        }
    }
    // A dependency cycle recorded in state: delete the rest in state order.
    let placed: BTreeSet<usize> = order.iter().copied().collect();
    order.extend((0..gone.len()).filter(|i| !placed.contains(i)));
    order
        .into_iter()
        .map(|i| {
            let r = gone[i];
            ResourceChange {
                address: r.address.clone(),
                ty: r.ty.clone(),
                region: r.region.clone(),
                action: Action::Delete,
                replace_order: None,
                replace_reasons: Vec::new(),
                before: Some(r.attributes.clone()),
                after: None,
                depends_on: r.dependencies.clone(),
            }
        })
        .collect()
}

/// The changes that bring `state` to `desired` (given in dependency order): creates, updates and
/// replacements in that order, then deletions in reverse dependency order.
pub fn plan_changes(desired: &[Desired], state: Option<&State>) -> Vec<ResourceChange> {
    let prior: BTreeMap<&str, &ResourceState> = state
        .map(|s| {
            s.resources
                .iter()
                .map(|r| (r.address.as_str(), r))
                .collect()
        })
        .unwrap_or_default();
    // In dependency order, so that a replacement is known before its dependents are planned: a
    // reference to a replaced resource changes (the new resource has a new identity).
    let mut replaced = BTreeSet::new();
    let mut out = Vec::with_capacity(desired.len());
    for d in desired {
        let c = change_for(d, prior.get(d.address.as_str()).copied(), &replaced);
        if c.action == Action::Replace {
            replaced.insert(c.address.clone());
        }
        out.push(c);
    }
    if let Some(s) = state {
        let names: BTreeSet<&str> = desired.iter().map(|d| d.address.as_str()).collect();
        out.extend(deletions(s, &names));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(addr: &str, attrs: &[(&str, Val)]) -> Desired {
        Desired {
            address: addr.into(),
            ty: "aws.ec2.Vpc".into(),
            region: Some("us-east-1".into()),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            computed: vec!["id".into()],
            forces_new: vec!["cidr_block".into()],
            defaulted: vec![],
            deps: vec![],
            lookup: false,
            create_before_destroy: false,
            prevent_destroy: false,
        }
    }

    fn prior(addr: &str, attrs: &[(&str, Val)], deps: &[&str]) -> ResourceState {
        ResourceState {
            address: addr.into(),
            ty: "aws.ec2.Vpc".into(),
            region: Some("us-east-1".into()),
            id: Some("vpc-1".into()),
            status: Default::default(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            token: None,
        }
    }

    fn s(x: &str) -> Val {
        Val::Str(x.into())
    }

    #[test]
    fn actions() {
        let mut state = State::new("l".into());
        state.resources = vec![
            prior(
                "same",
                &[("cidr_block", s("10.0.0.0/16")), ("id", s("vpc-1"))],
                &[],
            ),
            prior(
                "upd",
                &[
                    ("cidr_block", s("10.0.0.0/16")),
                    ("enable_dns", Val::Bool(true)),
                ],
                &[],
            ),
            prior("repl", &[("cidr_block", s("10.0.0.0/16"))], &[]),
            prior("gone_parent", &[], &[]),
            prior("gone_child", &[], &["gone_parent"]),
        ];
        let d = vec![
            desired("same", &[("cidr_block", s("10.0.0.0/16"))]),
            desired(
                "upd",
                &[
                    ("cidr_block", s("10.0.0.0/16")),
                    ("enable_dns", Val::Bool(false)),
                ],
            ),
            desired("repl", &[("cidr_block", s("10.9.0.0/16"))]),
            desired("new", &[("cidr_block", s("10.1.0.0/16"))]),
        ];
        let changes = plan_changes(&d, Some(&state));
        let got: Vec<(&str, Action)> = changes
            .iter()
            .map(|c| (c.address.as_str(), c.action))
            .collect();
        assert_eq!(
            got,
            [
                ("same", Action::NoOp),
                ("upd", Action::Update),
                ("repl", Action::Replace),
                ("new", Action::Create),
                ("gone_child", Action::Delete),
                ("gone_parent", Action::Delete),
            ]
        );
        assert_eq!(changes[0].after.as_ref().unwrap()["id"], s("vpc-1"));
        assert_eq!(changes[2].replace_reasons, ["cidr_block"]);
        assert_eq!(changes[3].after.as_ref().unwrap()["id"], Val::Unknown);
    }

    #[test]
    fn replacing_a_resource_replaces_what_needs_its_identity() {
        let mut state = State::new("l".into());
        let mut child = prior(
            "subnet",
            &[("vpc", Val::Ref("vpc".into())), ("name", s("a"))],
            &["vpc"],
        );
        child.ty = "aws.ec2.Vpc".into();
        state.resources = vec![
            prior("vpc", &[("cidr_block", s("10.0.0.0/16"))], &[]),
            child,
        ];
        let mut sub = desired(
            "subnet",
            &[("vpc", Val::Ref("vpc".into())), ("name", s("a"))],
        );
        sub.forces_new.push("vpc".into());
        let d = vec![desired("vpc", &[("cidr_block", s("10.1.0.0/16"))]), sub];
        let c = plan_changes(&d, Some(&state));
        assert_eq!(c[1].action, Action::Replace);
        assert_eq!(c[1].replace_reasons, ["vpc"]);
    }

    #[test]
    fn unknown_and_secret_values_are_changes() {
        let mut state = State::new("l".into());
        state.resources = vec![prior(
            "a",
            &[("pw", Val::Sensitive(Some("h1".into()))), ("name", s("x"))],
            &[],
        )];
        let same_secret = desired(
            "a",
            &[("pw", Val::Sensitive(Some("h1".into()))), ("name", s("x"))],
        );
        assert_eq!(
            plan_changes(&[same_secret], Some(&state))[0].action,
            Action::NoOp
        );
        let new_secret = desired(
            "a",
            &[("pw", Val::Sensitive(Some("h2".into()))), ("name", s("x"))],
        );
        assert_eq!(
            plan_changes(&[new_secret], Some(&state))[0].action,
            Action::Update
        );
        let unknown = desired(
            "a",
            &[
                ("pw", Val::Sensitive(Some("h1".into()))),
                ("name", Val::Unknown),
            ],
        );
        assert_eq!(
            plan_changes(&[unknown], Some(&state))[0].action,
            Action::Update
        );
    }

    /// A field the schema gained after the resource was made (so the state does not record it),
    /// left at its default, is no change, even a `forces_new` one; set to something else, it is.
    #[test]
    fn a_field_new_in_the_schema_left_at_its_default_is_no_change() {
        let prior = prior(
            "vpc",
            &[("cidr_block", Val::Str("10.0.0.0/16".into()))],
            &[],
        );
        let mut d = desired(
            "vpc",
            &[
                ("cidr_block", Val::Str("10.0.0.0/16".into())),
                ("ipv6", Val::Bool(false)),
            ],
        );
        d.forces_new.push("ipv6".into());
        d.defaulted.push("ipv6".into());
        assert_eq!(
            change_for(&d, Some(&prior), &BTreeSet::new()).action,
            Action::NoOp
        );
        d.defaulted.clear();
        d.attrs.insert("ipv6".into(), Val::Bool(true));
        let c = change_for(&d, Some(&prior), &BTreeSet::new());
        assert_eq!(
            (c.action, c.replace_reasons),
            (Action::Replace, vec!["ipv6".to_string()])
        );
    }
}
