"""命令行 ``ledger mentors``: mentor and apprentice (导师带徒), the yearly mentor ranking."""
from __future__ import annotations

from typing import Any

import click

from adapters.cli.common import AsOf, emit, fold_log, replay_options, run, stamp
from adapters.cli.main import main
from domain.periods import check_year
from projections.mentoring import MentoringModel, mentors_json


@main.group(help="导师带徒：师徒结对、徒弟考评与技术比武成绩；按徒弟进步大小评价导师。")
def mentors() -> None:
    pass


@mentors.command("show", help="查看某年师徒结对与导师排名，如 ledger mentors show 2019 --branch SMELT")
@click.argument("year")
@click.option("--branch", default=None, help="支部代码（不填则全公司排名）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@replay_options
def mentors_show(year: str, branch: str | None, as_json: bool, as_of: AsOf | None) -> None:
    run(lambda: check_year(year))
    model = fold_log(MentoringModel(), as_of)
    emit(stamp(mentors_json(model, year, branch), model, as_of), as_json, _text)


def _text(d: dict[str, Any]) -> str:
    scope = f"支部 {d['branch']}" if d["branch"] else "全公司"
    lines = [f"{d['year']} 年导师带徒（{scope}）：师徒 {d['pairs']} 对，其中导师为党员或入党积极分子 "
             f"{d['pairs_with_party_mentor']} 对",
             "  名次 导师              身份          徒弟进步 最好比武名次 徒弟"]
    for m in d["mentors"]:
        rank = str(m["rank"]) if m["rank"] is not None else "—"
        who = f"{m['name']}（{m['mentor']}）"
        progress = m["progress"] if m["progress"] is not None else "未满两次考评"
        best = str(m["best_skill_rank"]) if m["best_skill_rank"] is not None else "—"
        apprentices = "、".join(f"{a['name']}（{a['pair']}）" for a in m["apprentices"])
        lines.append(f"  {rank:>4} {who:<16} {m['standing_name']:<6} {progress:>8} {best:>12} {apprentices}")
    return "\n".join(lines)
