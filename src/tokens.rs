//! Access tokens for the HTTP API: an owner token (made with the home, shown once) and any
//! number of read-only viewer tokens. The store keeps only each token's SHA-256.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::clock::stamp;
use crate::error::{Error, Result};
use crate::store::Db;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything the CLI offers: approve, grant, revoke, pause, run.
    Owner,
    /// Reads only.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Viewer => "viewer",
        }
    }
}

/// A stored token, without its secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub role: Role,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

const PREFIX: &str = "sc_";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Makes a token and returns (its id, the token). The token is not stored and cannot be
/// shown again.
pub async fn create(db: &Db, role: Role, name: &str, now: DateTime<Utc>) -> Result<(i64, String)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Invalid(format!("no randomness for a token: {e}")))?;
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let name = name.trim();
    let name = if name.is_empty() { role.as_str() } else { name };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (role, name, sha256, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(role.as_str())
    .bind(name)
    .bind(hash(&token))
    .bind(stamp(now))
    .fetch_one(db)
    .await?;
    Ok((id, token))
}

/// Makes the owner token unless a live one exists; `Some(token)` when one was made.
pub async fn ensure_owner(db: &Db, now: DateTime<Utc>) -> Result<Option<String>> {
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE role = 'owner' AND revoked_at IS NULL")
        .fetch_one(db)
        .await?;
    if live > 0 {
        return Ok(None);
    }
    Ok(Some(create(db, Role::Owner, "owner", now).await?.1))
}

/// The role of a live token; `None` for an unknown or revoked one.
pub async fn check(db: &Db, token: &str) -> Result<Option<Role>> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM api_tokens WHERE sha256 = $1 AND revoked_at IS NULL")
            .bind(hash(token))
            .fetch_optional(db)
            .await?;
    Ok(role.map(|r| if r == "owner" { Role::Owner } else { Role::Viewer }))
}

pub async fn list(db: &Db) -> Result<Vec<TokenInfo>> {
    let rows =
        sqlx::query("SELECT id, role, name, created_at, revoked_at FROM api_tokens ORDER BY id").fetch_all(db).await?;
    Ok(rows
        .iter()
        .map(|r| TokenInfo {
            id: r.get("id"),
            role: if r.get::<String, _>("role") == "owner" { Role::Owner } else { Role::Viewer },
            name: r.get("name"),
            created_at: r.get("created_at"),
            revoked_at: r.get("revoked_at"),
        })
        .collect())
}

/// Revokes a token at once: its next request is refused.
pub async fn revoke(db: &Db, id: i64, now: DateTime<Utc>) -> Result<()> {
    let done = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(stamp(now))
        .bind(id)
        .execute(db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::Invalid(format!("no live token #{id}; `shopcrew token list` shows them")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_stored_hashed_checked_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::connect(&dir.path().join("t.db")).await.unwrap();
        let now = Utc::now();
        let owner = ensure_owner(&db, now).await.unwrap().expect("made");
        assert!(ensure_owner(&db, now).await.unwrap().is_none(), "only once");
        let (viewer_id, viewer) = create(&db, Role::Viewer, "phone", now).await.unwrap();
        assert_eq!(check(&db, &owner).await.unwrap(), Some(Role::Owner));
        assert_eq!(check(&db, &viewer).await.unwrap(), Some(Role::Viewer));
        assert_eq!(check(&db, "sc_nope").await.unwrap(), None);
        assert_eq!(check(&db, "").await.unwrap(), None);
        let stored: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM api_tokens").fetch_all(&db).await.unwrap();
        assert!(stored.iter().all(|h| h.len() == 64 && !h.contains(&owner)), "only hashes are kept");
        revoke(&db, viewer_id, now).await.unwrap();
        assert_eq!(check(&db, &viewer).await.unwrap(), None);
        assert!(revoke(&db, viewer_id, now).await.is_err());
    }
}
