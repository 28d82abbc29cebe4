"""The offline demo (the README's first quick-start command) plays to the end."""

from __future__ import annotations

from bot.demo import run_demo


async def test_the_demo_plays_every_step_and_slack_rejects_nothing(tmp_path, capsys):
    """`salesbot demo` exits 0 only when every step answered as expected and no payload was rejected."""
    assert await run_demo(db_path=str(tmp_path / "demo.db"), quiet=True) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert ", 0 rejected," in summary
