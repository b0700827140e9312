//! The conversion the bindings use: an `AiosError` becomes a `napi::Error` whose message
//! is `[AIOS:<CODE>] message`. `INVALID_INPUT` carries napi's `InvalidArg` status and
//! everything else `GenericFailure` (the status is the JS error's `code`; the TypeScript
//! side reads only the message).

use napi::{Error, Status};

use crate::{code, AiosError};

impl From<AiosError> for Error {
    fn from(err: AiosError) -> Self {
        let status = if err.code == code::INVALID_INPUT {
            Status::InvalidArg
        } else {
            Status::GenericFailure
        };
        Error::new(status, err.js_message())
    }
}

impl AiosError {
    /// This error as a `napi::Error` (for `map_err` where `?` cannot infer it).
    pub fn into_napi(self) -> Error {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn napi_errors_carry_the_formatted_message() {
        let err: Error = AiosError::new("TOKENIZER_NOT_LOADED", "o200k_base: not loaded").into();
        assert_eq!(
            err.reason,
            "[AIOS:TOKENIZER_NOT_LOADED] o200k_base: not loaded"
        );
        assert_eq!(err.status, Status::GenericFailure);
        let invalid = AiosError::invalid("k: expected 1").into_napi();
        assert_eq!(invalid.reason, "[AIOS:INVALID_INPUT] k: expected 1");
        assert_eq!(invalid.status, Status::InvalidArg);
    }
}
