//! The units registry kept in a spreadsheet: a CSV or an xlsx file gives
//! the same units as the equivalent `[[units]]` blocks, predecessors and
//! successors included; a bad row is reported with its row and column.

use std::path::Path;
use tthc::settings::{PathOverrides, Settings};

/// The sample's config without its `[[units]]`, and with `extra` after it.
fn config_without_units(extra: &str) -> String {
    let src = std::fs::read_to_string(crate::sample_config()).unwrap();
    let head = &src[..src.find("\n[[units]]").unwrap()];
    // Paths relative to the sample's folder would not resolve from a
    // temporary one: the rules are named from the repository.
    let rules = crate::repo().join("rules");
    let head = head.replace(
        "dir = \"../../rules\"",
        &format!("dir = \"{}\"", rules.display()),
    );
    format!("{head}\n{extra}")
}

fn load(dir: &Path, config: &str) -> Result<Settings, tthc::located::FileErrors> {
    let path = dir.join("tthc.toml");
    std::fs::write(&path, config).unwrap();
    Settings::load(&path, &PathOverrides::default())
}

const TOML_UNITS: &str = r#"
[[units]]
code = "SOTP"
name = "Sở Tư pháp"
kind = "co_quan"
email = "sotp@ninhbinh.gov.vn"

[[units]]
code = "XA01"
name = "UBND thị trấn Cổ Lễ"
kind = "xa"
email = "xa01@ninhbinh.gov.vn"
valid_to = 2025-06-30

[[units]]
code = "XA20"
name = "UBND xã Trung Đông"
kind = "xa"
email = "xa20@ninhbinh.gov.vn"
valid_to = 2025-06-30
successor = "COLE"

[[units]]
code = "COLE"
name = "UBND xã Cổ Lễ"
kind = "xa"
email = "cole@ninhbinh.gov.vn"
valid_from = 2025-07-01
predecessors = ["XA01", "XA20"]
"#;

const CSV_UNITS: &str = "Mã đơn vị,Tên đơn vị,Loại (khối),Thư điện tử,Hiệu lực từ,Hiệu lực đến,Đơn vị tiền thân,Đơn vị kế thừa
SOTP,Sở Tư pháp,co_quan,sotp@ninhbinh.gov.vn,,,,
XA01,UBND thị trấn Cổ Lễ,xa,xa01@ninhbinh.gov.vn,,30/06/2025,,
XA20,UBND xã Trung Đông,xa,xa20@ninhbinh.gov.vn,,2025-06-30,,COLE
COLE,UBND xã Cổ Lễ,xa,cole@ninhbinh.gov.vn,01/07/2025,,XA01; XA20,
";

