//! The plan as JSON, the format documented in `docs/plan-json.md` (and the format of saved plans).

use crate::model::Plan;

pub fn to_json(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan).expect("a plan always serialises");
    s.push('\n');
    s
}

/// Reads a saved plan; the error names what is wrong.
pub fn from_json(text: &str) -> Result<Plan, String> {
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a plan file: {e}"))?;
    match raw
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(crate::PLAN_FORMAT_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "plan format version {v} is not supported by this carbonc (it reads version {})",
                crate::PLAN_FORMAT_VERSION
            ));
        }
        None => return Err("not a plan file: `format_version` is missing".into()),
    }
    serde_json::from_str(text).map_err(|e| format!("not a valid plan file: {e}"))
}
