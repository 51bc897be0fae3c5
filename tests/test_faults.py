"""The fast fault cases of the production configuration: one webhook taken by two servers at
once, duplicated and reordered webhooks, and Redis down under the lock store of
deploy/endpoints.production.yml. The slow ones, which need the whole stack, are in
scripts/faults.py; fifty guests racing for the last room are in test_booking_race.py."""
import asyncio
import socket
import sys
import time
from typing import List

import pytest
from rasa.core.channels.channel import UserMessage

from connectors.whatsapp import WhatsAppInput
from connectors.whatsapp.settings import WhatsAppSettings
from simulator import graph_fake
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT))
from deploy.lock_store import FailoverRedisLockStore  # noqa: E402

APP_SECRET = "faults-app-secret"
ACCESS_TOKEN = "faults-access-token"
SENDER = "919800000077"


# --- Webhooks: two servers, duplicates, reordering -------------------------------------------


@pytest.fixture
def postgres_channel_db(new_database) -> str:
    """A migrated PostgreSQL database that the channels claim message ids in (DATABASE_URL)."""
    return new_database("postgresql", seeded=False)


class Servers:
    """Channels as several Rasa servers hold them, over one database and one Graph API fake;
    the dialogue is a stand-in that answers each message with its text, slowly enough for
    messages to overlap."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.handled: List[str] = []

    async def __aenter__(self) -> "Servers":
        self.fake = graph_fake.GraphFake(ACCESS_TOKEN)
        base_url = await self.fake.start()
        settings = WhatsAppSettings(verify_token="v", app_secret=APP_SECRET, access_token=ACCESS_TOKEN,
                                    phone_number_id=graph_fake.DEFAULT_PHONE_NUMBER_ID, api_base_url=base_url,
                                    send_attempts=1)
        self.channels = [WhatsAppInput(settings) for _ in range(self.count)]
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.drain()
        for channel in self.channels:
            await channel.client.close()
        await self.fake.stop()

    async def dialogue(self, message: UserMessage) -> None:
        self.handled.append(message.text)
        await asyncio.sleep(0.05)
        await message.output_channel.send_text_message(message.sender_id, f"answer to {message.text}")

    def deliver(self, server: int, *messages) -> None:
        self.channels[server].accept(graph_fake.webhook(list(messages)), self.dialogue)

    async def drain(self) -> None:
        for channel in self.channels:
            await channel.drain()


def test_one_webhook_taken_by_two_servers_at_once_is_answered_once(postgres_channel_db):
    async def scenario() -> List[str]:
        async with Servers(2) as servers:
            first = graph_fake.text_message(SENDER, "trade licence chai")
            # Meta retries while the first delivery is still being worked on; the balancer sends
            # the copies to either server.
            for server in (0, 1, 0, 1, 1):
                servers.deliver(server, first)
            await servers.drain()
            return servers.fake.texts(SENDER)

    assert asyncio.run(scenario()) == ["answer to trade licence chai"]


def test_duplicated_and_reordered_webhooks_get_one_reply_each_in_the_order_taken(postgres_channel_db):
    async def scenario():
        async with Servers(1) as servers:
            one, two, three = (graph_fake.text_message(SENDER, text) for text in ("one", "two", "three"))
            # Meta's order is not guaranteed: "two" comes first, then "one", then copies of both,
            # then "three" batched with a copy of "one", then another copy of "three".
            for messages in ((two,), (one,), (two,), (one,), (three, one), (three,)):
                servers.deliver(0, *messages)
            await servers.drain()
            return servers.handled, servers.fake.texts(SENDER)

    handled, sent = asyncio.run(scenario())
    assert handled == ["two", "one", "three"]
    assert sent == ["answer to two", "answer to one", "answer to three"]


# --- Redis down -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_redis_down_messages_are_still_serialised_and_answered():
    """The lock store of deploy/endpoints.production.yml, with nothing listening where Redis
    should be: each conversation's lock still admits one message at a time, and quickly."""
    from rasa.utils.endpoints import EndpointConfig

    store = FailoverRedisLockStore(EndpointConfig(url="127.0.0.1", port=free_port(), db=1, key_prefix="faults"))
    order: List[str] = []

    async def handle(name: str) -> None:
        async with store.lock(SENDER, wait_time_in_seconds=0.01):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    async def scenario() -> float:
        started = time.monotonic()
        await asyncio.gather(handle("first"), handle("second"), handle("third"))
        return time.monotonic() - started

    took = asyncio.run(scenario())
    assert store.using_fallback
    assert order == ["first in", "first out", "second in", "second out", "third in", "third out"]
    assert took < 3


