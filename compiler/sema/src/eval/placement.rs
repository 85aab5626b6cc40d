//! Placement checks of references (E0301, E0302): once per instance, and once per module
//! instantiation for module parameters.

use super::*;

/// Where a reference was written, and what it was written for.
pub(super) struct Site {
    pub file: String,
    pub span: Span,
    /// The field or module parameter.
    pub field: String,
    /// "EKS cluster", "module instance".
    pub owner: String,
    /// The region of the resource or module instance that holds the reference.
    pub region: Option<usize>,
    /// Loop and module bindings, e.g. `r = euw1`.
    pub context: String,
    /// The address of the resource or module instance, which the message names.
    pub address: String,
}

/// "an ACM certificate", "a KMS key".
fn article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|c| "AEIOUaeiou".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

impl<'a> Evaluator<'a> {
    pub(super) fn check_placement(&mut self, idx: usize) {
        let inst = &self.program.instances[idx];
        let Some(schema) = self.cat.resources.get(&inst.ty) else {
            return;
        };
        if schema.file.starts_with("std/generated/") {
            self.check_available(idx);
        }
        let inst = &self.program.instances[idx];
        let mut found = Vec::new();
        for f in &schema.fields {
            if let Some(fv) = inst.fields.get(&f.name) {
                refs_in(&fv.value, &f.ty, self.cat, &mut |addr, placement| {
                    found.push((f.name.clone(), fv.span, addr.to_string(), placement.clone()))
                });
            }
        }
        for (field, span, addr, placement) in found {
            // Almost every reference keeps its placement: nothing below is built for those.
            if !self.breaks(self.program.instances[idx].region, &addr, &placement) {
                continue;
            }
            let inst = &self.program.instances[idx];
            // A wrong reference passed into a module is reported once, at the `use` argument.
            if self
                .reported_module_refs
                .iter()
                .any(|(m, a)| *a == addr && inst.address.starts_with(&format!("{m}.")))
            {
                continue;
            }
            let site = Site {
                file: inst.file.to_string(),
                span,
                field,
                owner: human_type_name(&inst.ty),
                region: inst.region,
                context: inst.context.to_string(),
                address: inst.address.clone(),
            };
            self.check_ref(&site, &addr, &placement);
        }
    }

    /// E0310: a generated resource type placed in a region where CloudFormation's provider list
    /// for that region does not have it (`stdlib/generated/unavailable.txt`).
    fn check_available(&mut self, idx: usize) {
        let inst = &self.program.instances[idx];
        let Some(r) = inst.region else { return };
        let code = &self.program.regions[r].code;
        if !carbonc_stdlib::unavailable_in(&inst.ty, code) {
            return;
        }
        let here = self
            .program
            .regions
            .iter()
            .find(|o| !carbonc_stdlib::unavailable_in(&inst.ty, &o.code))
            .map(|o| format!(", such as `{}` ({})", o.name, o.code))
            .unwrap_or_default();
        let context = if inst.context.is_empty() {
            String::new()
        } else {
            format!(" ({})", inst.context)
        };
        let d = Diagnostic::error(
            "E0310",
            format!("`{}` does not exist in {code}", inst.ty),
            Label::new(
                &*inst.file,
                inst.span,
                format!("`{}` is placed in {code}{context}", inst.address),
            ),
        )
        .with_note(format!(
            "CloudFormation's resource types for {code} do not include `{}`",
            inst.ty
        ))
        .with_help(format!("place it in a region that has the type{here}"));
        self.program.diags.push(d);
    }

    /// Checks the module parameters whose types carry a placement, at the `use` site.
    pub(super) fn check_module_params(&mut self) {
        let pending = std::mem::take(&mut self.pending_params);
        for p in pending {
            let Ok(v) = self.lookup(p.param, &p.env, p.span) else {
                continue;
            };
            let Some(ty) = &p.placed else { continue };
            let mut found = Vec::new();
            refs_in(&v, ty, self.cat, &mut |addr, placement| {
                found.push((addr.to_string(), placement.clone()))
            });
            for (addr, placement) in found {
                let site = Site {
                    file: p.site.file.clone(),
                    span: p.span,
                    field: p.param.to_string(),
                    owner: "module instance".into(),
                    region: p.site.region,
                    context: p.site.context.clone(),
                    address: p.site.module.clone(),
                };
                if self.check_ref(&site, &addr, &placement) {
                    self.reported_module_refs
                        .insert((p.site.module.clone(), addr));
                }
            }
        }
    }

    /// The instance at `addr`: of this program part, or of another file's.
    fn target(&self, addr: &str) -> Option<&Instance> {
        match self.by_addr.get(addr) {
            Some(&t) => Some(&self.program.instances[t]),
            None => self.remote_header(addr),
        }
    }

    /// Whether a reference from `region` to `addr` breaks `placement`.
    fn breaks(&self, region: Option<usize>, addr: &str, placement: &Placement) -> bool {
        let Some(treg) = self.target(addr).and_then(|t| t.region) else {
            return false;
        };
        match placement {
            Placement::Same => region.is_some_and(|ireg| ireg != treg),
            Placement::Fixed(code) => self.program.regions[treg].code != *code,
            Placement::Any => false,
        }
    }

