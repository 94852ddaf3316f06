//! Using shopcrew as a library: add an integrator's own skill beside the built-in ones, then
//! run a request and the new skill through the owner's policy, and verify the work log.
//!
//! ```text
//! cargo run --example own_skill -- /tmp/shopcrew-example
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use shopcrew::clock::SystemClock;
use shopcrew::crew::{ChatResult, Crew, Options};
use shopcrew::executor::Quiet;
use shopcrew::lang::{Lang, Text};
use shopcrew::money::Money;
use shopcrew::policy::Intent;
use shopcrew::skills::{Cx, Halt, Outcome, TypedSkill};

/// Counts listed products under a price: a read-only skill an integrator might add.
struct CheapProducts;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CheapArgs {
    /// Price limit in yuan.
    under: Money,
}

#[async_trait]
impl TypedSkill for CheapProducts {
    const ID: &'static str = "analyst.cheap_products";
    type Args = CheapArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: CheapArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop.id;
        let products = shopcrew::store::products(cx.read(), shop).await?;
        let n = products.iter().filter(|p| p.listed && p.price < args.under).count();
        // Even a read passes the gate: the employee must be allowed the skill.
        cx.authorize(Intent::default()).await?;
        let text = Text::new(format!("{n} 个商品低于 {}", args.under), format!("{n} products under {}", args.under));
        Ok(Outcome::new(text, serde_json::json!({ "count": n })))
    }
}

/// Every skill has a description file the owner can read and the planner can use.
const DESCRIPTION: &str = r#"id = "analyst.cheap_products"
employee = "analyst"
effect = "read"
name = { zh = "低价商品", en = "Cheap products" }
description = { zh = "统计低于某个价格的在售商品", en = "Counts listed products under a price" }
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let home = std::env::args().nth(1).unwrap_or_else(|| ".shopcrew-example".into());
    std::fs::create_dir_all(format!("{home}/skills"))?;
    std::fs::write(format!("{home}/skills/analyst.cheap_products.toml"), DESCRIPTION)?;

    let mut opts = Options::new(&home, Arc::new(SystemClock));
    opts.lang = Some(Lang::En);
    opts.extra_skills.push(Arc::new(CheapProducts));
    let (crew, setup) = Crew::open(opts).await?;
    if let Some(setup) = setup {
        println!("{}", setup.describe(Lang::En));
    }

    // A plan from plain words, run through the gate.
    match crew.chat("15% off towels for 3 days", Arc::new(Quiet)).await? {
        ChatResult::Ran { tasks, .. } => {
            for t in tasks {
                println!("{}", serde_json::to_string(&t)?);
            }
        }
        ChatResult::NotUnderstood { answer, .. } => println!("{answer}"),
    }

    // The integrator's skill runs through the same gate and log as the built-in ones.
    let report = crew.do_skill("analyst.cheap_products", serde_json::json!({"under": 30}), None, None).await?;
    println!("{:?}: {}", report.status, report.summary);

    println!("{:?}", crew.verify().await?);
    Ok(())
}
