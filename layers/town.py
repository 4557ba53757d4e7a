"""Town boundary (镇/街道): one polygon, 9-digit division code (6-digit county + 3-digit town)."""

from layers._schema import Field, LayerSpec

SPEC = LayerSpec(
    kind="town",
    label_zh="镇界",
    geometry="Polygon",
    fields=(
        Field("code", label_zh="镇街代码"),
        Field("name", label_zh="镇街名称"),
    ),
    code_pattern=r"\d{9}",
    code_hint="9 位区划代码 / 9-digit division code, e.g. 330784199",
)
