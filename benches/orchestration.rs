//! Orchestration overhead with a zero-latency model: how much wall time and CPU the crew spends
//! per task outside the model (planning round trip, workers' tool loops, the gate, the ledger,
//! the work log, SQLite), and the peak memory of the process. Prints figures; asserts nothing.
//!
//! Run: `cargo bench --bench orchestration` (figures are for this machine and load).

#[path = "common/procfs.rs"]
mod procfs;

#[path = "../tests/it/fake_model.rs"]
#[allow(dead_code)]
mod fake_model;

use std::sync::Arc;
use std::time::Instant;

use fake_model::{FakeModel, Reply};
use procfs::{cpu_seconds, status_kib};
use serde_json::json;
use shopcrew::clock::{FixedClock, parse_stamp};
use shopcrew::crew::{ChatResult, Crew, Options};
use shopcrew::executor::Quiet;

const CHATS: usize = 40;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    // A three-task plan; each employee calls its task's skill once and then reports.
    let plan = json!({"tasks": [
        {"id": "t1", "employee": "analyst", "skill": "analyst.sales_report", "args": {"period": "last_week"}, "depends_on": []},
        {"id": "t2", "employee": "analyst", "skill": "analyst.inventory_forecast", "args": {}, "depends_on": []},
        {"id": "t3", "employee": "customer_service", "skill": "cs.reply", "args": {"limit": 2}, "depends_on": []}
    ], "not_understood": []});
    let work = vec![Reply::DoTheTask];
    let model = FakeModel::with(vec![Reply::Content(plan.to_string())], work);
    let home = tempfile::tempdir().expect("temp home");
    let clock = Arc::new(FixedClock(parse_stamp("2026-11-24T02:00:00Z").expect("time")));
    let config = model.config();
    let opts = Options { model: Some(config), ..Options::new(home.path(), clock) };
    let (crew, _) = Crew::open(opts).await.expect("open the demo shop");

    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let (mut tasks, mut done) = (0, 0);
    for _ in 0..CHATS {
        match crew.chat("weekly review: sales, stock and the inbox", Arc::new(Quiet)).await.expect("chat") {
            ChatResult::Ran { tasks: outcomes, .. } => {
                tasks += outcomes.len();
                done += outcomes.iter().filter(|o| o.is_done()).count();
            }
            ChatResult::NotUnderstood { .. } => panic!("the fake plan was not used"),
        }
    }
    assert_eq!(done, tasks, "every task was done by its employee");
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let requests = model.requests().len();
    println!("orchestration with a zero-latency model ({CHATS} chats, {tasks} tasks, {requests} model requests)");
    println!("  wall per chat:  {:8.2} ms", wall * 1000.0 / CHATS as f64);
    println!("  wall per task:  {:8.2} ms (includes the loopback HTTP round trips)", wall * 1000.0 / tasks as f64);
    match cpu {
        Some(cpu) => {
            println!("  CPU per task:   {:8.2} ms (whole process, fake server included)", cpu * 1000.0 / tasks as f64)
        }
        None => println!("  CPU per task:   n/a (no /proc on this system)"),
    }
    match status_kib("VmHWM") {
        Some(kib) => println!("  peak memory:    {:8.1} MiB (VmHWM)", kib as f64 / 1024.0),
        None => println!("  peak memory:    n/a (no /proc on this system)"),
    }
}
