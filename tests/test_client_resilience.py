"""The storage client when connections drop: reads are sent once more, actions never blindly (issue 12, finding 1)."""

from __future__ import annotations

import random
import threading
import time

import pytest
from fake_service import FakeService, fake_service, never

from conftest import SEED_NOW, TOKEN
from helpers import free_port
from storage.client import (
    KEEPALIVE_EXPIRY_SECONDS,
    RETRY_PAUSE_SECONDS,
    OutcomeUnknown,
    ServiceUnreachable,
    StorageClient,
)
from storage.service import KEEP_ALIVE_SECONDS, Service, create_app


def serve(db, port: int = 0, keep_alive: float = KEEP_ALIVE_SECONDS) -> Service:
    app = create_app(db, TOKEN, lambda: (SEED_NOW.replace(tzinfo=None), False))
    service = Service(app, "127.0.0.1", port or free_port(), keep_alive=keep_alive)
    service.start()
    return service


def reused(path: str, nth: int) -> bool:
    """Every request after the first on a connection: the race with a closing keep-alive connection, made certain."""
    return nth > 1


def test_reads_keep_working_against_a_service_that_closes_idle_connections_quickly(seeded_db):
    """Requests spaced just about the service's keep-alive time meet connections it is closing right then."""
    keep_alive = 0.05
    service = serve(seeded_db, keep_alive=keep_alive)
    client = StorageClient(f"http://127.0.0.1:{service.server.config.port}", TOKEN)
    failures: list[Exception] = []

    def reader(seed: int) -> None:
        jitter = random.Random(seed)
        for i in range(40):
            time.sleep(keep_alive + jitter.uniform(-0.004, 0.004))
            try:
                client.clock() if i % 2 else client.query("post_counts")
            except Exception as e:  # collected: the assertion below shows them all
                failures.append(e)

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        client.close()
        service.stop()
    assert failures == []


def test_a_read_whose_connection_drops_is_sent_once_more():
    with fake_service(reused) as fake:
        client = StorageClient(fake.url, TOKEN)
        for _ in range(3):
            assert client.clock()[0].year == 2026
            assert client.query("post_counts")["n"].tolist() == [1]
        frame, _ = client.sql("SELECT 1", actor="analyst")
        assert len(frame) == 1
        client.close()
    assert len(fake.received) > 7  # some were dropped and sent again


def test_an_action_whose_connection_drops_is_not_sent_again():
    with fake_service(lambda path, nth: not path.startswith("/v1/clock")) as fake:
        client = StorageClient(fake.url, TOKEN)
        with pytest.raises(OutcomeUnknown, match="may or may not have been done; check before trying again"):
            client.action("alert_acknowledge", "comms", alert_id=1)
        with pytest.raises(OutcomeUnknown):
            client.snapshot("analyst")
        client.close()
    assert fake.received.count("/v1/actions/alert_acknowledge") == 1
    assert fake.received.count("/v1/snapshot") == 1


def test_an_action_that_never_reached_the_service_is_sent_again():
    """Refused: nothing was sent, so even an action may go again; the service comes up within the pause."""
    port = free_port()
    started: list[FakeService] = []

    def come_up() -> None:
        time.sleep(RETRY_PAUSE_SECONDS / 5)
        started.append(FakeService(port, never).start())

    late = threading.Thread(target=come_up)
    late.start()
    client = StorageClient(f"http://127.0.0.1:{port}", TOKEN)
    try:
        assert client.action("alert_acknowledge", "comms", alert_id=1) == {"ok": True}
    finally:
        late.join()
        client.close()
        started[0].stop()
    assert started[0].received == ["/v1/actions/alert_acknowledge"]


def test_a_service_that_is_briefly_down_gives_a_clear_error_then_answers_again(seeded_db):
    service = serve(seeded_db)
    port = service.server.config.port
    client = StorageClient(f"http://127.0.0.1:{port}", TOKEN)
    assert len(client.query("post_counts")) == 2
    service.stop()
    began = time.monotonic()
    with pytest.raises(ServiceUnreachable, match=r"is not reachable: .*\(tried twice; is the engine running\?\)"):
        client.query("post_counts")
    assert time.monotonic() - began >= RETRY_PAUSE_SECONDS  # it waited and tried again
    with pytest.raises(ServiceUnreachable) as refused:
        client.action("alert_acknowledge", "comms", alert_id=1)
    assert not isinstance(refused.value, OutcomeUnknown)  # refused: certainly not done
    service = serve(seeded_db, port)
    try:
        assert len(client.query("post_counts")) == 2
        assert client.clock()[1] is False
    finally:
        client.close()
        service.stop()


def test_the_client_lets_go_of_idle_connections_before_the_service_closes_them(seeded_db):
    """The root cause of the dropped first Overview: both sides used 5 s, so a reuse at 5 s raced the close."""
    service = serve(seeded_db)
    client = StorageClient(f"http://127.0.0.1:{service.server.config.port}", TOKEN)
    try:
        pool_expiry = client._http._transport._pool._keepalive_expiry  # what httpx really uses
        assert pool_expiry == KEEPALIVE_EXPIRY_SECONDS
        assert service.server.config.timeout_keep_alive >= pool_expiry + 5
    finally:
        client.close()
        service.stop()
