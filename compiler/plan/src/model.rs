//! The plan model. A plan is a value: it can be rendered, serialised and applied later.

use std::collections::BTreeMap;
use std::fmt;

use carbonc_state::{State, Val};
use serde::{Deserialize, Serialize};

pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    Replace,
    Delete,
    Read,
}

impl Action {
    /// Terraform's symbols: `+`, `~`, `-/+`, `-`, `<=`.
    pub fn symbol(self, order: Option<ReplaceOrder>) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace if order == Some(ReplaceOrder::CreateBeforeDestroy) => "+/-",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Read => "<=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplaceOrder {
    DeleteBeforeCreate,
    CreateBeforeDestroy,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// AWS region code; `null` for global resources.
    pub region: Option<String>,
    pub action: Action,
    pub replace_order: Option<ReplaceOrder>,
    /// Why a replacement: the attributes that force it, or "region", "type".
    pub replace_reasons: Vec<String>,
    /// Attributes before (from state); `null` for creates and reads.
    pub before: Option<BTreeMap<String, Val>>,
    /// Attributes after; `null` for deletes. Values known only after apply are `{"$unknown": true}`.
    pub after: Option<BTreeMap<String, Val>>,
    pub depends_on: Vec<String>,
}

impl ResourceChange {
    /// A lookup read whose result is not in the state yet: the first read, or one whose inputs
    /// (a load balancer's name, say) changed since the state recorded it. Its computed values
    /// are unknown until apply reads them, and apply has work to do.
    pub fn reads_anew(&self) -> bool {
        if self.action != Action::Read {
            return false;
        }
        let (Some(before), Some(after)) = (&self.before, &self.after) else {
            return true;
        };
        after
            .iter()
            .any(|(k, v)| *v != Val::Unknown && before.get(k) != Some(v))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    pub before: Option<Val>,
    pub after: Option<Val>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    pub read: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    /// `null` when there was no state yet.
    pub lineage: Option<String>,
    pub serial: u64,
    /// The state file the plan was made against (absolute), when it is a local file.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRef {
    pub name: String,
    pub code: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub carbonc_version: String,
    /// The root file, as given.
    pub root: String,
    /// The state this plan was made against; applying it to another state is refused.
    pub state: StateRef,
    /// `sha256:` of every source file of the program (paths and texts).
    pub sources_digest: String,
    /// Keyed hash of the variables (secrets included), so that applying with other values is refused.
    pub variables_digest: String,
    pub regions: Vec<RegionRef>,
    pub resource_changes: Vec<ResourceChange>,
    pub output_changes: Vec<OutputChange>,
    pub summary: Summary,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.resource_changes.iter().any(|c| match c.action {
            Action::NoOp => false,
            Action::Read => c.reads_anew(),
            _ => true,
        }) || self.output_changes.iter().any(|o| o.action != Action::NoOp)
    }

    /// Refuses a saved plan whose state has moved on.
    pub fn check_fresh(&self, current: Option<&State>) -> Result<(), StaleError> {
        let (lineage, serial) = match current {
            Some(s) => (Some(s.lineage.clone()), s.serial),
            None => (None, 0),
        };
        if lineage != self.state.lineage || serial != self.state.serial {
            return Err(StaleError {
                planned_lineage: self.state.lineage.clone(),
                planned_serial: self.state.serial,
                lineage,
                serial,
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleError {
    pub planned_lineage: Option<String>,
    pub planned_serial: u64,
    pub lineage: Option<String>,
    pub serial: u64,
}

impl fmt::Display for StaleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |l: &Option<String>, s: u64| match l {
            Some(l) => format!("serial {s} of lineage {l}"),
            None => "no state at all".to_string(),
        };
        write!(
            f,
            "the saved plan is stale: it was made against {}, but the state is now {}\n  \
             Something changed the infrastructure since the plan was made. Run `carbonc plan` again and review the new plan.",
            show(&self.planned_lineage, self.planned_serial),
            show(&self.lineage, self.serial)
        )
    }
}

impl std::error::Error for StaleError {}

/// One resource instance as the configuration wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub address: String,
    pub ty: String,
    pub region: Option<String>,
    /// Configured attributes (set or defaulted), secrets as keyed hashes.
    pub attrs: BTreeMap<String, Val>,
    /// Names of the attributes AWS computes.
    pub computed: Vec<String>,
    /// Attributes whose change forces a replacement.
    pub forces_new: Vec<String>,
    /// Attributes the program leaves at the schema's default. One the state does not record (a
    /// field the schema gained after the resource was made) is no change: AWS applied its default
    /// then, and the schema's default is AWS's. A later read or update records it.
    pub defaulted: Vec<String>,
    pub deps: Vec<String>,
    pub lookup: bool,
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
}
