"""Places of interest, industrial zones and main roads of the town."""

from layers._schema import Field, LayerSpec

POI_KINDS = ("factory", "market", "school", "rental_housing", "village_office", "hospital")

POIS = LayerSpec(
    kind="pois",
    label_zh="兴趣点",
    geometry="Point",
    fields=(
        Field("id", label_zh="编号"),
        Field("name", label_zh="名称"),
        Field("kind", label_zh="类别"),
        Field("village_code", required=False, label_zh="村社区代码", short="vill_code"),
    ),
)

INDUSTRIAL_ZONES = LayerSpec(
    kind="industrial_zones",
    label_zh="工业功能区",
    geometry="Polygon",
    fields=(Field("code", label_zh="编码"), Field("name", label_zh="名称")),
)

ROADS = LayerSpec(
    kind="roads",
    label_zh="主要道路",
    geometry="LineString",
    fields=(Field("name", label_zh="道路名称"), Field("kind", required=False, label_zh="等级")),
)
