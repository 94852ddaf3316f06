//! The files the crew made (banners, charts, reports): listed, and read back checked.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::Crew;
use crate::error::{Error, Result};

/// A file the crew made, as recorded when it was made.
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub id: i64,
    pub kind: String,
    pub title: String,
    /// Relative to the home.
    pub path: String,
    pub sha256: String,
    pub created_at: String,
}

impl Crew {
    /// The shop's assets, newest first; one kind only with `kind`.
    pub async fn assets(&self, kind: Option<&str>) -> Result<Vec<Asset>> {
        let rows = sqlx::query(
            "SELECT id, kind, title, path, sha256, created_at FROM assets WHERE shop_id = $1 \
             AND ($2 IS NULL OR kind = $2) ORDER BY id DESC",
        )
        .bind(self.inner.shop.id)
        .bind(kind)
        .fetch_all(&self.inner.db)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Asset {
                id: r.get("id"),
                kind: r.get("kind"),
                title: r.get("title"),
                path: r.get("path"),
                sha256: r.get("sha256"),
                created_at: r.get("created_at"),
            })
            .collect())
    }

    /// An asset and its bytes; refuses a file that changed since it was made.
    pub async fn asset_bytes(&self, id: i64) -> Result<(Asset, Vec<u8>)> {
        let asset = self.assets(None).await?.into_iter().find(|a| a.id == id).ok_or(Error::NoSuchAsset(id))?;
        let relative = std::path::Path::new(&asset.path);
        if relative.is_absolute() || relative.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(Error::Invalid(format!("asset #{id} has a path outside the home")));
        }
        let path = self.inner.home.root().join(relative);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        if hex::encode(Sha256::digest(&bytes)) != asset.sha256 {
            return Err(Error::Invalid(format!("asset #{id} was changed on disk since the crew made it")));
        }
        Ok((asset, bytes))
    }
}
