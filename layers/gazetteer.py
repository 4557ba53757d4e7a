"""Address gazetteer (标准地址库): points the geocoder matches against.

``level`` says what an entry locates: ``house`` (村+组+号 or 路+号), ``poi`` (a named building or
place), ``road``, ``group`` (村民小组), ``village``, ``town``. Parts that do not apply are null.
"""

from layers._schema import Field, LayerSpec

LEVELS = ("house", "poi", "road", "group", "village", "town")

SPEC = LayerSpec(
    kind="gazetteer",
    label_zh="标准地址",
    geometry="Point",
    fields=(
        Field("id", label_zh="地址编号"),
        Field("address", label_zh="标准地址"),
        Field("level", label_zh="地址级别"),
        Field("village_code", required=False, label_zh="村社区代码", short="vill_code"),
        Field("village", required=False, label_zh="村社区"),
        Field("group_no", "int", False, "组"),
        Field("road", required=False, label_zh="道路"),
        Field("house_no", required=False, label_zh="门牌号", short="house_no"),
        Field("poi", required=False, label_zh="地名/建筑"),
    ),
)