def test_rasas_own_redis_lock_store_refuses_every_message_while_redis_is_down():
    """Why the production lock store is not `type: redis`: Rasa's raises for every message,
    after the channel has acknowledged the webhook, so the message would be lost."""
    from rasa.core.lock_store import LockError, RedisLockStore

    store = RedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout=1)

    async def scenario() -> None:
        async with store.lock(SENDER):
            pass

    with pytest.raises(LockError, match="Connection refused"):
        asyncio.run(scenario())


def test_a_redis_that_comes_back_is_used_again():
    from rasa.utils.endpoints import EndpointConfig

    store = FailoverRedisLockStore(EndpointConfig(url="127.0.0.1", port=6379, db=1, key_prefix="faults-test",
                                                  retry_after_seconds=0))
    try:
        store.redis.red.ping()
    except Exception:
        pytest.skip("no Redis at 127.0.0.1:6379")

    async def scenario() -> None:
        async with store.lock(SENDER, wait_time_in_seconds=0.01):
            assert store.redis.get_lock(SENDER) is not None  # the lock is in Redis

    store._down_until = time.monotonic() - 1  # as if Redis had been down until a moment ago
    asyncio.run(scenario())
    assert not store.using_fallback


def test_a_conversation_locked_by_another_server_is_taken_soon_after_it_is_freed():
    """Two servers (two stores on one Redis): the second asks for a conversation the first holds
    for 0.2 s. Rasa's own wait would make it ask again only after a whole second."""
    from rasa.utils.endpoints import EndpointConfig

    def server() -> FailoverRedisLockStore:
        return FailoverRedisLockStore(EndpointConfig(url="127.0.0.1", port=6379, db=1, key_prefix="faultspoll"))

    first, second = server(), server()
    conversation = f"{SENDER}-{time.time_ns()}"  # no lock of an earlier run in the way
    first.redis.red.ping()  # Redis runs on every machine here: a missing one fails, not skips
    assert second.poll_seconds == 0.05
    took = {}

    async def hold() -> None:
        async with first.lock(conversation):
            await asyncio.sleep(0.2)

    async def wait() -> None:
        await asyncio.sleep(0.02)
        asked = time.monotonic()
        async with second.lock(conversation):  # as Rasa's agent asks: no wait time given
            took["wait"] = time.monotonic() - asked

    async def scenario() -> None:
        await asyncio.gather(hold(), wait())

    asyncio.run(scenario())
    assert not first.using_fallback and not second.using_fallback
    assert 0.1 < took["wait"] < 0.9


def test_the_production_endpoints_build_the_failover_lock_store_with_its_poll_interval(monkeypatch):
    """deploy/endpoints.production.yml as scripts/production.py fills it in from the environment."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import production
    from rasa.core.lock_store import LockStore
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.setenv("LOCK_POLL_SECONDS", "0.2")
    environment = production.endpoint_environment("postgresql://postgres@127.0.0.1:5432/rasa_tracker",
                                                  "redis://127.0.0.1:6379/3", 8055)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "deploy" / "endpoints.production.yml"))
    store = LockStore.create(endpoints.lock_store)
    assert isinstance(store, FailoverRedisLockStore)
    assert store.poll_seconds == 0.2 and store.retry_after_seconds == 5
    assert endpoints.tracker_store.type == "SQL" and endpoints.tracker_store.kwargs["db"] == "rasa_tracker"
    assert endpoints.action.url == "http://127.0.0.1:8055/webhook"


def hammer_one_conversation(make_store, rounds: int = 150) -> dict:
    """Two servers (threads, each with its own store and event loop) take one conversation's lock
    in turn as fast as they can; counts overlaps, lock errors and rounds done."""
    import threading

    from rasa.core.lock_store import LockError

    conversation = f"{SENDER}-{time.time_ns()}"
    state = {"inside": 0, "overlaps": 0, "lock_errors": 0, "done": 0}
    guard = threading.Lock()

    async def server(store) -> None:
        for _ in range(rounds):
            try:
                async with store.lock(conversation, lock_lifetime=5, wait_time_in_seconds=0.001):
                    with guard:
                        state["inside"] += 1
                        state["overlaps"] += state["inside"] > 1
                    await asyncio.sleep(0.001)
                    with guard:
                        state["inside"] -= 1
                        state["done"] += 1
            except LockError:
                state["lock_errors"] += 1

    threads = [threading.Thread(target=lambda: asyncio.run(server(make_store()))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return state


def test_two_servers_taking_one_conversation_never_overlap_and_never_lose_a_ticket():
    from rasa.utils.endpoints import EndpointConfig

    def store() -> FailoverRedisLockStore:
        return FailoverRedisLockStore(EndpointConfig(url="127.0.0.1", port=6379, db=1, key_prefix="faultsrace"))

    store().redis.red.ping()
    state = hammer_one_conversation(store)
    assert state == {"inside": 0, "overlaps": 0, "lock_errors": 0, "done": 300}
