//! The owner report: what happened in the shop over a day or a week, as Markdown and as one
//! standalone HTML file (charts inline as SVG, no scripts, fonts or links to fetch).
//!
//! [`OwnerReport`] is gathered by `Crew::report`; this module only renders it. Every text
//! from the store (titles, names, summaries) is escaped in the HTML.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

use crate::analytics::{CampaignRoi, SalesReport, change_text};
use crate::lang::Lang;
use crate::money::{Money, Pct, currency_sign};
use crate::schedule::ReportPeriod;
use crate::svg::{self, escape};

/// Everything one report says.
#[derive(Debug, Clone, Serialize)]
pub struct OwnerReport {
    pub shop: String,
    pub currency: String,
    #[serde(skip)]
    pub lang: Lang,
    pub period: ReportPeriod,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// When it was written (RFC 3339, UTC).
    pub written_at: String,
    pub sales: SalesReport,
    /// GMV per day over at least the last seven days of the period, for the chart.
    pub daily: Vec<(NaiveDate, Money)>,
    pub diagnosis: Vec<String>,
    /// The tasks the analyst would propose, in words.
    pub proposals: Vec<String>,
    /// What the scheduler ran on its own in the period, one line per run.
    pub autopilot: Vec<String>,
    /// Effects the crew took in the period outside its schedules (the newest), newest last.
    pub effects: Vec<Line>,
    /// Effects left out of `effects` (older ones); the log has them.
    pub more_effects: usize,
    pub denials: i64,
    pub spend: Spend,
    pub roi: Vec<CampaignRoi>,
    pub approvals: Vec<Pending>,
}

/// A work-log line.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub at: String,
    pub employee: String,
    pub summary: String,
}

/// Money spent against the caps.
#[derive(Debug, Clone, Serialize)]
pub struct Spend {
    /// Spent in the report's period.
    pub period: Money,
    pub today: Money,
    pub daily_cap: Money,
    pub month: Money,
    pub monthly_cap: Money,
    /// Model spend today and its cap, in yuan (model prices are in CNY).
    pub ai_today: f64,
    pub ai_cap: Option<f64>,
}

/// An action waiting for the owner.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub id: i64,
    pub employee: String,
    pub skill: String,
    pub reason: String,
    pub expires_at: String,
}

