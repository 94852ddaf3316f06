//! Autopilot for many shops in one process: N demo shops and a model that answers every request
//! after 200 ms, through one shop-local Monday of the default schedules (24 inbox sweeps, the
//! inventory check the model plans, the business plan, the daily and the weekly report).
//! Prints the setup time, the wall and CPU time of the day, runs per second, the peak memory
//! and the database size; asserts only that every schedule ran as often as it should.
//!
//! Run: `cargo bench --bench autopilot` (figures are for this machine and load). N is 1,000,
//! or 200 when the first shops take over 150 ms each to make here (it says so);
//! `SHOPCREW_BENCH_SHOPS=1000` (or 20 for a quick look) sets it.
//! `SHOPCREW_BENCH_CONCURRENCY=64,16` (the default) sets the shops worked on at once
//! (`Settings::concurrency`), one day per value.
//!
//! The shops are made once; each day then runs in a fresh process (this bench started again)
//! on a copy of that home, so its peak memory is the day's alone, setup not included.
//!
//! The fake model (tests/it/fake_model.rs) waits 200 ms before every answer: the planner's
//! plan and each employee turn (`Reply::Slow` around `Reply::DoTheTask`).

#[path = "common/procfs.rs"]
mod procfs;

#[path = "../tests/it/fake_model.rs"]
#[allow(dead_code)]
mod fake_model;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fake_model::{FakeModel, Reply};
use procfs::{cpu_seconds, status_kib};
use serde_json::json;
use shopcrew::clock::{ManualClock, parse_stamp};
use shopcrew::crew::{Crew, Options, RunReport};
use shopcrew::serve::{Autopilot, Settings};

/// Shops made when `SHOPCREW_BENCH_SHOPS` is not set...
const DEFAULT_SHOPS: usize = 1000;
/// ...unless making one takes longer than this, when it is only this many.
const SLOW_SHOP: Duration = Duration::from_millis(150);
const REDUCED_SHOPS: usize = 200;
/// Shops timed before deciding.
const PROBE: usize = 5;
const DEFAULT_CONCURRENCY: &str = "64,16";
const MODEL_DELAY: Duration = Duration::from_millis(200);
/// The clock when the shops are made and opened (their schedules count from it): a minute
/// before the shop-local Monday 2026-11-30 begins in Asia/Shanghai.
const START: &str = "2026-11-29T15:59:00Z";
const DAY_BEGINS: &str = "2026-11-29T16:00:00Z";
const DAY_ENDS: &str = "2026-11-30T16:00:00Z";
/// Runs per shop in that day, by schedule.
const EXPECTED: [(&str, usize); 5] =
    [("business-plan", 1), ("inbox-sweep", 24), ("inventory-check", 1), ("sales-report", 1), ("weekly-report", 1)];

/// Set for the process that runs one day: the home copy, the concurrency and the shop count.
const RUN_HOME: &str = "SHOPCREW_BENCH_RUN_HOME";
const RUN_CONCURRENCY: &str = "SHOPCREW_BENCH_RUN_CONCURRENCY";
const RUN_SHOPS: &str = "SHOPCREW_BENCH_RUN_SHOPS";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    if let Ok(home) = std::env::var(RUN_HOME) {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_writer(std::io::stderr)
            .try_init();
        let concurrency = env_number(RUN_CONCURRENCY).expect("concurrency for the run");
        let shops = env_number(RUN_SHOPS).expect("shop count for the run");
        runtime.block_on(day(PathBuf::from(home), concurrency, shops));
        return;
    }
    let concurrencies: Vec<usize> = std::env::var("SHOPCREW_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| DEFAULT_CONCURRENCY.into())
        .split(',')
        .map(|c| c.trim().parse().expect("SHOPCREW_BENCH_CONCURRENCY: numbers separated by commas"))
        .collect();
    let template = tempfile::tempdir().expect("temp home");
    let shops = runtime.block_on(setup(template.path()));
    for concurrency in concurrencies {
        let copy = tempfile::tempdir().expect("temp home for the day");
        let t0 = Instant::now();
        runtime.block_on(copy_home(template.path(), copy.path()));
        println!("  (home copied for the day in {:.2} s)", t0.elapsed().as_secs_f64());
        let status = std::process::Command::new(std::env::current_exe().expect("this bench"))
            .args(std::env::args_os().skip(1))
            .env(RUN_HOME, copy.path())
            .env(RUN_CONCURRENCY, concurrency.to_string())
            .env(RUN_SHOPS, shops.to_string())
            .status()
            .expect("start the day's process");
        assert!(status.success(), "the day with concurrency {concurrency} failed: {status}");
    }
}

