//! The home directory: the database, the owner-editable declarative files and the assets.
//!
//! ```text
//! HOME/shopcrew.db        SQLite store, work log, ledger, approvals
//! HOME/agents/ skills/ prompts/ policies/   copied from the built-in defaults, then the owner's
//! HOME/assets/<shop>/     files the crew produced (banners, charts)
//! ```
//! Defaults are written only where a file is missing: an owner's edit is never overwritten.

use std::fs;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::error::{Error, Result};

static AGENTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/agents");
static SKILLS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/skills");
static PROMPTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/prompts");
static POLICIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// The default home when neither `--home` nor `SHOPCREW_HOME` is given.
pub const DEFAULT_HOME: &str = ".shopcrew";

#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// Opens (creating if needed) a home directory and installs any missing default files.
    pub fn open(root: impl Into<PathBuf>) -> Result<Home> {
        let root = root.into();
        let io = |source| Error::Home { path: root.clone(), source };
        if root.exists() && !root.is_dir() {
            return Err(io(std::io::Error::new(std::io::ErrorKind::NotADirectory, "it is not a directory")));
        }
        fs::create_dir_all(&root).map_err(io)?;
        // Reading the directory proves we may use it; a later write error names the file.
        fs::read_dir(&root).map_err(io)?;
        let home = Home { root };
        home.install_defaults()?;
        Ok(home)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join("shopcrew.db")
    }

    pub fn policies_dir(&self) -> PathBuf {
        self.root.join("policies")
    }

    /// Where a shop's produced files go; created on demand.
    pub fn assets_dir(&self, shop: &str) -> Result<PathBuf> {
        let dir = self.root.join("assets").join(shop);
        fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
        Ok(dir)
    }

    /// Writes the built-in agents, skills, prompts and policies where the home lacks them.
    fn install_defaults(&self) -> Result<()> {
        for (name, dir) in [("agents", &AGENTS), ("skills", &SKILLS), ("prompts", &PROMPTS), ("policies", &POLICIES)] {
            let target = self.root.join(name);
            let fresh = !target.exists();
            fs::create_dir_all(&target).map_err(|source| Error::Io { path: target.clone(), source })?;
            for file in dir.files() {
                let path = target.join(file.path());
                // Only a fresh directory gets every file; in an existing one the owner may have
                // deleted a file on purpose, except skill and agent files added by an upgrade.
                if path.exists() || (!fresh && name == "policies") {
                    continue;
                }
                fs::write(&path, file.contents()).map_err(|source| Error::Io { path: path.clone(), source })?;
            }
        }
        Ok(())
    }
}
