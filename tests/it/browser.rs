//! The portal in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/run`): a unit signs in, sends a
//! workbook with an error, sees the finding, sends the right one; the
//! office signs in and sees the unit as submitted. Every page is kept as
//! a screenshot, on a desktop and a phone-sized window, under
//! `target/screenshots/`.

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // Asked to stop, ChromeDriver closes the browsers it started, even
        // when the test failed half way.
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn chromium() -> (Driver, Client) {
    let driver_bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("chromedriver is not installed: `apt-get install chromium chromium-driver` (bash .ci/run does it)");
    let port = free_port();
    let driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let profile = tempfile::tempdir().unwrap().keep();
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--lang=vi-VN",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }))
        .unwrap();
    let started = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return (driver, c),
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                panic!("no session from chromedriver: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn shots_dir() -> PathBuf {
    let d = crate::repo().join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Keeps a screenshot of the page, at desktop and phone width.
async fn shoot(c: &Client, name: &str) {
    for (w, h, tag) in [(1280, 900, "may-tinh"), (390, 844, "dien-thoai")] {
        c.set_window_size(w, h).await.unwrap();
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(shots_dir().join(format!("{name}-{tag}.png")), png).unwrap();
    }
    c.set_window_size(1280, 900).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Clicks a button that submits a form and waits for the next page.
async fn submit(c: &Client, css: &str) {
    c.execute("document.documentElement.dataset.cu = '1'", vec![])
        .await
        .unwrap();
    click(c, css).await;
    let started = Instant::now();
    loop {
        let done = c
            .execute(
                "return document.readyState === 'complete' && !document.documentElement.dataset.cu",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if done {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no new page after {css}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks a link and waits until the address starts with `to` (its path
/// and query).
async fn click_to(c: &Client, css: &str, to: &str) {
    click(c, css).await;
    let started = Instant::now();
    loop {
        let url = c.current_url().await.unwrap();
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        let at = format!("{}{query}", url.path());
        if at.starts_with(to) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{css} leads to {to}, not {at}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The text a script run in the page returns.
async fn script_text(c: &Client, script: &str) -> String {
    let v = c.execute(script, vec![]).await.unwrap();
    v.as_str()
        .unwrap_or_else(|| panic!("{script} gave {v}"))
        .to_string()
}

async fn sign_in(c: &Client, base: &str, login: &str, code: &str) {
    c.goto(&format!("{base}/dang-nhap")).await.unwrap();
    c.find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys(login)
        .await
        .unwrap();
    c.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(code)
        .await
        .unwrap();
    submit(c, "form.card button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_fixes_its_workbook_and_the_office_sees_it_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let (base, site) = crate::web::serve_site(tmp.path()).await;
    let broken = tmp.path().join("XA01-2022-Q4-loi.xlsx");
    let good = tmp.path().join("XA01-2022-Q4.xlsx");
    std::fs::write(&broken, crate::web::workbook(&site.settings, "XA01", true)).unwrap();
    std::fs::write(&good, crate::web::workbook(&site.settings, "XA01", false)).unwrap();

    let (_driver, c) = chromium().await;
    c.goto(&format!("{base}/dang-nhap")).await.unwrap();
    shoot(&c, "01-dang-nhap").await;

    // A wrong code is refused with a message in Vietnamese.
    sign_in(&c, &base, "XA01", "SAI-MA").await;
    assert!(text(&c).await.contains("không đúng"));

    sign_in(&c, &base, "XA01", &site.codes["XA01"]).await;
    let home = text(&c).await;
    assert!(home.contains("UBND thị trấn Cổ Lễ"), "{home}");
    assert!(
        home.contains("Quý IV/2022") && home.contains("Chưa nộp"),
        "{home}"
    );
    shoot(&c, "02-don-vi").await;

    // The workbook with an error: the finding, with its sheet and cell.
    let input = c.find(Locator::Id("file")).await.unwrap();
    input.send_keys(broken.to_str().unwrap()).await.unwrap();
    submit(&c, "#upload button").await;
    let result = text(&c).await;
    assert!(result.contains("không hợp lệ"), "{result}");
    let findings = c
        .find(Locator::Css("table.findings"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(findings.contains("Biểu 06"), "{findings}");
    shoot(&c, "03-ket-qua-loi").await;

    // The corrected workbook.
    c.goto(&format!("{base}/don-vi")).await.unwrap();
    let input = c.find(Locator::Id("file")).await.unwrap();
    input.send_keys(good.to_str().unwrap()).await.unwrap();
    submit(&c, "#upload button").await;
    let result = text(&c).await;
    assert!(
        result.contains("Đã nhận báo cáo Quý IV/2022: hợp lệ"),
        "{result}"
    );
    shoot(&c, "04-ket-qua-hop-le").await;
    c.goto(&format!("{base}/don-vi")).await.unwrap();
    assert!(text(&c).await.contains("Đã nộp"));
    shoot(&c, "05-don-vi-da-nop").await;
    submit(&c, "header form button").await;

    // The office sees XA01 as submitted (late: it is 2022's quarter).
    sign_in(&c, &base, "vanphong", &site.office_password).await;
    let row = c
        .find(Locator::Css("tr[data-unit=XA01]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("Nộp muộn") || row.contains("Đã nộp"), "{row}");
    let other = c
        .find(Locator::Css("tr[data-unit=XA02]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(other.contains("Chưa nộp"), "{other}");
    shoot(&c, "06-van-phong").await;
    for (path, name) in [
        ("/van-phong/xep-hang", "07-xep-hang"),
        ("/van-phong/bao-cao", "08-bao-cao"),
        ("/van-phong/gui-thu", "09-gui-thu"),
        ("/van-phong/tac-vu", "10-tac-vu"),
        ("/van-phong/nhat-ky", "11-nhat-ky"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        assert!(!text(&c).await.contains("Có lỗi"), "{path}");
        shoot(&c, name).await;
    }
    let log = text(&c).await;
    assert!(log.contains("nop_bao_cao") && log.contains("dang_nhap_sai"));

    // The desk: a search on the board, then the unit's page from its row,
    // with both files it sent, the refused one first to download.
    c.goto(&format!("{base}/van-phong")).await.unwrap();
    c.find(Locator::Id("q"))
        .await
        .unwrap()
        .send_keys("co le")
        .await
        .unwrap();
    submit(&c, "form[role=search] button").await;
    let rows = c.find_all(Locator::Css("#board tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1, "the search finds Cổ Lễ alone");
    shoot(&c, "12-tim-kiem").await;
    click_to(&c, "tr[data-unit=XA01] a", "/van-phong/don-vi/").await;
    let page = text(&c).await;
    assert!(
        page.contains("bị trả lại") && page.contains("hợp lệ"),
        "{page}"
    );
    assert!(page.contains("Tệp đánh dấu lỗi") && page.contains("Tệp gốc"));
    shoot(&c, "13-don-vi-van-phong").await;
    c.goto(&format!("{base}/van-phong/quy-tac")).await.unwrap();
    assert!(text(&c).await.contains("Các tiêu chí và cách tính"));
    shoot(&c, "14-quy-tac").await;

    // A province-sized board of 150 units: what needs doing comes first,
    // a count filters, and a rejected unit opens with its marked-up file.
    let tmp150 = tempfile::tempdir().unwrap();
    let big = crate::desk::desk(tmp150.path()).await;
    let base = big.app.base.clone();
    sign_in(&c, &base, "vanphong", &big.password).await;
    let classes = c
        .execute(
            "return [...document.querySelectorAll('#board tbody tr .status')].map(e => e.className)",
            vec![],
        )
        .await
        .unwrap();
    let classes: Vec<String> = serde_json::from_value(classes).unwrap();
    assert_eq!(classes.len(), 150);
    let order = |c: &str| {
        ["bad", "none", "late", "ok"]
            .iter()
            .position(|k| c.ends_with(k))
    };
    let ranks: Vec<Option<usize>> = classes.iter().map(|c| order(c)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{classes:?}");
    shoot(&c, "15-bang-150").await;
    click_to(&c, "a[data-filter=tra-lai]", "/van-phong?tt=tra-lai").await;
    let rows = c.find_all(Locator::Css("#board tbody tr")).await.unwrap();
    let rejected = classes.iter().filter(|c| c.ends_with("bad")).count();
    assert_eq!(rows.len(), rejected);
    click_to(&c, "#board tbody tr a", "/van-phong/don-vi/").await;
    let marked = c
        .find(Locator::LinkText("Tệp đánh dấu lỗi"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let bytes = crate::web::get_bytes(&big.app, &big.office, &marked).await;
    assert!(bytes.starts_with(b"PK"), "the marked-up workbook downloads");
    shoot(&c, "16-don-vi-bi-tra-lai").await;

    // Every list's export, as the page links it, fetched by the browser
    // with its session and read back: CSV with a BOM and a header, xlsx
    // with a sheet of rows.
    for (page, least) in [
        ("/van-phong", 151),
        ("/van-phong/xep-hang", 151),
        ("/van-phong/gui-thu", 1),
        ("/van-phong/tac-vu", 1),
        ("/van-phong/nhat-ky", 2),
    ] {
        c.goto(&format!("{base}{page}")).await.unwrap();
        let links = c.find_all(Locator::Css(".exports a")).await.unwrap();
        assert_eq!(links.len(), 2, "{page}: a CSV and an xlsx link");
        for link in links {
            let href = link.attr("href").await.unwrap().unwrap();
            let bytes = fetched(&c, &href).await;
            if href.ends_with("xuat=csv") {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with('\u{feff}'), "{href}: no BOM");
                assert!(
                    text.lines().count() >= least,
                    "{href}: {} lines",
                    text.lines().count()
                );
            } else {
                use calamine::Reader;
                let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
                let name = wb.sheet_names()[0].clone();
                let rows = wb.worksheet_range(&name).unwrap().height();
                assert!(rows >= least, "{href}: {rows} rows");
            }
        }
    }

    // The province, in the first quarter after the merge of communes: a
    // merged commune's quarters before the merge are its predecessors'
    // added up, on its page and on the ranking's side-by-side quarters.
    let tmp_p = tempfile::tempdir().unwrap();
    let province = crate::desk::province_desk(tmp_p.path()).await;
    let base = province.app.base.clone();
    sign_in(&c, &base, "vanphong", &province.password).await;
    c.goto(&format!("{base}/van-phong/don-vi/COLE"))
        .await
        .unwrap();
    let quarters = script_text(
        &c,
        "return document.querySelector('.chart-list').textContent",
    )
    .await;
    let quarters = quarters.as_str();
    assert_eq!(
        quarters.matches("(tổng các đơn vị tiền thân)").count(),
        2,
        "{quarters}"
    );
    assert!(
        text(&c)
            .await
            .contains("hình thành từ: UBND thị trấn Cổ Lễ")
    );
    shoot(&c, "17-xa-hop-nhat").await;
    c.goto(&format!("{base}/van-phong/xep-hang")).await.unwrap();
    let row = script_text(
        &c,
        "return [...document.querySelectorAll('tr')].map(r => r.textContent).find(t => t.includes('UBND xã Cổ Lễ'))",
    )
    .await;
    let row = row.as_str();
    assert_eq!(
        row.matches(")*").count(),
        2,
        "the merged quarters are marked: {row}"
    );
    shoot(&c, "18-xep-hang-bon-quy").await;
    c.close().await.unwrap();
}

/// A link's bytes, fetched by the page itself (with its session).
async fn fetched(c: &Client, href: &str) -> Vec<u8> {
    let got = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { credentials: 'same-origin' })
               .then(r => r.arrayBuffer())
               .then(b => done(Array.from(new Uint8Array(b))))
               .catch(e => done(String(e)));",
            vec![serde_json::Value::String(href.to_string())],
        )
        .await
        .unwrap();
    serde_json::from_value(got.clone()).unwrap_or_else(|_| panic!("{href}: {got}"))
}
