//! What a provider call is waiting for, reported from deep inside the provider without threading a
//! handle through every request: the executor runs each action in a task that carries a reporter
//! (a tokio task-local), and [`waiting`] sends an [`Event::Waiting`] through it. Outside the
//! executor (refresh, tests calling the provider directly) it does nothing.

use tokio::sync::mpsc::UnboundedSender;

use crate::Event;

#[derive(Clone)]
pub(crate) struct Reporter {
    pub(crate) address: String,
    pub(crate) events: UnboundedSender<Event>,
}

tokio::task_local! {
    pub(crate) static REPORTER: Reporter;
}

/// Says what the current action waits for, for example `EKS cluster carbon-us-east-1 to be available (now CREATING)`. The CLI
/// shows it beside the resource's elapsed time.
pub fn waiting(what: impl Into<String>) {
    let _ = REPORTER.try_with(|r| {
        let _ = r.events.send(Event::Waiting {
            address: r.address.clone(),
            what: what.into(),
        });
    });
}
