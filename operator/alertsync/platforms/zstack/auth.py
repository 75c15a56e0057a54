"""How AlertSync signs in to ZStack: a session from a login, or access-key signatures."""

import base64
import hashlib
import hmac
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
from pydantic import SecretStr

from alertsync.redaction import register_secret

__all__ = ["LOGIN", "AccessKeyAuth", "SessionAuth", "password_hash", "sign"]

LOGIN = "/v1/accounts/login"


def password_hash(password: str) -> str:
    """ZStack logs in with the SHA-512 of the password, never the password itself."""
    return hashlib.sha512(password.encode()).hexdigest()


def sign(secret: str, method: str, date: str, uri: str) -> str:
    """base64(HMAC-SHA1(secret, "METHOD\\nDate\\nURI")), URI below the context path."""
    digest = hmac.new(secret.encode(), f"{method}\n{date}\n{uri}".encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class SessionAuth(httpx.Auth):
    """`Authorization: OAuth <session uuid>`, from a login with the password's SHA-512."""

    def __init__(self, account: str, password: SecretStr) -> None:
        self.account = account
        self._hash = SecretStr(password_hash(password.get_secret_value()))
        # The hash logs in as well as the password does: it is a secret too.
        register_secret(password.get_secret_value())
        register_secret(self._hash.get_secret_value())
        self.session: str | None = None

    def login_body(self) -> dict[str, Any]:
        return {
            "logInByAccount": {
                "accountName": self.account,
                "password": self._hash.get_secret_value(),
            }
        }

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.session is not None and not request.url.path.endswith(LOGIN):
            request.headers["Authorization"] = f"OAuth {self.session}"
        yield request

    def __repr__(self) -> str:
        return f"SessionAuth(logged_in={self.session is not None})"


class AccessKeyAuth(httpx.Auth):
    """`Authorization: ZStack <AccessKeyId>:<signature>` and `Date`, signed per request."""

    def __init__(
        self,
        key_id: SecretStr,
        secret: SecretStr,
        context_path: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._key_id, self._secret = key_id, secret
        self._context_path = context_path.rstrip("/")
        self._now = now
        register_secret(secret.get_secret_value())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # ZStack refuses a Date more than 15 minutes off: the header is made per request.
        date = format_datetime(self._now().astimezone(UTC), usegmt=True)
        uri = request.url.path.removeprefix(self._context_path)
        signature = sign(self._secret.get_secret_value(), request.method, date, uri)
        request.headers["Date"] = date
        request.headers["Authorization"] = f"ZStack {self._key_id.get_secret_value()}:{signature}"
        yield request

    def __repr__(self) -> str:
        return "AccessKeyAuth()"
