//! Blame: a diagnostic about an instance made inside a module points at the user's code, not at
//! the module's line. Rules and evaluation report on an instance's field or name; when that
//! instance was made by a `use`, the line in the module is the same for every user of it, and
//! the mistake is in what the user passed, or in where they used the module.
//!
//! - A field whose value is a module parameter: the primary label moves to the argument the
//!   outermost `use` passed for it ([`crate::eval::FieldVal::written_at`]), and the module's line
//!   becomes a secondary label.
//! - Anything else decided inside the module (a value the module writes itself, the instance's
//!   name): the primary label moves to the outermost `use` that made the instance, naming the
//!   instance and its region; the module's line keeps its message as a secondary label.

use std::collections::{HashMap, HashSet};

use carbonc_diagnostics::{Diagnostic, Label, Span};

use crate::eval::{Instance, Program};

/// Where on an instance a label can sit: a field's value, or the instance's name (`None`).
type Spot<'p> = (&'p Instance, Option<&'p str>);

/// `diags` with every primary label on a module-made instance moved to the user's code.
pub(crate) fn blame(program: &Program, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    // Only the places some label is on are indexed: a clean program (the usual case after an
    // edit) costs nothing here.
    let labelled: HashSet<(&str, Span)> = diags
        .iter()
        .flat_map(|d| std::iter::once(&d.primary).chain(&d.secondary))
        .map(|l| (l.file.as_str(), l.span))
        .collect();
    if labelled.is_empty() {
        return diags;
    }
    let mut at: HashMap<(&str, Span), Vec<Spot<'_>>> = HashMap::new();
    for inst in program.instances.iter().filter(|i| !i.uses.is_empty()) {
        let spots = std::iter::once((inst.span, None)).chain(
            inst.fields
                .iter()
                .filter(|(_, f)| f.explicit)
                .map(|(name, f)| (f.span, Some(name))),
        );
        for (span, field) in spots {
            let key = (&*inst.file, span);
            if labelled.contains(&key) {
                at.entry(key).or_default().push((inst, field));
            }
        }
    }
    if at.is_empty() {
        return diags;
    }
    diags
        .into_iter()
        .map(|d| {
            let names = |text: &str, inst: &Instance| text.contains(&format!("`{}`", inst.address));
            // A secondary label on a module's line that names its instance moves to the
            // argument the value came through, where there is one.
            let mut d = d;
            for l in &mut d.secondary {
                let Some(spots) = at.get(&(l.file.as_str(), l.span)) else {
                    continue;
                };
                let written = spots
                    .iter()
                    .find(|(inst, _)| names(&l.message, inst))
                    .and_then(|(inst, f)| inst.fields.get((*f)?)?.written_at.as_deref().cloned());
                if let Some((file, span)) = written {
                    (l.file, l.span) = (file, span);
                }
            }
            let key = (d.primary.file.clone(), d.primary.span);
            let Some(spots) = at.get(&(key.0.as_str(), key.1)) else {
                return d;
            };
            // Several instances share a module's line: the one the primary label names, else
            // the title, else a secondary label (about the same instance's other fields).
            let spot = *spots
                .iter()
                .find(|(inst, _)| names(&d.primary.message, inst))
                .or_else(|| spots.iter().find(|(inst, _)| names(&d.title, inst)))
                .or_else(|| {
                    spots
                        .iter()
                        .find(|(inst, _)| d.secondary.iter().any(|l| names(&l.message, inst)))
                })
                .unwrap_or(&spots[0]);
            move_primary(program, d, spot)
        })
        .collect()
}

fn move_primary(program: &Program, mut d: Diagnostic, (inst, field): Spot<'_>) -> Diagnostic {
    let inside = d.primary.clone();
    // A fix that edits the module's line would change every user of the module.
    d.fixes.retain(|f| {
        f.edits.iter().all(|e| {
            e.file != inside.file
                || e.span.end <= inside.span.start
                || e.span.start >= inside.span.end
        })
    });
    let written = field
        .and_then(|f| inst.fields.get(f))
        .and_then(|f| f.written_at.as_deref().cloned());
    let region = program.region_code(inst.region);
    match written {
        Some((file, span)) => {
            d.primary = Label::new(file, span, inside.message);
            d.secondary.insert(
                0,
                Label::new(
                    inside.file,
                    inside.span,
                    format!("used here by `{}` ({region})", inst.address),
                ),
            );
        }
        None => {
            let Some((file, span)) = inst.uses.first().cloned() else {
                return d;
            };
            d.primary = Label::new(file, span, format!("makes `{}` ({region})", inst.address));
            d.secondary.insert(0, inside);
        }
    }
    d
}
