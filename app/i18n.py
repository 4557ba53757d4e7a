"""The wall's words in Chinese (the default) and English: a typed message table and :func:`t`.

A message id names one label; :data:`MESSAGES` maps it to its Chinese and English text, which
may hold ``{name}`` fields (``t("since.min", "en", n=3)`` is ``"3 min ago"``). Data (place names,
addresses, descriptions, masked names) is never translated. Numbers: :func:`num` writes counts
the Chinese way in Chinese (``1.2万``) and with thousands separators in English (``12,345``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, NamedTuple, get_args

Lang = Literal["zh", "en"]
LANGS: Final[tuple[Lang, ...]] = get_args(Lang)
DEFAULT_LANG: Final[Lang] = "zh"


class Msg(NamedTuple):
    """One label in both languages."""

    zh: str
    en: str

    def text(self, lang: str, **fields: object) -> str:
        """The label in ``lang`` (English for ``en``, else Chinese), ``{fields}`` filled in."""
        text = self.en if lang == "en" else self.zh
        return text.format(**fields) if fields else text


MESSAGES: Final[dict[str, Msg]] = {
    # header, filters, language switch
    "title": Msg("非警务事项态势", "Non-police affairs"),
    "lang.zh": Msg("中文", "中文"),
    "lang.en": Msg("EN", "EN"),
    "win.today": Msg("今日", "Today"),
    "win.7d": Msg("近7天", "7 days"),
    "win.30d": Msg("近30天", "30 days"),
    "win.year": Msg("近一年", "Year"),
    "win.custom": Msg("自定义", "Custom"),
    "dates.start": Msg("起", "From"),
    #: The calendar's month heading (Dash's date picker takes moment-style tokens).
    "dates.month": Msg("YYYY年M月", "MMMM YYYY"),
    "dates.end": Msg("止", "To"),
    "filter.category": Msg("全部类别", "All categories"),
    "filter.source": Msg("全部来源", "All sources"),
    "filter.village": Msg("全部村社区", "All villages"),
    "stale": Msg("数据延迟 {n} 分钟", "Data delayed {n} min"),
    "feeds.stalled": Msg("接入停滞：{n} 分钟无新事项", "Feeds quiet: no new incident for {n} min"),
    "feeds.never": Msg("尚未接入任何事项", "No incident received yet"),
    # categories (layers.incidents_layer.CATEGORIES)
    "cat.wage": Msg("劳资纠纷", "Unpaid wages"),
    "cat.neighbour": Msg("邻里纠纷", "Neighbours"),
    "cat.family": Msg("婚恋家庭纠纷", "Family"),
    "cat.rental": Msg("房屋租赁纠纷", "Rental"),
    "cat.consumer": Msg("消费纠纷", "Consumer"),
    "cat.noise": Msg("噪音扰民", "Noise"),
    "cat.help": Msg("求助", "Help request"),
    "cat.other": Msg("其他", "Other"),
    # sources (app.wall_data.SOURCES)
    "src.110": Msg("110转办", "110 transfer"),
    "src.12345": Msg("12345工单", "12345 order"),
    "src.patrol": Msg("网格上报", "Grid report"),
    "src.walk_in": Msg("来访", "Walk-in"),
    "src.callback": Msg("回访", "Callback"),
    "src.open311": Msg("网上诉求", "Online"),
    # states (incidents.model.State)
    "state.received": Msg("受理", "Received"),
    "state.dispatched": Msg("派遣", "Dispatched"),
    "state.on_scene": Msg("到场", "On scene"),
    "state.resolved": Msg("处置完毕", "Resolved"),
    "state.callback_due": Msg("待回访", "Callback due"),
    "state.closed": Msg("办结", "Closed"),
    "state.returned": Msg("退回", "Returned"),
    "state.reopened": Msg("重开", "Reopened"),
    "state.escalated": Msg("会商", "Escalated"),
    # KPI tiles (app.wall_kpis.TILES keys)
    "tile.received": Msg("受理", "Received"),
    "tile.dispatched": Msg("派遣", "Dispatched"),
    "tile.arrival": Msg("十分钟到场率", "10-min arrival"),
    "tile.resolved": Msg("处置完毕", "Resolved"),
    "tile.satisfaction": Msg("满意率", "Satisfaction"),
    "tile.open": Msg("在办", "Open"),
    "tile.overdue": Msg("超期督办", "Overdue"),
    "tile.repeat": Msg("重复报警", "Repeat calls"),
    "trend.mom": Msg("环比", "Prev"),
    "trend.yoy": Msg("同比", "YoY"),
    "trend.new": Msg("新增", "new"),
    "period.week": Msg("本周", "Week"),
    "period.month": Msg("本月", "Month"),
    # legend and feed
    "legend.total": Msg("窗口内事项 ", "In window "),
    "flag.overdue": Msg("超期", "Overdue"),
    "flag.supervised": Msg("督办", "Supervised"),
    "feed.title": Msg("最新事项", "Latest incidents"),
    "feed.due": Msg("今日待回访 ", "Callbacks due today "),
    "feed.empty": Msg("暂无事项", "No incidents"),
    "since.min": Msg("{n}分钟前", "{n} min ago"),
    "since.hour": Msg("{n}小时前", "{n} h ago"),
    "since.day": Msg("{n}天前", "{n} d ago"),
    # drawer
    "fact.id": Msg("编号", "No."),
    "fact.source": Msg("来源", "Source"),
    "fact.received": Msg("受理", "Received"),
    "fact.deadline": Msg("期限", "Deadline"),
    "fact.address": Msg("地址", "Address"),
    "drawer.parties": Msg("当事人（已脱敏）", "Parties (masked)"),
    "drawer.people": Msg("三合一责任人", "Trinity on duty"),
    "drawer.timeline": Msg("处置时间线", "Timeline"),
    "drawer.nearby": Msg("附近30天事项", "Nearby, last 30 days"),
    "drawer.none": Msg("无", "None"),
    "drawer.repeat": Msg("重复", "repeat"),
    "drawer.migrant": Msg("流动人口", "migrant"),
    "drawer.close": Msg("关闭", "Close"),
    "role.grid": Msg("网格员", "Grid officer"),
    "role.beat": Msg("社区民警", "Beat officer"),
    "role.station": Msg("消防站", "Fire station"),
    "people.crew": Msg("{n}人", "crew of {n}"),
    # event actions (incidents.model events)
    "act.receive": Msg("受理", "Received"),
    "act.dispatch": Msg("派遣", "Dispatched"),
    "act.arrive": Msg("到场", "On scene"),
    "act.resolve": Msg("处置完毕", "Resolved"),
    "act.callback": Msg("回访", "Callback"),
    "act.close": Msg("办结", "Closed"),
    "act.return": Msg("退回", "Returned"),
    "act.reopen": Msg("重开", "Reopened"),
    "act.escalate": Msg("会商", "Escalated"),
    "act.supervise": Msg("督办", "Supervised"),
    "act.amend": Msg("更正", "Amended"),
    "act.reassign": Msg("改派", "Reassigned"),
    "act.link": Msg("关联", "Linked"),
    # charts
    "chart.category": Msg("类别构成", "Category mix"),
    "chart.hours": Msg("24小时分布", "24-hour profile"),
    "chart.trend": Msg("近30天趋势", "30-day trend"),
    "chart.today": Msg("今日", "today"),
    "chart.migrant": Msg("涉流动人口占比", "Involving migrants"),
    "chart.total": Msg("共 {n} 件", "{n} in all"),
    "chart.by_hour": Msg("按受理时刻", "by time received"),
    "chart.range": Msg("{a} 至 {b}", "{a} to {b}"),
    "chart.share": Msg("{n} / {total} 件", "{n} of {total}"),
    "chart.migrants": Msg("涉流动人口", "migrants"),
    "chart.others": Msg("其他", "others"),
    "chart.hour": Msg("{h}时", "{h}h"),
    "chart.empty": Msg("暂无事项", "No incidents"),
    # map layers (the layer control)
    "layer.basemap": Msg("底图", "Basemap"),
    "layer.grid": Msg("网格·在办", "Grid cells · open"),
    "layer.villages": Msg("村社区", "Villages"),
    "layer.roads": Msg("道路", "Roads"),
    "layer.coverage": Msg("3分钟覆盖", "3-min coverage"),
    "layer.beats": Msg("警格", "Police beats"),
    "layer.town": Msg("镇界", "Town boundary"),
    "layer.stations": Msg("消防站", "Fire stations"),
    "layer.trinity": Msg("三合一", "Trinity"),
    "layer.points": Msg("事项", "Incidents"),
    "layer.live": Msg("实时", "Live"),
    "station.glyph": Msg("消", "F"),
    # dispatcher console and incident page (app.pages.console, app.pages.incident)
    "con.title": Msg("坐席台", "Dispatcher console"),
    "con.logout": Msg("退出", "Sign out"),
    "con.forbidden": Msg("您的角色无权使用坐席台", "Your role may not use the console"),
    "con.queue": Msg("待受理", "Incoming"),
    "con.supervision": Msg("督办", "Supervision"),
    "con.sv_empty": Msg("暂无超期事项", "Nothing overdue"),
    "con.sv_more": Msg(
        "共 {n} 件，显示最久超期的 {shown} 件", "{n} in all; the {shown} most overdue shown"
    ),
    "con.find": Msg("查找事项：编号或地址", "Find an incident: id or address"),
    "con.found": Msg("找到 {n} 件", "{n} found"),
    "con.found_more": Msg(
        "找到 {n} 件，显示最新的 {shown} 件", "{n} found; the newest {shown} shown"
    ),
    "con.none_found": Msg("没有相符的事项", "No incident matches"),
    "con.select": Msg("请在左侧选择一个事项", "Select an incident on the left"),
    "con.needs_place": Msg("需人工定位", "Needs placement"),
    "con.place_hint": Msg("在地图上点击设置位置", "Click the map to set the point"),
    "con.no_pin": Msg("请先在地图上点击位置", "Click the map first"),
    "con.accept": Msg("确认受理", "Accept"),
    "con.dispatch": Msg("一键派遣", "Dispatch"),
    "con.return": Msg("退回", "Return"),
    "con.reason": Msg("原因（退回、会商必填）", "Reason (required to return or escalate)"),
    "con.supervise": Msg("督办", "Supervise"),
    "con.escalate": Msg("提请会商", "Escalate"),
    "con.place": Msg("定位到此", "Place here"),
    "con.level": Msg("{n}级会商", "Level {n}"),
    "con.to.110": Msg("退回110", "Back to 110"),
    "con.to.12345": Msg("退回12345", "Back to 12345"),
    "con.to.department": Msg("退回部门", "Back to a department"),
    "con.flag.arrival": Msg("到场超时", "Late arrival"),
    "con.flag.resolution": Msg("办理超期", "Past deadline"),
    "con.flag.callback": Msg("回访超期", "Callback overdue"),
    "con.done.accept": Msg("{id} 已确认受理", "{id} accepted"),
    "con.done.dispatch": Msg("{id} 已派遣", "{id} dispatched"),
    "con.done.return": Msg("{id} 已退回", "{id} returned"),
    "con.done.supervise": Msg("{id} 已督办", "{id} under supervision"),
    "con.done.escalate": Msg("{id} 已提请会商", "{id} escalated"),
    "con.done.place": Msg("{id} 已人工定位，网格已重新分配", "{id} placed; trinity re-assigned"),
    "inc.title": Msg("事项", "Incident"),
    "inc.login": Msg("请先登录 / please sign in", "Please sign in"),
    "inc.not_found": Msg(
        "事项不存在或不在您的权限范围内：{id}", "No incident {id} within your scope"
    ),
    "inc.back": Msg("返回", "Back"),
    "inc.facts": Msg("基本情况", "Facts"),
    "inc.description": Msg("简要情况", "Description"),
    "inc.geocode": Msg("定位", "Geocode"),
    # how an incident was placed (its geocode level)
    "geo.house": Msg("门牌", "House number"),
    "geo.poi": Msg("地标", "Landmark"),
    "geo.road": Msg("道路", "Road"),
    "geo.group": Msg("村民小组", "Village group"),
    "geo.village": Msg("村", "Village"),
    "geo.town": Msg("仅到镇", "Town only"),
    "geo.manual": Msg("人工定位", "Placed by hand"),
    "geo.coordinates": Msg("上报坐标", "Given coordinates"),
    "geo.confidence": Msg("可信度 {p:.0%}", "confidence {p:.0%}"),
    "inc.team": Msg("处置队伍", "Team"),
    "inc.department": Msg("承办部门", "Department"),
    "inc.commitment": Msg("承诺", "Commitment"),
    "inc.parties": Msg("当事人", "Parties"),
    "inc.unmask": Msg("查看完整信息（留痕）", "Show in full (audited)"),
    "inc.no_unmask": Msg("您的角色无权查看个人信息", "Your role may not see personal data"),
    "inc.masked": Msg("个人信息已脱敏", "Personal data masked"),
    "inc.unmasked": Msg("完整信息，本次查看已记录", "Shown in full; this view is audited"),
    "inc.related": Msg("关联与重复事项", "Related and repeat incidents"),
    "inc.nearby": Msg("附近事项", "Nearby incidents"),
    "inc.audit": Msg("操作留痕", "Audit"),
    "act.note": Msg("备注", "Note"),
    "act.queue_callback": Msg("待回访", "Callback queued"),
    "act.unsupervise": Msg("撤销督办", "Supervision lifted"),
    # officer view, callbacks and reports (app.pages.officer, app.pages.callbacks, .reports)
    "me.title": Msg("我的网格", "My area"),
    "me.title.tasks": Msg("我的任务", "My tasks"),  # teams, departments: no area of their own
    "me.logout": Msg("退出", "Sign out"),
    "me.login": Msg("登录", "Sign in"),
    "me.denied": Msg("请先以有权限的账号登录", "Please sign in with an account that may open this"),
    "me.list.to_arrive": Msg("待到场", "To arrive"),
    "me.list.to_handle": Msg("待处置", "To handle"),
    "me.list.callbacks": Msg("待回访", "Callbacks due"),
    "me.empty": Msg("暂无", "Nothing"),
    "me.shown": Msg(
        "显示最早的 {shown} 件，其余可在地图上点开；办完一件补上下一件",
        "The {shown} oldest shown, the rest open from the map; each one done brings in the next",
    ),
    "me.received": Msg("受理", "Received"),
    "me.deadline": Msg("期限", "Due"),
    "me.due": Msg("回访日", "Callback day"),
    "me.detail": Msg("详情", "Details"),
    "me.arrive": Msg("已到场", "Arrived"),
    "me.resolve.open": Msg("填写处置结果", "Record the result"),
    "me.result": Msg("处置结果", "What was done"),
    "me.result.hint": Msg("如：双方达成调解协议", "e.g. both sides signed a mediation agreement"),
    "me.commit": Msg("承诺（可选）", "Commitment (optional)"),
    "me.commit.who": Msg("承诺人", "Who promises"),
    "me.commit.what": Msg("承诺内容", "What is promised"),
    "me.commit.amount": Msg("金额（元）", "Amount (yuan)"),
    "me.commit.due": Msg("期限", "Due date"),
    "me.resolve": Msg("处置完毕", "Resolved"),
    "me.photo": Msg("上传照片", "Add a photo"),
    "me.photo.saved": Msg("照片已保存", "Photo saved"),
    "me.photo.too_big": Msg(
        "照片 {mb} MB，超过 {kb} KB，未上传；请缩小后重试",
        "The photo ({mb} MB) is larger than {kb} KB and was not sent; make it smaller and retry",
    ),
    "me.arrived": Msg("已记录到场时间和位置", "Arrival recorded with time and position"),
    "me.arrived.nopos": Msg(
        "已记录到场时间；未能获取位置", "Arrival recorded; the position was not available"
    ),
    "me.far": Msg(
        "已记录到场，但您距事发地约 {m} 米",
        "Arrival recorded, but you are about {m} m from the incident",
    ),
    "me.resolved": Msg("已记录处置完毕", "Resolution recorded"),
    "me.not_found": Msg("事项不存在或不在您的权限范围内", "No such incident within your scope"),
    "me.stale": Msg(
        "事项已被他人更新，已显示最新内容，请核对后再提交",
        "Someone else changed it first: it now shows the latest; check it and submit again",
    ),
    "me.read_only": Msg("您的角色只能查看", "Your role may only view"),
    "me.nothing": Msg("没有可执行的操作", "Nothing to do"),
    "cb.title": Msg("回访", "Callbacks"),
    "cb.count": Msg("今日待回访 {n} 件", "{n} callbacks due today"),
    "cb.empty": Msg("今日无待回访事项", "No callbacks due today"),
    "cb.find": Msg("查找：事项编号或地址", "Find: incident id or address"),
    "cb.found": Msg("找到待回访 {n} 件", "{n} due callbacks found"),
    "cb.none_found": Msg("没有找到相符的待回访事项", "No due callback matches"),
    "cb.shown": Msg(
        "按到期先后显示前 {shown} 件，其余可在上方查找；每记录一件补上下一件",
        "The {shown} due earliest are shown, the rest found above; "
        "each one recorded brings in the next",
    ),
    "cb.late": Msg("已逾期", "Overdue"),
    "cb.resolved": Msg("处置完毕", "Resolved"),
    "cb.day": Msg("应回访", "Due"),
    "cb.due": Msg("期限", "due"),
    "cb.amount": Msg("{amount} 元", "CNY {amount}"),
    "cb.contact": Msg("联系人：", "Contact: "),
    "cb.unmask": Msg("显示号码（留痕）", "Show number (audited)"),
    "cb.reached.q": Msg("是否接通", "Reached?"),
    "cb.reached": Msg("已接通", "Reached"),
    "cb.unreached": Msg("未接通", "Not reached"),
    "cb.sat.q": Msg("满意度", "Satisfaction"),
    "cb.sat.1": Msg("满意", "satisfied"),
    "cb.sat.2": Msg("基本满意", "mostly satisfied"),
    "cb.sat.3": Msg("不满意", "dissatisfied"),
    "cb.commit.q": Msg("承诺是否兑现", "Commitments kept?"),
    "cb.kept": Msg("已兑现", "Kept"),
    "cb.broken": Msg("未兑现", "Broken"),
    "cb.note": Msg("回访记录（可选）", "Note (optional)"),
    "cb.submit": Msg("提交回访", "Record callback"),
    "cb.need_reached": Msg("请先选择是否接通", "Say first whether the caller was reached"),
    "cb.will.close": Msg("提交后：办结", "On submit: closed"),
    "cb.will.continue": Msg("提交后：继续回访", "On submit: stays due for callback"),
    "cb.will.reopen": Msg(
        "提交后：重开，退回处置队伍重新处置", "On submit: REOPENED and sent back for handling"
    ),
    "cb.will.incomplete": Msg("请选择满意度", "Choose the satisfaction"),
    "cb.done.close": Msg("{id} 回访已记录，事项办结", "{id}: callback recorded, closed"),
    "cb.done.continue": Msg("{id} 回访已记录，继续回访", "{id}: callback recorded, still due"),
    "cb.done.reopen": Msg(
        "{id} 回访已记录：不满意或承诺未兑现，事项已重开",
        "{id}: callback recorded; dissatisfied or a commitment broken, so the incident is REOPENED",
    ),
    "rep.title": Msg("报表", "Reports"),
    "rep.kind.daily": Msg("日报 天天推进", "Daily"),
    "rep.kind.weekly": Msg("周报 周周闭环", "Weekly"),
    "rep.kind.monthly": Msg("月报 月月改进", "Monthly"),
    "rep.show": Msg("查看", "Show"),
    "rep.print": Msg("打印", "Print"),
    "rep.xlsx": Msg("导出 Excel", "Download .xlsx"),
    "rep.export": Msg("本期事项导出（已脱敏）：", "This period's incidents (masked):"),
    "rep.area": Msg("区域", "Area"),
    "rep.town": Msg("全镇", "Whole town"),
    "rep.none": Msg("无", "None"),
    "rep.period": Msg(
        "统计期 {period}，截至 {as_of}，本期受理 {n} 件",
        "Period {period}, as of {as_of}: {n} incidents received",
    ),
    "rep.so_far": Msg(
        "本期尚未结束：环比、同比与上期、去年同期的同一时段比较",
        "The period is not over: its changes on the period before and on a year earlier "
        "compare the same stretch of each",
    ),
    "rep.overdue": Msg("超期事项", "Overdue incidents"),
    # the incident lists' headers (reports.LIST_COLUMNS; the .xlsx keeps the Chinese ones)
    "rep.col.id": Msg("事项编号", "No."),
    "rep.col.category_zh": Msg("类别", "Category"),
    "rep.col.state_zh": Msg("状态", "State"),
    "rep.col.received_at": Msg("受理时间", "Received"),
    "rep.col.deadline": Msg("期限", "Deadline"),
    "rep.col.village_code": Msg("村社区", "Village"),
    "rep.col.grid_code": Msg("网格", "Grid cell"),
    "rep.col.team_code": Msg("处置队伍", "Team"),
    "rep.col.address": Msg("地址", "Address"),
    "rep.col.satisfaction": Msg("满意度", "Satisfaction"),
    "rep.unsatisfied": Msg("不满意事项", "Unsatisfied incidents"),
}


def lang_of(value: object, default: str = DEFAULT_LANG) -> Lang:
    """``value`` as a :data:`Lang` (``"en"``, ``"EN"``, ``"en-GB"``), else ``default``."""
    text = str(value or "").strip().lower()[:2]
    for lang in LANGS:
        if text == lang:
            return lang
    return "en" if default == "en" else "zh"


def t(key: str, lang: str = DEFAULT_LANG, **fields: object) -> str:
    """The text of message ``key`` in ``lang``, its ``{fields}`` filled in.

    An unknown key raises :class:`KeyError` (a typo shows in tests, not on the wall).
    """
    return MESSAGES[key].text(lang, **fields)


def t_or(key: str, lang: str, fallback: str) -> str:
    """``t(key, lang)``, or ``fallback`` (a code not in the table, shown as it is)."""
    return t(key, lang) if key in MESSAGES else fallback


def num(n: float | None, lang: str = DEFAULT_LANG) -> str:
    """A count: ``1.2万`` / ``9,876`` in Chinese, ``12,345`` in English; ``—`` for none."""
    if n is None or n != n:  # None or NaN
        return "—"
    if lang != "en" and abs(n) >= 10_000:
        return f"{n / 10_000:.1f}万".replace(".0万", "万")
    return f"{round(n):,}"


def since(minutes: int, lang: str = DEFAULT_LANG) -> str:
    """Time since, in minutes, hours or days: ``3分钟前`` / ``3 min ago``."""
    minutes = max(0, int(minutes))
    if minutes < 60:
        return t("since.min", lang, n=minutes)
    if minutes < 24 * 60:
        return t("since.hour", lang, n=minutes // 60)
    return t("since.day", lang, n=minutes // 1440)


def table(prefix: str, lang: str, codes: Mapping[str, str]) -> dict[str, str]:
    """``codes`` (code -> Chinese name) with each name in ``lang`` (``prefix.code`` messages)."""
    return {code: t_or(f"{prefix}.{code}", lang, name) for code, name in codes.items()}
