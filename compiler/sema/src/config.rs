//! `carbon.toml`'s `[severity]` table (which policies and domain rules are errors, warnings or
//! off) and `[availability]` table (how many regions must stay fully available). Parsed here from
//! text (the CLI and the language server read the file) so that both apply the same settings.

use std::collections::BTreeMap;

use carbonc_diagnostics::Severity;

/// A project's settings from `carbon.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Severity overrides: code -> level (`None` turns the check off).
    pub severities: BTreeMap<String, Option<Severity>>,
    /// How many regions must stay fully available at every moment (maintenance windows, E0901);
    /// `None`: all but one.
    pub regions_available: Option<u32>,
}

/// The settings of a `carbon.toml` whose text is `text`; `shown` names the file in errors.
///
/// ```toml
/// [severity]
/// P0107 = "off"      # error | warning | off
/// E0604 = "warning"
///
/// [availability]
/// regions = 1        # regions that stay fully available during maintenance (default: all but one)
/// ```
pub fn config_from_toml(text: &str, shown: &str) -> Result<Config, String> {
    let severities = severities_from_toml(text, shown)?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let regions_available = match table.get("availability") {
        None => None,
        Some(v) => {
            let Some(t) = v.as_table() else {
                return Err(format!("{shown}: `availability` is a table: `regions = 2`"));
            };
            if let Some(key) = t.keys().find(|k| *k != "regions") {
                return Err(format!(
                    "{shown}: unknown setting `availability.{key}` (there is `regions`)"
                ));
            }
            match t.get("regions").map(|r| r.as_integer()) {
                None => None,
                Some(Some(n)) if (1..=100).contains(&n) => Some(n as u32),
                Some(_) => {
                    return Err(format!(
                        "{shown}: `availability.regions` is the number of regions that stay available, at least 1"
                    ));
                }
            }
        }
    };
    Ok(Config {
        severities,
        regions_available,
    })
}

/// The severity overrides of a `carbon.toml` whose text is `text`; `shown` names the file in errors.
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
        // `[backend]` is the CLI's (where state lives), read by its own parser; `[availability]`
        // is read by `config_from_toml`.
        if key == "backend" || key == "availability" {
            continue;
        }
        if key != "severity" {
            return Err(format!(
                "{shown}: unknown section `[{key}]` (carbon.toml has `[severity]`, `[availability]` and `[backend]`)"
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
