//! `carbon.toml`'s `[severity]` table: which policies and domain rules are errors, warnings or off.
//! Parsed here from text (the CLI and the language server read the file) so that both apply the
//! same overrides.

use std::collections::BTreeMap;

use carbonc_diagnostics::Severity;

/// The severity overrides of a `carbon.toml` whose text is `text`; `shown` names the file in errors.
///
/// ```toml
/// [severity]
/// P0107 = "off"      # error | warning | off
/// E0604 = "warning"
/// ```
pub fn severities_from_toml(
    text: &str,
    shown: &str,
) -> Result<BTreeMap<String, Option<Severity>>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        format!("{shown}:{line}: {}", e.message())
    })?;
    let mut out = BTreeMap::new();
    for (key, value) in &table {
        // `[backend]` is the CLI's (where state lives), read by its own parser.
        if key == "backend" {
            continue;
        }
        if key != "severity" {
            return Err(format!(
                "{shown}: unknown section `[{key}]` (carbon.toml has `[severity]` and `[backend]`)"
            ));
        }
        let Some(levels) = value.as_table() else {
            return Err(format!(
                "{shown}: `severity` is a table of `CODE = \"error\" | \"warning\" | \"off\"`"
            ));
        };
        for (code, level) in levels {
            if carbonc_diagnostics::code_info(code).is_none() {
                return Err(format!(
                    "{shown}: `{code}` is not a diagnostic code (see docs/diagnostics.md)"
                ));
            }
            if !crate::configurable(code) {
                return Err(format!(
                    "{shown}: `{code}` cannot be reconfigured: only policies (P...) and domain rules (E0301 and up) can"
                ));
            }
            let level = match level.as_str() {
                Some("error") => Some(Severity::Error),
                Some("warning") => Some(Severity::Warning),
                Some("off") => None,
                _ => {
                    return Err(format!(
                        "{shown}: `{code}` must be \"error\", \"warning\" or \"off\""
                    ));
                }
            };
            out.insert(code.clone(), level);
        }
    }
    Ok(out)
}
