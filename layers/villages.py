"""Villages and communities (村/社区): 12-digit division codes nested in the town."""

from layers._schema import Field, LayerSpec

KINDS = ("村", "社区")

SPEC = LayerSpec(
    kind="villages",
    label_zh="村社区",
    geometry="Polygon",
    fields=(
        Field("code", label_zh="村社区代码"),
        Field("name", label_zh="村社区名称"),
        Field("kind", label_zh="类型"),
        Field("town_code", label_zh="镇街代码", short="town_code"),
        Field("registered_pop", "int", False, "户籍人口", short="reg_pop"),
        Field("migrant_pop", "int", False, "流动人口", short="mig_pop"),
    ),
    code_pattern=r"\d{12}",
    code_hint="12 位区划代码 / 12-digit division code (town code + 3 digits)",
)
