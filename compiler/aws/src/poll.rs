//! Waiting for a resource to become `available`, or to be gone: quick first looks (a dependency
//! that is nearly done), then every `poll`, up to `timeout`.

use std::time::{Duration, Instant};

use carbonc_apply::ProviderError;

/// Polls `status` (`None`: the resource does not exist) until it says `available`, or, with
/// `gone`, until there is nothing. A state in `failed` ends the wait with an error.
pub async fn until_available<F, Fut>(
    what: &str,
    gone: bool,
    failed: &[&str],
    (timeout, poll): (Duration, Duration),
    mut status: F,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, ProviderError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_secs(1);
    loop {
        let now = status().await?;
        match (now.as_deref(), gone) {
            (None, true) | (Some("available"), false) => return Ok(()),
            (Some(state), _) if failed.contains(&state) => {
                return Err(ProviderError::Permanent {
                    code: "Failed".into(),
                    message: format!("{what} is {state}"),
                });
            }
            (None, false) => {
                return Err(ProviderError::Permanent {
                    code: "NotFound".into(),
                    message: format!("{what} disappeared while carbonc waited for it"),
                });
            }
            _ => {}
        }
        if start.elapsed() > timeout {
            return Err(ProviderError::Permanent {
                code: "Timeout".into(),
                message: format!(
                    "{what} is still {} after {} minutes",
                    now.as_deref().unwrap_or("gone"),
                    timeout.as_secs() / 60
                ),
            });
        }
        carbonc_apply::waiting(format!(
            "{what} to be {} (now {})",
            if gone { "deleted" } else { "available" },
            now.as_deref().unwrap_or("gone")
        ));
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(poll);
    }
}
