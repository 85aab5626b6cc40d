//! Parameter values from the environment (`CARBON_VAR_name`), variables files (`--var-file`) and the
//! command line (`--var name=value`), in that order of precedence (later wins).

use std::collections::BTreeMap;

use carbonc_sema::VarValue;
use carbonc_sema::syntax::ast::ExprKind;

/// Reads a variables file: `name = <literal>` entries, one per line or separated by commas.
fn read_file(path: &str, out: &mut BTreeMap<String, VarValue>) -> Result<(), String> {
    let text = carbonc_cli::load::read(path)
        .map_err(|why| format!("cannot read variables file `{path}`: {why}"))?;
    let wrapped = format!("{{{text}\n}}");
    let line_of = |offset: u32| {
        text[..(offset as usize).saturating_sub(1).min(text.len())]
            .matches('\n')
            .count()
            + 1
    };
    let expr = carbonc_sema::syntax::parse_expr(&wrapped).map_err(|errs| {
        let e = &errs[0];
        format!(
            "{path}:{}: {} (a variables file holds `name = value` lines)",
            line_of(e.span.start),
            e.message
        )
    })?;
    let ExprKind::Record(assigns) = expr.kind else {
        return Err(format!(
            "{path}: a variables file holds `name = value` lines"
        ));
    };
    for a in assigns {
        let (s, e) = (
            a.value.span.start as usize - 1,
            a.value.span.end as usize - 1,
        );
        out.insert(
            a.name.text.clone(),
            VarValue {
                source: text[s..e].to_string(),
                origin: format!("{path}:{}", line_of(a.name.span.start)),
                raw: false,
            },
        );
    }
    Ok(())
}

pub fn collect(
    var_files: &[String],
    vars: &[String],
) -> Result<BTreeMap<String, VarValue>, String> {
    let mut out = BTreeMap::new();
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter_map(|(k, v)| Some((k.strip_prefix("CARBON_VAR_")?.to_string(), v)))
        .collect();
    env.sort();
    for (name, value) in env {
        out.insert(
            name.clone(),
            VarValue {
                source: value,
                origin: format!("the environment variable CARBON_VAR_{name}"),
                raw: true,
            },
        );
    }
    for f in var_files {
        read_file(f, &mut out)?;
    }
    for v in vars {
        let Some((name, value)) = v.split_once('=') else {
            // Never echo the argument: it may be a secret given without its name.
            return Err("`--var` takes `name=value`".to_string());
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`--var {name}=…`: `{name}` is not a parameter name"
            ));
        }
        out.insert(
            name.to_string(),
            VarValue {
                source: value.to_string(),
                origin: format!("--var {name}"),
                raw: true,
            },
        );
    }
    Ok(out)
}
