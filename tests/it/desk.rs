//! The office's desk on the portal: the board ordered by what needs doing,
//! with counts that filter it and a search, at 150 units; a rejected unit
//! opened and its marked-up workbook downloaded; a merged commune's
//! quarters; every list exported and read back.

use crate::web::{browser, request, start};
use calamine::{Reader, Xlsx};
use tthc::settings::{PathOverrides, Settings};

/// A generated organisation of 150 units with its quarter read in, the
/// portal open on it and the office signed in.
pub(crate) struct Desk {
    pub app: crate::web::App,
    pub office: crate::web::Browser,
    pub password: String,
    pub settings: Settings,
}

/// A generated organisation of 150 units in 2022-Q4.
pub(crate) async fn desk(tmp: &std::path::Path) -> Desk {
    let cfg = tthc::bench::generate_org(tmp, 150, 5, &crate::repo().join("rules")).unwrap();
    let settings = Settings::load(&cfg, &PathOverrides::default()).unwrap();
    desk_of(settings, "2022-Q4").await
}

/// The sample province's desk in 2025-Q3, the first quarter after the
/// merge of communes, every quarter's workbooks read.
pub(crate) async fn province_desk(tmp: &std::path::Path) -> Desk {
    let overrides = PathOverrides {
        inbox: None,
        data: Some(tmp.join("data")),
        output: Some(tmp.join("out")),
    };
    let settings = Settings::load(&crate::province::province_config(), &overrides).unwrap();
    desk_of(settings, "2025-Q3").await
}

/// The portal of `settings` on `period`, its inbox read, the office
/// signed in.
async fn desk_of(mut settings: Settings, period: &str) -> Desk {
    settings.web.period = Some(period.parse().unwrap());
    let engine = crate::Opened::open(settings.clone()).unwrap();
    engine.ingest().unwrap();
    let password = tthc::web::issue_office_password(&settings, &engine.store, "vanphong").unwrap();
    let app = start(&settings).await;
    let office = browser(&app, "vanphong", &password, "/van-phong").await;
    Desk {
        app,
        office,
        password,
        settings,
    }
}

