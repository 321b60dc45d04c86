//! The vocabulary of the domain: periods and their windows, the fields of
//! Form 06 and of the indicator sheet, cell references, units and leagues,
//! the letters the ledger keeps, and the one text normalisation used
//! wherever Vietnamese words are compared.

mod cell;
mod finding;
mod form;
pub mod form_load;
mod letter;
mod period;
mod submission;
mod text;
mod unit;

pub use cell::{CellRef, column_letters};
pub use finding::{Finding, Severity};
pub use form::{
    Column, ColumnGroup, Form, FormFile, Identity, Indicator, IndicatorKind, Parts, YearRule,
    form_for,
};
pub use letter::{Channel, DeliveryState, LedgerKey, LetterOutcome, LetterStatus, Skip};
pub use period::{Period, PeriodError, WindowMode, in_force, overlap};
pub use submission::{
    Form06Row, Form06Values, Submission, TaskReport, TaskStatus, combine_year, merge_units,
};
pub use text::{ascii_fold, capitalise, decapitalise, fold, sha256_hex};
pub use unit::{LeagueCode, Registry, Unit, UnitCode, name_core};
