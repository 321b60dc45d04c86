"""The yardstick: the quarter done the straightforward way in Python, with
the fastest reader there is (python-calamine, the same calamine reader tthc
uses, called from Python). Written as a user would write it, plainly, with
no tricks in either direction:

- read every workbook of the inbox: the Form 06 rows summed column by
  column, the indicators of the "Chỉ số" sheet, the unit code;
- score every unit with the ruleset in force (the rule file's own
  expressions, evaluated by Python), on 100 points, ranked per league;
- write a ranking workbook with a detail sheet (xlsxwriter) and a ranking
  PDF (typst's Python binding, the fonts tthc ships).

It does less than tthc: no per-row identities, no archive, no store, a
shorter PDF, no lateness. `tthc bench --peer` runs it beside `tthc run` on
the same generated files; by hand:

    pip install python-calamine xlsxwriter typst
    python3 scripts/peer_calamine.py target/bench-data/n350

It prints one JSON line: units, files, wall and CPU seconds of the process.
"""

import glob
import json
import os
import sys
import time
import tomllib

START = time.perf_counter()

import typst  # noqa: E402
import xlsxwriter  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

PERIOD = "2022-Q4"
FORM06 = [
    "nhan_tong", "nhan_truc_tuyen", "nhan_truc_tiep", "nhan_ky_truoc",
    "da_giai_quyet", "truoc_han", "dung_han", "qua_han",
    "dang_giai_quyet", "trong_han", "dang_qua_han",
]


def quarter_key(p):
    year, q = p.split("-Q")
    return int(year) * 4 + int(q)


def ruleset_in_force(rules_dir):
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.toml"))):
        with open(path, "rb") as f:
            rules = tomllib.load(f)
        if rules.get("kind") != "ruleset":
            continue
        start = quarter_key(rules["effective_from"])
        end = quarter_key(rules.get("effective_to", "9999-Q4"))
        if start <= quarter_key(PERIOD) <= end:
            return rules
    raise SystemExit("no ruleset in force for " + PERIOD)


def read_workbook(path):
    wb = CalamineWorkbook.from_path(path)
    fields = dict.fromkeys(FORM06, 0.0)
    rows = wb.get_sheet_by_name("Biểu 06").to_python()
    numbers = next(i for i, r in enumerate(rows) if "(1)" in [str(c) for c in r])
    cols = {str(c): j for j, c in enumerate(rows[numbers])}
    for r in rows[numbers + 1:]:
        label = str(r[0]) + str(r[1])
        if label.startswith("Tổng cộng"):
            break
        for k, code in enumerate(FORM06):
            v = r[cols["(%d)" % (k + 3)]]
            fields[code] += float(v) if v != "" else 0.0
    for r in wb.get_sheet_by_name("Chỉ số").to_python()[2:]:
        if r[0] != "" and r[2] != "":
            fields[str(r[0])] = float(r[2])
    unit = None
    for r in wb.get_sheet_by_name("Thông tin").to_python():
        if r[0] == "Mã đơn vị":
            unit = str(r[1])
    return unit, fields


def score(rules, league, fields):
    points = 0.0
    applicable = 0.0
    detail = []
    for c in rules["criteria"]:
        if "value" in c:
            ratio = eval(c["value"], {}, fields)
            num, den = ratio, None
        else:
            num = eval(c["numerator"], {}, fields)
            den = eval(c["denominator"], {}, fields)
            if den == 0:
                policy = c.get("zero_denominator", "exclude")
                if policy == "exclude":
                    detail.append((c["code"], num, den, None))
                    continue
                p = c["points"] if policy == "full" else 0.0
                points += p
                applicable += c["points"]
                detail.append((c["code"], num, den, p))
                continue
            ratio = num / den
        if c["shape"] == "steps":
            x = ratio
            p = c.get("otherwise", 0.0)
            for step in c["steps"]:
                if ("at_most" in step and x <= step["at_most"]) or (
                        "at_least" in step and x >= step["at_least"]):
                    p = step["points"]
                    break
            points += p
            applicable += c["points"]
            detail.append((c["code"], num, den, p))
            continue
        ratio = min(max(ratio, 0.0), 1.0)
        if c["shape"] == "target":
            target = c.get("target_by_league", {}).get(league, c.get("target", 1.0))
            p = c["points"] if ratio >= target else c["points"] * ratio / target
        else:
            p = c["points"] * ratio
        points += p
        applicable += c["points"]
        detail.append((c["code"], num, den, p))
    total = 100.0 * points / applicable if applicable else 0.0
    return round(total, 2), detail


def main():
    org = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(org, "out-peer")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(org, "tthc.toml"), "rb") as f:
        config = tomllib.load(f)
    rules_dir = os.path.join(org, config["rules"]["dir"])
    rules = ruleset_in_force(rules_dir)
    units = {u["code"]: u for u in config["units"]}

    results = []
    files = sorted(glob.glob(os.path.join(org, "inbox", "*.xlsx")))
    for path in files:
        code, fields = read_workbook(path)
        unit = units[code]
        total, detail = score(rules, unit["kind"], fields)
        results.append((unit, total, detail))

    leagues = {}
    for r in results:
        leagues.setdefault(r[0]["kind"], []).append(r)
    for rows in leagues.values():
        rows.sort(key=lambda r: -r[1])

    wb = xlsxwriter.Workbook(os.path.join(out, "xep-hang.xlsx"))
    ranking = wb.add_worksheet("Xếp hạng")
    details = wb.add_worksheet("Chi tiết điểm")
    ranking.write_row(0, 0, ["Khối", "Hạng", "Mã", "Đơn vị", "Tổng điểm"])
    details.write_row(0, 0, ["Mã", "Tiêu chí", "Tử số", "Mẫu số", "Điểm"])
    r, d = 1, 1
    for league, rows in leagues.items():
        for rank, (unit, total, detail) in enumerate(rows, 1):
            ranking.write_row(r, 0, [league, rank, unit["code"], unit["name"], total])
            r += 1
            for code, num, den, p in detail:
                details.write_row(d, 0, [unit["code"], code, num, den if den is not None else "", p if p is not None else ""])
                d += 1
    wb.close()

    lines = ['#set page(paper: "a4")', '#set text(font: "Liberation Serif", size: 12pt)',
             "= Xếp hạng " + PERIOD]
    for league, rows in leagues.items():
        lines.append("== " + league)
        cells = []
        for rank, (unit, total, _) in enumerate(rows, 1):
            name = unit["name"].replace("[", "").replace("]", "")
            cells.append("[%d], [%s], [%.2f]," % (rank, name, total))
        lines.append("#table(columns: (auto, 1fr, auto), [Hạng], [Đơn vị], [Điểm], " + " ".join(cells) + ")")
    source = os.path.join(out, "bao-cao.typ")
    with open(source, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    here = os.path.dirname(os.path.abspath(__file__))
    fonts = os.path.join(here, "..", "templates", "fonts")
    typst.compile(source, output=os.path.join(out, "bao-cao.pdf"), font_paths=[fonts])

    t = os.times()
    print(json.dumps({
        "units": len(results),
        "files": len(files),
        "seconds": time.perf_counter() - START,
        "cpu_seconds": t.user + t.system,
    }))


if __name__ == "__main__":
    main()