/// The board's rows: (unit code, status class), in order.
fn board_rows(html: &str) -> Vec<(String, String)> {
    html.split("<tr data-unit=\"")
        .skip(1)
        .map(|r| {
            let code = r.split('"').next().unwrap().to_string();
            let class = r
                .split("<span class=\"status ")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default()
                .to_string();
            (code, class)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_works_from_the_board_to_a_units_files_and_exports_every_list() {
    let tmp = tempfile::tempdir().unwrap();
    let Desk {
        app,
        office,
        settings,
        ..
    } = desk(tmp.path()).await;

    // Rejected first, then missing, then late, then on time.
    let board = request(&app, &office, "GET", "/van-phong").await;
    let rows = board_rows(&board.body);
    assert_eq!(rows.len(), 150, "every unit is on the board");
    let order = |class: &str| {
        ["bad", "none", "late", "ok"]
            .iter()
            .position(|c| *c == class)
    };
    let ranks: Vec<usize> = rows.iter().map(|(_, c)| order(c).unwrap_or(9)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{rows:?}");
    let rejected: Vec<&String> = rows
        .iter()
        .filter(|(_, c)| c == "bad")
        .map(|(u, _)| u)
        .collect();
    assert!(!rejected.is_empty(), "the organisation has a rejected unit");

    // A count filters the list to its units.
    let only = request(&app, &office, "GET", "/van-phong?tt=tra-lai").await;
    let shown = board_rows(&only.body);
    assert_eq!(shown.len(), rejected.len());
    assert!(shown.iter().all(|(_, c)| c == "bad"));
    assert!(
        only.body.contains(&format!(
            "data-filter=\"tra-lai\" aria-current=\"true\">Bị từ chối <strong>{}</strong>",
            rejected.len()
        )) || only
            .body
            .contains(&format!("<strong>{}</strong>", rejected.len())),
        "the filter shows its count"
    );

    // A search by part of a name, without accents.
    let name = settings.unit("XA0007").unwrap().name.clone();
    let word = tthc::domain::ascii_fold(name.split_whitespace().last().unwrap());
    let found = request(&app, &office, "GET", &format!("/van-phong?q={word}")).await;
    let found = board_rows(&found.body);
    assert!(
        found.iter().any(|(u, _)| u == "XA0007"),
        "{word}: {found:?}"
    );
    assert!(found.len() < 150);

    // The rejected unit's page: its files, the marked-up workbook first.
    let unit = rejected[0];
    let page = request(&app, &office, "GET", &format!("/van-phong/don-vi/{unit}")).await;
    assert!(page.status.is_success());
    assert!(page.body.contains("bị trả lại"), "{}", page.body);
    let id = page
        .body
        .split("data-file=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let marked = request(
        &app,
        &office,
        "GET",
        &format!("/don-vi/nop/{id}/tep-danh-dau"),
    )
    .await;
    assert!(marked.status.is_success());
    let findings = request(&app, &office, "GET", &format!("/don-vi/nop/{id}")).await;
    let first_link = findings.body.find("tep-danh-dau").unwrap();
    let table = findings.body.find("<table").unwrap();
    assert!(first_link < table, "the download comes before the findings");

    // Every list as a file, read back.
    for (path, header) in [
        ("/van-phong?xuat=csv", "Mã,Đơn vị,Khối,Tình trạng"),
        ("/van-phong/gui-thu?xuat=csv", "Thư,Người nhận"),
        ("/van-phong/nhat-ky?xuat=csv", "Thời điểm,Ai,Việc"),
    ] {
        let r = request(&app, &office, "GET", path).await;
        assert!(r.status.is_success(), "{path}");
        assert!(
            r.body.trim_start_matches('\u{feff}').starts_with(header),
            "{path}: {}",
            &r.body[..80.min(r.body.len())]
        );
    }
    let csv = request(&app, &office, "GET", "/van-phong?xuat=csv").await;
    assert_eq!(csv.body.lines().count(), 151, "a header and every unit");
    for (path, sheet_rows) in [
        ("/van-phong?xuat=xlsx", 151),
        ("/van-phong/xep-hang?xuat=xlsx", 151),
        ("/van-phong/tac-vu?xuat=xlsx", 1),
    ] {
        let bytes = crate::web::get_bytes(&app, &office, path).await;
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let name = wb.sheet_names()[0].clone();
        let range = wb.worksheet_range(&name).unwrap();
        assert!(
            range.height() >= sheet_rows,
            "{path}: {} rows",
            range.height()
        );
    }
}

/// A commune formed on 1 July 2025: its page shows its quarters, those
/// before the merge as its predecessors' figures added up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_communes_quarters_include_its_predecessors_before_the_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let Desk { app, office, .. } = province_desk(tmp.path()).await;
    let page = request(&app, &office, "GET", "/van-phong/don-vi/COLE").await;
    assert!(
        page.body.contains("hình thành từ: UBND thị trấn Cổ Lễ"),
        "{}",
        page.body
    );
    let body = page.body.replace("&#x2f;", "/");
    let list = body.split("class=\"chart-list\"").nth(1).unwrap();
    let list = list.split("</ul>").next().unwrap();
    let items: Vec<&str> = list.split("<li>").skip(1).collect();
    assert_eq!(items.len(), 4, "{list}");
    assert!(
        items[0].contains("Quý IV/2024") && items[0].contains("—"),
        "no 2024 data"
    );
    for i in [1, 2] {
        assert!(
            items[i].contains("(tổng các đơn vị tiền thân)"),
            "{}",
            items[i]
        );
        assert!(items[i].contains("hạng"), "{}", items[i]);
    }
    assert!(
        items[3].contains("Quý III/2025") && !items[3].contains("tiền thân"),
        "{}",
        items[3]
    );

    // The ranking shows the four quarters side by side, the merged
    // commune's earlier ones marked as its predecessors', and the league's
    // spread per quarter.
    let ranking = request(&app, &office, "GET", "/van-phong/xep-hang").await;
    let body = ranking.body.replace("&#x2f;", "/");
    let row = body
        .split("<tr>")
        .find(|r| r.contains("data-label=\"Đơn vị\">UBND xã Cổ Lễ</td>"))
        .unwrap();
    assert_eq!(row.matches(")*</td>").count(), 2, "{row}");
    assert!(body.contains("Quý II/2025"));
    assert!(body.contains("trung vị"), "the spread as a list too");

    // What is in force, read-only: the registry with its merges, the
    // deadlines, the files, each criterion's formula in words.
    let rules = request(&app, &office, "GET", "/van-phong/quy-tac").await;
    let body = rules.body.replace("&#x2f;", "/");
    assert!(rules.status.is_success());
    assert!(body.contains("hình thành từ UBND thị trấn Cổ Lễ"), "{body}");
    assert!(body.contains("đã hợp nhất vào UBND xã Cổ Lễ"));
    assert!(body.contains("ngày sau kỳ số liệu, tức ngày"));
    assert!(body.contains("bieu-mau-2025.toml") && body.contains("chi-so-2025.toml"));
    assert!(
        body.contains("chia cho cột (3)"),
        "a ratio over dossiers received, in words"
    );
    assert!(
        !body.contains("nhan_tong"),
        "no field codes, only their names"
    );
}

#[test]
fn a_letter_not_yet_tried_is_waiting_to_go_not_to_be_tried_again() {
    use tthc::domain::{Channel, DeliveryState};
    let settings = Settings::load(&crate::sample_config(), &PathOverrides::default()).unwrap();
    let mut row = tthc::store::DeliveryRow {
        period: "2022-Q4".into(),
        version: 1,
        recipient: "kiemsoattthc@namdinh.gov.vn".into(),
        channel: Channel::Smtp,
        status: DeliveryState::Retry,
        attempts: 0,
        detail: "chờ gửi".into(),
        message_id: String::new(),
        uncertain: false,
        updated_at: "2026-12-01T03:00:00Z".into(),
        next_attempt_at: Some("2026-12-01T03:00:00Z".into()),
    };
    assert_eq!(tthc::words::delivery_state(&settings, &row), "chờ gửi");
    assert_eq!(tthc::words::delivery_detail(&row), "");
    let line = tthc::words::ledger_line(&settings, &row);
    assert!(!line.contains("thử lại"), "{line}");
    // Tried once and refused: now it waits for its next try.
    row.attempts = 1;
    row.detail = "421 máy chủ bận".into();
    assert_eq!(
        tthc::words::delivery_state(&settings, &row),
        "chờ thử lại lúc 10:00 ngày 01/12/2026"
    );
    assert!(tthc::words::ledger_line(&settings, &row).contains("421 máy chủ bận"));
}
