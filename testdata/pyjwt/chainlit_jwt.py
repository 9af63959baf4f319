"""Chainlit's token code, run by chatauth's TestPyJWTInterop.

create_jwt and decode_jwt do what backend/chainlit/auth/jwt.py of Chainlit
2.11.1 does, with PyJWT (Debian's python3-jwt): a token is the user's
to_dict() plus exp and iat, HS256 over CHAINLIT_AUTH_SECRET; decoding
allows HS256 only, verifies the signature, needs exp, and keeps what
Chainlit's User(**claims) keeps.

    python3 chainlit_jwt.py mint   < {"secret": ..., "timeout": s, "users": [...]}
    python3 chainlit_jwt.py decode < {"secret": ..., "tokens": [...]}

Both print one JSON list, in the order given.
"""

import json
import sys
from datetime import datetime, timedelta, timezone

import jwt as pyjwt


def create_jwt(user, secret, timeout):
    to_encode = dict(user)
    to_encode.update(
        {
            "exp": datetime.now(timezone.utc) + timedelta(seconds=timeout),
            "iat": datetime.now(timezone.utc),
        }
    )
    return pyjwt.encode(to_encode, secret, algorithm="HS256")


def decode_jwt(token, secret):
    claims = pyjwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        options={"verify_signature": True, "require": ["exp"]},
    )
    del claims["exp"]
    # User(identifier, display_name=None, metadata={}) ignores the rest.
    return {
        "identifier": claims["identifier"],
        "display_name": claims.get("display_name"),
        "metadata_json": json.dumps(claims.get("metadata", {}), separators=(",", ":"), sort_keys=True),
    }


def main():
    request = json.load(sys.stdin)
    out = []
    if sys.argv[1] == "mint":
        for user in request["users"]:
            out.append(create_jwt(user, request["secret"], request["timeout"]))
    else:
        for token in request["tokens"]:
            try:
                out.append(decode_jwt(token, request["secret"]))
            except Exception as e:  # the test wants the reason, not a traceback
                out.append({"error": type(e).__name__ + ": " + str(e)})
    json.dump(out, sys.stdout)


main()
