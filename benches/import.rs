//! Importing the 240,007-row UCI Online Retail file (../shared/data): time and rows per
//! second. Prints figures; skips loudly when the data is not beside the repository.
//!
//! Run: `cargo bench --bench import`.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use shopcrew::clock::{FixedClock, parse_stamp};
use shopcrew::crew::{Crew, Options};
use shopcrew::import::{ImportOptions, import_orders};

fn main() {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/uci-online-retail/online_retail_saito_240k.csv.gz");
    if !source.exists() {
        println!("SKIPPED: {} is not there (it comes with ../shared)", source.display());
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let home = tempfile::tempdir().expect("temp home");
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&source).expect("open"))
            .read_to_string(&mut text)
            .expect("gunzip");
        let csv = home.path().join("retail.csv");
        std::fs::write(&csv, &text).expect("write csv");
        let clock = Arc::new(FixedClock(parse_stamp("2026-11-24T02:00:00Z").expect("time")));
        let opts = Options::new(home.path(), clock.clone());
        Crew::init(opts.clone(), false, 0).await.expect("init");
        let (crew, _) = Crew::open(opts).await.expect("open");
        let map = "order_id=InvoiceNo,sku=StockCode,title=Description,quantity=Quantity,ordered_at=InvoiceDate,unit_price=UnitPrice,customer_id=CustomerID";
        let import = ImportOptions {
            map: ImportOptions::parse_map(map).expect("map"),
            date_format: Some("%m/%d/%y %H:%M".into()),
            currency: Some("GBP".into()),
            default_margin: shopcrew::money::Pct::parse("40").ok(),
        };
        let started = Instant::now();
        let report = import_orders(&crew, &csv, &import).await.expect("import");
        let secs = started.elapsed().as_secs_f64();
        println!("import of the UCI Online Retail file ({} rows)", report.rows);
        println!("  orders {}, refunds {}, products {}, customers {}", report.orders_created, report.refunds, report.products_created, report.customers_created);
        println!("  time:     {secs:8.2} s");
        println!("  rows/s:   {:8.0}", report.rows as f64 / secs);
    });
}
