"""The base every platform's adapter builds on: the contract, typed for one platform.

The core hands an adapter the spec block as parsed and listings as plain objects.
`TypedAdapter` checks, here and only here, that they are this platform's own (its
`block_model`, its `object_model`), then calls the methods the platform implements
(`_validate`, `_observe`, ...), which take them typed and never check them again.
"""

from abc import abstractmethod
from collections.abc import Sequence
from typing import Generic, Protocol, TypeGuard, TypeVar, final

from pydantic import BaseModel

from alertsync.errors import InvalidSpecError
from alertsync.platforms.base import (
    DeliveryTest,
    DesiredIntegration,
    Observation,
    PlatformAdapter,
    ReadSecret,
)
from alertsync.platforms.http import PlatformHttp, Throttle

__all__ = ["PlatformClient", "TypedAdapter"]


class PlatformClient(Protocol):
    """What every platform client offers the adapter base: its connection and a check."""

    http: PlatformHttp

    async def check(self) -> None:
        """One cheap authenticated call: proves the API answers and accepts us."""


BlockT = TypeVar("BlockT", bound=BaseModel)
ObjectT = TypeVar("ObjectT")
ClientT = TypeVar("ClientT", bound=PlatformClient)


class TypedAdapter(PlatformAdapter, Generic[BlockT, ObjectT, ClientT]):
    """One platform's adapter: its spec block, the objects it lists, and its client."""

    block_model: type[BlockT]
    object_model: type[ObjectT]

    def __init__(self, client: ClientT) -> None:
        self.client = client
        # The last listing checked: a resync hands every observe the same one.
        self._checked: Sequence[ObjectT] | None = None

    # -- what the core calls: checked, then handed on ---------------------------------

    @final
    def validate(self, desired: DesiredIntegration) -> None:
        self._validate(self._own(desired))

    @final
    async def observe(
        self, desired: DesiredIntegration, listing: Sequence[object] | None = None
    ) -> Observation:
        own = None if listing is None else self._own_listing(listing)
        return await self._observe(self._own(desired), own)

    @final
    async def create(self, desired: DesiredIntegration) -> Observation:
        return await self._create(self._own(desired))

    @final
    async def update(self, desired: DesiredIntegration, observed: Observation) -> Observation:
        return await self._update(self._own(desired), observed)

    @final
    async def with_secrets(
        self, desired: DesiredIntegration, read_secret: ReadSecret
    ) -> DesiredIntegration:
        return await self._with_secrets(self._own(desired), read_secret)

    @final
    async def open_alerts(self, desired: DesiredIntegration, observed: Observation) -> int | None:
        return await self._open_alerts(self._own(desired), observed)

    @final
    async def before_delete(self, desired: DesiredIntegration, external_id: str) -> str | None:
        return await self._before_delete(self._own(desired), external_id)

    @final
    async def after_write(
        self, desired: DesiredIntegration, before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        return await self._after_write(self._own(desired), before, after)

    async def check(self) -> None:
        await self.client.check()

    def throttle(self) -> Throttle:
        return self.client.http.throttle

    async def aclose(self) -> None:
        await self.client.http.client.aclose()

    # -- what a platform implements ---------------------------------------------------

    @abstractmethod
    async def list_all(self) -> Sequence[ObjectT]:
        """Every object of the managed kind, all pages: the batched resync's one read."""

    @abstractmethod
    async def _observe(
        self, desired: DesiredIntegration[BlockT], listing: Sequence[ObjectT] | None
    ) -> Observation:
        """Find the object (stored id, then marker, then name) and compare it.

        With `listing`, no request is made; without, a targeted read is.
        """

    @abstractmethod
    async def _create(self, desired: DesiredIntegration[BlockT]) -> Observation: ...

    @abstractmethod
    async def _update(
        self, desired: DesiredIntegration[BlockT], observed: Observation
    ) -> Observation: ...

    def _validate(self, desired: DesiredIntegration[BlockT]) -> None:
        """Platform rules the CRD schema cannot express; raises InvalidSpecError."""

    def _default_block(self) -> BlockT:
        """The block when the spec leaves it out: the model's defaults."""
        return self.block_model()

    async def _with_secrets(
        self, desired: DesiredIntegration[BlockT], read_secret: ReadSecret
    ) -> DesiredIntegration[BlockT]:
        return desired

    async def _open_alerts(
        self, desired: DesiredIntegration[BlockT], observed: Observation
    ) -> int | None:
        return None

    async def _before_delete(
        self, desired: DesiredIntegration[BlockT], external_id: str
    ) -> str | None:
        return None

    async def _after_write(
        self, desired: DesiredIntegration[BlockT], before: Observation | None, after: Observation
    ) -> DeliveryTest | None:
        return None

    # -- the checks -------------------------------------------------------------------

    def _own(self, desired: DesiredIntegration) -> DesiredIntegration[BlockT]:
        if _holds(desired, self.block_model):
            return desired
        if desired.block is None:
            return desired.with_block(self._default_block())
        raise InvalidSpecError(f"spec.{self.product.block}", "must be an object")

    def _own_listing(self, listing: Sequence[object]) -> Sequence[ObjectT]:
        checked = self._checked
        if checked is not None and checked is listing:
            return checked
        if _all_of(listing, self.object_model):
            self._checked = listing
            return listing
        raise TypeError(f"a listing handed to the {self.product.value} adapter is not its own")


def _all_of(items: Sequence[object], kind: type[ObjectT]) -> TypeGuard[Sequence[ObjectT]]:
    return all(isinstance(item, kind) for item in items)


def _holds(
    desired: DesiredIntegration, model: type[BlockT]
) -> TypeGuard[DesiredIntegration[BlockT]]:
    """Whether the block is a `model`: then the whole ask is typed by it (it is frozen)."""
    return isinstance(desired.block, model)
