"""Words for codes (urgencies, roles, statuses, weekdays) in each language, for mail and records."""

from __future__ import annotations

LABELS: dict[str, dict[str, dict[str, str]]] = {
    "zh": {
        "urgency": {"urgent": "紧急", "important": "重要", "normal": "常规"},
        "stage": {
            "responses": "部门反馈",
            "meeting": "会议组织",
            "minutes": "纪要确认",
            "tracking": "执行跟踪",
            "acceptance": "验收",
            "review": "复盘",
            "closed": "已归档",
            "open": "进行中",
        },
        "event": {
            "created": "新建",
            "status": "状态更新",
            "delay": "延期",
            "changed": "修改",
            "cancelled": "取消",
            "acceptance_requested": "提请验收",
            "accepted": "验收通过",
            "rejected": "验收不通过",
            "closed": "复盘汇总，案例归档",
        },
        "role": {
            "host": "主持人",
            "decision_maker": "决策人",
            "executor": "执行人",
            "recorder": "记录人",
            "attendee": "参会人",
        },
        "status": {
            "not_started": "未开始",
            "in_progress": "进行中",
            "done": "已完成",
            "delayed": "延期",
            "cancelled": "已取消",
            "pending": "未回复",
            "signed": "已确认",
            "objected": "有异议",
        },
        "weekday": dict(zip("0123456", "一二三四五六日", strict=True)),
    },
    "en": {
        "urgency": {"urgent": "Urgent", "important": "Important", "normal": "Normal"},
        "stage": {
            "responses": "responses",
            "meeting": "meeting",
            "minutes": "minutes sign-off",
            "tracking": "tracking",
            "acceptance": "acceptance",
            "review": "review",
            "closed": "archived",
            "open": "open",
        },
        "event": {
            "created": "created",
            "status": "status update",
            "delay": "delayed",
            "changed": "changed",
            "cancelled": "cancelled",
            "acceptance_requested": "acceptance requested",
            "accepted": "accepted",
            "rejected": "rejected",
            "closed": "reviews compiled, case archived",
        },
        "role": {
            "host": "host",
            "decision_maker": "decision-maker",
            "executor": "executor",
            "recorder": "recorder",
            "attendee": "attendee",
        },
        "status": {
            "not_started": "not started",
            "in_progress": "in progress",
            "done": "done",
            "delayed": "delayed",
            "cancelled": "cancelled",
            "pending": "no reply yet",
            "signed": "confirmed",
            "objected": "objected",
        },
        "weekday": dict(
            zip("0123456", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True)
        ),
    },
}
