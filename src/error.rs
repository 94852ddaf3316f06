//! The library's error type. Each variant says what failed and what to do; the CLI prints
//! it as is. None of these is retryable unless its doc says so.

use std::path::PathBuf;

/// A declarative file (agent, skill, policy, prompt) that failed validation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct FileError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl FileError {
    pub fn new(file: impl Into<PathBuf>, line: Option<usize>, message: impl Into<String>) -> Self {
        FileError { file: file.into(), line, message: message.into() }
    }

    /// From a TOML parse error, with the line of its span.
    pub fn from_toml(file: impl Into<PathBuf>, source: &str, err: &toml::de::Error) -> Self {
        let line = err.span().map(|span| line_of(source, span.start));
        FileError::new(file, line, err.message().trim().to_string())
    }
}

/// 1-based line number of a byte offset.
pub fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot use home directory {}: {source}. Pass --home DIR or set SHOPCREW_HOME to a writable directory", path.display())]
    Home { path: PathBuf, source: std::io::Error },

    #[error("{0}")]
    File(#[from] FileError),

    /// A database failure; retryable only when it is `SQLITE_BUSY` under heavy contention.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),

    #[error("could not update the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),

    #[error("file error on {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("unknown skill `{0}`; run `shopcrew skills` to list them")]
    UnknownSkill(String),

    #[error("unknown employee `{0}`; run `shopcrew employees` to list them")]
    UnknownEmployee(String),

    #[error("invalid arguments for {skill}: {message}. Run `shopcrew skills --json` for its argument schema")]
    BadArgs { skill: String, message: String },

    #[error("this home has no shop named `{0}`; shops here: {1}")]
    NoSuchShop(String, String),

    #[error("this home holds several shops ({0}); choose one with --shop NAME")]
    WhichShop(String),

    #[error("a shop named `{0}` already exists here; choose another name with --shop NAME")]
    ShopExists(String),

    #[error("no approval #{0}; run `shopcrew approvals` to list them")]
    NoSuchApproval(i64),

    #[error("{0}")]
    Checkpoint(String),

    #[error("no plan #{0} in this shop; `shopcrew log` shows the plans that ran")]
    NoSuchPlan(i64),

    #[error("approval #{id} is {status}, not pending")]
    ApprovalNotPending { id: i64, status: String },

    #[error("approval #{0} does not match the action it was issued for (its digest differs); it was not executed")]
    ApprovalTampered(i64),

    #[error("no schedule named `{0}`; schedules here: {1}")]
    NoSuchSchedule(String, String),

    #[error("no asset #{0} in this shop")]
    NoSuchAsset(i64),

    #[error("invalid plan: {0}")]
    InvalidPlan(String),

    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
