//! Which products an action covers: `"all"`, a category, or a list of SKUs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

use super::{Halt, bad_args};
use crate::lang::Lang;
use crate::store::{self, Product};

/// `"all"`, a category name (e.g. `"mooncakes"`), one SKU or product title, or a list of SKUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scope {
    One(String),
    Skus(Vec<String>),
}

impl Default for Scope {
    fn default() -> Self {
        Scope::One("all".into())
    }
}

/// A scope resolved against the store.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub products: Vec<Product>,
    /// How to name the scope to the owner ("月饼" / "mooncakes", "全店", "MC-001").
    pub label_zh: String,
    pub label_en: String,
}

impl Resolved {
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.label_zh, &self.label_en)
    }
}

impl Scope {
    /// The listed products the scope covers. An empty or unknown scope is an error that says
    /// which names exist, so a wrong guess is never silently widened to more products.
    pub async fn resolve(&self, conn: &mut SqliteConnection, shop_id: i64, skill: &str) -> Result<Resolved, Halt> {
        let listed: Vec<Product> = store::products(conn, shop_id).await?.into_iter().filter(|p| p.listed).collect();
        match self {
            Scope::One(name) if is_all(name) => {
                Ok(Resolved { products: listed, label_zh: "全店".into(), label_en: "all products".into() })
            }
            Scope::One(name) => {
                let key = normalize(name);
                let in_category: Vec<Product> =
                    listed.iter().filter(|p| normalize(&p.category) == key).cloned().collect();
                if !in_category.is_empty() {
                    let category = in_category[0].category.clone();
                    return Ok(Resolved {
                        products: in_category,
                        label_zh: category_label_zh(&category).to_string(),
                        label_en: category.replace('_', " "),
                    });
                }
                let product = store::find_product(conn, shop_id, name).await?.filter(|p| p.listed);
                match product {
                    Some(p) => Ok(Resolved { label_zh: p.sku.clone(), label_en: p.sku.clone(), products: vec![p] }),
                    None => {
                        let categories: Vec<String> =
                            store::categories(conn, shop_id).await?.into_iter().map(|c| c.0).collect();
                        Err(bad_args(
                            skill,
                            format!(
                                "scope `{name}` is neither \"all\", a category ({}), nor a listed product's SKU or title",
                                categories.join(", ")
                            ),
                        ))
                    }
                }
            }
            Scope::Skus(skus) => {
                if skus.is_empty() {
                    return Err(bad_args(skill, "scope lists no SKU"));
                }
                let mut products = Vec::new();
                for sku in skus {
                    let found = listed.iter().find(|p| p.sku.eq_ignore_ascii_case(sku.trim()));
                    match found {
                        Some(p) => products.push(p.clone()),
                        None => return Err(bad_args(skill, format!("no listed product with SKU `{sku}`"))),
                    }
                }
                let label = skus.join(",");
                Ok(Resolved { products, label_zh: label.clone(), label_en: label })
            }
        }
    }
}

fn is_all(name: &str) -> bool {
    matches!(normalize(name).as_str(), "all" | "*" | "全店" | "全场" | "全部")
}

fn normalize(name: &str) -> String {
    name.trim().to_lowercase().replace([' ', '-'], "_")
}

/// The Chinese name of a category key, for the categories the demo and most factories use.
pub fn category_label_zh(category: &str) -> &str {
    match category {
        "mooncakes" => "月饼",
        "slippers" => "拖鞋",
        "storage_boxes" => "收纳盒",
        "cups" => "杯子",
        "towels" => "毛巾",
        other => other,
    }
}
