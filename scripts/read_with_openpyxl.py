"""The least a Python implementation built on openpyxl must do: open every
workbook of a generated organisation and read every cell of every sheet,
nothing else (no checks, no scoring, no reports). Compare its time with
`tthc bench`, which does the whole quarter on the same files.

    python3 scripts/read_with_openpyxl.py target/bench-data/n350/inbox
"""

import glob
import sys
import time

import openpyxl


def main() -> None:
    files = sorted(glob.glob(sys.argv[1] + "/*.xlsx"))
    started = time.perf_counter()
    cells = 0
    for path in files:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += len(row)
        wb.close()
    took = time.perf_counter() - started
    print(f"{len(files)} files, {cells} cells read in {took:.2f} s "
          f"({len(files) / took:.0f} files/s)")


if __name__ == "__main__":
    main()
