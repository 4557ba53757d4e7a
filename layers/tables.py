"""Plain (non-spatial) tables: departments, teams, officers."""

from layers._schema import Field, LayerSpec

OFFICER_ROLES = ("grid", "beat", "fire", "enforcement", "mediator")

DEPARTMENTS = LayerSpec(
    kind="departments",
    label_zh="职能部门",
    geometry=None,
    fields=(Field("code", label_zh="部门编码"), Field("name", label_zh="部门名称")),
)

TEAMS = LayerSpec(
    kind="teams",
    label_zh="政务即时处置队伍",
    geometry=None,
    fields=(
        Field("code", label_zh="队伍编码"),
        Field("name", label_zh="队伍名称"),
        Field("beat_code", required=False, label_zh="负责警格", short="beat_code"),
        Field("phone", required=False, label_zh="值班电话"),
    ),
)

OFFICERS = LayerSpec(
    kind="officers",
    label_zh="人员",
    geometry=None,
    fields=(
        Field("id", label_zh="人员编号"),
        Field("name", label_zh="姓名"),
        Field("role", label_zh="岗位"),
        Field("phone", required=False, label_zh="电话"),
        Field("area_code", required=False, label_zh="负责区域", short="area_code"),
        Field("team_code", required=False, label_zh="所属队伍", short="team_code"),
    ),
)
