"""Write the ingest fixture files in ``tests/ingest/data/`` from the demo town (seed 7).

Run ``.venv/bin/python -m tests.ingest.make_fixtures``; the files are committed, and
``tests/data/README.md`` says what each holds. Everything is synthetic (demo names and phones).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from geo.crs import from_wgs84
from layers.demo import build_demo

DATA = Path(__file__).parent / "data"
SEED, N = 7, 300
H110 = ["警情编号", "报警时间", "报警人", "联系电话", "报警地址", "警情类别", "简要警情",
        "流转时间", "管辖单位", "经度", "纬度", "坐标系"]  # fmt: skip
H12345 = ["工单编号", "来电时间", "诉求人", "联系电话", "诉求类型", "问题分类", "诉求内容",
          "事发地址", "办理时限", "承办单位"]  # fmt: skip


def demo_incidents() -> pd.DataFrame:
    inc = build_demo(SEED, n_incidents=N)["incidents"]
    inc = inc.assign(lon=inc.geometry.x.round(6), lat=inc.geometry.y.round(6))
    return pd.DataFrame(inc.drop(columns="geometry"))


def _local(t: pd.Timestamp) -> str:
    return t.tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M:%S")


def row_110(r: pd.Series, coords: str | None = "WGS84") -> dict[str, str]:
    lon, lat = r.lon, r.lat
    if coords and coords.upper() != "WGS84":
        x, y = from_wgs84(np.array([lon]), np.array([lat]), coords.lower().replace("-", ""))
        lon, lat = round(float(x[0]), 6), round(float(y[0]), 6)
    return {
        "警情编号": r.source_id if r.source == "110" else f"J{r.source_id}",
        "报警时间": _local(r.received_at),
        "报警人": r.caller_name or "",
        "联系电话": r.caller_phone or "",
        "报警地址": r.address,
        "警情类别": r.category_zh,
        "简要警情": r.description,
        "流转时间": _local(r.received_at + pd.Timedelta(minutes=3)),
        "管辖单位": "演示镇派出所",
        "经度": f"{lon}" if coords else "",
        "纬度": f"{lat}" if coords else "",
        "坐标系": coords or "",
    }


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]], encoding: str) -> None:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def main() -> None:
    DATA.mkdir(exist_ok=True)
    inc = demo_incidents()
    people = inc[inc["caller_phone"].notna()].reset_index(drop=True)
    # 1. GBK 110 export: 20 rows, every other one with WGS84 coordinates
    rows = [row_110(r, "WGS84" if k % 2 == 0 else None) for k, r in people.head(20).iterrows()]
    write_csv(DATA / "110_gbk.csv", H110, rows, "gbk")
    # 2. UTF-8 with BOM 12345 work orders: 15 rows, no coordinates
    orders = []
    for _, r in people.iloc[20:35].iterrows():
        orders.append({
            "工单编号": f"GD{r.source_id[-12:]}", "来电时间": _local(r.received_at),
            "诉求人": r.caller_name, "联系电话": r.caller_phone, "诉求类型": "投诉",
            "问题分类": r.category_zh, "诉求内容": r.description, "事发地址": r.address,
            "办理时限": _local(r.received_at + pd.Timedelta(days=3)), "承办单位": "演示镇综治中心",
        })  # fmt: skip
    write_csv(DATA / "12345_utf8bom.csv", H12345, orders, "utf-8-sig")
    # 3. GCJ-02 and BD-09 coordinates (as AMap / Baidu pickers give them)
    rows = [row_110(r, "GCJ-02") for _, r in people.iloc[40:46].iterrows()]
    rows += [row_110(r, "BD09") for _, r in people.iloc[46:48].iterrows()]
    write_csv(DATA / "110_gcj02.csv", H110, rows, "utf-8")
    # 4. swapped lat/lon: two that swap back into the town, one that does not
    rows = []
    for _, r in people.iloc[50:52].iterrows():
        d = row_110(r)
        d["经度"], d["纬度"] = d["纬度"], d["经度"]
        rows.append(d)
    d = row_110(people.iloc[52])
    d["经度"], d["纬度"] = "30.25", "120.16"  # swapped Hangzhou: swapped back, not in the town
    rows.append(d)
    write_csv(DATA / "110_swapped.csv", H110, rows, "utf-8")
    # 5. bad rows of every kind, between good ones (UTF-8, one row's address in GBK bytes)
    good = [row_110(r, "WGS84" if k % 2 else None) for k, r in people.iloc[60:64].iterrows()]
    bad = [row_110(r) for _, r in people.iloc[64:72].iterrows()]
    bad[0]["警情编号"] = ""  # missing id
    bad[1]["报警时间"] = "2026-13-45 25:61"  # unparseable time
    bad[2]["报警时间"] = ""  # missing time
    bad[3].update(报警地址="火星基地一号", 经度="", 纬度="", 坐标系="")  # no location
    bad[4].update(经度="0", 纬度="0", 报警地址="不存在的地方")  # (0,0) and no address match
    bad[5].update(经度="30.25", 纬度="120.16")  # swapped, swapped back not in the town
    bad[6]["警情类别"] = "无法归类的怪事"  # unmapped category: stored as other, reported
    bad[7]["联系电话"] = "12"  # invalid phone: stored, counted
    rows = good[:2] + bad + good[2:]
    header = ",".join(H110) + "\r\n"
    buf = io.StringIO(newline="")
    csv.DictWriter(buf, fieldnames=H110, lineterminator="\r\n").writerows(rows)
    body = buf.getvalue().encode("utf-8")
    enc_row = row_110(people.iloc[72])  # bad encoding: the address arrives in GBK bytes
    b = io.StringIO(newline="")
    csv.DictWriter(b, fieldnames=H110, lineterminator="\r\n").writerow(enc_row)
    addr = enc_row["报警地址"]
    enc_bytes = b.getvalue().encode("utf-8").replace(addr.encode("utf-8"), addr.encode("gbk"))
    shape = "J3307849999999,2026-05-01 09:00:00,多了一列\r\n".encode()  # wrong field count
    (DATA / "110_bad_rows.csv").write_bytes(header.encode("utf-8") + body + enc_bytes + shape)
    # 6. patrol reports as JSON lines, one broken line
    reports = []
    for k, (_, r) in enumerate(inc[inc["source"] == "patrol"].head(5).iterrows()):
        reports.append(json.dumps({
            "id": r.source_id, "officer_id": f"W{k:03d}", "time": r.received_at.isoformat(),
            "point": {"lon": r.lon, "lat": r.lat}, "category": r.category_zh,
            "description": r.description, "address": r.address,
            "photos": [f"photo/{r.source_id}-1.jpg"],
        }, ensure_ascii=False))  # fmt: skip
    reports.insert(2, '{"id": "P-broken", "time": ')
    (DATA / "patrol.jsonl").write_text("\n".join(reports) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
