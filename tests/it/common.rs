//! Shared helpers: a temporary home, the binary pointed at it, and direct reads of its
//! database for assertions on what was (or was not) written.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;

/// The instant every test runs at: 2026-11-24 10:00 in Asia/Shanghai (a Tuesday).
pub const NOW: &str = "2026-11-24T02:00:00Z";

pub const MID_AUTUMN: &str = "下周中秋大促:月饼8折,做一张海报,推广预算500元";

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.path().join("shopcrew.db")
    }

    /// The binary with this home, a fixed clock and no settings from the environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("shopcrew").expect("binary");
        cmd.env("SHOPCREW_HOME", self.path())
            .env("SHOPCREW_NOW", NOW)
            .env_remove("SHOPCREW_SHOP")
            .env_remove("SHOPCREW_LANG")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("OPENAI_API_KEY")
            .env_remove("SHOPCREW_MODEL");
        cmd
    }

    /// Runs the binary and returns (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd().args(args).output().expect("run shopcrew");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the binary, expects success and parses its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "shopcrew {args:?} failed:\n{out}\n{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}"))
    }

    /// The demo shop, made once so the first command's set-up notice does not matter.
    pub fn with_demo() -> Home {
        let home = Home::new();
        let (code, out, err) = home.run(&["init", "--demo"]);
        assert_eq!(code, 0, "init failed:\n{out}\n{err}");
        home
    }

    /// Opens the database directly (outside the binary) for assertions or tampering.
    pub async fn pool(&self) -> SqlitePool {
        let options = SqliteConnectOptions::new().filename(self.db_path());
        SqlitePool::connect_with(options).await.expect("open database")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let pool = self.pool().await;
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count query");
        pool.close().await;
        n
    }
}
