//! The plan: a request split into tasks, each one employee doing one skill with typed
//! arguments, forming a DAG through `depends_on`.
//!
//! A plan is data, whoever made it (the offline planner today, a model later); [`Plan::validate`]
//! is the one check every plan passes before anything runs. This module runs nothing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The owner's request, as typed.
    pub request: String,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Unique within the plan: `t1`, `t2`, …
    pub id: String,
    pub employee: String,
    pub skill: String,
    /// The skill's arguments; they must validate against its schema.
    pub args: serde_json::Value,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

impl Plan {
    /// Checks that every task names a known employee allowed (by its agent file) to do a known
    /// skill, that ids are unique, that dependencies exist and that the graph has no cycle.
    /// Arguments are checked by the skill itself when it runs (and by the registry up front).
    pub fn validate(&self, catalog: &Catalog) -> Result<()> {
        let mut ids = BTreeSet::new();
        for task in &self.tasks {
            if !ids.insert(task.id.as_str()) {
                return Err(Error::InvalidPlan(format!("task id `{}` is used twice", task.id)));
            }
            let employee = catalog
                .employee(&task.employee)
                .ok_or_else(|| Error::InvalidPlan(format!("task {}: unknown employee `{}`", task.id, task.employee)))?;
            if catalog.skill(&task.skill).is_none() {
                return Err(Error::InvalidPlan(format!("task {}: unknown skill `{}`", task.id, task.skill)));
            }
            if !employee.can(&task.skill) {
                return Err(Error::InvalidPlan(format!(
                    "task {}: employee `{}` has no skill `{}`",
                    task.id, task.employee, task.skill
                )));
            }
        }
        for task in &self.tasks {
            for dep in &task.depends_on {
                if !ids.contains(dep.as_str()) {
                    return Err(Error::InvalidPlan(format!("task {} depends on unknown task `{dep}`", task.id)));
                }
            }
        }
        self.order().map(|_| ())
    }

    /// The tasks in an order where every task comes after its dependencies (Kahn's algorithm);
    /// an error names a task on a cycle.
    pub fn order(&self) -> Result<Vec<&Task>> {
        let mut waiting: BTreeMap<&str, usize> =
            self.tasks.iter().map(|t| (t.id.as_str(), t.depends_on.len())).collect();
        let mut done = Vec::with_capacity(self.tasks.len());
        while done.len() < self.tasks.len() {
            let ready: Vec<&Task> = self.tasks.iter().filter(|t| waiting.get(t.id.as_str()) == Some(&0)).collect();
            if ready.is_empty() {
                let stuck = waiting.keys().next().copied().unwrap_or_default();
                return Err(Error::InvalidPlan(format!("the dependencies form a cycle (through task {stuck})")));
            }
            for task in ready {
                waiting.remove(task.id.as_str());
                for other in &self.tasks {
                    if other.depends_on.iter().any(|d| d == &task.id)
                        && let Some(n) = waiting.get_mut(other.id.as_str())
                    {
                        *n -= 1;
                    }
                }
                done.push(task);
            }
        }
        Ok(done)
    }
}

/// What a planner may know of the shop: enough to resolve "月饼" to a category or SKUs and
/// "下周" to dates, nothing it could spend.
#[derive(Debug, Clone, Serialize)]
pub struct ShopContext {
    pub title: String,
    pub currency: String,
    /// Today in the shop's time zone.
    pub today: NaiveDate,
    /// Category names with their product count.
    pub categories: Vec<(String, i64)>,
    pub products: Vec<ProductRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductRef {
    pub sku: String,
    pub title: String,
    pub category: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, deps: &[&str]) -> Task {
        Task {
            id: id.into(),
            employee: "ops".into(),
            skill: "ops.set_price".into(),
            args: serde_json::json!({}),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn order_puts_dependencies_first_and_finds_cycles() {
        let plan = Plan { request: String::new(), tasks: vec![task("t2", &["t1"]), task("t1", &[])] };
        let ids: Vec<&str> = plan.order().unwrap().iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["t1", "t2"]);
        let cyclic = Plan { request: String::new(), tasks: vec![task("t1", &["t2"]), task("t2", &["t1"])] };
        assert!(cyclic.order().unwrap_err().to_string().contains("cycle"));
    }
}
