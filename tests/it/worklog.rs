//! The work log is append-only and `log verify` finds the first edited, deleted or reordered
//! entry in the database file.

use crate::common::Home;

/// A home whose log holds a few entries beyond set-up.
fn busy_home() -> Home {
    let home = Home::with_demo();
    for args in [r#"{"discount_pct": 10, "scope": "towels"}"#, r#"{"discount_pct": 5, "scope": "cups"}"#] {
        let (code, out, err) = home.run(&["do", "promo.create_discount", "--args", args]);
        assert_eq!(code, 0, "{out}\n{err}");
    }
    let (code, _, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0);
    home
}

async fn tamper(home: &Home, sql: &str) {
    let pool = home.pool().await;
    sqlx::query("DROP TRIGGER IF EXISTS work_log_no_update").execute(&pool).await.unwrap();
    sqlx::query("DROP TRIGGER IF EXISTS work_log_no_delete").execute(&pool).await.unwrap();
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn the_database_refuses_to_edit_the_log() {
    let home = busy_home();
    let pool = home.pool().await;
    let err = sqlx::query("UPDATE work_log SET summary = 'x' WHERE seq = 1").execute(&pool).await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = sqlx::query("DELETE FROM work_log WHERE seq = 1").execute(&pool).await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn editing_one_entry_makes_verify_fail_at_that_entry() {
    let home = busy_home();
    tamper(&home, "UPDATE work_log SET summary = summary || ' (edited)' WHERE seq = 2").await;
    let (code, _, err) = home.run(&["--lang", "en", "log", "verify"]);
    assert_eq!(code, 2);
    assert!(err.contains("entry 2") && err.contains("edited"), "{err}");
}

#[tokio::test]
async fn editing_money_in_an_entry_is_detected() {
    let home = busy_home();
    tamper(
        &home,
        "UPDATE work_log SET details = replace(details, '\"discount_pct\":10', '\"discount_pct\":50') WHERE seq = 2",
    )
    .await;
    let (code, _, err) = home.run(&["--lang", "en", "log", "verify"]);
    assert_eq!(code, 2, "{err}");
}

#[tokio::test]
async fn deleting_an_entry_is_detected() {
    let home = busy_home();
    tamper(&home, "DELETE FROM work_log WHERE seq = 2").await;
    let (code, _, err) = home.run(&["--lang", "en", "log", "verify"]);
    assert_eq!(code, 2);
    assert!(err.contains("entry 2") && err.contains("missing"), "{err}");
}

#[tokio::test]
async fn swapping_two_entries_is_detected() {
    let home = busy_home();
    // Swap the content of entries 2 and 3, hashes included, keeping the sequence numbers.
    tamper(&home, "UPDATE work_log SET seq = -2 WHERE seq = 2").await;
    tamper(&home, "UPDATE work_log SET seq = 2 WHERE seq = 3").await;
    tamper(&home, "UPDATE work_log SET seq = 3 WHERE seq = -2").await;
    let (code, _, err) = home.run(&["--lang", "en", "log", "verify"]);
    assert_eq!(code, 2);
    assert!(err.contains("entry 2"), "{err}");
}

#[test]
fn the_log_filters_by_employee_and_date_and_reads_well() {
    let home = busy_home();
    let (code, out, _) = home.run(&["log", "--employee", "promotions"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().all(|l| l.contains("活动") && l.contains("已创建折扣")), "{out}");
    let (_, out, _) = home.run(&["log", "--since", "2026-11-25"]);
    assert!(out.contains("没有符合条件的记录"), "{out}");
    let (code, _, err) = home.run(&["log", "--since", "last tuesday"]);
    assert_eq!(code, 1);
    assert!(err.contains("--since"), "{err}");
}
