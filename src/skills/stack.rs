//! What a customer can end up paying for one unit when promotions stack.
//!
//! A promotion is a rule on the current list price: percentage promotions (discounts, flash
//! sales) that overlap in time multiply, and one threshold coupon per order comes off the rest.
//! A coupon's threshold may need several units; its share of one unit is then the value spread
//! over the fewest units that reach the threshold. The margin floor is checked on the lowest
//! price this gives, so a discount, a coupon and a flash sale together cannot go below it.

use sqlx::{Row, SqliteConnection};

use crate::error::Result;
use crate::money::{Money, Pct};

/// The promotions that could apply to one product during a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stack {
    pub percents: Vec<Pct>,
    /// `(threshold, value)` of each coupon.
    pub coupons: Vec<(Money, Money)>,
}

impl Stack {
    /// The lowest unit price from `list`, rounded down (the customer's side of every rounding).
    pub fn lowest(&self, list: Money) -> Money {
        let mut fen = i128::from(list.fen());
        for pct in &self.percents {
            fen = fen * i128::from(10_000 - pct.bp()) / 10_000;
        }
        let share = self
            .coupons
            .iter()
            .map(|(threshold, value)| coupon_share(fen, i128::from(threshold.fen()), i128::from(value.fen())))
            .max()
            .unwrap_or(0);
        Money::from_fen(i64::try_from((fen - share).max(i128::from(i64::MIN))).unwrap_or(i64::MIN))
    }
}

/// A coupon's value on one unit at `price`: all of it when one unit reaches the threshold, else
/// an even share over the fewest units that do (rounded up). A free unit has nothing to take off.
fn coupon_share(price: i128, threshold: i128, value: i128) -> i128 {
    if price <= 0 {
        return 0;
    }
    let units = ((threshold + price - 1) / price).max(1);
    (value + units - 1) / units
}

/// The promotions of `shop_id` covering `product_id` that are scheduled or running at some
/// moment of `[from, to)` (RFC 3339 UTC text); coupons cover every product.
pub async fn overlapping(
    conn: &mut SqliteConnection,
    shop_id: i64,
    product_id: i64,
    from: &str,
    to: &str,
) -> Result<Stack> {
    let rows = sqlx::query(
        "SELECT p.kind, p.discount_bp, p.threshold_fen, p.value_fen FROM promotions p \
         LEFT JOIN promotion_products pp ON pp.promotion_id = p.id AND pp.product_id = $2 \
         WHERE p.shop_id = $1 AND p.status IN ('scheduled', 'active') AND p.starts_at < $4 AND p.ends_at > $3 \
           AND (p.kind = 'coupon' OR pp.product_id IS NOT NULL)",
    )
    .bind(shop_id)
    .bind(product_id)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    let mut stack = Stack::default();
    for r in rows {
        let kind: String = r.get("kind");
        match (kind.as_str(), r.get::<Option<i64>, _>("discount_bp")) {
            ("coupon", _) => {
                let (t, v): (Option<i64>, Option<i64>) = (r.get("threshold_fen"), r.get("value_fen"));
                stack.coupons.push((Money::from_fen(t.unwrap_or(0)), Money::from_fen(v.unwrap_or(0))));
            }
            (_, Some(bp)) => stack.percents.push(Pct::from_bp(bp)),
            _ => {}
        }
    }
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_multiply_and_the_best_coupon_comes_off() {
        let list = Money::from_fen(10_000);
        assert_eq!(Stack::default().lowest(list), list);
        let stack = Stack { percents: vec![Pct::whole(20), Pct::whole(10)], coupons: vec![] };
        assert_eq!(stack.lowest(list), Money::from_fen(7_200));
        let stack = Stack {
            percents: vec![Pct::whole(20)],
            coupons: vec![
                (Money::from_fen(5_000), Money::from_fen(500)),
                (Money::from_fen(20_000), Money::from_fen(3_000)),
            ],
        };
        // 80.00 reaches the 50 threshold alone (5.00 off); the 200 threshold needs 3 units, so
        // 30.00 / 3 = 10.00 off each: the larger share wins.
        assert_eq!(stack.lowest(list), Money::from_fen(7_000));
    }

    #[test]
    fn shares_round_in_the_customers_favour() {
        // 3 units of 33.34 reach 100; 10.00 over 3 units is 3.334 → 3.34 off.
        assert_eq!(coupon_share(3_334, 10_000, 1_000), 334);
        // A free item takes no share: the coupon comes off the priced items of the order.
        assert_eq!(coupon_share(0, 10_000, 1_000), 0);
        assert_eq!(
            Stack { percents: Vec::new(), coupons: vec![(Money::from_fen(5_000), Money::from_fen(500))] }
                .lowest(Money::ZERO),
            Money::ZERO
        );
    }
}
