#!/usr/bin/env python3
"""Writes the intake corpus: the forms real offices produce, made from one
pristine sample workbook by other writers than tthc's own (openpyxl for
.xlsx, xlwt for .xls, odfpy for .ods) and by hand-built zips for the
hostile cases.

    pip install openpyxl xlwt odfpy msoffcrypto-tool
    python3 tests/corpus/make_corpus.py
    UPDATE_GOLDEN=1 cargo test --test it corpus   # then review the diff

File name prefixes say what the test expects: ok- is read to exactly the
pristine figures, warn- too but with warnings, bad- is rejected with located
findings.
"""
import io, os, sys, unicodedata, zipfile, copy
import openpyxl, xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableRow, TableCell, CoveredTableCell
from odf.text import P

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRISTINE = os.path.join(ROOT, "samples/truc-ninh/inbox/2022-Q4/XA10-2022-Q4.xlsx")
OUT = os.path.join(ROOT, "tests/fixtures/intake-corpus/input")

FIELDS = [  # (column number, group, sub, leaf)
    (3, "Số hồ sơ nhận giải quyết", "", "Tổng số"),
    (4, "Số hồ sơ nhận giải quyết", "Trong kỳ", "Trực tuyến"),
    (5, "Số hồ sơ nhận giải quyết", "Trong kỳ", "Trực tiếp, dịch vụ bưu chính"),
    (6, "Số hồ sơ nhận giải quyết", "", "Từ kỳ trước"),
    (7, "Số hồ sơ đã giải quyết", "", "Tổng số"),
    (8, "Số hồ sơ đã giải quyết", "", "Trước hạn"),
    (9, "Số hồ sơ đã giải quyết", "", "Đúng hạn"),
    (10, "Số hồ sơ đã giải quyết", "", "Quá hạn"),
    (11, "Số hồ sơ đang giải quyết", "", "Tổng số"),
    (12, "Số hồ sơ đang giải quyết", "", "Trong hạn"),
    (13, "Số hồ sơ đang giải quyết", "", "Quá hạn"),
]


def read_pristine():
    wb = openpyxl.load_workbook(PRISTINE, data_only=True)
    rows = []
    for r in wb["Biểu 06"].iter_rows(min_row=9, values_only=True):
        if r[0] == "Tổng cộng":
            break
        rows.append((r[1], [int(x or 0) for x in r[2:13]]))
    ind = [(r[0], r[1], r[2]) for r in wb["Chỉ số"].iter_rows(min_row=3, values_only=True) if r[0]]
    tasks = [list(r) for r in wb["Nhiệm vụ"].iter_rows(min_row=3, values_only=True) if r[0]]
    return rows, ind, tasks


# --- writers: one small grid interface over three libraries -------------

class Grid:
    """A sheet as a dict of cells plus merges, written at the end."""

    def __init__(self, name):
        self.name, self.cells, self.merges = name, {}, []

    def set(self, r, c, v):
        self.cells[(r, c)] = v

    def merge(self, r1, c1, r2, c2):
        self.merges.append((r1, c1, r2, c2))


class Err(str):
    """An error value such as #REF!."""


class Formula(str):
    """A formula written without a computed value."""


def write_xlsx(path, grids, hook=None):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for g in grids:
        ws = wb.create_sheet(g.name)
        for (r, c), v in g.cells.items():
            cell = ws.cell(row=r + 1, column=c + 1)
            if isinstance(v, Formula):
                cell.value = "=" + v
            elif isinstance(v, Err):
                cell.value = str(v)
                cell.data_type = "e"
            else:
                cell.value = v
        for r1, c1, r2, c2 in g.merges:
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
    if hook:
        hook(wb)
    wb.save(path)


def write_xls(path, grids):
    wb = xlwt.Workbook(encoding="utf-8")
    for g in grids:
        ws = wb.add_sheet(g.name[:31])
        merged = set()
        for r1, c1, r2, c2 in g.merges:
            ws.write_merge(r1, r2, c1, c2, g.cells.get((r1, c1), ""))
            merged |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        for (r, c), v in g.cells.items():
            if (r, c) in merged:
                continue
            if isinstance(v, Formula):
                ws.write(r, c, xlwt.Formula(v))
            else:
                ws.write(r, c, v)
    wb.save(path)