impl OwnerReport {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(zh, en)
    }

    fn money(&self, m: Money) -> String {
        format!("{}{}", currency_sign(&self.currency), m.yuan_text())
    }

    pub fn title(&self) -> String {
        let span = if self.from == self.to { self.from.to_string() } else { format!("{} – {}", self.from, self.to) };
        match (self.lang, self.period) {
            (Lang::Zh, ReportPeriod::Day) => format!("{} 日报 {span}", self.shop),
            (Lang::Zh, ReportPeriod::Week) => format!("{} 周报 {span}", self.shop),
            (Lang::En, ReportPeriod::Day) => format!("{} daily report {span}", self.shop),
            (Lang::En, ReportPeriod::Week) => format!("{} weekly report {span}", self.shop),
        }
    }

    /// The overview in a few lines: what a phone notification shows.
    pub fn brief(&self) -> String {
        let c = &self.sales.current;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "- GMV {} ({} {}) · {} {} · {} {}",
            self.money(c.gmv),
            change_text(self.sales.gmv_change_bp),
            self.t("较上期", "vs previous"),
            c.orders,
            self.t("单", "orders"),
            c.buyers,
            self.t("位买家", "buyers"),
        );
        for line in self.diagnosis.iter().skip(1).take(3) {
            let _ = writeln!(s, "- {line}");
        }
        let _ = writeln!(
            s,
            "- {}: {} · {}: {}",
            self.t("自动完成", "done on autopilot"),
            self.autopilot.len(),
            self.t("待批准", "waiting for approval"),
            self.approvals.len()
        );
        s
    }

    pub fn markdown(&self) -> String {
        let c = &self.sales.current;
        let mut s = String::new();
        let _ = writeln!(s, "# {}\n", self.title());
        let _ = writeln!(s, "## {}\n", self.t("概览", "Overview"));
        let rows = self.overview_rows();
        let _ = writeln!(
            s,
            "| {} | {} | {} |\n|---|---:|---:|",
            self.t("指标", "Figure"),
            self.t("本期", "This period"),
            self.t("上期", "Previous")
        );
        for (name, now, before) in &rows {
            let _ = writeln!(s, "| {name} | {now} | {before} |");
        }
        if !c.top_products.is_empty() {
            let _ = writeln!(s, "\n{}:", self.t("卖得最好的商品", "Best sellers"));
            for p in &c.top_products {
                let _ = writeln!(s, "- {} {} — {} × {}", p.sku, p.title, p.units, self.money(p.gmv));
            }
        }
        let _ = writeln!(s, "\n## {}\n", self.t("诊断", "Diagnosis"));
        for line in &self.diagnosis {
            let _ = writeln!(s, "- {line}");
        }
        let _ = writeln!(s, "\n## {}\n", self.t("建议的行动", "Proposed actions"));
        if self.proposals.is_empty() {
            let _ = writeln!(s, "- {}", self.t("暂无", "none"));
        }
        for line in &self.proposals {
            let _ = writeln!(s, "- {line}");
        }
        let _ = writeln!(s, "\n## {}\n", self.t("团队自己完成的工作", "What the crew did on its own"));
        if self.autopilot.is_empty() {
            let _ = writeln!(s, "- {}", self.t("本期没有自动运行", "no autopilot runs in this period"));
        }
        for line in &self.autopilot {
            let _ = writeln!(s, "- {line}");
        }
        if !self.effects.is_empty() {
            let _ = writeln!(s, "\n{}:", self.t("生效的操作", "Actions that took effect"));
            for l in &self.effects {
                let _ = writeln!(s, "- {} {} — {}", l.at, l.employee, l.summary);
            }
            if self.more_effects > 0 {
                let _ = writeln!(s, "- {}", self.more_line());
            }
        }
        if self.denials > 0 {
            let _ = writeln!(s, "\n{}: {}", self.t("被规则拒绝的操作", "Actions your rules denied"), self.denials);
        }
        let _ = writeln!(s, "\n## {}\n", self.t("花费与上限", "Money spent against caps"));
        for (name, value) in self.spend_rows() {
            let _ = writeln!(s, "- {name}: {value}");
        }
        let _ = writeln!(s, "\n## {}\n", self.t("推广投产比", "Ad ROI"));
        if self.roi.is_empty() {
            let _ = writeln!(s, "- {}", self.t("没有推广计划", "no ad campaigns"));
        }
        for line in self.roi_lines() {
            let _ = writeln!(s, "- {line}");
        }
        let _ = writeln!(s, "\n## {}\n", self.t("等待批准", "Waiting for your approval"));
        if self.approvals.is_empty() {
            let _ = writeln!(s, "- {}", self.t("没有", "nothing"));
        }
        for (a, line) in self.approvals.iter().zip(self.pending_lines()) {
            let _ = writeln!(s, "- {line}; `shopcrew approvals approve {}`", a.id);
        }
        s
    }

    /// One line per ad campaign: spend, attributed GMV and ROI.
    fn roi_lines(&self) -> Vec<String> {
        self.roi
            .iter()
            .map(|r| {
                let (spend, gmv) = (self.money(r.spend), self.money(r.attributed_gmv));
                format!("#{} {} ({}): {spend} → {gmv}, {}", r.campaign, r.name, r.status, r.roi_text)
            })
            .collect()
    }

    /// One line per action waiting for the owner, with its expiry.
    fn pending_lines(&self) -> Vec<String> {
        let expires = self.t("截止", "expires");
        self.approvals
            .iter()
            .map(|a| format!("#{} {} {}: {} ({expires} {})", a.id, a.employee, a.skill, a.reason, a.expires_at))
            .collect()
    }

    fn more_line(&self) -> String {
        match self.lang {
            Lang::Zh => format!("……另有 {} 项较早的操作,见 shopcrew log", self.more_effects),
            Lang::En => format!("… and {} earlier actions: see shopcrew log", self.more_effects),
        }
    }

    fn overview_rows(&self) -> Vec<(String, String, String)> {
        let (c, p) = (&self.sales.current, &self.sales.previous);
        vec![
            ("GMV".into(), self.money(c.gmv), self.money(p.gmv)),
            (self.t("订单", "Orders").into(), c.orders.to_string(), p.orders.to_string()),
            (self.t("买家", "Buyers").into(), c.buyers.to_string(), p.buyers.to_string()),
            (self.t("客单价", "Average order").into(), self.money(c.aov), self.money(p.aov)),
            (
                self.t("退款率", "Refund rate").into(),
                Pct::from_bp(c.refund_rate_bp).to_string(),
                Pct::from_bp(p.refund_rate_bp).to_string(),
            ),
            (self.t("净额", "Net").into(), self.money(c.net), self.money(p.net)),
        ]
    }

    fn spend_rows(&self) -> Vec<(String, String)> {
        let sp = &self.spend;
        let ai_cap = sp.ai_cap.map_or_else(|| self.t("不限", "no cap").to_string(), |c| format!("¥{c:.2}"));
        vec![
            (self.t("本期花费", "Spent in the period").into(), self.money(sp.period)),
            (
                self.t("今天 / 日上限", "Today / daily cap").into(),
                format!("{} / {}", self.money(sp.today), self.money(sp.daily_cap)),
            ),
            (
                self.t("本月 / 月上限", "This month / monthly cap").into(),
                format!("{} / {}", self.money(sp.month), self.money(sp.monthly_cap)),
            ),
            (
                self.t("今天模型花费 / 上限", "Model spend today / cap").into(),
                format!("¥{:.2} / {ai_cap}", sp.ai_today),
            ),
        ]
    }

    /// The daily GMV chart and the best-seller chart, as SVG.
    pub fn charts(&self) -> Vec<String> {
        let sign = currency_sign(&self.currency).to_string();
        let label = move |fen: i64| format!("{sign}{}", Money::from_fen(fen).short_text());
        let days: Vec<(String, i64)> =
            self.daily.iter().map(|(d, m)| (d.format("%m-%d").to_string(), m.fen())).collect();
        let top: Vec<(String, i64)> =
            self.sales.current.top_products.iter().map(|p| (p.sku.clone(), p.gmv.fen())).collect();
        vec![
            svg::bar_chart(self.t("每日 GMV", "GMV per day"), &days, label.clone(), 720, 300),
            svg::bar_chart(self.t("畅销商品 GMV", "Best sellers by GMV"), &top, label, 720, 300),
        ]
    }

    /// One HTML file that opens offline: inline style, inline SVG charts, nothing fetched.
    pub fn html(&self) -> String {
        let e = |t: &str| escape(t);
        let mut s = String::new();
        let lang = self.t("zh-CN", "en");
        let _ = write!(
            s,
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>",
            e(&self.title())
        );
        let _ = write!(
            s,
            "<h1>{}</h1><p class=\"muted\">{} {}</p>",
            e(&self.title()),
            self.t("生成于", "written"),
            e(&self.written_at)
        );
        let _ = write!(
            s,
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            self.t("概览", "Overview"),
            self.t("指标", "Figure"),
            self.t("本期", "This period"),
            self.t("上期", "Previous")
        );
        for (name, now, before) in self.overview_rows() {
            let _ = write!(s, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", e(&name), e(&now), e(&before));
        }
        s.push_str("</table>");
        for chart in self.charts() {
            let _ = write!(s, "<figure>{chart}</figure>");
        }
        let list = |s: &mut String, title: &str, lines: &[String], empty: &str| {
            let _ = write!(s, "<h2>{}</h2><ul>", e(title));
            if lines.is_empty() {
                let _ = write!(s, "<li class=\"muted\">{}</li>", e(empty));
            }
            for l in lines {
                let _ = write!(s, "<li>{}</li>", e(l));
            }
            s.push_str("</ul>");
        };
        list(&mut s, self.t("诊断", "Diagnosis"), &self.diagnosis, "");
        list(&mut s, self.t("建议的行动", "Proposed actions"), &self.proposals, self.t("暂无", "none"));
        list(
            &mut s,
            self.t("团队自己完成的工作", "What the crew did on its own"),
            &self.autopilot,
            self.t("本期没有自动运行", "no autopilot runs in this period"),
        );
        let mut effects: Vec<String> =
            self.effects.iter().map(|l| format!("{} {} — {}", l.at, l.employee, l.summary)).collect();
        if self.more_effects > 0 {
            effects.push(self.more_line());
        }
        if !effects.is_empty() {
            list(&mut s, self.t("生效的操作", "Actions that took effect"), &effects, "");
        }
        if self.denials > 0 {
            let _ = write!(s, "<p>{}: {}</p>", self.t("被规则拒绝的操作", "Actions your rules denied"), self.denials);
        }
        let spend: Vec<String> = self.spend_rows().into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
        list(&mut s, self.t("花费与上限", "Money spent against caps"), &spend, "");
        let roi = self.roi_lines();
        list(&mut s, self.t("推广投产比", "Ad ROI"), &roi, self.t("没有推广计划", "no ad campaigns"));
        let pending = self.pending_lines();
        list(&mut s, self.t("等待批准", "Waiting for your approval"), &pending, self.t("没有", "nothing"));
        s.push_str("</main></body></html>\n");
        s
    }
}

