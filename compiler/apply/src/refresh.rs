//! Refresh: read every recorded resource from the provider so that the state says what exists
//! now. A resource changed outside carbonc then shows up in the next plan as a change back to the
//! program; one deleted outside carbonc leaves the state and is planned as a create.

use std::sync::Arc;

use carbonc_state::{ResourceStatus, State};
use tokio::sync::Semaphore;

use crate::executor::{ExecOptions, with_retries};
use crate::{Event, ProviderError, ReadRequest};

/// What a refresh found, by address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Read, and some attribute differs from the state.
    pub drifted: Vec<String>,
    /// Gone: deleted outside carbonc. Removed from the state.
    pub gone: Vec<String>,
    /// Not read: the provider cannot read this type (the state keeps what it had).
    pub unsupported: Vec<(String, String)>,
    /// Reading failed, with the error; the state keeps what it had.
    pub failed: Vec<(String, ProviderError)>,
    /// How many resources were read.
    pub read: usize,
}

/// Reads every created resource in `state` (intents are left to `adopt_intents`), `parallelism`
/// at a time, retrying throttling and 5xx like apply does, and updates `state` in place.
pub async fn refresh<P: crate::Provider>(
    state: &mut State,
    provider: Arc<P>,
    opts: &ExecOptions,
    on_event: &mut dyn FnMut(&Event),
) -> Refreshed {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let permits = Arc::new(Semaphore::new(opts.parallelism.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for r in state
        .resources
        .iter()
        .filter(|r| r.status == ResourceStatus::Created)
    {
        let Some(id) = r.id.clone() else { continue };
        let req = ReadRequest {
            address: r.address.clone(),
            ty: r.ty.clone(),
            region: r.region.clone(),
            id,
            attrs: r.attributes.clone(),
        };
        let (provider, permits, tx, opts) =
            (provider.clone(), permits.clone(), tx.clone(), opts.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result =
                with_retries(&opts, &req.address, &tx, || provider.read(req.clone())).await;
            (req.address, result)
        });
    }
    drop(tx);
    let mut out = Refreshed::default();
    while let Some(joined) = tasks.join_next().await {
        while let Ok(e) = rx.try_recv() {
            on_event(&e);
        }
        let Ok((address, result)) = joined else {
            continue;
        };
        match result {
            Ok(Some(found)) => {
                out.read += 1;
                if let Some(r) = state.resources.iter_mut().find(|r| r.address == address) {
                    if r.attributes != found.attrs {
                        out.drifted.push(address.clone());
                    }
                    r.attributes = found.attrs;
                }
            }
            Ok(None) => {
                out.read += 1;
                state.resources.retain(|r| r.address != address);
                out.gone.push(address);
            }
            Err(ProviderError::Unsupported { what }) => out.unsupported.push((address, what)),
            Err(e) => out.failed.push((address, e)),
        }
    }
    while let Ok(e) = rx.try_recv() {
        on_event(&e);
    }
    out.drifted.sort();
    out.gone.sort();
    out.unsupported.sort();
    out.failed.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