def write_ods(path, grids):
    doc = OpenDocumentSpreadsheet()
    for g in grids:
        t = Table(name=g.name)
        spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for r1, c1, r2, c2 in g.merges}
        covered = {(r, c) for r1, c1, r2, c2 in g.merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - set(spans)
        nrows = max((r for r, _ in g.cells), default=-1) + 1
        ncols = max((c for _, c in g.cells), default=-1) + 1
        for r in range(nrows):
            tr = TableRow()
            for c in range(ncols):
                if (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                v = g.cells.get((r, c))
                kw = {}
                if (r, c) in spans:
                    kw = {"numberrowsspanned": spans[(r, c)][0], "numbercolumnsspanned": spans[(r, c)][1]}
                if v is None:
                    tc = TableCell(**kw)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    tc = TableCell(valuetype="float", value=v, **kw)
                    tc.addElement(P(text=str(v)))
                else:
                    tc = TableCell(valuetype="string", **kw)
                    tc.addElement(P(text=str(v)))
                tr.addElement(tc)
            t.addElement(tr)
        doc.spreadsheet.addElement(t)
    doc.save(path)


# --- the unit's workbook, with knobs for what units do to it -------------

def build(rows, ind, tasks, o):
    """Returns the grids of a workbook; `o` holds the variations."""
    text = o.get("text", lambda s: s)
    num = o.get("num", lambda v: v)
    top = o.get("title_rows", 4)
    order = o.get("order", list(range(11)))
    g = Grid(o.get("sheet", "Biểu 06"))
    g.set(0, 0, text("TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC TẠI CƠ QUAN, ĐƠN VỊ TRỰC TIẾP GIẢI QUYẾT TTHC"))
    if o.get("form_period", True):
        g.set(1, 0, text(o.get("form_period_text", "Kỳ báo cáo: Quý IV/2022 (từ ngày 15/09/2022 đến ngày 14/12/2022)")))
    if o.get("form_unit", True):
        g.set(2, 0, text(o.get("form_unit_text", "Đơn vị báo cáo: UBND xã Trực Hùng (mã XA10)")))
    h = top
    cols = {}
    extra_at = o.get("extra_col")  # position among the figure columns
    c = 2
    positions = []
    for k, fi in enumerate(order):
        if extra_at is not None and k == extra_at:
            positions.append(("extra", c)); c += 1
        positions.append((fi, c)); cols[fi] = c; c += 1
    if extra_at is not None and extra_at >= len(order):
        positions.append(("extra", c)); c += 1
    style = o.get("header", "three")
    g.set(h, 0, text("STT")); g.set(h, 1, text("Lĩnh vực"))
    depth = {"three": 3, "three_unmerged": 3, "one": 1, "two": 2}[style]
    if style == "three":
        g.merge(h, 0, h + 2, 0); g.merge(h, 1, h + 2, 1)
    for what, col in positions:
        if what == "extra":
            g.set(h, col, text(o.get("extra_label", "Ghi chú")))
            continue
        n, grp, sub, leaf = FIELDS[what]
        if style == "one":
            label = {3: "Tổng số hồ sơ nhận", 7: "Tổng số hồ sơ đã giải quyết", 11: "Tổng số hồ sơ đang giải quyết"}.get(n)
            if label is None:
                label = {10: "Đã giải quyết quá hạn", 13: "Đang giải quyết quá hạn"}.get(n, leaf)
            g.set(h, col, text(label))
        elif style == "two":
            g.set(h, col, text(grp)); g.set(h + 1, col, text(leaf))
        else:
            g.set(h, col, text(grp))
            if sub:
                g.set(h + 1, col, text(sub)); g.set(h + 2, col, text(leaf))
            else:
                g.set(h + 1, col, text(leaf))
    if style == "three" and order == list(range(11)) and extra_at is None:
        # The official merges: groups across, single leaves down.
        g.cells = {k: v for k, v in g.cells.items() if not (k[0] == h and k[1] in (3, 4, 5, 7, 8, 9, 11, 12))}
        g.merge(h, 2, h, 5); g.merge(h, 6, h, 9); g.merge(h, 10, h, 12)
        g.cells = {k: v for k, v in g.cells.items() if not (k[0] == h + 1 and k[1] == 4)}
        g.merge(h + 1, 3, h + 1, 4)
        for col in (2, 5, 6, 7, 8, 9, 10, 11, 12):
            g.merge(h + 1, col, h + 2, col)
    r = h + depth
    if o.get("numbers_row", True):
        g.set(r, 0, "(1)"); g.set(r, 1, "(2)")
        for fi, col in cols.items():
            g.set(r, col, "(%d)" % FIELDS[fi][0])
        r += 1
    data = copy.deepcopy(rows)
    for mutate in o.get("mutate", []):
        mutate(data)
    first = r
    sections = o.get("sections", False)
    subtotal_after = o.get("subtotal_after")
    if sections:
        g.set(r, 0, "I"); g.set(r, 1, text("Nhóm lĩnh vực tư pháp, hộ tịch"))
        sec = [sum(v[i] for _, v in data[:3]) for i in range(11)]
        for fi, col in cols.items():
            g.set(r, col, num(sec[fi]))
        r += 1
    for i, (lv, vals) in enumerate(data):
        if o.get("only_total"):
            break
        if sections and i == 3:
            g.set(r, 0, "II"); g.set(r, 1, text("Nhóm lĩnh vực khác"))
            sec = [sum(v[k] for _, v in data[3:]) for k in range(11)]
            for fi, col in cols.items():
                g.set(r, col, num(sec[fi]))
            r += 1
        g.set(r, 0, i + 1); g.set(r, 1, text(o.get("rename", {}).get(lv, lv)))
        for fi, col in cols.items():
            v = vals[fi]
            cell = o.get("cell", {}).get((i, fi))
            g.set(r, col, cell if cell is not None else (None if v == 0 and o.get("blank_zeros") else num(v)))
        if extra_at is not None:
            g.set(r, [c for w, c in positions if w == "extra"][0], text("đã rà soát"))
        r += 1
        if o.get("blank_rows") and i % 2 == 1:
            r += 1
        if subtotal_after is not None and i == subtotal_after:
            g.set(r, 1, text("Cộng"))
            for fi, col in cols.items():
                s = sum(v[fi] for _, v in data[: i + 1]) + o.get("subtotal_delta", 0)
                g.set(r, col, num(s))
            r += 1
    total = o.get("total", "sum")
    if total != "none":
        g.set(r, 0, text("Tổng cộng")); g.merge(r, 0, r, 1)
        for fi, col in cols.items():
            s = sum(v[fi] for _, v in data)
            if total == "wrong" and fi == 0:
                s += 10
            g.set(r, col, Formula("SUM(%s%d:%s%d)" % (chr(65 + col), first + 1, chr(65 + col), r)) if total == "formula" else num(s))
        r += 1
    if o.get("notes_below"):
        g.set(r + 1, 1, text("Ghi chú: số liệu lấy từ Hệ thống thông tin giải quyết TTHC của tỉnh, 3 hồ sơ bổ sung."))
        g.set(r + 3, 8, text("Người lập biểu"))
        g.set(r + 3, 11, text("CHỦ TỊCH"))
    grids = [g]
    if o.get("indicators", True):
        s = Grid(o.get("ind_sheet", "Chỉ số"))
        mode = o.get("ind_mode", "code")
        hdr = {"code": ["Mã", "Chỉ số", o.get("value_header", "Giá trị")], "label": ["Chỉ số", "Số liệu"]}[mode]
        if o.get("ind_notes"):
            s.set(1, len(hdr), text("Ghi chú"))
        for k, hname in enumerate(hdr):
            s.set(1, k, text(hname))
        items = list(ind)
        if o.get("ind_reverse"):
            items.reverse()
        for k, (code, label, value) in enumerate(items):
            value = o.get("ind_value", {}).get(code, value)
            if mode == "code":
                s.set(2 + k, 0, code); s.set(2 + k, 1, text(label)); s.set(2 + k, 2, num(value) if isinstance(value, (int, float)) else value)
                if o.get("ind_notes"):
                    s.set(2 + k, 3, text("theo số liệu hệ thống"))
            else:
                s.set(2 + k, 0, text(label)); s.set(2 + k, 1, num(value) if isinstance(value, (int, float)) else value)
        grids.append(s)
    if o.get("tasks", True):
        t = Grid("Nhiệm vụ")
        for k, hname in enumerate(["Mã", "Nội dung nhiệm vụ", "Tình trạng", "Ngày hoàn thành", "Số, ký hiệu văn bản"]):
            t.set(1, k, text(hname))
        for k, row in enumerate(tasks):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if hasattr(v, "strftime"):
                    v = v.strftime("%d/%m/%Y")
                t.set(2 + k, j, text(v) if isinstance(v, str) else v)
        grids.append(t)
    if o.get("info", True):
        i = Grid(o.get("info_sheet", "Thông tin"))
        pairs = [("Mã đơn vị", o.get("code", "XA10")), ("Tên đơn vị", o.get("name", "UBND xã Trực Hùng")),
                 ("Kỳ báo cáo", o.get("period", "Quý IV/2022")), ("Người lập biểu", "Nguyễn Thị Hoa"), ("Số điện thoại", "0228.3812345")]
        for k, (key, v) in enumerate(pairs):
            if v is None:
                continue
            if o.get("info_inline"):
                i.set(1 + k, 0, text("%s: %s" % (key, v)))
            else:
                i.set(1 + k, 0, text(key)); i.set(1 + k, 1, text(v) if isinstance(v, str) else v)
        grids.append(i)
    return grids


def nfd(s):
    return unicodedata.normalize("NFD", s)


def old_tone(s):
    for a, b in [("òa", "oà"), ("óa", "oá"), ("ỏa", "oả"), ("ủy", "uỷ"), ("úy", "uý"), ("ùy", "uỳ")]:
        s = s.replace(a, b)
    return s


def dot_thousands(v):
    return "{:,}".format(v).replace(",", ".") if isinstance(v, int) else v


def comma_thousands(v):
    return "{:,}".format(v) if isinstance(v, int) else v


def padded(v):
    return " %s " % v if isinstance(v, int) else v


def comma_zero(v):
    return "%d,0" % v if isinstance(v, int) else v


def set_value(i, fi, v):
    def m(rows):
        rows[i][1][fi] = v
    return m


def main():
    rows, ind, tasks = read_pristine()
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        # Files that fuzzing found are kept: they are not made here.
        if not f.startswith("bad-fuzz-"):
            os.remove(os.path.join(OUT, f))

    def out(name):
        return os.path.join(OUT, name)

    import shutil
    shutil.copy(PRISTINE, out("ok-pristine-rust-xlsxwriter.xlsx"))
    v = lambda **o: build(rows, ind, tasks, o)
    write_xlsx(out("ok-openpyxl-merged-header.xlsx"), v())
    write_xls(out("ok-excel-97-2003.xls"), v())
    write_ods(out("ok-libreoffice.ods"), v())
    write_xls(out("ok-xls-one-row-header.xls"), v(header="one", numbers_row=False))
    write_ods(out("ok-ods-numbers-as-text.ods"), v(num=dot_thousands))
    write_xlsx(out("ok-sheet-named-bieu-06-no-diacritics.xlsx"), v(sheet="Bieu 06"))
    write_xlsx(out("ok-sheet-named-bm06.xlsx"), v(sheet="BM06"))
    write_xlsx(out("ok-sheet-named-sheet1.xlsx"), v(sheet="Sheet1", ind_sheet="Sheet2", info_sheet="Sheet3"))
    write_xlsx(out("ok-sheet-named-quy-iv.xlsx"), v(sheet="Quý IV"))
    write_xlsx(out("ok-no-column-numbers.xlsx"), v(numbers_row=False))
    write_xlsx(out("ok-header-unmerged.xlsx"), v(header="three_unmerged"))
    write_xlsx(out("ok-header-two-rows.xlsx"), v(header="two"))
    write_xlsx(out("ok-header-one-row.xlsx"), v(header="one"))
    write_xlsx(out("ok-header-lower-down.xlsx"), v(title_rows=11))
    write_xlsx(out("ok-columns-reordered.xlsx"), v(order=[0, 3, 1, 2, 4, 6, 5, 7, 8, 10, 9]))
    write_xlsx(out("ok-nfd-text.xlsx"), v(text=nfd, sheet=nfd("Biểu 06"), ind_sheet=nfd("Chỉ số"), info_sheet=nfd("Thông tin")))
    write_xlsx(out("ok-upper-case-headers.xlsx"), v(text=lambda s: s.upper() if not s.startswith("UBND") else s))
    write_xlsx(out("ok-old-tone-marks.xlsx"), v(text=old_tone, rename={"Hộ tịch": "Hộ tịch, hoà giải"}))
    write_xlsx(out("ok-numbers-dot-thousands.xlsx"), v(num=dot_thousands))
    write_xlsx(out("ok-numbers-comma-thousands.xlsx"), v(num=comma_thousands))
    write_xlsx(out("ok-numbers-padded-text.xlsx"), v(num=padded))
    write_xlsx(out("ok-numbers-comma-zero.xlsx"), v(num=comma_zero))
    write_xlsx(out("ok-blank-rows-and-notes.xlsx"), v(blank_rows=True, notes_below=True))
    write_xlsx(out("ok-no-total-row.xlsx"), v(total="none"))
    write_xlsx(out("ok-subtotal-row.xlsx"), v(subtotal_after=2))
    write_xlsx(out("ok-roman-sections.xlsx"), v(sections=True))
    write_xlsx(out("ok-blank-zeros.xlsx"), v(blank_zeros=True))
    write_xlsx(out("ok-indicators-by-label.xlsx"), v(ind_mode="label"))
    write_xlsx(out("ok-indicators-reordered.xlsx"), v(ind_reverse=True))
    write_xlsx(out("ok-unit-by-name-only.xlsx"), v(code=None, form_unit=False))
    write_xlsx(out("ok-period-quy-4-nam-2022.xlsx"), v(period="quý 4 năm 2022"))
    write_xlsx(out("ok-period-iv-2022.xlsx"), v(period="IV/2022"))
    write_xlsx(out("ok-period-window-dates.xlsx"), v(period="Từ ngày 15/09/2022 đến ngày 14/12/2022", form_period=False))
    write_xlsx(out("ok-lv-renamed.xlsx"), v(rename={"Hộ tịch": "Lĩnh vực hộ tịch", "Đất đai": "Đất đai - nhà ở"}))
    write_xlsx(out("ok-indicator-values-headed-so-lieu-with-notes.xlsx"), v(value_header="Số liệu", ind_notes=True))
    write_xlsx(out("ok-info-key-and-value-in-one-cell.xlsx"), v(info_inline=True))
    write_xlsx(out("ok-unit-name-without-ubnd.xlsx"), v(code=None, name="Xã Trực Hùng", form_unit=False))
    write_ods(out("ok-ods-roman-sections-and-blank-rows.ods"), v(sections=True, blank_rows=True))
    write_xls(out("ok-xls-columns-reordered-no-numbers.xls"), v(order=[0, 1, 2, 3, 4, 7, 6, 5, 8, 10, 9], numbers_row=False))
    write_xlsx(out("warn-total-row-only.xlsx"), v(only_total=True))
    write_xlsx(out("warn-extra-column.xlsx"), v(extra_col=11))
    write_xlsx(out("warn-extra-column-in-the-middle.xlsx"), v(extra_col=4, extra_label="Tỷ lệ (%)"))
    write_xlsx(out("warn-no-tasks-sheet.xlsx"), v(tasks=False))

    # Rejected, each with a located finding.
    write_xlsx(out("bad-arithmetic.xlsx"), v(mutate=[set_value(1, 1, rows[1][1][1] + 5)]))
    write_ods(out("bad-arithmetic.ods"), v(mutate=[set_value(2, 5, rows[2][1][5] + 1)]))
    write_xlsx(out("bad-negative.xlsx"), v(cell={(0, 7): -1}))
    write_xlsx(out("bad-decimal-count.xlsx"), v(cell={(1, 5): 12.5}))
    write_xlsx(out("bad-ref-error.xlsx"), v(cell={(2, 2): Err("#REF!")}))
    write_xls(out("bad-words-in-a-figure.xls"), v(cell={(0, 1): "mười hai"}))
    write_xlsx(out("bad-total-row-wrong.xlsx"), v(total="wrong"))
    write_xlsx(out("bad-subtotal-wrong.xlsx"), v(subtotal_after=2, subtotal_delta=3))
    # A total row a program wrote as formulas without computing them: set aside, one warning.
    write_xlsx(out("warn-uncalculated-total-row.xlsx"), v(total="formula"))
    write_xlsx(out("bad-missing-column.xlsx"), v(order=[0, 1, 2, 4, 5, 6, 7, 8, 9, 10], numbers_row=False))
    write_xlsx(out("bad-no-indicator-sheet.xlsx"), v(indicators=False))
    write_xlsx(out("bad-indicator-not-a-number.xlsx"), v(ind_value={"tthc_tong": "khoảng 130"}))
    write_xlsx(out("bad-unknown-unit.xlsx"), v(code="XA99", name="UBND xã Không Có", form_unit=False))
    write_xlsx(out("bad-two-units.xlsx"), v(name="UBND xã Trực Hưng", form_unit=False))
    write_xlsx(out("bad-two-periods.xlsx"), v(form_period_text="Kỳ báo cáo: Quý III/2022"))
    write_xlsx(out("bad-period-unreadable.xlsx"), v(period="Quý 5/2022", form_period=False))
    write_xlsx(out("bad-named-for-another-unit-XA11.xlsx"), v())
    write_xlsx(out("bad-empty-workbook.xlsx"), [Grid("Sheet1")])
    with open(out("bad-csv-renamed.xlsx"), "w") as f:
        f.write("STT,Lĩnh vực,Tổng số\n1,Hộ tịch,12\n")
    with open(out("bad-pdf-renamed.xls"), "wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    data = open(PRISTINE, "rb").read()
    with open(out("bad-truncated.xlsx"), "wb") as f:
        f.write(data[: len(data) // 2])
    # A zip bomb: one sheet that unpacks to 200 MB of spaces.
    with zipfile.ZipFile(out("bad-zip-bomb.xlsx"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as w:
            chunk = b" " * (1 << 20)
            for _ in range(200):
                w.write(chunk)
    # One stray cell at the sheet's far corner: the reader would allocate it all.
    far = openpyxl.Workbook()
    far.active.title = "Biểu 06"
    far.active["A1"] = "x"
    far.active["XFD1048576"] = 1
    far.save(out("bad-far-cell-xfd1048576.xlsx"))
    # A sheet with a million rows, written straight as XML.
    src = zipfile.ZipFile(PRISTINE)
    with zipfile.ZipFile(out("bad-million-rows.xlsx"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in src.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with z.open(item.filename, "w", force_zip64=True) as w:
                    w.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                    for _ in range(1_000_000):
                        w.write(b"<row><c><v>1</v></c></row>")
                    w.write(b"</sheetData></worksheet>")
            else:
                z.writestr(copy.copy(item), src.read(item.filename))
    # OpenDocument rows and cells that repeat a million times.
    import re
    ods = zipfile.ZipFile(out("ok-libreoffice.ods"))
    content = ods.read("content.xml").decode()
    for name, changed in [
        ("bad-ods-repeated-rows.ods", content.replace("<table:table-row>", '<table:table-row table:number-rows-repeated="1000000">', 1)),
        ("bad-ods-repeated-cells.ods", re.sub(r"<table:table-cell ", '<table:table-cell table:number-columns-repeated="16384" ',
                                               content.replace("<table:table-row>", '<table:table-row table:number-rows-repeated="1000000">', 1), count=1)),
    ]:
        with zipfile.ZipFile(out(name), "w") as z:
            for item in ods.infolist():
                z.writestr(copy.copy(item), changed.encode() if item.filename == "content.xml" else ods.read(item.filename))
    # Password-protected, as Excel saves it.
    try:
        import msoffcrypto
        from msoffcrypto.format.ooxml import OOXMLFile
        enc = io.BytesIO()
        OOXMLFile(io.BytesIO(data)).encrypt("matkhau", enc)
        with open(out("bad-password-protected.xlsx"), "wb") as f:
            f.write(enc.getvalue())
    except Exception as e:  # the library is optional; say so
        print("skipped the password-protected file:", e, file=sys.stderr)
    print(len(os.listdir(OUT)), "files in", OUT)


if __name__ == "__main__":
    main()
