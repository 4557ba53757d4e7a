"""The demo's incidents as a plain point layer (until the store owns incidents).

Times are timezone-aware UTC. Personal data columns (``caller_*``) are synthetic in the demo and
must be masked by every consumer that shows them.
"""

from layers._schema import Field, LayerSpec

SOURCES = ("110", "12345", "patrol")

#: Ember's first-level categories: code -> Chinese name.
CATEGORIES: dict[str, str] = {
    "wage": "劳资纠纷",
    "neighbour": "邻里纠纷",
    "family": "婚恋家庭纠纷",
    "rental": "房屋租赁纠纷",
    "consumer": "消费纠纷",
    "noise": "噪音扰民",
    "help": "求助",
    "other": "其他",
}

STATES = (
    "received",
    "dispatched",
    "on_scene",
    "resolved",
    "callback_due",
    "closed",
    "returned",
    "reopened",
    "escalated",
)

SATISFACTION = ("满意", "基本满意", "不满意")

SPEC = LayerSpec(
    kind="incidents",
    label_zh="非警务事项",
    geometry="Point",
    fields=(
        Field("id", label_zh="事项编号"),
        Field("source", label_zh="来源"),
        Field("source_id", label_zh="来源编号", short="source_id"),
        Field("received_at", "datetime", label_zh="受理时间", short="received"),
        Field("category", label_zh="类别"),
        Field("category_zh", label_zh="类别名称", short="cat_zh"),
        Field("subcategory", required=False, label_zh="细类", short="subcat"),
        Field("description", label_zh="简要情况", short="descr"),
        Field("address", label_zh="事发地址"),
        Field("geocode_level", required=False, label_zh="定位级别", short="geo_level"),
        Field("grid_code", required=False, label_zh="网格编码", short="grid_code"),
        Field("village_code", required=False, label_zh="村社区代码", short="vill_code"),
        Field("beat_code", required=False, label_zh="警格编码", short="beat_code"),
        Field("station_code", required=False, label_zh="消防站编码", short="stn_code"),
        Field("involves_migrant", "bool", label_zh="涉流动人口", short="migrant"),
        Field("caller_name", required=False, label_zh="报警/诉求人", short="caller_nm"),
        Field("caller_phone", required=False, label_zh="联系电话", short="caller_ph"),
        Field("caller_id_number", required=False, label_zh="身份证号", short="caller_id"),
        Field("priority", label_zh="等级"),
        Field("team_code", required=False, label_zh="处置队伍", short="team_code"),
        Field("department_code", required=False, label_zh="承办部门", short="dept_code"),
        Field("state", label_zh="状态"),
        Field("dispatched_at", "datetime", False, "派遣时间", short="dispatched"),
        Field("on_scene_at", "datetime", False, "到场时间", short="on_scene"),
        # the first resolution, kept after a reopen; the store adds the standing one after
        # the layer's columns (``standing_resolved_at``, store._codec)
        Field("resolved_at", "datetime", False, "处置完毕时间", short="resolved"),
        Field("callback_at", "datetime", False, "回访时间", short="callback"),
        Field("closed_at", "datetime", False, "办结时间", short="closed"),
        Field("satisfaction", required=False, label_zh="满意度", short="satisfied"),
        Field("commitment_amount", "float", False, "承诺金额(元)", short="commit_amt"),
        Field("commitment_due", "datetime", False, "承诺期限", short="commit_due"),
        Field("commitment_kept", "bool", False, "承诺兑现", short="commit_ok"),
        Field("reopened", "bool", label_zh="曾重开"),
        Field("repeat_of", required=False, label_zh="重复报警关联", short="repeat_of"),
    ),
)
