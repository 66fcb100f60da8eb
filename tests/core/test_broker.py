"""The embedded broker's idle poll (core/broker.py): a queue found empty is not asked again until the database
has changed, and a message sent after that is still received."""

from __future__ import annotations

from queue import Empty

import pytest
from kombu import Connection
from sqlalchemy import event

import shangliang.core.broker  # noqa: F401  (registers the embedded transport)


@pytest.fixture
def url(tmp_path):
    return f"embedded+sqlite:///{tmp_path / 'broker.sqlite'}"


def test_an_empty_queue_is_not_queried_again_until_the_database_changes(url):
    with Connection(url) as receiver, Connection(url) as sender:
        channel = receiver.default_channel
        for _ in range(2):  # kombu's query: the first creates the queue's row (a change), the second finds it
            with pytest.raises(Empty):
                channel._get("q")
        statements = []
        event.listen(channel.session.bind, "before_cursor_execute",
                     lambda *args, **kwargs: statements.append(args[2]))
        for _ in range(5):
            with pytest.raises(Empty):
                channel._get("q")
        assert statements == []  # unchanged: nothing asked, no write lock taken

        sender.SimpleQueue("q").put({"n": 1})
        message = receiver.SimpleQueue("q").get(timeout=5)
        assert message.payload == {"n": 1}
        message.ack()
        assert statements  # the change was noticed: kombu's query ran again


def test_a_message_sent_between_two_polls_is_received(url):
    with Connection(url) as receiver, Connection(url) as sender:
        queue = receiver.SimpleQueue("q")
        with pytest.raises(queue.Empty):
            queue.get(block=False)
        for n in range(3):
            sender.SimpleQueue("q").put({"n": n})
            message = queue.get(timeout=5)
            assert message.payload == {"n": n}
            message.ack()
            with pytest.raises(queue.Empty):
                queue.get(block=False)


def test_a_message_sent_wakes_the_waiting_worker_and_no_wake_up_is_lost(tmp_path, url):
    """The worker's wait between polls ends when a message is committed (core/broker.py's wake-up), even when the
    message was sent before the wait began; without the wake-up each of these waits would last its full 30 s."""
    import time

    from shangliang.core import broker

    address = broker.wake_address(str(tmp_path / "broker.sqlite"))
    if address is None:
        pytest.skip("the wake-up uses Linux's abstract Unix sockets; elsewhere the worker only polls")
    waiter = broker._Waiter(address)
    try:
        assert waiter.socket is not None
        assert broker._Waiter(address).socket is None  # a second waiter on the same broker file only polls
        with Connection(url) as sender:
            for _ in range(2):
                sender.SimpleQueue("q").put({"n": 1})  # sent before the wait begins: the wake-up waits for it
                started = time.monotonic()
                waiter.wait(30)
                assert time.monotonic() - started < 10
        started = time.monotonic()
        waiter.wait(0.3)  # every earlier wake-up was read: this wait is a full one
        assert time.monotonic() - started >= 0.25
    finally:
        waiter.close()
    broker.wake(address)  # no one waits: nothing happens
