//! The web console end to end in headless Chromium, against the real `shopcrew serve`: the
//! owner signs in, sends the Mid-Autumn request, sees the plan and the results, approves the
//! pending campaign, revokes the promotions employee's discount skill, sees the next discount
//! denied, and finds all of it in the log view. A screenshot of each page is written under
//! `target/screenshots/` for review. Skips loudly without Chromium (CI installs it).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::common::{Home, MID_AUTUMN, NOW};
use crate::webdriver::{Driver, Session, browser, skip};

struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// `shopcrew serve` on a free port of this home; returns once the console is up.
fn serve(home: &Home) -> Served {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("shopcrew"))
        .env("SHOPCREW_HOME", home.path())
        .env("SHOPCREW_NOW", NOW)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("SHOPCREW_LANG")
        .args(["serve", "--listen", "127.0.0.1:0", "--grace", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shopcrew serve");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("http://") {
                let _ = tx.send(line[at..].trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("serve printed its console address");
    Served { child, url }
}

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots")
}

/// The element `task-<id>` of the plan view, once its status is one of `wanted`.
fn task_status(s: &Session<'_>, id: &str, wanted: &[&str]) -> String {
    s.wait(&format!("task {id} in {wanted:?}"), || {
        let el = s.try_find(&format!("task-{id}"))?;
        let status = s.attribute(&el, "data-status")?;
        wanted.contains(&status.as_str()).then_some(status)
    })
}

#[test]
fn the_owner_runs_the_shop_from_the_browser() {
    let Some((chromium, chromedriver)) = browser() else {
        skip("browser::the_owner_runs_the_shop_from_the_browser");
        return;
    };
    let home = Home::new();
    let init = home.json(&["init", "--demo", "--json"]);
    let token = init["owner_token"].as_str().expect("init shows the owner token once").to_string();
    let served = serve(&home);
    let driver = Driver::start(&chromedriver);
    let s = driver.session(&chromium, 1280, 900);
    let dir = shots();

    // Sign in.
    s.open(&format!("{}/#/login", served.url));
    s.find("token-input");
    s.screenshot(&dir.join("01-login.png"));
    s.type_into("token-input", "sc_wrong");
    s.click("login-button");
    s.wait("the wrong token refused", || s.try_find("login-error").filter(|el| !s.text_of(el).is_empty()));
    s.type_into("token-input", &token);
    s.click("login-button");
    s.find("nav-chat");
    let badge = s.text("role-badge");
    assert!(badge.to_lowercase().contains("owner") || badge.contains("店主"), "{badge}");

    // The Mid-Autumn request: the plan first, then the run.
    s.click("nav-chat");
    s.type_into("chat-input", MID_AUTUMN);
    s.click("chat-preview");
    task_status(&s, "t3", &["planned"]);
    assert_eq!(home_count(&home, "SELECT COUNT(*) FROM plans"), 0, "a preview runs nothing");
    s.click("chat-send");
    task_status(&s, "t1", &["done"]);
    task_status(&s, "t2", &["done"]);
    task_status(&s, "t3", &["pending"]);
    s.wait("the result line", || s.try_find("chat-result").filter(|el| !s.text_of(el).is_empty()));
    let plan_text = s.text("plan-view");
    assert!(plan_text.contains("promo.create_discount") || plan_text.contains("折扣"), "{plan_text}");
    s.screenshot(&dir.join("02-chat.png"));

    // The pending campaign, exactly as staged, approved.
    s.click("nav-approvals");
    let id =
        home_count(&home, "SELECT id FROM approvals WHERE status = 'pending' AND skill = 'ops.create_ad_campaign'");
    let row = s.find(&format!("approval-{id}"));
    let row_text = s.text_of(&row);
    assert!(row_text.contains("ops.create_ad_campaign") && row_text.contains("500"), "{row_text}");
    s.screenshot(&dir.join("03-approvals.png"));
    s.click(&format!("approve-{id}"));
    s.wait("the approval to take effect", || {
        (home_count(&home, &format!("SELECT COUNT(*) FROM approvals WHERE id = {id} AND status = 'approved'")) == 1)
            .then_some(())
    });
    s.wait("the approval result", || s.try_find("approval-result").filter(|el| !s.text_of(el).is_empty()));

    // Revoke the promotions employee's discount skill.
    s.click("nav-perms");
    s.find("perm-promotions");
    s.click("revoke-promotions-promo.create_discount");
    s.wait("the revocation", || {
        (home_count(&home, "SELECT COUNT(*) FROM policy_changes WHERE kind = 'revoke'") == 1).then_some(())
    });
    s.screenshot(&dir.join("04-permissions.png"));

    // The next discount is denied.
    s.click("nav-chat");
    s.type_into("chat-input", "月饼9折");
    s.click("chat-send");
    task_status(&s, "t1", &["denied"]);
    s.screenshot(&dir.join("05-denied.png"));

    // A grant with an expiry, and the kill switch on and off again.
    s.click("nav-perms");
    s.find("grant-employee");
    s.script(
        "const e = document.querySelector('[data-testid=\"grant-employee\"]'); e.value = 'promotions'; \
         e.dispatchEvent(new Event('change', {bubbles: true})); \
         const u = document.querySelector('[data-testid=\"grant-until\"]'); u.value = '2026-11-29'; \
         u.dispatchEvent(new Event('input', {bubbles: true})); u.dispatchEvent(new Event('change', {bubbles: true}));",
    );
    s.type_into("grant-setting", "max_discount_pct=30");
    s.click("grant-submit");
    s.wait("the grant", || {
        let sql = "SELECT COUNT(*) FROM policy_changes WHERE kind = 'grant' AND employee = 'promotions' \
                   AND knob = 'max_discount_pct' AND until LIKE '2026-11-29%'";
        (home_count(&home, sql) == 1).then_some(())
    });
    s.click("pause-all");
    s.wait("everyone paused", || {
        let el = s.try_find("perm-ops")?;
        (s.attribute(&el, "data-paused")? == "true").then_some(())
    });
    assert_eq!(home_count(&home, "SELECT COUNT(*) FROM policy_changes WHERE kind = 'pause' AND employee IS NULL"), 1);
    s.screenshot(&dir.join("04b-paused.png"));
    s.click("resume-all");
    s.wait("everyone back", || {
        let el = s.try_find("perm-ops")?;
        (s.attribute(&el, "data-paused")? == "false").then_some(())
    });
    s.find("perms-history");

    // All of it is in the log, and the log verifies.
    s.click("nav-log");
    s.find("log-list");
    let kinds: Vec<String> = s.wait("log entries", || {
        let kinds: Vec<String> =
            s.all("[data-testid=\"log-entry\"]").iter().filter_map(|el| s.attribute(el, "data-kind")).collect();
        (kinds.len() > 10).then_some(kinds)
    });
    for kind in ["request", "plan", "effect", "approval", "permission", "decision"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in the log view: {kinds:?}");
    }
    s.click("log-verify");
    s.wait("verify ok", || {
        let el = s.try_find("verify-status")?;
        (s.attribute(&el, "data-status")? == "ok").then_some(())
    });
    s.screenshot(&dir.join("06-log.png"));

    // Schedules: run the business plan now, and add a webhook (its token stays on the server).
    s.click("nav-schedules");
    s.find("schedule-inbox-sweep");
    s.click("schedule-run-business-plan");
    let proposal = s.wait("the proposal", || {
        let id = home_count(&home, "SELECT COALESCE(MAX(id), 0) FROM plans WHERE source = 'business_plan'");
        (id > 0).then_some(id)
    });
    s.type_into("webhook-url", "http://127.0.0.1:9/robot/send?access_token=tok-secret");
    s.click("webhook-submit");
    s.wait("the webhook", || (home_count(&home, "SELECT COUNT(*) FROM webhooks") == 1).then_some(()));
    let hooks = s.wait("the webhook listed", || {
        s.try_find("webhooks-list").map(|el| s.text_of(&el)).filter(|t| t.contains("127.0.0.1"))
    });
    assert!(!hooks.contains("tok-secret"), "{hooks}");
    s.screenshot(&dir.join("07-schedules.png"));

    // The analyst's proposal, accepted from the plans page; it runs through the gate.
    s.click("nav-plans");
    s.click(&format!("plan-accept-{proposal}"));
    s.wait("the accepted plan's outcome", || {
        let el = s.try_find("plan-result")?;
        (s.attribute(&el, "data-state")? == "done").then_some(())
    });
    let accepted = home_count(
        &home,
        "SELECT COUNT(*) FROM work_log WHERE kind = 'plan' AND actor = 'owner' AND details LIKE '%accepted%'",
    );
    assert_eq!(accepted, 1, "the acceptance is logged");
    s.screenshot(&dir.join("07b-plans.png"));

    // The other pages, for review.
    s.click("nav-reports");
    s.click("report-generate-day");
    s.wait("the report written", || {
        (home_count(&home, "SELECT COUNT(*) FROM assets WHERE kind = 'report'") == 2).then_some(())
    });
    let report = home_count(&home, "SELECT MAX(id) FROM assets WHERE kind = 'report'");
    s.find(&format!("report-{report}"));
    s.screenshot(&dir.join("08-reports.png"));
    s.click("nav-assets");
    s.find("assets-list");
    s.screenshot(&dir.join("09-assets.png"));

    // Both languages, and a phone's width without sideways scrolling.
    let before = s.text("nav-log");
    s.click("lang-toggle");
    s.wait("the other language", || (s.text("nav-log") != before).then_some(()));
    s.set_size(390, 844);
    for (page, file) in [
        ("nav-chat", "10-phone-chat.png"),
        ("nav-approvals", "11-phone-approvals.png"),
        ("nav-log", "12-phone-log.png"),
    ] {
        s.click(page);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let fits = s.script("return document.documentElement.scrollWidth <= window.innerWidth + 1");
        assert_eq!(fits, serde_json::json!(true), "{page} fits a phone's width");
        s.screenshot(&dir.join(file));
    }
    // A viewer sees the same pages and can change nothing.
    let viewer = home.json(&["token", "create", "--viewer", "--name", "phone", "--json"]);
    s.click("logout");
    s.type_into("token-input", viewer["token"].as_str().unwrap());
    s.click("login-button");
    s.click("nav-perms");
    let pause = s.find("pause-all");
    assert_eq!(s.attribute(&pause, "disabled").as_deref(), Some("true"), "a viewer cannot pause the crew");
    let changes = home_count(&home, "SELECT COUNT(*) FROM policy_changes");
    s.script("document.querySelector('[data-testid=\"pause-all\"]').disabled = false;");
    s.click("pause-all");
    s.wait("the server's refusal", || s.try_find("perms-result").filter(|el| !s.text_of(el).is_empty()));
    assert_eq!(home_count(&home, "SELECT COUNT(*) FROM policy_changes"), changes, "the server refused it too");
    s.screenshot(&dir.join("13-viewer.png"));

    // The wrong token's 401s and the viewer's 403 were the point; anything else (a CSP
    // violation, a script error) is not.
    let errors: Vec<String> = s
        .console_errors()
        .into_iter()
        .filter(|e| !e.contains("401 (Unauthorized)") && !e.contains("403 (Forbidden)"))
        .collect();
    assert!(errors.is_empty(), "the page logged errors: {errors:#?}");
    eprintln!("screenshots in {}", dir.display());
}

fn home_count(home: &Home, sql: &str) -> i64 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(home.count(sql))
}