fn env_number(name: &str) -> Option<usize> {
    let text = std::env::var(name).ok()?;
    Some(text.trim().parse().unwrap_or_else(|_| panic!("{name}={text}: give a whole number")))
}

fn clock_at(text: &str) -> DateTime<Utc> {
    parse_stamp(text).expect("time")
}

/// Makes the demo shops `s0`, `s1`, … with `Crew::init`; returns how many.
async fn setup(home: &Path) -> usize {
    let wanted = env_number("SHOPCREW_BENCH_SHOPS");
    let mut shops = wanted.unwrap_or(DEFAULT_SHOPS).max(1);
    let clock = Arc::new(ManualClock::new(clock_at(START)));
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut each = Vec::with_capacity(shops);
    while each.len() < shops {
        let i = each.len();
        let t = Instant::now();
        let opts = Options { shop: Some(format!("s{i}")), ..Options::new(home, clock.clone()) };
        Crew::init(opts, true, i as u64).await.expect("make a demo shop");
        each.push(t.elapsed().as_secs_f64());
        if each.len() == PROBE {
            let per_shop = mean(&each);
            let slow = per_shop > SLOW_SHOP.as_secs_f64();
            match wanted {
                None if slow && shops > REDUCED_SHOPS => {
                    println!(
                        "NOTE: the first {PROBE} demo shops took {:.0} ms each to make here (over {} ms), so this run \
                         makes {REDUCED_SHOPS} shops, not {shops}; set SHOPCREW_BENCH_SHOPS={shops} for the full count",
                        per_shop * 1000.0,
                        SLOW_SHOP.as_millis()
                    );
                    shops = REDUCED_SHOPS;
                }
                None => println!(
                    "the first {PROBE} demo shops took {:.0} ms each to make (at most {} ms): making all {shops} \
                     (SHOPCREW_BENCH_SHOPS sets the count)",
                    per_shop * 1000.0,
                    SLOW_SHOP.as_millis()
                ),
                Some(_) => {}
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let last = &each[each.len() - (each.len() / 10).max(1)..];
    println!("setup: {shops} demo shops made with Crew::init (not part of the day's figures)");
    println!(
        "  wall:           {wall:8.2} s ({:.1} ms per shop; the first {} {:.1} ms each, the last {} {:.1} ms each)",
        wall * 1000.0 / shops as f64,
        each.len().min(PROBE),
        mean(&each[..each.len().min(PROBE)]) * 1000.0,
        last.len(),
        mean(last) * 1000.0
    );
    if let Some(cpu) = cpu {
        println!("  CPU:            {cpu:8.2} s");
    }
    println!("  database:       {:8.1} MiB", db_bytes(home).0 as f64 / MIB);
    if let Some(kib) = status_kib("VmHWM") {
        println!("  peak memory:    {:8.1} MiB (VmHWM of the setup process)", kib as f64 / 1024.0);
    }
    shops
}

/// Copies a home: the database as one consistent snapshot (`VACUUM INTO`), the rest as files.
async fn copy_home(from: &Path, to: &Path) {
    copy_dir(from, to);
    let db = shopcrew::store::connect(&from.join("shopcrew.db")).await.expect("open the template database");
    let target = to.join("shopcrew.db");
    sqlx::query("VACUUM INTO $1")
        .bind(target.to_str().expect("a UTF-8 temp path"))
        .execute(&db)
        .await
        .expect("copy the database");
    db.close().await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("make a directory");
    for entry in std::fs::read_dir(from).expect("read the home") {
        let entry = entry.expect("a directory entry");
        let (path, name) = (entry.path(), entry.file_name());
        if name.to_string_lossy().starts_with("shopcrew.db") {
            continue;
        }
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy a file");
        }
    }
}

/// One shop-local day of every shop's schedules, in this process.
async fn day(home: PathBuf, concurrency: usize, shops: usize) {
    let plan = json!({"tasks": [
        {"id": "t1", "employee": "analyst", "skill": "analyst.inventory_forecast", "args": {}, "depends_on": []},
        {"id": "t2", "employee": "ops", "skill": "ops.restock_plan", "args": {"lead_time_days": 7}, "depends_on": ["t1"]}
    ], "not_understood": []});
    let slow = |reply: Reply| Reply::Slow(MODEL_DELAY, Box::new(reply));
    let model = FakeModel::with(vec![slow(Reply::Content(plan.to_string()))], vec![slow(Reply::DoTheTask)]);
    let config = model.config();
    let clock = Arc::new(ManualClock::new(clock_at(START)));
    let opts = Options { model: Some(config), ..Options::new(&home, clock.clone()) };
    let (rss_empty, t0) = (status_kib("VmRSS"), Instant::now());
    let (crews, made) = Crew::open_all(opts).await.expect("open every shop");
    let open = t0.elapsed().as_secs_f64();
    assert!(made.is_none(), "the shops were there already");
    assert_eq!(crews.len(), shops, "every shop was opened");
    let autopilot = Autopilot::new(crews, Settings { concurrency, ..Default::default() });
    let rss_open = status_kib("VmRSS");

    let (begins, ends) = (clock_at(DAY_BEGINS), clock_at(DAY_ENDS));
    let mut reports: Vec<RunReport> = Vec::new();
    let mut ticks: Vec<Tick> = Vec::new();
    let mut looking = 0.0;
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    loop {
        let t = Instant::now();
        let next = autopilot.next_due().await.expect("next due time");
        looking += t.elapsed().as_secs_f64();
        let Some(next) = next.filter(|n| *n < ends) else { break };
        assert!(next >= begins, "nothing is due before the day begins ({next})");
        clock.set(next);
        let (cpu, t) = (cpu_seconds(), Instant::now());
        let runs = autopilot.tick().await.expect("tick");
        let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds().zip(cpu).map(|(b, a)| b - a));
        ticks.push(Tick { at: next, runs: runs.len(), wall, cpu });
        reports.extend(runs);
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu0).map(|(b, a)| b - a);
    let peak = status_kib("VmHWM");

    let requests = model.requests();
    let total_requests = requests.len();
    let planning = requests.iter().filter(|r| !r.body.get("tools").is_some_and(|t| t.is_array())).count();
    let held: usize = requests.iter().map(|r| value_bytes(&r.body)).sum();
    drop(requests);
    let mut per_schedule: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &reports {
        *per_schedule.entry(&r.schedule).or_default().entry(&r.status).or_default() += 1;
        *statuses.entry(&r.status).or_default() += 1;
    }
    let (db, wal) = db_bytes(&home);
    let reports_dir = dir_bytes(&home.join("assets"));

    let tz = chrono_tz::Asia::Shanghai;
    println!();
    println!(
        "autopilot, one shop-local Monday ({} in {tz}): {shops} demo shops, model replies after {} ms, \
         concurrency {concurrency}",
        begins.with_timezone(&tz).date_naive(),
        MODEL_DELAY.as_millis()
    );
    println!("  open all shops: {open:8.2} s (Crew::open_all, before the day)");
    println!("  runs:           {:8} ({} ticks)", reports.len(), ticks.len());
    for (schedule, by_status) in &per_schedule {
        let total: usize = by_status.values().sum();
        println!("    {schedule:<16}{total:8} ({})", counts(by_status));
    }
    println!("  statuses:       {}", counts(&statuses));
    println!(
        "  model requests: {total_requests:8} ({planning} planning, {} employee turns)",
        total_requests - planning
    );
    println!("  wall, the day:  {wall:8.2} s (ticks {:.2} s, next_due {looking:.2} s)", wall - looking);
    println!("  runs/s:         {:8.1}", reports.len() as f64 / wall);
    match cpu {
        Some(cpu) => println!(
            "  CPU, the day:   {cpu:8.2} s ({:.2} ms per run; whole process, fake model included)",
            cpu * 1000.0 / reports.len().max(1) as f64
        ),
        None => println!("  CPU, the day:   n/a (no /proc on this system)"),
    }
    match (peak, rss_empty, rss_open) {
        (Some(peak), Some(empty), Some(open)) => {
            println!(
                "  peak memory:    {:8.1} MiB (VmHWM; {:.1} MiB with every shop open, {:.0} KiB per open shop)",
                peak as f64 / 1024.0,
                open as f64 / 1024.0,
                open.saturating_sub(empty) as f64 / shops as f64
            );
            println!(
                "                  (the fake model keeps every request it got: about {:.1} MiB of that peak)",
                held as f64 / MIB
            );
        }
        _ => println!("  peak memory:    n/a (no /proc on this system)"),
    }
    println!(
        "  database:       {:8.1} MiB (shopcrew.db {:.1} MiB + WAL {:.1} MiB); reports in assets/: {:.1} MiB",
        (db + wal) as f64 / MIB,
        db as f64 / MIB,
        wal as f64 / MIB,
        reports_dir as f64 / MIB
    );
    let mut slowest: Vec<&Tick> = ticks.iter().collect();
    slowest.sort_by(|a, b| b.wall.total_cmp(&a.wall));
    println!("  slowest ticks (shop-local time, wall, CPU, runs):");
    for t in slowest.iter().take(4) {
        let cpu = t.cpu.map_or("n/a".to_string(), |c| format!("{c:.2} s"));
        println!("    {} {:8.2} s, CPU {cpu}, {} runs", t.at.with_timezone(&tz).format("%H:%M"), t.wall, t.runs);
    }
    let rest = &slowest[slowest.len().min(4)..];
    let (rest_wall, rest_runs): (f64, usize) = (rest.iter().map(|t| t.wall).sum(), rest.iter().map(|t| t.runs).sum());
    let rest_cpu: Option<f64> = rest.iter().map(|t| t.cpu).sum();
    println!(
        "    the other {} ticks {rest_wall:.2} s ({:.2} s each), CPU {}, {rest_runs} runs",
        rest.len(),
        rest_wall / rest.len().max(1) as f64,
        rest_cpu.map_or("n/a".to_string(), |c| format!("{c:.2} s"))
    );

    // Sanity: every shop ran each schedule as often as the day holds, and nothing is left running.
    assert_eq!(reports.len(), shops * EXPECTED.iter().map(|(_, n)| n).sum::<usize>(), "runs in the day");
    for crew in autopilot.crews() {
        let runs = crew.schedule_runs(1000).await.expect("the shop's runs");
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for run in &runs {
            assert_ne!(run.status, "running", "shop {}: {} left running", crew.shop().name, run.schedule);
            *seen.entry(&run.schedule).or_default() += 1;
        }
        assert_eq!(seen, BTreeMap::from(EXPECTED), "shop {}: runs per schedule", crew.shop().name);
    }
    assert_eq!(planning, shops, "every shop's inventory check was planned by the model, once");
}

/// One look at the schedules that found something due.
struct Tick {
    at: DateTime<Utc>,
    runs: usize,
    wall: f64,
    cpu: Option<f64>,
}

/// Roughly what a JSON value takes in memory as a `serde_json::Value`: each node, each
/// string's bytes, each object key.
fn value_bytes(v: &serde_json::Value) -> usize {
    let node = std::mem::size_of::<serde_json::Value>();
    node + match v {
        serde_json::Value::String(s) => s.len(),
        serde_json::Value::Array(a) => a.iter().map(value_bytes).sum(),
        serde_json::Value::Object(m) => {
            m.iter().map(|(k, v)| std::mem::size_of::<String>() + k.len() + value_bytes(v)).sum()
        }
        _ => 0,
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

fn counts(map: &BTreeMap<&str, usize>) -> String {
    map.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

const MIB: f64 = 1024.0 * 1024.0;

/// The database and its write-ahead log, in bytes.
fn db_bytes(home: &Path) -> (u64, u64) {
    let size = |name: &str| std::fs::metadata(home.join(name)).map_or(0, |m| m.len());
    (size("shopcrew.db"), size("shopcrew.db-wal"))
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
