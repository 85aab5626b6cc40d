//! AWS errors as the engine sees them: retryable (throttling, 5xx, connection trouble) or not.

use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use carbonc_apply::ProviderError;

const THROTTLING: [&str; 8] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
    "SlowDown",
];

/// Classifies an SDK error.
pub fn classify<E>(e: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let full = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&e)
    );
    if full.contains("CredentialsNotLoaded") || full.contains("loading credentials") {
        return ProviderError::Permanent {
            code: "NoCredentials".into(),
            message: "no usable AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), log in \
                      with `aws sso login`, or run where an instance role is available"
                .into(),
        };
    }
    // The first line is the message; the debug dump after it helps nobody.
    let short = |s: &str| {
        s.split(" (")
            .next()
            .unwrap_or(s)
            .chars()
            .take(400)
            .collect::<String>()
    };
    match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => ProviderError::Retryable {
            code: "ConnectionError".into(),
            message: short(&full),
        },
        SdkError::ResponseError(_) => ProviderError::Retryable {
            code: "ResponseError".into(),
            message: short(&full),
        },
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("Unknown").to_string();
            let status = s.raw().status().as_u16();
            let message = match s.err().message() {
                Some(m) if !m.is_empty() => m.to_string(),
                // Not an AWS error document: an endpoint that lacks the operation, or a proxy.
                _ => format!(
                    "HTTP {status} without an AWS error message (does the endpoint implement \
                     this operation?)"
                ),
            };
            // The operation AWS answered, from the SDK's error type
            // (`aws_sdk_rds::operation::delete_db_cluster::DeleteDBClusterError`), so that an error
            // names the call as well as the resource and region the engine adds.
            let message = match operation::<E>() {
                Some(op) => format!("{message} ({op})"),
                None => message,
            };
            if THROTTLING.contains(&code.as_str()) || status >= 500 {
                ProviderError::Retryable { code, message }
            } else {
                ProviderError::Permanent { code, message }
            }
        }
        _ => ProviderError::Permanent {
            code: "RequestError".into(),
            message: short(&full),
        },
    }
}

/// The AWS operation of an SDK error type: `DeleteDBClusterError` -> `DeleteDBCluster`.
fn operation<E>() -> Option<&'static str> {
    std::any::type_name::<E>()
        .rsplit("::")
        .next()?
        .strip_suffix("Error")
        .filter(|op| !op.is_empty())
}

/// Whether an error says the resource does not exist (reads answer `None`, deletes succeed).
pub fn is_not_found(e: &ProviderError) -> bool {
    match e {
        ProviderError::Permanent { code, .. } => {
            code.contains("NotFound")
                || code.starts_with("NoSuch")
                || code.ends_with(".NotFound")
                || code == "ResourceNotFoundException"
                || code == "WAFNonexistentItemException"
        }
        _ => false,
    }
}

/// A read's result: a resource that is not there is `None`.
pub fn found<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A delete's result: a resource that is already gone counts as deleted.
pub fn deleted<T>(r: Result<T, ProviderError>) -> Result<(), ProviderError> {
    match r {
        Err(e) if !is_not_found(&e) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_operation_comes_from_the_error_type() {
        assert_eq!(
            super::operation::<aws_sdk_rds::operation::delete_db_cluster::DeleteDBClusterError>(),
            Some("DeleteDBCluster")
        );
        assert_eq!(super::operation::<std::io::Error>(), None);
    }
}
