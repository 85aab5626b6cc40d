//! The plan for people, in Terraform's layout: one block per resource with `+ ~ - -/+ <=` symbols,
//! attribute diffs, `(known after apply)` and `(sensitive value)`, grouped by region, and the final
//! `Plan: N to add, M to change, K to destroy.` line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use carbonc_state::Val;

use crate::model::{Action, Plan, ReplaceOrder, ResourceChange};

#[derive(Clone, Copy)]
struct Style {
    color: bool,
    /// Rendering `carbonc destroy`: deletions are what was asked, not configuration removed.
    destroying: bool,
}

impl Style {
    fn paint(self, code: &str, s: &str) -> String {
        if self.color {
            format!("\u{1b}[{code}m{s}\u{1b}[0m")
        } else {
            s.to_string()
        }
    }

    fn sym(self, sym: &str) -> String {
        let code = match sym {
            "+" => "32",
            "-" => "31",
            "~" => "33",
            "-/+" | "+/-" => "35",
            "<=" => "36",
            _ => return sym.to_string(),
        };
        self.paint(code, sym)
    }

    fn bold(self, s: &str) -> String {
        self.paint("1", s)
    }

    fn dim(self, s: &str) -> String {
        self.paint("2", s)
    }
}

fn scalar(v: &Val) -> Option<String> {
    Some(match v {
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(n) => n.to_string(),
        Val::Str(s) => serde_json::to_string(s).expect("strings serialise"),
        Val::Ref(a) => a.clone(),
        Val::Sensitive(_) => "(sensitive value)".into(),
        Val::Unknown => "(known after apply)".into(),
        Val::List(l) if l.is_empty() => "[]".into(),
        Val::Map(m) if m.is_empty() => "{}".into(),
        Val::List(_) | Val::Map(_) => return None,
    })
}

/// A string that holds a JSON object, as a value to diff (numbers that are not integers as their
/// text).
fn json_doc(s: &str) -> Option<Val> {
    fn val(j: serde_json::Value) -> Val {
        match j {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(b),
            serde_json::Value::Number(n) => {
                n.as_i64().map_or_else(|| Val::Str(n.to_string()), Val::Int)
            }
            serde_json::Value::String(s) => Val::Str(s),
            serde_json::Value::Array(items) => Val::List(items.into_iter().map(val).collect()),
            serde_json::Value::Object(m) => {
                Val::Map(m.into_iter().map(|(k, v)| (k, val(v))).collect())
            }
        }
    }
    if !s.trim_start().starts_with('{') {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(s).ok().map(val)
}

fn map_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !k.starts_with(|c: char| c.is_ascii_digit())
    {
        k.to_string()
    } else {
        serde_json::to_string(k).expect("strings serialise")
    }
}

