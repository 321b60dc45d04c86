//! Form 06's numeric columns as intake and the report sheets still know
//! them. The form file in force has them too (a
//! test keeps the two the same); the indicators are the form file's alone.

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
