"""Smart / micro fire stations (智慧消防站 / 微型消防站): points, plus a 3-minute coverage layer."""

from layers._schema import Field, LayerSpec

SPEC = LayerSpec(
    kind="fire_stations",
    label_zh="智慧消防站",
    geometry="Point",
    fields=(
        Field("code", label_zh="站点编码"),
        Field("name", label_zh="站点名称"),
        Field("kind", required=False, label_zh="类型"),
        Field("crew", "int", False, "队员人数"),
        Field("phone", required=False, label_zh="值班电话"),
    ),
    code_pattern=r"[0-9A-Za-z_-]{1,32}",
    code_hint="字母数字编码 / letters, digits, - or _, at most 32",
)

COVERAGE_SPEC = LayerSpec(
    kind="fire_station_coverage",
    label_zh="消防站3分钟覆盖范围",
    geometry="Polygon",
    fields=(
        Field("station_code", label_zh="站点编码", short="stn_code"),
        Field("minutes", "int", label_zh="到达时间(分钟)"),
    ),
)
