"""The intake web app and its server: `civicradar intake` (its own process and port, never the dashboard's)."""

from __future__ import annotations

import logging

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from intake.spool import Spool
from intake.webform import TipForm
from intake.webhooks import Meta, Sms
from settings import Settings

log = logging.getLogger(__name__)


def create_app(s: Settings) -> Starlette:
    spool = Spool(s.path(s.intake.spool))
    form, sms, meta = TipForm(s.intake, s.agency, spool), Sms(s.intake, spool), Meta(s.intake, spool)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/health", health),
        Route("/tip", form.get, methods=["GET"]),
        Route("/tip", form.post, methods=["POST"]),
        Route("/sms/twilio", sms.post, methods=["POST"]),
        Route("/meta/webhook", meta.get, methods=["GET"]),
        Route("/meta/webhook", meta.post, methods=["POST"]),
    ])


def serve(s: Settings) -> int:
    app = create_app(s)
    log.info("intake listening on http://%s:%d/tip (spool %s)", s.intake.host, s.intake.port, s.path(s.intake.spool))
    uvicorn.run(app, host=s.intake.host, port=s.intake.port, log_level="warning", server_header=False,
                proxy_headers=s.intake.behind_proxy, forwarded_allow_ips="*" if s.intake.behind_proxy else None)
    return 0
