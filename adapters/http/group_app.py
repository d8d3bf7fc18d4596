"""集团账本的 HTTP 接口 (``ledger group serve``): the group ledger's reads — member companies
with what the group holds of each (witnessed size, root, split-view evidence) and the
group-wide quarter and year rankings, each row with its company's approval event and
inclusion proof against the checkpoint the group witnessed (``adapters/integrity/group.py``)
— and its operator's writes: registering a company, collecting its checkpoints (a posted
publication bundle, or fetched from the company's ``ledger serve``) with the consistency
check and the group's cosignature, and accepting its published quarter and year results.

Reads: no log-in. Everything they serve is signed material a company may show anyone
(checkpoints, approval events, proofs) and the group's own judgement of it.

Writes: ``Authorization: Bearer <T>`` where T is the group operator's token, the
environment variable ``LEDGER_GROUP_OPERATOR_TOKEN`` of the server process (at least 32
characters; compared in constant time). The group has one operator, not a directory of users
with roles, so one secret held by the process is the whole of its access control; without the
variable the writes are switched off (503), not open. A wrong or missing token: 401, and the
store is not opened.

Neither creates the group ledger or its witness key: they are made by ``ledger group init``;
without them every request answers 503 naming what is missing and how to create it. Writes
take turns within the process (one lock): two collections of one company never interleave.
"""
from __future__ import annotations

import hmac
import json
import os
import threading
import urllib.parse
from typing import Any, Callable

from fastapi import Body, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline

from adapters.integrity.group import Group, group_signer, open_group
from adapters.integrity.monitor import Getter, WitnessError, bundle_from_file, fetch_publication, http_get, observe
from domain.errors import InvalidInput
from domain.integrity.note import parse_verifier_key
from domain.integrity.witness import VERDICT_NAMES
from domain.periods import check_quarter, check_year

OPERATOR_TOKEN = "LEDGER_GROUP_OPERATOR_TOKEN"
COMPANY_TOKEN = "LEDGER_GROUP_TOKEN"  # the group's token at the companies' ledger serve (as ledger group collect --token)
MIN_TOKEN_LENGTH = 32
Fetcher = Callable[[str, str | None], Getter]


