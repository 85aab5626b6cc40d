//! Retrying the 4xx answers that AWS gives while something is still settling.
//!
//! AWS is eventually consistent in places that no status can be polled for: an IAM policy
//! attached a moment ago is not yet seen by EKS, an IP set created a moment ago cannot be
//! referenced by a web ACL, the network interfaces of a deleted NAT gateway hold its subnet for
//! minutes. AWS answers those calls with an ordinary 4xx (InvalidParameterException,
//! WAFUnavailableEntityException, DependencyViolation), which the engine would treat as final.
//! Each call site names exactly the answers that mean "not yet" (the same ones Terraform's AWS
//! provider retries; `docs/aws.md` lists them per resource type) and a budget; the retry shows in
//! the progress output, and when the budget is spent the last answer is returned as it was.

use std::time::{Duration, Instant};

use carbonc_apply::ProviderError;

/// One kind of "not yet": an error code and a part of its message (`""`: any message).
#[derive(Clone, Copy, Debug)]
pub struct Transient {
    pub code: &'static str,
    pub message: &'static str,
}

pub const fn transient(code: &'static str, message: &'static str) -> Transient {
    Transient { code, message }
}

impl Transient {
    fn matches(&self, e: &ProviderError) -> bool {
        match e {
            ProviderError::Permanent { code, message } => {
                code == self.code && message.contains(self.message)
            }
            _ => false,
        }
    }
}

/// Calls `call` until it succeeds, fails with an error that is not in `transient`, or `budget`
/// has passed since the first attempt (then the last error is returned, with the time spent).
pub async fn while_settling<T, F, Fut>(
    what: &str,
    transient: &[Transient],
    budget: Duration,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_secs(1);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if transient.iter().any(|t| t.matches(&e)) => {
                let (code, message) = match &e {
                    ProviderError::Permanent { code, message } => (code.clone(), message.clone()),
                    _ => unreachable!("only permanent errors match"),
                };
                if start.elapsed() + delay > budget {
                    return Err(ProviderError::Permanent {
                        code,
                        message: format!(
                            "{message} (still refused after {attempt} attempts over {} s of retrying {what})",
                            start.elapsed().as_secs()
                        ),
                    });
                }
                carbonc_apply::waiting(format!(
                    "{what}: AWS answered {code} (attempt {attempt}), retrying in {} s",
                    delay.as_secs()
                ));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn permanent(code: &str, message: &str) -> ProviderError {
        ProviderError::Permanent {
            code: code.into(),
            message: message.into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_answer_is_retried_until_it_passes() {
        let mut calls = 0;
        let out = while_settling(
            "creating x",
            &[transient("DependencyViolation", "")],
            Duration::from_secs(60),
            || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(permanent("DependencyViolation", "in use"))
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await;
        assert_eq!(out.unwrap(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn other_answers_and_other_messages_are_not_retried() {
        let mut calls = 0;
        let out: Result<(), _> = while_settling(
            "creating x",
            &[transient("InvalidParameterException", "does not exist")],
            Duration::from_secs(60),
            || {
                calls += 1;
                async { Err(permanent("InvalidParameterException", "bad subnet")) }
            },
        )
        .await;
        assert!(out.is_err());
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_ends_the_retries_with_the_last_answer() {
        let out: Result<(), _> = while_settling(
            "deleting subnet",
            &[transient("DependencyViolation", "")],
            Duration::from_secs(20),
            || async { Err(permanent("DependencyViolation", "has dependencies")) },
        )
        .await;
        match out {
            Err(ProviderError::Permanent { code, message }) => {
                assert_eq!(code, "DependencyViolation");
                assert!(
                    message.starts_with("has dependencies (still refused after"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
