"""A Redis lock store that keeps answering while Redis is down (deploy/endpoints.production.yml).

Rasa takes a per-conversation lock for every message. With its own RedisLockStore a Redis
outage makes every message fail after the WhatsApp webhook has been acknowledged, so Meta
never sends it again and the citizen gets no answer. This store uses Redis while Redis
answers, and otherwise a lock held in this process, trying Redis again after
`retry_after_seconds`:

- one server alone loses nothing: the WhatsApp channel already hands a sender's messages
  over one at a time, and the fallback lock serialises them as Redis would;
- several servers lose only the cross-server ordering of one sender's messages that reach
  two servers within the same moments, while Redis is down; the database guarantees (one
  claim per message id, row locks on bookings) hold regardless.

Options (lock_store section): url, port, db, password, key_prefix as for `type: redis`;
socket_timeout (default 1 s: the Redis client is synchronous and blocks the event loop while
it waits); retry_after_seconds (default 5); poll_seconds (default 0.05).

poll_seconds: a message whose conversation is locked by another server asks again after this
long. Rasa's default is a whole second, and with several servers that second is paid whenever a
citizen's next message reaches another server while the previous turn is still finishing
there (sending its last replies, saving the tracker). Under load turns finish later, more
messages wait, each for at least a second: measured with 2 servers at 10 msg/s, p95 went from
under a second to over 10 s (docs/benchmark.md). Asking again is one Redis GET and SET.
"""
import json
import logging
import time
from typing import Any, AsyncContextManager, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with each change of a lock made atomically.

    Rasa reads a conversation's lock, changes it in Python and writes it back. Two servers doing
    that at once for one conversation (one finishing a turn, the other taking the citizen's next
    message) overwrite each other: the new ticket is lost (the message fails with "Could not
    acquire lock") or the finished one comes back (the message waits until that ticket expires,
    60 s, and the citizen hears nothing). Seen under load with 2 servers (docs/benchmark.md).
    Here every read-change-write runs in a WATCH/MULTI transaction, retried when another server
    changed the lock in between.
    """

    def _change(self, conversation_id: Text,
                change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any]]) -> Any:
        """Applies `change` (the lock or None -> the lock to keep or None to delete, a result) atomically."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    kept, result = change(lock)
                    pipe.multi()
                    if kept is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, kept.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed this lock meanwhile: read it again

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._change(conversation_id, issue)

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        def finish_and_drop_when_idle(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
                if not lock.is_someone_waiting():
                    lock = None
            return lock, None

        self._change(conversation_id, finish_and_drop_when_idle)


class FailoverRedisLockStore(LockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        options = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        options.update(kwargs)
        host = (endpoint_config.url if endpoint_config is not None else None) or options.pop("host", "localhost")
        options.pop("url", None)
        self.retry_after_seconds = float(options.pop("retry_after_seconds", 5))
        self.poll_seconds = float(options.pop("poll_seconds", 0.05))
        options["socket_timeout"] = float(options.get("socket_timeout", 1))
        self.redis = AtomicRedisLockStore(host=host, **options)
        self.fallback = InMemoryLockStore()
        self._down_until = 0.0
        super().__init__()

    def _redis_errors(self) -> tuple:
        import redis

        return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

    def _call(self, name: str, *args: Any) -> Any:
        if time.monotonic() >= self._down_until:
            try:
                result = getattr(self.redis, name)(*args)
                if self._down_until:
                    logger.warning("lock store: Redis answers again; conversation locks are shared again")
                    self._down_until = 0.0
                return result
            except self._redis_errors() as error:
                if not self._down_until:
                    logger.error("lock store: Redis unavailable (%s); locks are held in this process until "
                                 "it answers again", type(error).__name__)
                self._down_until = time.monotonic() + self.retry_after_seconds
        return getattr(self.fallback, name)(*args)

    @property
    def using_fallback(self) -> bool:
        return bool(self._down_until)

    def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
             wait_time_in_seconds: Optional[float] = None) -> AsyncContextManager[TicketLock]:
        # Rasa's agent asks with the default wait; this store's own interval replaces it.
        wait = self.poll_seconds if wait_time_in_seconds is None else wait_time_in_seconds
        return super().lock(conversation_id, lock_lifetime, wait)

    # Every change of a lock goes to Redis as one atomic step (or to the local fallback). Rasa
    # calls finish_serving only from cleanup, which both stores replace, so it needs no override.
    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self._call("issue_ticket", conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        self._call("update_lock", conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self._call("cleanup", conversation_id, ticket_number)

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self._call("get_lock", conversation_id)

    def delete_lock(self, conversation_id: Text) -> None:
        self._call("delete_lock", conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self._call("save_lock", lock)
