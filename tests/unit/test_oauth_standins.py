"""The vendor peers themselves (tests/support/oauth_standins.py, vendor_standins.py), driven
with httpx as AUREN will drive them: authorize -> code -> token -> refresh rotation -> reuse
is invalid_grant -> expiry is 401 -> revocation -> 429 with Retry-After -> paging to the end.

Plain functions with asserts and no fixtures: `python -m tests.unit.test_oauth_standins`
runs them without pytest too.
"""

from __future__ import annotations

import math
import secrets
import time
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.oauth_standins import OuraStandIn, WhoopStandIn, pkce_pair
from tests.support.server import free_port
from tests.support.vendor_standins import VendorStandIn, serve_in_thread

REDIRECT = "https://auren.test/connect/whoop/callback"  # never followed: redirects are read
WHOOP_SCOPES = "offline read:profile read:cycles read:recovery read:sleep read:workout"


def _location(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 302, answer.text
    target = urlsplit(answer.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    return {name: values[0] for name, values in parse_qs(target.query).items()}


def _authorize(
    http: httpx.Client, standin: WhoopStandIn | OuraStandIn, **params: str
) -> httpx.Response:
    query = {
        "client_id": standin.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": secrets.token_urlsafe(12),
        **params,
    }
    return http.get(standin.authorize_url, params={k: v for k, v in query.items() if v})


def _post_tokens(
    http: httpx.Client, standin: WhoopStandIn | OuraStandIn, **form: str
) -> httpx.Response:
    """A token request authenticated the way WHOOP documents (client_secret_post)."""
    body = {"client_id": standin.client_id, "client_secret": standin.client_secret, **form}
    return http.post(standin.token_url, data=body)


def _connect(http: httpx.Client, standin: WhoopStandIn | OuraStandIn, scope: str) -> dict[str, Any]:
    """The whole authorization code flow with PKCE; the token answer."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    params = _location(
        _authorize(
            http,
            standin,
            scope=scope,
            state=state,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    assert params["state"] == state
    answer = _post_tokens(
        http,
        standin,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _error(answer: httpx.Response, status: int = 400) -> str:
    assert answer.status_code == status, answer.text
    error: str = answer.json()["error"]
    return error


# ---------------------------------------------------------------------- WHOOP OAuth


def test_whoop_code_flow_rotation_expiry_and_revocation() -> None:
    whoop = WhoopStandIn(redirect_uris=[REDIRECT], access_ttl=60)
    whoop.add_user(10129, days=2)
    whoop.oauth.approve_as(10129)
    profile_url = f"{whoop.base_url}/v2/user/profile/basic"
    with whoop, httpx.Client(timeout=10) as http:
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(12)
        params = _location(
            _authorize(
                http,
                whoop,
                scope=WHOOP_SCOPES,
                state=state,
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )
        assert params["state"] == state
        exchange = {
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        # WHOOP wants the client's credentials in the body: Basic is invalid_client.
        basic = http.post(
            whoop.token_url, data=exchange, auth=(whoop.client_id, whoop.client_secret)
        )
        assert _error(basic, 401) == "invalid_client"
        wrong = _post_tokens(http, whoop, **{**exchange, "code_verifier": pkce_pair()[0]})
        assert _error(wrong) == "invalid_grant"
        answer = _post_tokens(http, whoop, **exchange)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        first = answer.json()
        assert first["token_type"] == "bearer" and first["expires_in"] == 60
        assert set(first["scope"].split()) == set(WHOOP_SCOPES.split())
        assert whoop.oauth.auth_methods_used[-1] == "client_secret_post"

        profile = http.get(profile_url, headers=_bearer(first["access_token"]))
        assert profile.json()["user_id"] == 10129 and profile.json()["email"]

        # Rotation: the refresh token works once; reusing it is invalid_grant.
        refresh = {"grant_type": "refresh_token", "scope": "offline"}
        second = _post_tokens(http, whoop, refresh_token=first["refresh_token"], **refresh)
        assert second.status_code == 200, second.text
        second_tokens = second.json()
        assert second_tokens["refresh_token"] != first["refresh_token"]
        assert set(second_tokens["scope"].split()) == set(WHOOP_SCOPES.split())
        reused = _post_tokens(http, whoop, refresh_token=first["refresh_token"], **refresh)
        assert _error(reused) == "invalid_grant"
        assert whoop.oauth.times_presented(first["refresh_token"]) == 2
        assert whoop.oauth.times_presented(second_tokens["refresh_token"]) == 0
        assert whoop.oauth.current_refresh_token(10129) == second_tokens["refresh_token"]
        # Refreshing ended the previous access token (Hydra's behaviour), not the new one.
        assert http.get(profile_url, headers=_bearer(first["access_token"])).status_code == 401
        assert http.get(profile_url, headers=_bearer(second_tokens["access_token"])).is_success

        # Short-lived access tokens: 401 once expired.
        whoop.oauth.access_ttl = 1
        third = _post_tokens(
            http, whoop, refresh_token=second_tokens["refresh_token"], **refresh
        ).json()
        assert third["expires_in"] == 1
        assert http.get(profile_url, headers=_bearer(third["access_token"])).is_success
        time.sleep(1.1)
        assert http.get(profile_url, headers=_bearer(third["access_token"])).status_code == 401

        # Revocation: DELETE /v2/user/access ends the access and the refresh tokens.
        whoop.oauth.access_ttl = 60
        fourth = _post_tokens(http, whoop, refresh_token=third["refresh_token"], **refresh).json()
        access = _bearer(fourth["access_token"])
        assert http.delete(f"{whoop.base_url}/v2/user/access", headers=access).status_code == 204
        assert http.get(profile_url, headers=access).status_code == 401
        after = _post_tokens(http, whoop, refresh_token=fourth["refresh_token"], **refresh)
        assert _error(after) == "invalid_grant"
        assert [c.status for c in whoop.requests_to("/v2/user/access", "DELETE")] == [204]


def test_whoop_authorize_and_token_refuse_what_they_should() -> None:
    whoop = WhoopStandIn(redirect_uris=[REDIRECT])
    whoop.oauth.approve_as(10129)
    with whoop, httpx.Client(timeout=10) as http:
        unknown = _authorize(http, whoop, client_id="someone-else", scope="offline")
        assert unknown.status_code == 400 and "location" not in unknown.headers
        elsewhere = _authorize(http, whoop, redirect_uri="https://evil.test/cb", scope="offline")
        assert elsewhere.status_code == 400 and "location" not in elsewhere.headers

        assert _location(_authorize(http, whoop, state=""))["error"] == "invalid_request"
        assert _location(_authorize(http, whoop, state="short"))["error"] == "invalid_request"
        implicit = _location(_authorize(http, whoop, response_type="token", state="state-123"))
        assert implicit == {**implicit, "error": "unsupported_response_type", "state": "state-123"}
        assert _location(_authorize(http, whoop, scope="read:everything"))["error"] == (
            "invalid_scope"
        )
        plain = _authorize(http, whoop, code_challenge="x" * 43, code_challenge_method="plain")
        assert _location(plain)["error"] == "invalid_request"

        whoop.oauth.deny()
        denied = _location(_authorize(http, whoop, scope="offline", state="state-456"))
        assert denied["error"] == "access_denied" and denied["state"] == "state-456"
        whoop.oauth.approve_as(10129)

        # Without `offline` there is no refresh token.
        no_offline = _connect(http, whoop, "read:profile")
        assert "refresh_token" not in no_offline

        # A code is single use; its second use also ends what the first one issued.
        code = _location(_authorize(http, whoop, scope="offline read:profile"))["code"]
        exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        issued = _post_tokens(http, whoop, **exchange).json()
        assert _error(_post_tokens(http, whoop, **exchange)) == "invalid_grant"
        profile = http.get(
            f"{whoop.base_url}/v2/user/profile/basic", headers=_bearer(issued["access_token"])
        )
        assert profile.status_code == 401

        # Bound to the redirect URI; form bodies only; codes expire.
        code = _location(_authorize(http, whoop, scope="offline"))["code"]
        other = {**exchange, "code": code, "redirect_uri": "https://auren.test/other"}
        assert _error(_post_tokens(http, whoop, **other)) == "invalid_grant"
        as_json = http.post(
            whoop.token_url,
            json={**exchange, "code": code, "client_id": whoop.client_id},
        )
        assert _error(as_json) == "invalid_request"
        whoop.oauth.code_ttl = 0
        stale = _location(_authorize(http, whoop, scope="offline"))["code"]
        assert _error(_post_tokens(http, whoop, **{**exchange, "code": stale})) == "invalid_grant"
        wrong_secret = http.post(
            whoop.token_url,
            data={**exchange, "client_id": whoop.client_id, "client_secret": "nope"},
        )
        assert _error(wrong_secret, 401) == "invalid_client"


def test_token_endpoint_429_and_revoking_a_user() -> None:
    whoop = WhoopStandIn(redirect_uris=[REDIRECT])
    whoop.oauth.approve_as(10129)
    with whoop, httpx.Client(timeout=10) as http:
        tokens = _connect(http, whoop, WHOOP_SCOPES)
        whoop.oauth.throttle(retry_after=1)
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        limited = _post_tokens(http, whoop, **refresh)
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        time.sleep(1)
        rotated = _post_tokens(http, whoop, **refresh)
        assert rotated.status_code == 200, rotated.text
        (asked, waited) = whoop.retry_gaps("token")[0]
        assert asked == 1 and waited is not None and waited >= 1

        whoop.oauth.revoke_user(10129)
        again = {"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]}
        assert _error(_post_tokens(http, whoop, **again)) == "invalid_grant"
        profile = http.get(
            f"{whoop.base_url}/v2/user/profile/basic",
            headers=_bearer(rotated.json()["access_token"]),
        )
        assert profile.status_code == 401


# ---------------------------------------------------------------------- WHOOP API


def test_whoop_collections_page_to_the_end_with_429_and_deletes() -> None:
    whoop = WhoopStandIn(page_size=3)
    nights = whoop.add_user(10129, days=10, last_day=date(2026, 3, 10))
    whoop.grant("cycles-only", "10129", scopes=["read:cycles"])
    whoop.grant("everything", "10129", scopes=WHOOP_SCOPES.split())
    with whoop, httpx.Client(timeout=10) as http:
        url, headers = f"{whoop.base_url}/v2/cycle", _bearer("everything")
        window = {"start": "2026-03-03T00:00:00.000Z", "end": "2026-03-10T00:00:00.000Z"}
        expected = [record["id"] for record in whoop.records("cycle", 10129, **window)]
        assert len(expected) == 7  # cycles starting 3 to 9 March, newest first
        whoop.throttle(2, retry_after=1)
        seen, pages, params = [], 0, {**window, "limit": "25"}
        while True:
            answer = http.get(url, params=params, headers=headers)
            if answer.status_code == 429:
                assert answer.headers["retry-after"] == "1"
                assert answer.headers["x-ratelimit-reset"] == "1"
                time.sleep(int(answer.headers["retry-after"]))
                continue
            assert answer.status_code == 200, answer.text
            body = answer.json()
            pages += 1
            seen += [record["id"] for record in body["records"]]
            if not body.get("next_token"):
                assert "next_token" not in body
                break
            params = {**window, "limit": "25", "nextToken": body["next_token"]}
        assert seen == expected and pages == math.ceil(7 / 3)
        starts = [datetime.fromisoformat(r["start"]) for r in whoop.records("cycle", 10129)]
        assert starts == sorted(starts, reverse=True)
        (asked, waited) = whoop.retry_gaps()[0]
        assert asked == 1 and waited is not None and waited >= 1
        assert [c.status for c in whoop.requests_to("/v2/cycle")] == [200, 429, 200, 200]
        assert whoop.requests_to("/v2/cycle")[1].query["nextToken"]

        # Every collection has one record a day; recoveries follow their cycles.
        for collection in ("recovery", "sleep", "workout"):
            assert len(whoop.records(collection, 10129)) == 10
        recovery = whoop.records("recovery", 10129)[0]
        assert recovery["cycle_id"] == nights[-1].cycle_id
        assert nights[-1].cycle()["start"].startswith("2026-03-10")

        # A deleted record is gone by id and from its collection.
        cycle_path = nights[-1].paths()["cycle"]
        assert http.get(whoop.base_url + cycle_path, headers=headers).status_code == 200
        assert whoop.delete(cycle_path)
        assert http.get(whoop.base_url + cycle_path, headers=headers).status_code == 404
        everything = http.get(url, params={"limit": "25"}, headers=headers).json()
        assert nights[-1].cycle_id not in [r["id"] for r in everything["records"]]

        # Queries WHOOP refuses, and scopes.
        assert http.get(url, params={"limit": "26"}, headers=headers).status_code == 400
        assert http.get(url, params={"next_token": "x"}, headers=headers).status_code == 400
        token = http.get(url, params=window, headers=headers).json()["next_token"]
        moved = {**window, "start": "2026-03-01T00:00:00Z", "nextToken": token}
        assert http.get(url, params=moved, headers=headers).status_code == 400
        alone = http.get(url, params={"nextToken": token}, headers=headers)
        assert alone.status_code == 200 and alone.json()["records"]
        recoveries = f"{whoop.base_url}/v2/recovery"
        assert http.get(recoveries, headers=_bearer("cycles-only")).status_code == 401
        assert http.get(url, headers=_bearer("cycles-only")).status_code == 200


def test_plain_vendor_standin_still_serves_documents_by_owner() -> None:
    standin = VendorStandIn(prefix="/developer")
    standin.put("/v2/cycle/1", "7", {"id": 1})
    standin.grant("seven", "7", expires_in=60)
    standin.grant("eight", "8")
    standin.grant("stale", "7", expires_in=-1)
    with standin, httpx.Client(timeout=10) as http:
        url = f"{standin.base_url}/v2/cycle/1"
        assert http.get(url, headers=_bearer("seven")).json() == {"id": 1}
        assert http.get(url, headers=_bearer("eight")).status_code == 404
        assert http.get(url, headers=_bearer("stale")).status_code == 401
        standin.set("fail")
        assert http.get(url, headers=_bearer("seven")).status_code == 500
        standin.set("ok")
        standin.revoke("seven")
        assert http.get(url, headers=_bearer("seven")).status_code == 401
    assert standin.calls_to("/v2/cycle/1") == [200, 404, 401, 500, 401]


# ---------------------------------------------------------------------- Oura


def test_oura_flow_basic_auth_paging_and_revocation() -> None:
    oura = OuraStandIn(redirect_uris=[REDIRECT], page_size=4)
    oura.add_user("oura-1", days=10, last_day=date(2026, 1, 20))
    oura.oauth.approve_as("oura-1")
    with oura, httpx.Client(timeout=10) as http:
        # No scope asked: Oura asks the user for every scope.
        params = _location(_authorize(http, oura, scope=""))
        exchange = {"grant_type": "authorization_code", "code": params["code"]}
        answer = http.post(
            oura.token_url,
            data={**exchange, "redirect_uri": REDIRECT},
            auth=(oura.client_id, oura.client_secret),
        )
        assert answer.status_code == 200, answer.text
        tokens = answer.json()
        assert {"daily", "heartrate", "personal", "email"} <= set(tokens["scope"].split())
        assert tokens["expires_in"] == 86400 and tokens["refresh_token"]
        headers = _bearer(tokens["access_token"])
        info = http.get(f"{oura.base_url}/v2/usercollection/personal_info", headers=headers)
        assert info.json()["id"] == "oura-1" and info.json()["email"]

        # Daily documents, both ends inclusive, followed through next_token.
        url = f"{oura.base_url}/v2/usercollection/daily_sleep"
        window = {"start_date": "2026-01-12", "end_date": "2026-01-20"}
        days, pages, query = [], 0, dict(window)
        while True:
            body = http.get(url, params=query, headers=headers).json()
            pages += 1
            days += [document["day"] for document in body["data"]]
            if body["next_token"] is None:
                break
            query = {**window, "next_token": body["next_token"]}
        first = date(2026, 1, 12)
        assert days == [(first + timedelta(days=n)).isoformat() for n in range(9)]
        assert pages == 3
        expected = oura.records("daily_sleep", "oura-1", window["start_date"], window["end_date"])
        assert [document["day"] for document in expected] == days

        # Heart rate rows: five a day, by start_datetime and end_datetime.
        rate_url = f"{oura.base_url}/v2/usercollection/heartrate"
        span = {
            "start_datetime": "2026-01-15T00:00:00+00:00",
            "end_datetime": "2026-01-17T00:00:00+00:00",
        }
        rows, query = [], dict(span)
        while True:
            body = http.get(rate_url, params=query, headers=headers).json()
            rows += body["data"]
            if body["next_token"] is None:
                break
            query = {"next_token": body["next_token"]}
        assert len(rows) == 10 and rows == oura.records("heartrate", "oura-1", **_dates(span))
        assert {row["timestamp"][:10] for row in rows} == {"2026-01-15", "2026-01-16"}
        assert http.get(url, params={"start_datetime": "x"}, headers=headers).status_code == 400

        # Rotation, then revocation the way Oura documents it (access_token in the query).
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        rotated = _post_tokens(http, oura, **refresh)
        assert rotated.status_code == 200, rotated.text
        assert _error(_post_tokens(http, oura, **refresh)) == "invalid_grant"
        new = rotated.json()
        assert http.get(url, params=window, headers=headers).is_success  # Oura: old one lives
        revoked = http.post(oura.revoke_url, params={"access_token": new["access_token"]})
        assert revoked.status_code == 200
        assert http.get(url, headers=_bearer(new["access_token"])).status_code == 401
        again = {"grant_type": "refresh_token", "refresh_token": new["refresh_token"]}
        assert _error(_post_tokens(http, oura, **again)) == "invalid_grant"

        # RFC 7009 revocation of a refresh token ends its access token too.
        second = _connect(http, oura, "daily personal")
        fourth = _connect(http, oura, "daily")
        by_get = http.get(oura.revoke_url, params={"access_token": fourth["access_token"]})
        assert by_get.status_code == 200
        assert http.get(url, headers=_bearer(fourth["access_token"])).status_code == 401
        rfc7009 = http.post(
            oura.revoke_url,
            data={"token": second["refresh_token"], "token_type_hint": "refresh_token"},
            auth=(oura.client_id, oura.client_secret),
        )
        assert rfc7009.status_code == 200
        assert http.get(url, headers=_bearer(second["access_token"])).status_code == 401

        # Scopes: only what was granted; personal_info nulls what was not.
        third = _connect(http, oura, "personal")
        only_personal = _bearer(third["access_token"])
        assert http.get(url, headers=only_personal).status_code == 401
        personal = http.get(
            f"{oura.base_url}/v2/usercollection/personal_info", headers=only_personal
        )
        assert personal.json()["email"] is None and personal.json()["age"] == 34


def _dates(span: dict[str, str]) -> dict[str, str]:
    return {"start": span["start_datetime"], "end": span["end_datetime"]}


def test_oura_webhook_subscriptions_are_verified_before_they_exist() -> None:
    async def receiver(request: Request) -> Response:
        if request.query_params.get("verification_token") != "right-token":
            return JSONResponse({"error": "unknown token"}, status_code=403)
        return JSONResponse({"challenge": request.query_params["challenge"]})

    port = free_port()
    callback = serve_in_thread(
        Starlette(routes=[Route("/webhooks/oura", receiver, methods=["GET"])]), port
    )
    oura = OuraStandIn(subscription_ttl=60)
    url = f"{oura.base_url}/v2/webhook/subscription"
    client = {"x-client-id": oura.client_id, "x-client-secret": oura.client_secret}
    body = {
        "callback_url": f"http://127.0.0.1:{port}/webhooks/oura",
        "verification_token": "right-token",
        "event_type": "create",
        "data_type": "daily_sleep",
    }
    try:
        with oura, httpx.Client(timeout=10) as http:
            stranger = {**client, "x-client-secret": "wrong"}
            assert http.post(url, json=body, headers=stranger).status_code == 401
            refused = http.post(url, json={**body, "verification_token": "wrong"}, headers=client)
            assert refused.status_code == 400 and not oura.subscriptions
            assert oura.verifications[-1]["verified"] is False
            invalid = http.post(url, json={**body, "data_type": "steps"}, headers=client)
            assert invalid.status_code == 422

            created = http.post(url, json=body, headers=client)
            assert created.status_code == 201, created.text
            subscription = created.json()
            assert set(subscription) == {
                "id",
                "callback_url",
                "event_type",
                "data_type",
                "expiration_time",
            }
            assert oura.verifications[-1]["verified"] is True
            assert http.get(url, headers=client).json() == [subscription]

            oura.subscription_ttl = 3600
            renewed = http.put(f"{url}/renew/{subscription['id']}", headers=client).json()
            assert renewed["expiration_time"] > subscription["expiration_time"]
            assert http.get(f"{url}/{uuid_like()}", headers=client).status_code == 403
            assert http.delete(f"{url}/{subscription['id']}", headers=client).status_code == 204
            assert http.get(url, headers=client).json() == []
    finally:
        callback.should_exit = True


def uuid_like() -> str:
    return "5d3fe17b-f880-4d93-b9b6-afbfb76c1e78"


if __name__ == "__main__":
    for name, test in list(globals().items()):
        if name.startswith("test_") and callable(test):
            test()
            print(f"ok  {name}")
