//! Integration tests: the real `shopcrew` binary on temporary homes, and the library on real
//! SQLite files. One test binary, one module per area.

mod common;

mod adversarial;
mod api;
mod autopilot;
mod browser;
mod cli;
mod demo;
mod durability;
mod export;
mod fake_model;
mod gate;
mod import;
mod ledger;
mod model;
mod perms;
mod props;
mod rfc6962;
mod skills;
mod webdriver;
mod workers;
mod worklog;