#[test]
fn a_registry_in_csv_or_xlsx_gives_the_units_of_the_equivalent_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let from_toml = load(tmp.path(), &config_without_units(TOML_UNITS)).unwrap();
    let units = from_toml.units.to_vec();
    assert_eq!(units.len(), 4);
    let cole = from_toml.units.unit("COLE").unwrap().code.clone();
    let before: Vec<&str> = from_toml
        .units
        .predecessors(&cole)
        .iter()
        .map(|u| u.code.as_str())
        .collect();
    assert_eq!(
        before,
        ["XA01", "XA20"],
        "a predecessor named by its successor"
    );

    // CSV, with the columns in the template's order.
    std::fs::write(tmp.path().join("don-vi.csv"), CSV_UNITS).unwrap();
    let registry = "[registry]\nfile = \"don-vi.csv\"\n";
    let from_csv = load(tmp.path(), &config_without_units(registry)).unwrap();
    assert_eq!(from_csv.units.to_vec(), units);

    // A CSV as an office's own spreadsheet writes it: semicolons, a
    // number column, headings in its own words.
    let own = "STT;Mã ĐVHC;Tên cơ quan, đơn vị;Khối;Địa chỉ email;Ngày bắt đầu hiệu lực;Hiệu lực đến ngày;Hợp nhất từ (mã)\n\
        1;SOTP;Sở Tư pháp;co_quan;sotp@ninhbinh.gov.vn;;;\n\
        2;XA01;UBND thị trấn Cổ Lễ;xa;xa01@ninhbinh.gov.vn;;30/06/2025;\n\
        3;XA20;UBND xã Trung Đông;xa;xa20@ninhbinh.gov.vn;;30/06/2025;\n\
        4;COLE;UBND xã Cổ Lễ;xa;cole@ninhbinh.gov.vn;01/07/2025;;XA01, XA20\n";
    std::fs::write(tmp.path().join("ds.csv"), own).unwrap();
    let own_words = load(
        tmp.path(),
        &config_without_units("[registry]\nfile = \"ds.csv\"\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(own_words.units.to_vec(), units);

    // Kinds in the office's own words, mapped by the config.
    let worded = CSV_UNITS
        .replace(",co_quan,", ",Sở,")
        .replace(",xa,", ",Xã / phường,");
    std::fs::write(tmp.path().join("ds-loai.csv"), worded).unwrap();
    let mapped = load(
        tmp.path(),
        &config_without_units(
            "[registry]\nfile = \"ds-loai.csv\"\nkinds = { \"sở\" = \"co_quan\", \"Xã / Phường\" = \"xa\" }\n",
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mapped.units.to_vec(), units);

    // xlsx, columns in another order, dates as date cells, a title row.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    ws.write(0, 0, "DANH SÁCH ĐƠN VỊ").unwrap();
    let heads = [
        "Tên đơn vị",
        "Mã đơn vị",
        "Thư điện tử",
        "Loại (khối)",
        "Đơn vị kế thừa",
        "Hiệu lực đến",
        "Hiệu lực từ",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write(2, c as u16, *h).unwrap();
    }
    for (r, u) in units.iter().enumerate() {
        let r = r as u32 + 3;
        ws.write(r, 0, &u.name).unwrap();
        ws.write(r, 1, u.code.as_str()).unwrap();
        ws.write(r, 2, &u.email).unwrap();
        ws.write(r, 3, u.league.as_str()).unwrap();
        if let Some(s) = &u.successor {
            ws.write(r, 4, s.as_str()).unwrap();
        }
        for (c, d) in [(5, u.valid_to), (6, u.valid_from)] {
            if let Some(d) = d {
                let d = rust_xlsxwriter::ExcelDateTime::parse_from_str(&d.to_string()).unwrap();
                ws.write_with_format(r, c, &d, &date_format).unwrap();
            }
        }
    }
    wb.save(tmp.path().join("don-vi.xlsx")).unwrap();
    let registry = "[registry]\nfile = \"don-vi.xlsx\"\n";
    let from_xlsx = load(tmp.path(), &config_without_units(registry)).unwrap();
    assert_eq!(from_xlsx.units.to_vec(), units);

    // `tthc units list` prints them as read, predecessors included.
    let config = tmp.path().join("tthc.toml");
    let (code, out, err) = crate::tthc(&["units", "list", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let cole_line = out.lines().find(|l| l.starts_with("COLE\t")).unwrap();
    assert!(
        cole_line.contains("01/07/2025") && cole_line.contains("XA01; XA20"),
        "{cole_line}"
    );
    assert!(err.contains("4 đơn vị"), "{err}");
}

#[test]
fn a_bad_row_of_the_registry_is_reported_with_its_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = CSV_UNITS
        .replace("xa01@ninhbinh.gov.vn", "xa01 ninhbinh")
        .replace("01/07/2025", "1 tháng 7")
        .replace("XA01; XA20", "XA01; XA99")
        .replace("SOTP,Sở Tư pháp,co_quan,", "SOTP,Sở Tư pháp,Sở,");
    std::fs::write(tmp.path().join("don-vi.csv"), bad).unwrap();
    let err = load(
        tmp.path(),
        &config_without_units("[registry]\nfile = \"don-vi.csv\"\n"),
    )
    .unwrap_err();
    let at: Vec<(usize, usize)> = err.0.iter().map(|e| (e.line, e.column)).collect();
    assert!(at.contains(&(3, 4)), "the address, row 3 column D: {err}");
    assert!(at.contains(&(5, 5)), "the date, row 5 column E: {err}");
    assert!(
        at.contains(&(5, 7)),
        "the unknown predecessor, row 5 column G: {err}"
    );
    let text = err.to_string();
    assert!(text.contains("don-vi.csv:3:4: ô D3"), "{text}");
    assert!(text.contains("XA99"), "{text}");
    assert!(
        text.contains("don-vi.csv:2:3: ô C2") && text.contains("[registry] kinds"),
        "a kind in the office's words says how to map it: {text}"
    );

    // A registry with no header row says what the first row must hold.
    std::fs::write(tmp.path().join("don-vi.csv"), "a,b\n1,2\n").unwrap();
    let err = load(
        tmp.path(),
        &config_without_units("[registry]\nfile = \"don-vi.csv\"\n"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("tthc units template"), "{err}");

    // The template is a workbook the registry reads once filled in.
    let file = tmp.path().join("mau-don-vi.xlsx");
    let (code, _, err) = crate::tthc(&["units", "template", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&file).unwrap();
    use calamine::Reader;
    let sheet = wb.worksheet_range("Đơn vị").unwrap();
    assert_eq!(
        sheet.get_value((0, 0)).map(|v| v.to_string()).as_deref(),
        Some("Mã đơn vị")
    );
    assert!(wb.worksheet_range("Hướng dẫn").is_ok());
}

/// A kind with a deadline but no league in the rules is refused where it
/// is written: the registry's cell, or the `[[units]]` block's line.
#[test]
fn a_kind_the_rules_do_not_know_is_located_in_the_registry_or_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let with_phuong = |extra: &str| {
        config_without_units(extra).replace(
            "deadline_days = { co_quan = 3, xa = 2 }",
            "deadline_days = { co_quan = 3, xa = 2, phuong = 2 }",
        )
    };
    let csv = CSV_UNITS.replace("COLE,UBND xã Cổ Lễ,xa,", "COLE,UBND xã Cổ Lễ,phuong,");
    std::fs::write(tmp.path().join("don-vi.csv"), csv).unwrap();
    let config = with_phuong("[registry]\nfile = \"don-vi.csv\"\n");
    assert!(config.contains("phuong = 2"));
    let settings = load(tmp.path(), &config).unwrap();
    let err = tthc::config::Config::new(settings).unwrap_err().to_string();
    assert!(err.contains("don-vi.csv:5:3: ô C5"), "{err}");
    assert!(err.contains("\"phuong\""), "{err}");

    let toml = TOML_UNITS.replace(
        "code = \"COLE\"\nname = \"UBND xã Cổ Lễ\"\nkind = \"xa\"",
        "code = \"COLE\"\nname = \"UBND xã Cổ Lễ\"\nkind = \"phuong\"",
    );
    let config = with_phuong(&toml);
    let line = config
        .lines()
        .position(|l| l == "kind = \"phuong\"")
        .unwrap()
        + 1;
    let settings = load(tmp.path(), &config).unwrap();
    let err = tthc::config::Config::new(settings).unwrap_err().to_string();
    assert!(err.contains(&format!("tthc.toml:{line}:")), "{err}");
}
