"""The circuit breaker: a platform that is down is not hammered, and is tried again."""

import asyncio

import httpx
import pytest

from alertsim.core import ManualClock
from alertsync.errors import PlatformRejectedError, PlatformUnavailableError
from alertsync.platforms.circuit import Circuit
from alertsync.platforms.http import PlatformHttp, Throttle


class Platform:
    def __init__(self) -> None:
        self.status = 503
        self.sent = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return httpx.Response(self.status, text="down")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=0.0)


def connect(platform: Platform, clock: ManualClock) -> PlatformHttp:
    return PlatformHttp(
        client=httpx.AsyncClient(transport=httpx.MockTransport(platform.handle)),
        base_url="http://platform.test",
        auth_headers={},
        throttle=Throttle(None, clock=clock),
        describe_error=lambda response: response.text,
        retry_after=lambda response: None,
        circuit=Circuit(threshold=3, pause=10, max_pause=40, clock=clock),
    )


async def call(http: PlatformHttp) -> None:
    await http.request("GET", "/things", what="list things")


async def test_after_the_threshold_nothing_is_sent_until_the_pause_is_over(
    clock: ManualClock,
) -> None:
    platform = Platform()
    http = connect(platform, clock)
    for _ in range(3):
        with pytest.raises(PlatformUnavailableError, match="503 down"):
            await call(http)
    assert platform.sent == 3

    for _ in range(5):
        with pytest.raises(PlatformUnavailableError) as refused:
            await call(http)
    assert platform.sent == 3  # refused here, not sent
    assert str(refused.value) == (
        "cannot list things: the platform failed 3 times in a row; "
        "AlertSync pauses its calls to it and tries again later"
    )

    clock.advance(10)
    platform.status = 200
    await call(http)  # the probe
    assert platform.sent == 4
    await call(http)
    assert platform.sent == 5  # closed again


async def test_a_failed_probe_doubles_the_pause_up_to_its_cap(clock: ManualClock) -> None:
    platform = Platform()
    http = connect(platform, clock)
    for _ in range(3):
        with pytest.raises(PlatformUnavailableError):
            await call(http)
    pauses = []
    for _ in range(4):
        waited = 0
        while True:
            try:
                await call(http)  # the probe, once the pause is over
            except PlatformUnavailableError as exc:
                if "pauses its calls" in str(exc):
                    clock.advance(1)
                    waited += 1
                    continue
            break
        pauses.append(waited)
    assert pauses == [10, 20, 40, 40]


async def test_answers_below_500_are_not_failures(clock: ManualClock) -> None:
    platform = Platform()
    platform.status = 404
    http = connect(platform, clock)
    for _ in range(10):
        with pytest.raises(PlatformRejectedError, match="404"):
            await call(http)
    assert platform.sent == 10


async def test_a_probe_that_never_got_its_answer_lets_the_next_request_probe(
    clock: ManualClock,
) -> None:
    platform = Platform()
    http = connect(platform, clock)
    for _ in range(3):
        with pytest.raises(PlatformUnavailableError):
            await call(http)
    clock.advance(10)
    hang = asyncio.Event()

    async def stalled(request: httpx.Request) -> httpx.Response:
        await hang.wait()
        raise AssertionError("never answered")

    http.client = httpx.AsyncClient(transport=httpx.MockTransport(stalled))
    probe = asyncio.ensure_future(call(http))
    await asyncio.sleep(0.01)
    probe.cancel()  # the reconcile was cancelled (the operator stopping, a timeout)
    with pytest.raises(asyncio.CancelledError):
        await probe

    http.client = httpx.AsyncClient(transport=httpx.MockTransport(platform.handle))
    platform.status = 200
    await call(http)  # not refused: this one is the probe now
    assert platform.sent == 4
