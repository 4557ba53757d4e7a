"""Police beats (警格): a union of whole grid cells (一警多格), one beat officer each."""

from layers._schema import Field, LayerSpec

SPEC = LayerSpec(
    kind="police_beats",
    label_zh="警格",
    geometry="Polygon",
    fields=(
        Field("code", label_zh="警格编码"),
        Field("name", label_zh="警格名称"),
        Field("officer_id", label_zh="社区民警编号", short="officer_id"),
        Field("officer_name", label_zh="社区民警", short="officer_nm"),
        Field("officer_phone", required=False, label_zh="民警电话", short="officer_ph"),
        Field("police_station", required=False, label_zh="派出所", short="pol_stn"),
    ),
    code_pattern=r"[0-9A-Za-z_-]{1,32}",
    code_hint="字母数字编码 / letters, digits, - or _, at most 32",
)