/// Writes `sym name = value` lines for one value (multi-line for lists and maps).
fn value_lines(
    out: &mut String,
    st: Style,
    indent: usize,
    sym: &str,
    name: Option<(&str, usize)>,
    v: &Val,
    suffix: &str,
) {
    let pad = " ".repeat(indent);
    // A JSON document (a release's values, an IAM policy) is shown key by key, as Terraform
    // shows a `jsonencode` attribute.
    if let (Val::Str(s), Some(_)) = (v, name)
        && let Some(doc) = json_doc(s)
        && matches!(&doc, Val::Map(m) if !m.is_empty())
    {
        let mut inner = String::new();
        value_lines(&mut inner, st, indent, sym, name, &doc, suffix);
        let mut lines: Vec<&str> = inner.lines().collect();
        let last = lines.pop().unwrap_or_default();
        for (i, l) in lines.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{}", l.replacen(" = {", " = jsonencode({", 1));
            } else {
                let _ = writeln!(out, "{l}");
            }
        }
        let _ = writeln!(out, "{last})");
        return;
    }
    let head = match name {
        Some((n, width)) => format!("{n:<width$} = "),
        None => String::new(),
    };
    match (scalar(v), v) {
        (Some(s), _) => {
            let _ = writeln!(out, "{pad}{} {head}{s}{suffix}", st.sym(sym));
        }
        (None, Val::List(items)) => {
            let _ = writeln!(out, "{pad}{} {head}[{suffix}", st.sym(sym));
            for it in items {
                let mut inner = String::new();
                value_lines(&mut inner, st, indent + 4, sym, None, it, "");
                // Elements end with a comma, like Terraform.
                let trimmed = inner.trim_end_matches('\n');
                let _ = writeln!(out, "{trimmed},");
            }
            let _ = writeln!(out, "{pad}  ]");
        }
        (None, Val::Map(m)) => {
            let _ = writeln!(out, "{pad}{} {head}{{{suffix}", st.sym(sym));
            let keys: Vec<String> = m.keys().map(|k| map_key(k)).collect();
            let width = keys.iter().map(String::len).max().unwrap_or(0);
            for ((_, v), k) in m.iter().zip(&keys) {
                value_lines(out, st, indent + 4, sym, Some((k, width)), v, "");
            }
            let _ = writeln!(out, "{pad}  }}");
        }
        _ => unreachable!("scalars are handled above"),
    }
}

/// An in-place diff of one attribute.
fn diff_lines(
    out: &mut String,
    st: Style,
    indent: usize,
    name: &str,
    width: usize,
    before: Option<&Val>,
    after: Option<&Val>,
    forces: bool,
) {
    let suffix = if forces {
        format!(" {}", st.paint("31", "# forces replacement"))
    } else {
        String::new()
    };
    let pad = " ".repeat(indent);
    match (before, after) {
        (None | Some(Val::Null), Some(a)) => {
            value_lines(out, st, indent, "+", Some((name, width)), a, &suffix)
        }
        (Some(b), None | Some(Val::Null)) => {
            value_lines(out, st, indent, "-", Some((name, width)), b, &suffix)
        }
        (Some(Val::Str(b)), Some(Val::Str(a)))
            if json_doc(b).is_some() && json_doc(a).is_some() =>
        {
            // A JSON document (a release's values, an IAM policy) changes key by key, as
            // Terraform shows a `jsonencode` attribute.
            let (b, a) = (json_doc(b).expect("checked"), json_doc(a).expect("checked"));
            let mut inner = String::new();
            diff_lines(
                &mut inner,
                st,
                indent,
                name,
                width,
                Some(&b),
                Some(&a),
                forces,
            );
            let mut lines: Vec<&str> = inner.lines().collect();
            let (first, last) = (lines.remove(0), lines.pop().unwrap_or_default());
            let first =
                first
                    .replacen(" = {", " = jsonencode({", 1)
                    .replacen(" = [", " = jsonencode([", 1);
            let _ = writeln!(out, "{first}");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
            let _ = writeln!(out, "{last})");
        }
        (Some(Val::Map(b)), Some(Val::Map(a))) => {
            let _ = writeln!(out, "{pad}{} {name:<width$} = {{{suffix}", st.sym("~"));
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let shown: Vec<(String, &String)> = keys.iter().map(|k| (map_key(k), *k)).collect();
            let w = shown.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
            let mut hidden = 0;
            for (label, k) in &shown {
                let (x, y) = (b.get(*k), a.get(*k));
                if x == y && y.is_some_and(Val::is_known) {
                    hidden += 1;
                    continue;
                }
                diff_lines(out, st, indent + 4, label, w, x, y, false);
            }
            if hidden > 0 {
                let _ = writeln!(
                    out,
                    "{pad}      {}",
                    st.dim(&format!("# ({hidden} unchanged element(s) hidden)"))
                );
            }
            let _ = writeln!(out, "{pad}  }}");
        }
        (Some(b), Some(a)) => match (scalar(b), scalar(a)) {
            (Some(x), Some(y)) => {
                let _ = writeln!(
                    out,
                    "{pad}{} {name:<width$} = {x} -> {y}{suffix}",
                    st.sym("~")
                );
            }
            _ => {
                let _ = writeln!(out, "{pad}{} {name:<width$} = [{suffix}", st.sym("~"));
                let items = |v: &Val| match v {
                    Val::List(l) => l.clone(),
                    v => vec![v.clone()],
                };
                let (old, new) = (items(b), items(a));
                for o in old.iter().filter(|o| !new.contains(o)) {
                    let mut inner = String::new();
                    value_lines(&mut inner, st, indent + 4, "-", None, o, "");
                    let _ = writeln!(out, "{},", inner.trim_end_matches('\n'));
                }
                for n in &new {
                    let mut inner = String::new();
                    let sym = if old.contains(n) { " " } else { "+" };
                    value_lines(&mut inner, st, indent + 4, sym, None, n, "");
                    let _ = writeln!(out, "{},", inner.trim_end_matches('\n'));
                }
                let _ = writeln!(out, "{pad}  ]");
            }
        },
        (None, None) => {}
    }
}

fn header(c: &ResourceChange, st: Style) -> String {
    let addr = st.bold(&c.address);
    match c.action {
        Action::Create => format!("# {addr} will be created"),
        Action::Update => format!("# {addr} will be updated in-place"),
        Action::Replace => {
            let why = c
                .replace_reasons
                .iter()
                .map(|r| {
                    if r.contains(' ') || r == "placement" {
                        r.clone()
                    } else {
                        format!("`{r}`")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            match c.replace_order {
                Some(ReplaceOrder::CreateBeforeDestroy) => {
                    format!(
                        "# {addr} must be replaced (the new one is created first; {why} changed)"
                    )
                }
                _ => format!("# {addr} must be replaced ({why} changed)"),
            }
        }
        Action::Delete if st.destroying => format!("# {addr} will be destroyed"),
        Action::Delete if carbonc_state::deposed_base(&c.address).is_some() => {
            format!("# {addr} will be destroyed (an object replaced earlier, not deleted yet)")
        }
        Action::Delete => {
            format!("# {addr} will be destroyed (it is no longer in the configuration)")
        }
        Action::Read => format!("# {addr} will be read during apply"),
        Action::NoOp => format!("# {addr} is up to date"),
    }
}

fn resource_block(out: &mut String, c: &ResourceChange, st: Style, replaced: &BTreeSet<&str>) {
    let _ = writeln!(out, "  {}", header(c, st));
    let sym = c.action.symbol(c.replace_order);
    let kw = if c.action == Action::Read {
        "lookup"
    } else {
        "resource"
    };
    let _ = writeln!(out, "  {} {kw} {} {} {{", st.sym(sym), c.ty, c.address);
    let empty = BTreeMap::new();
    let before = c.before.as_ref().unwrap_or(&empty);
    let after = c.after.as_ref().unwrap_or(&empty);
    match c.action {
        Action::Create | Action::Read => {
            let shown: Vec<(&String, &Val)> =
                after.iter().filter(|(_, v)| **v != Val::Null).collect();
            let width = shown.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in shown {
                value_lines(out, st, 6, "+", Some((k, width)), v, "");
            }
        }
        Action::Delete => {
            let shown: Vec<(&String, &Val)> =
                before.iter().filter(|(_, v)| **v != Val::Null).collect();
            let width = shown.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in shown {
                value_lines(out, st, 6, "-", Some((k, width)), v, "");
            }
        }
        Action::Update | Action::Replace | Action::NoOp => {
            let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
            let mut shown = Vec::new();
            let mut hidden = 0;
            for k in keys {
                let (b, a) = (before.get(k), after.get(k));
                let unchanged = match (b, a) {
                    (x, y) if x == y => y.is_none_or(Val::is_known),
                    (None, Some(Val::Null)) | (Some(Val::Null), None) => true,
                    _ => false,
                };
                // A reference to a replaced resource is unchanged text but a new identity.
                let new_identity = a.is_some_and(|v| refers_to(v, replaced));
                if unchanged && !c.replace_reasons.contains(k) && !new_identity {
                    hidden += 1;
                } else {
                    shown.push((k, b, a, unchanged));
                }
            }
            let width = shown.iter().map(|(k, ..)| k.len()).max().unwrap_or(0);
            for (k, b, a, unchanged) in shown {
                if unchanged {
                    let v = a.and_then(scalar).unwrap_or_else(|| "[...]".into());
                    let note = if c.replace_reasons.contains(k) {
                        format!(" {}", st.paint("31", "# forces replacement"))
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        out,
                        "      {} {k:<width$} = {v} (replaced){note}",
                        st.sym("~")
                    );
                } else {
                    diff_lines(out, st, 6, k, width, b, a, c.replace_reasons.contains(k));
                }
            }
            if hidden > 0 {
                let _ = writeln!(
                    out,
                    "        {}",
                    st.dim(&format!("# ({hidden} unchanged attribute(s) hidden)"))
                );
            }
        }
    }
    let _ = writeln!(out, "    }}");
}

fn refers_to(v: &Val, replaced: &BTreeSet<&str>) -> bool {
    match v {
        Val::Ref(a) => replaced.contains(a.as_str()),
        Val::List(l) => l.iter().any(|x| refers_to(x, replaced)),
        Val::Map(m) => m.values().any(|x| refers_to(x, replaced)),
        _ => false,
    }
}

fn rule(title: &str, st: Style) -> String {
    let line = "─".repeat(96usize.saturating_sub(title.chars().count() + 4));
    st.bold(&format!("── {title} {line}"))
}

/// The whole plan. `color` adds ANSI colours (for terminals).
pub fn render(plan: &Plan, color: bool) -> String {
    render_with(
        plan,
        Style {
            color,
            destroying: false,
        },
    )
}

/// The plan of `carbonc destroy`: every deletion is the one asked for.
pub fn render_destroy(plan: &Plan, color: bool) -> String {
    render_with(
        plan,
        Style {
            color,
            destroying: true,
        },
    )
}

fn render_with(plan: &Plan, st: Style) -> String {
    let mut out = String::new();
    // A lookup whose result the state already holds is read again during apply, but there is
    // nothing to show: only new reads are listed.
    let visible: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action != Action::NoOp && (c.action != Action::Read || c.reads_anew()))
        .collect();
    let outputs: Vec<_> = plan
        .output_changes
        .iter()
        .filter(|o| o.action != Action::NoOp)
        .collect();
    if visible.is_empty() && outputs.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            st.bold("No changes. The infrastructure matches the configuration.")
        );
        return out;
    }
    // References to replaced resources change identity: they are shown even when their text does not.
    let replaced: BTreeSet<&str> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::Replace)
        .map(|c| c.address.as_str())
        .collect();
    if !visible.is_empty() {
        let _ = writeln!(
            out,
            "carbonc will perform the following actions, region by region:\n"
        );
        let mut groups: Vec<(Option<String>, Vec<&ResourceChange>)> = vec![(None, Vec::new())];
        for r in &plan.regions {
            groups.push((Some(r.code.clone()), Vec::new()));
        }
        for c in &visible {
            match groups.iter_mut().find(|(g, _)| *g == c.region) {
                Some((_, list)) => list.push(c),
                None => groups.push((c.region.clone(), vec![c])),
            }
        }
        for (region, changes) in groups.iter().filter(|(_, l)| !l.is_empty()) {
            let title = match region {
                None => "global".to_string(),
                Some(code) => match plan.regions.iter().find(|r| &r.code == code) {
                    Some(r) => format!("{code} ({})", r.name),
                    None => format!("{code} (no longer declared)"),
                },
            };
            let _ = writeln!(out, "{}\n", rule(&title, st));
            for c in changes {
                resource_block(&mut out, c, st, &replaced);
                out.push('\n');
            }
        }
    }
    let s = plan.summary;
    let reads = if s.read > 0 {
        format!(" {} to read.", s.read)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{} {} to add, {} to change, {} to destroy.{reads}",
        st.bold("Plan:"),
        s.add,
        s.change,
        s.destroy
    );
    if !outputs.is_empty() {
        let _ = writeln!(out, "\nChanges to outputs:");
        let width = outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
        for o in outputs {
            diff_lines(
                &mut out,
                st,
                2,
                &o.name,
                width,
                o.before.as_ref(),
                o.after.as_ref(),
                false,
            );
        }
    }
    out
}