class GroupRefused(Exception):
    """An answer other than 2xx: ``status``, the ``field`` at fault, the reason (中文) and what
    else the body carries (the observation, the evidence)."""

    def __init__(self, status: int, field: str | None, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status, self.field, self.reason, self.extra = status, field, reason, extra


def _plain(data: Any) -> Any:
    """Decimals as strings, the rest as JSON has it (as ``ledger group … --json`` prints)."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def _read(action: Any) -> Any:
    group = open_group(create=False)
    try:
        return _plain(action(group))
    finally:
        group.store.close()


bearer = HTTPBearer(auto_error=False, description=f"集团操作员令牌（环境变量 {OPERATOR_TOKEN}）：Authorization: Bearer <令牌>")


def operator(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """The dependency of every write: the request carries the operator's token."""
    expected = os.environ.get(OPERATOR_TOKEN, "")
    if not expected:
        raise GroupRefused(503, OPERATOR_TOKEN, f"集团写接口未启用：启动 ledger group serve 前设置 {OPERATOR_TOKEN}")
    if len(expected) < MIN_TOKEN_LENGTH:
        raise GroupRefused(503, OPERATOR_TOKEN, f"{OPERATOR_TOKEN} 太短（至少 {MIN_TOKEN_LENGTH} 个字符），写接口未启用")
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise GroupRefused(401, "Authorization", "缺少令牌：请求头应为 Authorization: Bearer <集团操作员令牌>")
    if not hmac.compare_digest(credentials.credentials.encode("utf-8"), expected.encode("utf-8")):
        raise GroupRefused(401, "Authorization", "令牌无效：不是集团操作员令牌")


def _setup_status(e: WitnessError) -> int:
    """A missing store or key is the server's state (503), anything else the request's (422)."""
    return 503 if e.field in ("store", "LEDGER_GROUP_KEY") else 422


def _field(e: WitnessError) -> str | None:
    """The field of a refused bundle as the HTTP request has it (the CLI says ``file``)."""
    return "body" if e.field == "file" else e.field


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise GroupRefused(422, None, "请求体必须是一个 JSON 对象")
    return body


def _company_url(body: dict[str, Any]) -> tuple[str, str | None]:
    url, token = body.get("url"), body.get("token")
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise GroupRefused(422, "url", f"url 应为该公司 ledger serve 的 http(s) 地址，收到 {url!r}")
    if token is not None and not isinstance(token, str):
        raise GroupRefused(422, "token", "token 应为字符串")
    return url, token or os.environ.get(COMPANY_TOKEN) or None


def _member_of(g: Group, origin: str) -> dict[str, Any]:
    try:
        return g.member(origin)
    except WitnessError as e:
        raise GroupRefused(404, "origin", e.reason) from None


def _register(g: Group, data: dict[str, Any]) -> dict[str, Any]:
    fields = {f: data.get(f) for f in ("name", "origin", "key")}
    for f, v in fields.items():
        if not isinstance(v, str) or not v.strip():
            raise GroupRefused(422, f, f"缺少 {f}（字符串）")
    name, origin, key = (str(fields[f]).strip() for f in ("name", "origin", "key"))
    try:
        parse_verifier_key(key)
    except ValueError as e:
        raise GroupRefused(422, "key", f"公钥无效：{e}") from None
    known = g.store.keys(origin)
    if known and key not in known:
        raise GroupRefused(409, "key", f"{origin} 已登记为另一把公钥；更换密钥须经该公司签署的检查点（ledger key rotate）")
    try:
        return {"member": g.register(name, origin, key)}
    except WitnessError as e:
        raise GroupRefused(422, e.field, e.reason) from None


def _collect(g: Group, origin: str, data: dict[str, Any], fetch: Fetcher) -> dict[str, Any]:
    """Observe ``origin``'s publication (posted, or fetched from ``data["url"]`` from the size
    the group holds): 200 accepted, 409 split view or rollback (filed), 422 not accepted."""
    member = _member_of(g, origin)
    try:
        signer = group_signer(create=False)
    except WitnessError as e:
        raise GroupRefused(503, e.field, e.reason) from None
    held = g.store.held(origin)
    try:
        if "url" in data:
            url, token = _company_url(data)
            try:
                bundle = fetch_publication(fetch(url, token), 0 if held is None else held.tree.size)
            except WitnessError as e:
                raise GroupRefused(502, "url", e.reason) from None
        else:
            bundle = bundle_from_file(json.dumps(data, ensure_ascii=False))
        result = observe(g.store, origin, bundle, signer)
    except WitnessError as e:
        raise GroupRefused(422, _field(e), e.reason) from None
    answer = {**result.as_dict(), "company": member["name"]}
    if result.evidence is not None:
        raise GroupRefused(409, "checkpoint", f"{member['name']}（{origin}）：{VERDICT_NAMES[result.verdict]}——"
                           f"{result.evidence['detail']}；已立案，两份签名检查点见 evidence", **answer)
    if not result.ok:
        raise GroupRefused(422, "checkpoint", f"{member['name']}（{origin}）：{VERDICT_NAMES[result.verdict]}，未接受",
                           **answer)
    return answer


def _accept(g: Group, origin: str, data: dict[str, Any], fetch: Fetcher) -> dict[str, Any]:
    """Accept ``origin``'s results bundle (posted, or fetched from ``data["url"]`` with
    ``level`` and ``period``): 201, 409 if the company is flagged, 422 if not provable."""
    member = _member_of(g, origin)
    if g.flagged(origin):
        raise GroupRefused(409, "origin", f"{member['name']}（{origin}）有分叉或回退证据在案，其结果不予接受",
                           evidence=g.store.evidence(origin))
    bundle = data
    if "url" in data:
        url, token = _company_url(data)
        level, period = data.get("level"), data.get("period")
        if level not in ("quarter", "year"):
            raise GroupRefused(422, "level", f"level 应为 quarter 或 year，收到 {level!r}")
        period = check_quarter(period) if level == "quarter" else check_year(period, "period")
        try:
            bundle = fetch(url, token)(f"/publication/{level}/{period}")
        except WitnessError as e:
            raise GroupRefused(502, "url", e.reason) from None
        if not isinstance(bundle, dict):
            raise GroupRefused(502, "url", "服务器返回的不是结果发布包")
    try:
        return {"accepted": {**g.accept_results(origin, bundle), "company": member["name"]}}
    except WitnessError as e:
        raise GroupRefused(_setup_status(e), _field(e), e.reason) from None


def _add_writes(app: FastAPI, fetch: Fetcher) -> None:
    """The operator's writes, one at a time (a lock per app), on the existing group ledger."""
    writing = threading.Lock()

    def write(action: Callable[[Group], Any]) -> Any:
        with writing:
            try:
                g = open_group(create=False)
            except WitnessError as e:
                raise GroupRefused(503, e.field, e.reason) from None
            try:
                return _plain(action(g))
            finally:
                g.store.close()

    @app.post("/group/members", status_code=201, dependencies=[Depends(operator)],
              summary="登记成员公司：名称、日志来源与验证公钥（ledger group register）")
    def register(body: Any = Body(..., examples=[{"name": "甲公司", "origin": "company-a", "key": "company-a+…"}])) -> Any:
        data = _body(body)
        return write(lambda g: _register(g, data))

    @app.post("/group/members/{origin}/checkpoints", dependencies=[Depends(operator)],
              summary="收取公司的检查点（发布包，或 {\"url\"} 从其 ledger serve 取得），核对一致性并会签；"
                      "分叉或回退：409 与两份检查点（ledger group collect）")
    def collect(origin: str, body: Any = Body(...)) -> Any:
        data = _body(body)
        return write(lambda g: _collect(g, origin, data, fetch))

    @app.post("/group/members/{origin}/results", status_code=201, dependencies=[Depends(operator)],
              summary="接受公司公布的季度或年度结果（结果发布包，或 {\"url\", \"level\", \"period\"} 从其 ledger serve "
                      "取得）：须对着集团见证过的检查点（ledger group accept）")
    def accept(origin: str, body: Any = Body(...)) -> Any:
        data = _body(body)
        return write(lambda g: _accept(g, origin, data, fetch))


def create_group_app(fetch: Fetcher = http_get) -> FastAPI:
    """The app over the group ledger named by ``LEDGER_GROUP_DATABASE_URL`` (read per request).
    ``fetch(base_url, token)``: how the group reaches a company's ``ledger serve`` (a JSON GET;
    tests route it to an in-process app)."""
    app = FastAPIOffline(title="集团党建考核账本",
                         description="成员公司、集团季度与年度排名（每行附包含证明）；集团操作员：登记、收取并见证检查点、接受结果。")

    @app.exception_handler(WitnessError)
    def no_group(request: Request, e: WitnessError) -> JSONResponse:
        status = 503 if e.field == "store" else 404
        return JSONResponse({"error": {"field": e.field, "reason": e.reason}}, status_code=status)

    @app.exception_handler(InvalidInput)
    def invalid(request: Request, e: InvalidInput) -> JSONResponse:
        return JSONResponse({"error": {"field": e.field, "reason": e.reason}}, status_code=422)

    @app.exception_handler(GroupRefused)
    def refused(request: Request, e: GroupRefused) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        return JSONResponse(_plain({"error": {"field": e.field, "reason": e.reason}, **e.extra}),
                            status_code=e.status, headers=headers)

    @app.get("/group/members", summary="成员公司、集团持有的检查点与分叉证据（ledger group members）")
    def members() -> Any:
        return {"members": _read(lambda g: g.members())}

    @app.get("/group/quarter/{period}", summary="集团全部支部的季度排名（ledger group quarter）")
    def quarter(period: str) -> Any:
        check_quarter(period)
        return _read(lambda g: g.rankings("quarter", period))

    @app.get("/group/year/{year}", summary="集团全部支部的年度排名（ledger group year）")
    def year(year: str) -> Any:
        check_year(year)
        return _read(lambda g: g.rankings("year", year))

    _add_writes(app, fetch)
    return app
