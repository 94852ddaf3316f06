//! Money and the log under many processes and under a crash.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::{Home, MID_AUTUMN};

/// Starts the binary without waiting for it.
fn spawn(home: &Home, args: &[&str], hold_ms: Option<u64>) -> Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("shopcrew"));
    cmd.env("SHOPCREW_HOME", home.path())
        .env("SHOPCREW_NOW", crate::common::NOW)
        .env_remove("SHOPCREW_SHOP")
        .env_remove("SHOPCREW_LANG")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("SHOPCREW_MODEL")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ms) = hold_ms {
        cmd.env("SHOPCREW_HOLD_BEFORE_COMMIT_MS", ms.to_string());
    }
    cmd.spawn().expect("start shopcrew")
}

#[tokio::test]
async fn sixty_four_spends_from_separate_processes_never_pass_the_daily_cap() {
    let home = Home::with_demo();
    // ¥30 campaigns against a ¥500 day: at most 16 fit (¥480).
    let args = r#"{"daily_budget": 30, "days": 1, "products": "cups"}"#;
    let children: Vec<Child> =
        (0..64).map(|_| spawn(&home, &["do", "ops.create_ad_campaign", "--args", args, "--json"], None)).collect();
    let (mut done, mut denied) = (0, 0);
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout);
        match out.status.code() {
            Some(0) => done += 1,
            Some(3) => denied += 1,
            code => panic!("exit {code:?}:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr)),
        }
    }
    assert_eq!(done + denied, 64);
    assert_eq!(done, 16, "exactly what fits in the day, no more");
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger WHERE status = 'committed'").await, 48_000);
    assert_eq!(home.count("SELECT COALESCE(SUM(spent_fen), 0) FROM budget_days").await, 48_000);
    let logged = home
        .count(
            "SELECT COUNT(*) FROM work_log WHERE skill = 'ops.create_ad_campaign' \
             AND (kind = 'effect' OR (kind = 'decision' AND details LIKE '%budget.daily%'))",
        )
        .await;
    assert_eq!(logged, 64, "every attempt is in the log");
    let (code, out, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0, "{out}");
}

/// Kills `chat` at a spread of moments, from before the plan to after it finished (each effect
/// is held 100 ms before its commit so kills land inside transactions too), and checks
/// after each kill that every effect has its log entry, the log verifies, the ledger matches
/// the log, and running the plan again adds nothing that had already taken effect.
#[cfg(unix)]
#[tokio::test]
async fn a_killed_plan_leaves_no_effect_without_its_entry_and_resumes_without_repeats() {
    let mut states = std::collections::BTreeSet::new();
    for delay_ms in [0u64, 30, 60, 90, 130, 160, 200, 260, 320, 600] {
        let home = Home::with_demo();
        let mut child = spawn(&home, &["chat", MID_AUTUMN], Some(100));
        std::thread::sleep(Duration::from_millis(delay_ms));
        // SIGKILL: no destructor, no rollback code of ours runs.
        let _ = child.kill();
        let _ = child.wait();

        let effects = |skill: &str| {
            format!("SELECT COUNT(*) FROM work_log WHERE kind = 'effect' AND skill = '{skill}' AND plan_id = 1")
        };
        let discounts = home.count("SELECT COUNT(*) FROM promotions").await;
        let banners = home.count("SELECT COUNT(*) FROM assets WHERE path LIKE '%.svg'").await;
        assert_eq!(discounts, home.count(&effects("promo.create_discount")).await, "after {delay_ms} ms");
        assert_eq!(banners, home.count(&effects("design.banner")).await, "after {delay_ms} ms");
        assert_eq!(home.count("SELECT COUNT(*) FROM ledger WHERE status <> 'committed'").await, 0);
        let (code, out, err) = home.run(&["log", "verify"]);
        assert_eq!(code, 0, "after {delay_ms} ms: {out}{err}");
        states.insert((home.count("SELECT COUNT(*) FROM plans").await, discounts, banners));

        // The plan may not have been stored yet; when it was, running it again completes it once.
        if home.count("SELECT COUNT(*) FROM plans").await == 1 {
            let (code, out, err) = home.run(&["resume", "1"]);
            assert_eq!(code, 0, "after {delay_ms} ms: {out}{err}");
            assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 1, "after {delay_ms} ms: {out}");
            assert_eq!(
                home.count("SELECT COUNT(*) FROM assets WHERE path LIKE '%.svg'").await,
                1,
                "after {delay_ms} ms: {out}"
            );
            assert_eq!(home.count(&effects("promo.create_discount")).await, 1);
            let ledger = home.json(&["ledger", "--json"]);
            assert_eq!(ledger["reconciled"], true, "{ledger:#}");
        }
    }
    // The kills landed at different points of the plan, not all after it.
    assert!(states.len() >= 3, "kills hit only {states:?} (plans, discounts, banners)");
}
