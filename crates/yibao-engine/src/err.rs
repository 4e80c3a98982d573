use thiserror::Error;

use crate::ir::Cite;

/// What is wrong with a claim, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: {message}")]
pub struct ClaimError {
    /// The field, e.g. `amounts.out_of_list` or `categories[1]`.
    pub path: String,
    /// What was wrong.
    pub message: String,
    /// The values the field may take, where it is a choice.
    pub allowed: Vec<String>,
}

impl ClaimError {
    /// An error about the field `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ClaimError {
            path: path.into(),
            message: message.into(),
            allowed: vec![],
        }
    }
}

/// A policy that cannot be evaluated for this claim (a policy error the checker could not see).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvalError {
    /// Arithmetic overflowed evaluating the cited clause.
    #[error("arithmetic overflow evaluating `{}` ({}:{}:{})", .0.text, .0.file, .0.line, .0.column)]
    Overflow(Cite),
    #[error("money amount `{value}` from `{}` has more than two decimal places ({}:{}:{})", .cite.text, .cite.file, .cite.line, .cite.column)]
    /// A money figure computed from the cited clause has fractions of a cent.
    MoneyPrecision {
        /// The offending amount, as text.
        value: String,
        /// The clause it was computed from.
        cite: Cite,
    },
    /// A division by zero evaluating the cited clause.
    #[error("division by zero evaluating `{}` ({}:{}:{})", .0.text, .0.file, .0.line, .0.column)]
    DivisionByZero(Cite),
    #[error("money amount `{value}` from `{}` is beyond the 1,000,000,000,000 yuan yibao settles ({}:{}:{})", .cite.text, .cite.file, .cite.line, .cite.column)]
    /// A money figure computed from the cited clause is above 1,000,000,000,000 yuan.
    OutOfRange {
        /// The offending amount, as text.
        value: String,
        /// The clause it was computed from.
        cite: Cite,
    },
    #[error("deductible period `{value}` from `{}` is not a whole number of days, 1 or more ({}:{}:{})", .cite.text, .cite.file, .cite.line, .cite.column)]
    /// A `deductible every N days` period is not a whole number of days, 1 or more.
    Period {
        /// The offending period, as text.
        value: String,
        /// The clause it was computed from.
        cite: Cite,
    },
}

/// Why a claim could not be settled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettleError {
    /// The claim is malformed or does not fit the policy.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// The policy could not be evaluated for this claim.
    #[error(transparent)]
    Eval(#[from] EvalError),
}
