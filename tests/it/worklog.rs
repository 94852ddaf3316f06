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
        "UPDATE work_log SET details = replace(details, '\"discount_pct\":10', '\"discount_pct\":50') \
         WHERE seq = (SELECT MIN(seq) FROM work_log WHERE details LIKE '%\"discount_pct\":10%')",
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

/// The newest signed checkpoint, as the owner would save it.
fn save_checkpoint(home: &Home, name: &str) -> std::path::PathBuf {
    let (code, out, err) = home.run(&["log", "checkpoint"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("— shopcrew "), "{out}");
    let file = home.path().join(name);
    std::fs::write(&file, out).unwrap();
    file
}

#[tokio::test]
async fn a_saved_checkpoint_is_extended_by_later_work() {
    let home = busy_home();
    let saved = save_checkpoint(&home, "kept.txt");
    let (code, out, _) = home.run(&["do", "analyst.sales_report", "--args", r#"{"period": "last_week"}"#]);
    assert_eq!(code, 0, "{out}");
    let (code, out, err) = home.run(&["log", "verify", "--against", saved.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("延续了你保存的检查点"), "{out}");
    let report = home.json(&["log", "verify", "--json"]);
    assert!(report["checkpoints"].as_i64().unwrap() >= 2, "commands leave checkpoints: {report}");
}

#[tokio::test]
async fn cutting_entries_off_the_end_is_detected_even_without_the_stored_checkpoints() {
    let home = busy_home();
    let saved = save_checkpoint(&home, "kept.txt");
    let last = home.count("SELECT MAX(seq) FROM work_log").await;
    tamper(&home, &format!("DELETE FROM work_log WHERE seq >= {}", last - 1)).await;

    // The stored checkpoints cover the lost tail.
    let (code, _, err) = home.run(&["--lang", "en", "log", "verify"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cut from the end"), "{err}");

    // Deleting those too hides the cut from a chain, not from the owner's saved copy.
    tamper(&home, "DELETE FROM checkpoints").await;
    let (code, _, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0, "a hash chain alone cannot see a cut tail");
    let (code, _, err) = home.run(&["--lang", "en", "log", "verify", "--against", saved.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("entries were removed"), "{err}");
}

#[tokio::test]
async fn a_log_rewritten_from_scratch_does_not_extend_the_saved_checkpoint() {
    let home = busy_home();
    let saved = save_checkpoint(&home, "kept.txt");
    // Another history of the same shop, valid on its own: a different discount.
    let other = Home::with_demo();
    for args in [r#"{"discount_pct": 15, "scope": "towels"}"#, r#"{"discount_pct": 5, "scope": "cups"}"#] {
        let (code, _, _) = other.run(&["do", "promo.create_discount", "--args", args]);
        assert_eq!(code, 0);
    }
    let (code, _, _) = other.run(&["do", "analyst.sales_report", "--args", r#"{"period": "last_week"}"#]);
    assert_eq!(code, 0);
    tamper(&home, "DELETE FROM checkpoints").await;
    tamper(&home, "DELETE FROM work_log").await;
    let pool = home.pool().await;
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query(&format!("ATTACH '{}' AS other", other.db_path().display())).execute(&mut *conn).await.unwrap();
    sqlx::query("INSERT INTO main.work_log SELECT * FROM other.work_log").execute(&mut *conn).await.unwrap();
    drop(conn);
    pool.close().await;

    let (code, out, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0, "the swapped-in log is consistent with itself: {out}");
    let (code, _, err) = home.run(&["--lang", "en", "log", "verify", "--against", saved.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rewritten"), "{err}");
}

#[tokio::test]
async fn an_edited_checkpoint_file_is_refused() {
    let home = busy_home();
    let saved = save_checkpoint(&home, "kept.txt");
    let text = std::fs::read_to_string(&saved).unwrap();
    let size: u64 = text.lines().nth(1).unwrap().parse().unwrap();
    let forged = text.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size - 1), 1);
    std::fs::write(&saved, forged).unwrap();
    let (code, _, err) = home.run(&["log", "verify", "--against", saved.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("signature does not match"), "{err}");
    std::fs::write(&saved, "hello").unwrap();
    let (code, _, err) = home.run(&["log", "verify", "--against", saved.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not a shopcrew checkpoint"), "{err}");
}
