"""Grid cells (网格): the smallest governance polygon, one grid officer each.

Codes are 15 digits: the 12-digit village code plus a 3-digit sequence.
"""

from layers._schema import Field, LayerSpec

SPEC = LayerSpec(
    kind="grid_cells",
    label_zh="网格",
    geometry="Polygon",
    fields=(
        Field("code", label_zh="网格编码"),
        Field("name", label_zh="网格名称"),
        Field("village_code", label_zh="所属村社区", short="vill_code"),
        Field("officer_id", label_zh="网格员编号", short="officer_id"),
        Field("officer_name", label_zh="网格员", short="officer_nm"),
        Field("officer_phone", required=False, label_zh="网格员电话", short="officer_ph"),
        Field("registered_pop", "int", False, "户籍人口", short="reg_pop"),
        Field("migrant_pop", "int", False, "流动人口", short="mig_pop"),
        Field("households", "int", False, "户数", short="households"),
    ),
    code_pattern=r"\d{15}",
    code_hint="15 位网格编码 / 15-digit code (village code + 3 digits)",
)
