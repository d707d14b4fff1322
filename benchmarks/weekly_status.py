"""The Monday status run at scale: 2,000 open requests with 20,000 action items.

Fills a fresh database (SQLite file, or a new PostgreSQL database) with the requests, their
departments and action items (some overdue, some changed this week), then times the
``weekly_status`` duty as the scheduler runs it — rendering every request's mail with its HTML
tracker and ``.xlsx`` and writing it to the outbox — and reports wall time, mails queued and
the process's peak memory (maximum RSS).

    python benchmarks/weekly_status.py [--requests 2000] [--items 20000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
import tomllib
import zoneinfo

import _setup
from harness import DIRECTORY_TOML
from servers import postgres_database
from sqlalchemy import func, insert, select

from mailflow import db
from mailflow.config import config_from_dict
from mailflow.context import Context
from mailflow.duties.tracker import weekly_status
from mailflow.models import ActionEvent, ActionItem, OutboxMessage, Request, RequestDepartment

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 12, 7, 9, 5, tzinfo=SHANGHAI)
OWNERS = [
    ("产品部", "chen.jie@example.com", "陈杰"),
    ("技术支持部", "huang.lei@example.com", "黄磊"),
    ("市场部", "li.na@example.com", "李娜"),
    ("财务部", "bob.jones@example.com", "Bob Jones"),
]
STATUSES = ("not_started", "in_progress", "done", "delayed")


def fill(sessions, requests: int, items: int) -> None:
    created = MONDAY - dt.timedelta(days=20)
    with sessions.begin() as session:
        session.execute(
            insert(Request),
            [
                {
                    "number": f"REQ-2026-{n:05d}", "status": "open", "stage": "tracking",
                    "requester": "zhang.wei@example.com", "requester_name": "张伟",
                    "requesting_department": "市场部", "lead_department": "市场部",
                    "background": "因Q3季度市场推广活动需产品部提供技术支持。" * 3,
                    "goal": f"确定技术支持人员名单及交付时间（第{n}项）", "urgency": "important",
                    "language": "zh", "received_at": created, "reply_deadline": created + dt.timedelta(days=3),
                }
                for n in range(1, requests + 1)
            ],
        )  # fmt: skip
        ids = session.scalars(select(Request.id).order_by(Request.id)).all()
        session.execute(
            insert(RequestDepartment),
            [{"request_id": r, "department": d, "position": p, "responded_at": created}
             for r in ids for p, d in enumerate(("产品部", "技术支持部"))],
        )  # fmt: skip
        session.execute(
            insert(ActionItem),
            [
                {
                    "code": f"A{n}", "request_id": ids[n % len(ids)],
                    "department": OWNERS[n % 4][0], "owner": OWNERS[n % 4][1], "owner_name": OWNERS[n % 4][2],
                    "task": f"完成第{n}项任务：技术方案初稿与评审", "standard": "方案通过评审",
                    "due": (MONDAY + dt.timedelta(days=(n % 21) - 7)).date(),
                    "status": STATUSES[n % 4], "created_at": created, "updated_at": MONDAY - dt.timedelta(days=n % 9),
                }
                for n in range(1, items + 1)
            ],
        )  # fmt: skip
        action_ids = session.scalars(select(ActionItem.id).order_by(ActionItem.id)).all()
        session.execute(
            insert(ActionEvent),
            [{"action_id": a, "at": MONDAY - dt.timedelta(days=2), "actor": "chen.jie@example.com",
              "kind": "status", "old_status": "not_started", "new_status": "in_progress"}
             for a in action_ids[::3]],
        )  # fmt: skip


def run(url: str, requests: int, items: int) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    fill(sessions, requests, items)
    config = config_from_dict(tomllib.loads(DIRECTORY_TOML))
    ctx = Context.build(config, MONDAY)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with sessions.begin() as session:
        queued = weekly_status(session, ctx)
    elapsed = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(OutboxMessage))
        size = session.scalar(select(func.sum(func.length(OutboxMessage.raw))))
    print(f"{engine.dialect.name}: {requests} requests, {items} action items")
    print(
        f"  weekly_status queued {queued} mails ({stored} in the outbox, {size / 1e6:.0f} MB) in {elapsed:.1f} s"
    )
    print(f"  peak memory: process RSS {rss_after / 1024:.0f} MB "
          f"(+{(rss_after - rss_before) / 1024:.0f} MB during the run)")  # fmt: skip
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    _ = _setup  # puts the repository and tests/ on sys.path
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.db", args.requests, args.items)
    else:
        with postgres_database() as url:
            run(url, args.requests, args.items)


if __name__ == "__main__":
    main()