/// The one `<style>` of an HTML report, as a CSP source (`'sha256-…'`), so the console can
/// show a report in a frame without allowing any other inline style.
pub fn style_source() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(STYLE.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;\
margin:0;background:#f6f7f9;color:#1f2328}main{max-width:760px;margin:0 auto;padding:16px}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #d0d7de}\
table{border-collapse:collapse;width:100%;background:#fff}td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:right}\
td:first-child,th:first-child{text-align:left}figure{margin:12px 0;background:#fff}figure svg{width:100%;height:auto}\
li{margin:2px 0}.muted{color:#656d76}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::SalesSummary;

    fn summary(from: NaiveDate, gmv: i64) -> SalesSummary {
        SalesSummary {
            from,
            to: from,
            gmv: Money::from_fen(gmv),
            orders: 3,
            buyers: 2,
            aov: Money::from_fen(gmv / 3),
            refunded: Money::ZERO,
            refund_orders: 0,
            refund_rate_bp: 0,
            net: Money::from_fen(gmv),
            units: 4,
            daily: vec![(from, Money::from_fen(gmv))],
            top_products: vec![crate::analytics::TopProduct {
                sku: "<b>SKU</b>".into(),
                title: "\"月饼\" & <script>".into(),
                units: 4,
                gmv: Money::from_fen(gmv),
            }],
        }
    }

    fn report(lang: Lang) -> OwnerReport {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        OwnerReport {
            shop: "Shop <one>".into(),
            currency: "GBP".into(),
            lang,
            period: ReportPeriod::Day,
            from: day,
            to: day,
            written_at: "2026-11-24T01:00:00Z".into(),
            sales: SalesReport {
                current: summary(day, 12_345),
                previous: summary(day.pred_opt().unwrap(), 10_000),
                gmv_change_bp: Some(2345),
                orders_change_bp: Some(0),
            },
            daily: vec![(day, Money::from_fen(12_345))],
            diagnosis: vec!["last 7 days GMV".into(), "2 products about to run out".into()],
            proposals: vec!["ops.restock_plan".into()],
            autopilot: vec!["<img src=x onerror=alert(1)>".into()],
            effects: vec![Line { at: "11-23 10:00".into(), employee: "promotions".into(), summary: "9折".into() }],
            more_effects: 3,
            denials: 2,
            spend: Spend {
                period: Money::from_fen(500),
                today: Money::ZERO,
                daily_cap: Money::from_fen(100_000),
                month: Money::from_fen(500),
                monthly_cap: Money::from_fen(1_000_000),
                ai_today: 0.0,
                ai_cap: None,
            },
            roi: vec![],
            approvals: vec![Pending {
                id: 7,
                employee: "ops".into(),
                skill: "ops.restock_plan".into(),
                reason: "always staged".into(),
                expires_at: "2026-11-27T01:00:00Z".into(),
            }],
        }
    }

    #[test]
    fn markdown_has_every_section_in_the_shops_currency() {
        let md = report(Lang::En).markdown();
        for section in [
            "## Overview",
            "## Diagnosis",
            "## Proposed actions",
            "## What the crew did on its own",
            "## Money spent against caps",
            "## Ad ROI",
            "## Waiting for your approval",
        ] {
            assert!(md.contains(section), "{section} missing:\n{md}");
        }
        assert!(md.contains("| GMV | £123.45 | £100.00 |"), "{md}");
        assert!(md.contains("shopcrew approvals approve 7"), "{md}");
        assert!(md.contains("Actions your rules denied: 2"), "{md}");
        assert!(md.contains("- 11-23 10:00 promotions — 9折\n- … and 3 earlier actions"), "{md}");
        assert!(report(Lang::Zh).markdown().contains("## 等待批准"));
    }

    #[test]
    fn html_escapes_store_text_and_fetches_nothing() {
        let html = report(Lang::En).html();
        assert!(!html.contains("<script>"), "store text must be escaped");
        assert!(!html.contains("<img"), "store text must be escaped");
        assert!(html.contains("&lt;img src=x"), "{html}");
        assert!(html.matches("<svg").count() == 2, "two inline charts");
        for remote in ["http://", "https://", "<link", "<script", "@import"] {
            let outside_svg_namespace = html.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside_svg_namespace.contains(remote), "{remote} in a file that must open offline");
        }
    }
}
