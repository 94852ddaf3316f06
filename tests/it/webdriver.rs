//! A small W3C WebDriver client over reqwest, enough to drive Debian's Chromium through
//! chromedriver: open pages, find elements by `data-testid`, click, type, read, wait, and
//! take screenshots. Browser tests skip loudly where Chromium or chromedriver is missing,
//! unless `SHOPCREW_REQUIRE_BROWSER=1` (CI) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Chromium and chromedriver, if both are installed.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| {
        names.iter().map(PathBuf::from).find(|p| p.is_file()).or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
        })
    };
    let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "google-chrome"])?;
    let driver = find(&["/usr/bin/chromedriver", "chromedriver"])?;
    Some((chromium, driver))
}

/// Says loudly that a browser test did not run, or fails when CI requires it.
pub fn skip(test: &str) {
    let message = format!(
        "SKIPPED {test}: Chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver; .ci/run installs them)"
    );
    if std::env::var("SHOPCREW_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("{message}, but SHOPCREW_REQUIRE_BROWSER=1");
    }
    eprintln!("\n==== {message} ====\n");
}

pub struct Driver {
    process: Child,
    base: String,
    client: reqwest::blocking::Client,
}

impl Driver {
    pub fn start(driver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let process = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            process,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        };
        let ready = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            driver.client.get(format!("{}/status", driver.base)).send().is_ok_and(|r| r.status().is_success())
        });
        assert!(ready, "chromedriver did not start");
        driver
    }

    pub fn session(&self, chromium: &Path, width: u32, height: u32) -> Session<'_> {
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:loggingPrefs": {"browser": "ALL"}, "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={width},{height}"), "--lang=zh-CN"],
        }}}});
        let res: Value = self.client.post(format!("{}/session", self.base)).json(&caps).send().unwrap().json().unwrap();
        let id = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {res}")).to_string();
        Session { driver: self, id }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.driver.base, self.id);
        let mut req = self.driver.client.request(method, url);
        req = req.json(&body.unwrap_or_else(|| json!({})));
        let res: Value = req.send().unwrap().json().unwrap();
        res["value"].clone()
    }

    pub fn open(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})));
    }

    /// The element with this `data-testid`, if it is on the page now.
    pub fn try_find(&self, testid: &str) -> Option<String> {
        let selector = format!("[data-testid=\"{testid}\"]");
        let v = self.cmd(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": selector})));
        v[ELEMENT].as_str().map(str::to_string)
    }

    /// Waits up to 20 s for the element.
    pub fn find(&self, testid: &str) -> String {
        self.wait(&format!("element {testid}"), || self.try_find(testid))
    }

    /// Every element matching a CSS selector.
    pub fn all(&self, selector: &str) -> Vec<String> {
        let v = self.cmd(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": selector})));
        v.as_array()
            .map(|a| a.iter().filter_map(|e| e[ELEMENT].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    pub fn click(&self, testid: &str) {
        let el = self.find(testid);
        let res = self.cmd(reqwest::Method::POST, &format!("/element/{el}/click"), None);
        assert!(res.is_null(), "click {testid}: {res}");
    }

    pub fn type_into(&self, testid: &str, text: &str) {
        let el = self.find(testid);
        self.cmd(reqwest::Method::POST, &format!("/element/{el}/clear"), None);
        let res = self.cmd(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({"text": text})));
        assert!(res.is_null(), "type into {testid}: {res}");
    }

    pub fn text_of(&self, el: &str) -> String {
        self.cmd(reqwest::Method::GET, &format!("/element/{el}/text"), None).as_str().unwrap_or_default().to_string()
    }

    pub fn text(&self, testid: &str) -> String {
        let el = self.find(testid);
        self.text_of(&el)
    }

    pub fn attribute(&self, el: &str, name: &str) -> Option<String> {
        self.cmd(reqwest::Method::GET, &format!("/element/{el}/attribute/{name}"), None).as_str().map(str::to_string)
    }

    /// Runs a script in the page and returns its value.
    pub fn script(&self, body: &str) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({"script": body, "args": []})))
    }

    /// Polls `check` until it gives a value, for up to 20 s.
    pub fn wait<T>(&self, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = check() {
                return v;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let page = self.script("return document.body ? document.body.innerText : ''");
                panic!("timed out waiting for {what}; the page says:\n{}", page.as_str().unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a PNG of the window.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    pub fn set_size(&self, width: u32, height: u32) {
        self.cmd(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height})));
    }

    /// Messages the page logged as errors (CSP violations among them).
    pub fn console_errors(&self) -> Vec<String> {
        let v = self.cmd(reqwest::Method::POST, "/se/log", Some(json!({"type": "browser"})));
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .filter_map(|e| e["message"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.driver.base, self.id);
        let _ = self.driver.client.delete(url).send();
    }
}
