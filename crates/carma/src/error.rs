//! Errors of the logic modules, each with a stable code that the binding renders as
//! `[AIOS:<CODE>] message`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarmaError {
    pub code: &'static str,
    pub message: String,
}

impl CarmaError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("INVALID_INPUT", message)
    }
}

impl fmt::Display for CarmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[AIOS:{}] {}", self.code, self.message)
    }
}

impl std::error::Error for CarmaError {}

pub type Result<T> = std::result::Result<T, CarmaError>;
