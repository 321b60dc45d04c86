//! The fields a unit reports: Form 06's numeric columns and the indicators
//! of the "Chỉ số" sheet, with the words intake knows them by.

/// A numeric column of Form 06 (Circular 01/2020), in the order of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The name used in rule expressions, e.g. `nhan_tong`.
    pub code: &'static str,
    /// The official column number, "(3)" … "(13)".
    pub column: u8,
    /// The header group the column sits under, empty for none.
    pub group: &'static str,
    /// The middle header row, where the form has one.
    pub sub: &'static str,
    /// The column's own header words.
    pub label: &'static str,
}

/// Form 06's numeric columns (3) to (13).
pub const FORM06_FIELDS: [Field; 11] = [
    Field {
        code: "nhan_tong",
        column: 3,
        group: "Số hồ sơ nhận giải quyết",
        sub: "",
        label: "Tổng số",
    },
    Field {
        code: "nhan_truc_tuyen",
        column: 4,
        group: "Số hồ sơ nhận giải quyết",
        sub: "Trong kỳ",
        label: "Trực tuyến",
    },
    Field {
        code: "nhan_truc_tiep",
        column: 5,
        group: "Số hồ sơ nhận giải quyết",
        sub: "Trong kỳ",
        label: "Trực tiếp, dịch vụ bưu chính",
    },
    Field {
        code: "nhan_ky_truoc",
        column: 6,
        group: "Số hồ sơ nhận giải quyết",
        sub: "",
        label: "Từ kỳ trước",
    },
    Field {
        code: "da_giai_quyet",
        column: 7,
        group: "Số hồ sơ đã giải quyết",
        sub: "",
        label: "Tổng số",
    },
    Field {
        code: "truoc_han",
        column: 8,
        group: "Số hồ sơ đã giải quyết",
        sub: "",
        label: "Trước hạn",
    },
    Field {
        code: "dung_han",
        column: 9,
        group: "Số hồ sơ đã giải quyết",
        sub: "",
        label: "Đúng hạn",
    },
    Field {
        code: "qua_han",
        column: 10,
        group: "Số hồ sơ đã giải quyết",
        sub: "",
        label: "Quá hạn",
    },
    Field {
        code: "dang_giai_quyet",
        column: 11,
        group: "Số hồ sơ đang giải quyết",
        sub: "",
        label: "Tổng số",
    },
    Field {
        code: "trong_han",
        column: 12,
        group: "Số hồ sơ đang giải quyết",
        sub: "",
        label: "Trong hạn",
    },
    Field {
        code: "dang_qua_han",
        column: 13,
        group: "Số hồ sơ đang giải quyết",
        sub: "",
        label: "Quá hạn",
    },
];

/// A row of the indicator sheet ("Chỉ số").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorSpec {
    pub code: &'static str,
    pub label: &'static str,
    /// Counts must be whole numbers; a few indicators are measurements.
    pub whole: bool,
    /// The largest value that makes sense (1 for yes/no indicators).
    pub max: Option<u32>,
}

const fn count(code: &'static str, label: &'static str) -> IndicatorSpec {
    IndicatorSpec {
        code,
        label,
        whole: true,
        max: None,
    }
}

/// The indicators of the spec, in the order of the sheet.
pub const INDICATOR_FIELDS: [IndicatorSpec; 19] = [
    count("tthc_tong", "Số TTHC thuộc thẩm quyền giải quyết"),
    count(
        "tthc_cong_khai",
        "Số TTHC được niêm yết, công khai đầy đủ, đúng quy định",
    ),
    IndicatorSpec {
        code: "cong_khai_pakn",
        label: "Đã niêm yết địa chỉ, số điện thoại tiếp nhận PAKN (1 có, 0 không)",
        whole: true,
        max: Some(1),
    },
    count(
        "ho_so_dong_bo",
        "Số hồ sơ được cập nhật trạng thái lên hệ thống",
    ),
    count(
        "tthc_truc_tuyen",
        "Số TTHC cung cấp dịch vụ công trực tuyến",
    ),
    count(
        "dvctt_co_ho_so",
        "Số dịch vụ công trực tuyến có phát sinh hồ sơ",
    ),
    count("tthc_co_phi", "Số TTHC có nghĩa vụ tài chính"),
    count(
        "tthc_thanh_toan_tt",
        "Số TTHC có nghĩa vụ tài chính đã tích hợp thanh toán trực tuyến",
    ),
    count("ho_so_co_phi", "Số hồ sơ có nghĩa vụ tài chính"),
    count("ho_so_thanh_toan_tt", "Số hồ sơ thanh toán trực tuyến"),
    count("ket_qua_dien_tu", "Số hồ sơ được cấp kết quả điện tử"),
    count("ho_so_so_hoa", "Số hồ sơ được số hóa"),
    count(
        "ho_so_tai_su_dung",
        "Số hồ sơ không phải cung cấp lại giấy tờ",
    ),
    count("pakn_tong", "Số phản ánh, kiến nghị tiếp nhận"),
    count("pakn_dung_han", "Số phản ánh, kiến nghị đã xử lý đúng hạn"),
    count(
        "pakn_trong_han",
        "Số phản ánh, kiến nghị đang xử lý trong hạn",
    ),
    count("phieu_danh_gia", "Số phiếu đánh giá thu được"),
    count("phieu_hai_long", "Số phiếu hài lòng, rất hài lòng"),
    IndicatorSpec {
        code: "cho_tb_phut",
        label: "Thời gian chờ trung bình tại Bộ phận Một cửa (phút)",
        whole: false,
        max: None,
    },
];

/// Every name a rule expression may use, Form 06 first.
pub fn all_field_codes() -> impl Iterator<Item = &'static str> {
    FORM06_FIELDS
        .iter()
        .map(|f| f.code)
        .chain(INDICATOR_FIELDS.iter().map(|f| f.code))
}

pub fn is_known_field(name: &str) -> bool {
    all_field_codes().any(|c| c == name)
}
