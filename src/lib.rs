//! shopcrew: a crew of digital employees that runs an online shop under rules the owner sets.
//!
//! The flow goes one way: request → [`planner`] → [`plan::Plan`] → [`executor`] → skill →
//! [`policy`] gate → [`ledger`] → store write → [`worklog`], the last three in one transaction.
//! The CLI ([`cli`]) is a thin face over [`crew::Crew`]; see ARCHITECTURE.md for the map.

pub mod analytics;
pub mod catalog;
pub mod checkpoint;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crew;
pub mod demo;
pub mod error;
pub mod executor;
pub mod export;
pub mod home;
pub mod http;
pub mod import;
pub mod lang;
pub mod ledger;
pub mod llm_planner;
pub mod merkle;
pub mod model;
pub mod money;
pub mod perms;
pub mod plan;
pub mod planner;
pub mod png;
pub mod policy;
pub mod report;
pub mod schedule;
pub mod serve;
pub mod skills;
pub mod store;
pub mod svg;
pub mod tokens;
pub mod webhook;
pub mod worker;
pub mod worklog;

pub use error::{Error, Result};
