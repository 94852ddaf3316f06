//! The owner grants, revokes and pauses; every change is versioned, logged, and in force at
//! the very next gate check, also for a plan that is already running.

use std::sync::Arc;

use shopcrew::clock::FixedClock;
use shopcrew::crew::{ChatResult, Crew, Options};
use shopcrew::executor::{Progress, TaskOutcome};
use shopcrew::perms::OwnerChange;
use shopcrew::plan::Task;

use crate::common::{Home, MID_AUTUMN, NOW};

const DISCOUNT: &str = r#"{"discount_pct": 10, "scope": "cups"}"#;

#[tokio::test]
async fn revoke_then_grant_back_and_every_change_is_versioned_and_logged() {
    let home = Home::with_demo();
    let (code, out, err) = home.run(&["perms", "revoke", "promotions", "promo.create_discount"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("策略版本 1"), "{out}");
    let (code, out, _) = home.run(&["do", "promo.create_discount", "--args", DISCOUNT]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("employee.promotions.revoked"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 0);

    let (code, out, err) = home.run(&["perms", "grant", "promotions", "skills=promo.create_discount"]);
    assert_eq!(code, 0, "{out}{err}");
    let done = home.json(&["do", "promo.create_discount", "--args", DISCOUNT, "--json"]);
    assert_eq!(done["status"], "done", "{done:#}");

    let history = home.json(&["perms", "history", "--json"]);
    let versions: Vec<i64> = history.as_array().unwrap().iter().map(|r| r["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, vec![1, 2]);
    assert_eq!(history[0]["kind"], "revoke");
    assert_eq!(home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'permission'").await, 2);
    // The effect records the policy version it ran under.
    assert_eq!(
        home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'effect' AND details LIKE '%\"policy_version\":2%'")
            .await,
        1
    );

    // Bad changes are refused with a clear error and store nothing.
    let (code, _, err) = home.run(&["perms", "grant", "promotions", "max_discount_pct=130"]);
    assert_eq!(code, 1);
    assert!(err.contains("max_discount_pct"), "{err}");
    let (code, _, err) = home.run(&["perms", "grant", "promotions", "discount"]);
    assert_eq!(code, 1);
    assert!(err.contains("knob=value"), "{err}");
    let (code, _, err) = home.run(&["perms", "pause", "nobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown employee `nobody`"), "{err}");
    assert_eq!(home.count("SELECT COUNT(*) FROM policy_changes").await, 2);
}

#[tokio::test]
async fn a_grant_with_an_end_date_lapses_by_itself() {
    let home = Home::with_demo();
    let twenty_five = r#"{"discount_pct": 25, "scope": "mooncakes"}"#;
    let (code, out, err) = home.run(&["perms", "grant", "promotions", "max_discount_pct=30", "--until", "2026-11-29"]);
    assert_eq!(code, 0, "{out}{err}");
    let show = home.json(&["perms", "show", "--json"]);
    assert_eq!(show["changes"][0]["until"], "2026-11-29T16:00:00Z", "through Sunday, shop time");

    let late = |now: &str| {
        let out = home
            .cmd()
            .env("SHOPCREW_NOW", now)
            .args(["do", "promo.create_discount", "--args", twenty_five])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = late("2026-11-29T15:59:00Z");
    assert_eq!(code, Some(0), "Sunday 23:59 in Shanghai is still inside the grant:\n{out}");
    let (code, out) = late("2026-11-29T16:00:00Z");
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("折扣 25% 超过上限 20%"), "{out}");
}

#[tokio::test]
async fn the_kill_switch_stops_everyone_until_resumed() {
    let home = Home::with_demo();
    home.json(&["perms", "pause", "all", "--json"]);
    for (skill, args) in [
        ("analyst.sales_report", r#"{"period": "last_week"}"#),
        ("promo.create_discount", DISCOUNT),
        ("cs.reply", r#"{"limit": 3}"#),
    ] {
        let (code, out, _) = home.run(&["do", skill, "--args", args]);
        assert_eq!(code, 3, "{skill}: {out}");
        assert!(out.contains("owner.pause"), "{out}");
    }
    let (code, out, _) = home.run(&["chat", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'effect'").await, 0, "{out}");

    home.json(&["perms", "resume", "--json"]);
    let report = home.json(&["do", "analyst.sales_report", "--args", r#"{"period": "last_week"}"#, "--json"]);
    assert_eq!(report["status"], "done", "{report:#}");
}

/// Revokes the designer's banner skill the moment the discount task finishes, while the plan
/// is running: the banner task, next in the same plan, is denied.
struct RevokeAfterFirst {
    home: std::path::PathBuf,
}

impl Progress for RevokeAfterFirst {
    fn started(&self, _: &Task) {}

    fn finished(&self, task: &Task, _: &TaskOutcome) {
        if task.skill != "promo.create_discount" {
            return;
        }
        // Another crew (as another process would) changes the policy; the executor waits here.
        let home = self.home.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let clock = Arc::new(FixedClock(shopcrew::clock::parse_stamp(NOW).unwrap()));
                let (owner, _) = Crew::open(Options::new(home, clock)).await.unwrap();
                let change = OwnerChange::Revoke { employee: "design".into(), pattern: "design.banner".into() };
                owner.change_perms(change).await.unwrap();
            });
        })
        .join()
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_stops_the_next_task_of_a_plan_already_running() {
    let home = Home::with_demo();
    let clock = Arc::new(FixedClock(shopcrew::clock::parse_stamp(NOW).unwrap()));
    let (crew, _) = Crew::open(Options::new(home.path(), clock)).await.unwrap();
    let progress = Arc::new(RevokeAfterFirst { home: home.path().to_path_buf() });
    let ChatResult::Ran { tasks, .. } = crew.chat(MID_AUTUMN, progress).await.unwrap() else {
        panic!("the Mid-Autumn request is understood");
    };
    let banner = tasks.iter().find(|t| t.task_id() == "t2").unwrap();
    let TaskOutcome::Ran(report) = banner else { panic!("{banner:?}") };
    assert_eq!(report.rule.as_deref(), Some("employee.design.revoked"), "{report:?}");
    assert_eq!(home.count("SELECT COUNT(*) FROM assets").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 1, "the discount ran before the revocation");
}
