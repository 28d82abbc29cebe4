"""Large teams for the board's scenarios and benchmark: reps and tasks written with bulk inserts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select, text

from bot.models import Customer, Member, Task, TaskAssignee, Workspace

# The worst a line can be: a 200-character title of three-byte characters and the three escaped ones.
LONG_TITLE = ("& <b> " + "续签年度服务合同并报价升级方案" * 14)
LONG_CUSTOMER = "客户" * 100


async def seed_team(db, *, manager_user: str, reps: int, per_rep: int, today: date, prefix: str = "UB") -> list[str]:
    """`reps` more reps on the manager's team, each with `per_rep` open tasks of the longest kind; returns their user ids."""
    now = datetime.now(timezone.utc)
    async with db.session() as s:
        workspace = (await s.execute(select(Workspace))).scalar_one()
        manager = (await s.execute(select(Member).where(Member.slack_user_id == manager_user))).scalar_one()
        customer = Customer(workspace_id=workspace.id, name=LONG_CUSTOMER)
        s.add(customer)
        await s.flush()
        users = [f"{prefix}{i:05d}" for i in range(reps)]
        await s.execute(insert(Member), [
            dict(workspace_id=workspace.id, slack_user_id=u, name=f"Rep {i:05d}", role="rep", team_id=manager.team_id, level="junior",
                 tz="Asia/Shanghai", locale="en-US", is_slack_admin=False, created_at=now)
            for i, u in enumerate(users)
        ])
        ids = dict((await s.execute(select(Member.slack_user_id, Member.id).where(Member.slack_user_id.in_(users)))).all())
        first = (await s.execute(select(Task.id).order_by(Task.id.desc()).limit(1))).scalar() or 0
        tasks, links = [], []
        for i, u in enumerate(users):
            for k in range(per_rep):
                task_id = first + 1 + i * per_rep + k
                tasks.append(dict(
                    id=task_id, workspace_id=workspace.id, team_id=manager.team_id, title=f"{k:03d} {LONG_TITLE}"[:200], details="",
                    customer_id=customer.id, priority=1 + k % 3, difficulty=1, due_date=today + timedelta(days=k % 21 - 10),
                    status="open" if k % 4 else "in_progress", created_by_id=manager.id, created_at=now, updated_at=now,
                ))
                links.append(dict(task_id=task_id, member_id=ids[u]))
        for start in range(0, len(tasks), 5000):
            await s.execute(insert(Task), tasks[start:start + 5000])
            await s.execute(insert(TaskAssignee), links[start:start + 5000])
        if db.url.startswith("postgresql"):
            # explicit ids leave the sequence behind: the next task made through the bot must not collide
            await s.execute(text("SELECT setval(pg_get_serial_sequence('task', 'id'), (SELECT max(id) FROM task))"))
        # what autovacuum would do after such a load: the planner needs the new tables' statistics
        await s.execute(text("ANALYZE"))
    return users