    /// Reports a reference that breaks its placement; returns whether it did.
    pub(super) fn check_ref(&mut self, site: &Site, addr: &str, placement: &Placement) -> bool {
        let Some(target) = self.target(addr) else {
            return false;
        };
        let Some(treg) = target.region else {
            return false;
        };
        // The messages below are built only for a reference that breaks its placement.
        if !self.breaks(site.region, addr, placement) {
            return false;
        }
        let tcode = self.program.regions[treg].code.clone();
        let thuman = human_type_name(&target.ty);
        let tlower = thuman.to_lowercase_first();
        let owner = site.owner.to_lowercase_first();
        // The address names the instance with its loop keys: the bindings add nothing to it.
        let this = format!("{owner} `{}`", site.address);
        // Another file's skeleton has no spans (so that it stays equal when text moves): where
        // the target is declared comes from its file's part, read only for a broken reference.
        let span = match self.by_addr.get(addr) {
            Some(_) => target.span,
            None => self.remote_instance(addr).map_or(target.span, |t| t.span),
        };
        let target_label = Label::new(
            &*target.file,
            span,
            format!("this {tlower} lives in {tcode}"),
        );
        match placement {
            Placement::Same => {
                let Some(ireg) = site.region else {
                    return false;
                };
                let icode = self.program.regions[ireg].code.clone();
                let help = match self.same_family_in(target, treg, ireg, &site.context) {
                    Some(expr) => format!("use the {tlower} in {icode}: `{expr}`"),
                    None => format!("declare {} in {icode} and use it here", article(&tlower)),
                };
                let d = Diagnostic::error(
                    "E0301",
                    format!("{thuman} is in another region"),
                    Label::new(&site.file, site.span, format!("but {this} is in {icode}")),
                )
                .with_label(target_label)
                .with_note(format!(
                    "`{}` must name {} in the same region as the {owner}",
                    site.field,
                    article(&tlower)
                ))
                .with_help(help);
                self.program.diags.push(d);
                true
            }
            Placement::Fixed(code) => {
                let decl = self
                    .program
                    .regions
                    .iter()
                    .find(|r| &r.code == code)
                    .map(|r| format!(" (region `{}`)", r.name))
                    .unwrap_or_default();
                let d = Diagnostic::error(
                    "E0302",
                    format!("{thuman} must be in {code}"),
                    Label::new(
                        &site.file,
                        site.span,
                        format!(
                            "`{}` of {this} needs {} in {code}",
                            site.field,
                            article(&tlower)
                        ),
                    ),
                )
                .with_label(target_label)
                .with_help(format!(
                    "declare the {tlower} in {code}{decl} and use that one"
                ));
                self.program.diags.push(d);
                true
            }
            Placement::Any => false,
        }
    }

    /// The expression naming `target`'s sibling in region `want` (same family, the region key
    /// swapped), written with the loop variables in `context` where they fit: `private[r, az]`.
    fn same_family_in(
        &self,
        target: &Instance,
        treg: usize,
        want: usize,
        context: &str,
    ) -> Option<String> {
        let (base, rest) = target.address.split_once('[')?;
        let keys: Vec<&str> = rest.trim_end_matches(']').split(", ").collect();
        let tcode = &self.program.regions[treg].code;
        let wcode = &self.program.regions[want].code;
        let swapped: Vec<&str> = keys
            .iter()
            .map(|k| {
                if *k == tcode.as_str() {
                    wcode.as_str()
                } else {
                    k
                }
            })
            .collect();
        let sibling = format!("{base}[{}]", swapped.join(", "));
        if !self.by_addr.contains_key(&sibling) && self.remote_header(&sibling).is_none() {
            return None;
        }
        let bindings: Vec<(&str, &str)> = context
            .split(", ")
            .filter_map(|c| c.split_once(" = "))
            .collect();
        let want_name = &self.program.regions[want].name;
        let shown: Vec<String> = swapped
            .iter()
            .map(|k| {
                if *k == wcode.as_str() {
                    bindings
                        .iter()
                        .find(|(_, v)| v == want_name)
                        .map_or(want_name.clone(), |(n, _)| n.to_string())
                } else {
                    bindings
                        .iter()
                        .find(|(_, v)| v == k)
                        .map_or(format!("\"{k}\""), |(n, _)| n.to_string())
                }
            })
            .collect();
        let name = base.rsplit('.').next().unwrap_or(base);
        Some(format!("{name}[{}]", shown.join(", ")))
    }
}

/// Whether a value of type `ty` can hold a reference with a placement: [`refs_in`] finds none in
/// a value of any other type. `depth` bounds the walk through record types.
pub(super) fn carries_placement(ty: &Ty, cat: &Catalog, depth: usize) -> bool {
    match ty {
        Ty::Ref { placement, .. } => placement.is_some(),
        Ty::Optional(t) | Ty::Secret(t) | Ty::List(t) | Ty::Map(t) => {
            carries_placement(t, cat, depth)
        }
        Ty::Record(id) if depth > 0 => cat
            .record_fields(id)
            .is_some_and(|fs| fs.iter().any(|f| carries_placement(&f.ty, cat, depth - 1))),
        _ => false,
    }
}

/// Calls `found(addr, placement)` for every reference inside `v` whose type carries a placement.
pub(super) fn refs_in(v: &Value, ty: &Ty, cat: &Catalog, found: &mut dyn FnMut(&str, &Placement)) {
    match (v.reveal(), ty) {
        (
            Value::Ref { addr },
            Ty::Ref {
                placement: Some(p), ..
            },
        ) => found(addr, p),
        (v, Ty::Optional(t) | Ty::Secret(t)) => refs_in(v, t, cat, found),
        (Value::List(items), Ty::List(t)) => {
            for it in items {
                refs_in(it, t, cat, found);
            }
        }
        (Value::Map(m), Ty::Map(t)) => {
            for it in m.values() {
                refs_in(it, t, cat, found);
            }
        }
        (Value::Record(m), Ty::Record(id)) => {
            if let Some(fs) = cat.record_fields(id) {
                for f in fs {
                    if let Some(x) = m.get(&f.name) {
                        refs_in(x, &f.ty, cat, found);
                    }
                }
            }
        }
        _ => {}
    }
}
