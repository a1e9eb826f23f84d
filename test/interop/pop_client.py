#!/usr/bin/python3
"""An independent implementation of vitrine's proof of possession (vitrine/proof/v2).

Written from docs/proof-of-possession.md alone, with PyNaCl (libsodium) and grpcio and no
protobuf library: request messages are encoded by hand, as a partner's client could.

  pop_client.py vectors PATH   checks the published test vectors (signing and refusals)
  pop_client.py call           reads {"target", "center", "credential", "seed_hex"} as JSON
                               on stdin, pushes, reads and pulls an artifact at that registry
                               signing every call, then tries a replayed and a misdirected
                               proof; prints what happened as JSON on stdout.

Debian packages: python3-nacl, python3-grpcio.
"""

import base64
import hashlib
import json
import os
import sys
import time

import grpc
import nacl.exceptions
import nacl.signing

DOMAIN = b"vitrine/proof/v2\n"
SKEW_MS = 60_000
REGISTRY = "/vitrine.registry.v1.RegistryService/"


# --- the proof (spec sections 3 and 4) -------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data


def proof_message(audience, procedure, time_ms, nonce_b64, binding, digest) -> bytes:
    lines = [audience, procedure, str(time_ms), nonce_b64, binding, digest.hex()]
    return "\n".join(lines).encode("utf-8")


def sign_proof(key, audience, procedure, binding, request, time_ms=None, nonce=None) -> str:
    time_ms = int(time.time() * 1000) if time_ms is None else time_ms
    nonce = os.urandom(16) if nonce is None else nonce
    digest = hashlib.sha256(request).digest()
    message = proof_message(audience, procedure, time_ms, b64url(nonce), binding, digest)
    signature = key.sign(DOMAIN + message).signature
    return f"v2.{audience}.{time_ms}.{b64url(nonce)}.{b64url(signature)}"


class Refused(Exception):
    pass


def verify_proof(header, public_key, audience, procedure, binding, request, now_ms):
    """The verifier's checks in the spec's order; raises Refused with the spec's message."""
    parts = header.split(".")
    if len(parts) != 5 or parts[0] != "v2" or not parts[2].isdigit():
        raise Refused("missing or malformed vitrine-proof header")
    _, stated, time_text, nonce, sig = parts
    try:
        if len(unb64url(nonce)) != 16:
            raise ValueError("nonce")
        signature = unb64url(sig)
    except ValueError:
        raise Refused("missing or malformed vitrine-proof header")
    digest = hashlib.sha256(request).digest()
    message = proof_message(stated, procedure, int(time_text), nonce, binding, digest)
    try:
        nacl.signing.VerifyKey(public_key).verify(DOMAIN + message, signature)
    except (nacl.exceptions.BadSignatureError, ValueError):
        raise Refused("proof of possession is not valid")
    if stated != audience:
        raise Refused(f"proof of possession is for {stated}, not {audience}")
    if abs(now_ms - int(time_text)) > SKEW_MS:
        raise Refused("proof of possession is stale: check the clock")


def check_vectors(path):
    vectors = json.load(open(path, encoding="utf-8"))
    assert vectors["domain"].encode() == DOMAIN, "domain"
    key = nacl.signing.SigningKey(bytes.fromhex(vectors["holder"]["seed_hex"]))
    public = bytes(key.verify_key)
    assert public.hex() == vectors["holder"]["public_key_hex"], "holder key"
    for case in vectors["cases"]:
        request = bytes.fromhex(case["request_hex"])
        assert hashlib.sha256(request).hexdigest() == case["request_digest_hex"], case["name"]
        nonce = bytes.fromhex(case["nonce_hex"])
        header = sign_proof(key, case["audience"], case["procedure"], case["binding"],
                            request, case["time_ms"], nonce)
        assert header == case["header"], f"{case['name']}: {header} != {case['header']}"
        verify_proof(header, public, case["audience"], case["procedure"], case["binding"],
                     request, case["time_ms"])
    for refusal in vectors["refusals"]:
        case = vectors["cases"][refusal["case"]]
        request = bytes.fromhex(refusal.get("request_hex", case["request_hex"]))
        try:
            verify_proof(refusal.get("header", case["header"]), public,
                         refusal["verifier_audience"], case["procedure"], case["binding"],
                         request, refusal["verifier_time_ms"])
        except Refused as refused:
            assert str(refused) == refusal["error"], f"{refusal['name']}: {refused}"
        else:
            raise AssertionError(f"{refusal['name']}: accepted")
    return len(vectors["cases"]) + len(vectors["refusals"])


# --- protobuf wire format, by hand (https://protobuf.dev/programming-guides/encoding/) --


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field_bytes(number: int, data: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def fields(data: bytes):
    """(number, value) of every field; length-delimited values as bytes, varints as int."""
    at = 0
    while at < len(data):
        tag, at = read_varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = read_varint(data, at)
        elif wire == 2:
            size, at = read_varint(data, at)
            value, at = data[at:at + size], at + size
        else:
            raise ValueError(f"wire type {wire} not expected here")
        yield number, value


def read_varint(data: bytes, at: int):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def first(data: bytes, number: int):
    return next((v for n, v in fields(data) if n == number), None)


# --- calls to a real registry ----------------------------------------------------------


class Caller:
    def __init__(self, target, center, credential, key):
        self.channel = grpc.insecure_channel(target)
        self.center, self.credential, self.key = center, credential, key

    def metadata(self, method, request, audience=None):
        proof = sign_proof(self.key, audience or self.center, REGISTRY + method,
                           self.credential, request)
        return [("authorization", f"Bearer {self.credential}"), ("vitrine-proof", proof)]

    def unary(self, method, request, metadata):
        return self.channel.unary_unary(REGISTRY + method)(request, metadata=metadata, timeout=30)

    def push(self, metadata_message, content, piece=64 * 1024):
        """Client stream: the proof binds the first message, PushArtifactRequest{metadata}."""
        first_message = field_bytes(1, metadata_message)
        messages = [first_message] + [field_bytes(2, content[i:i + piece])
                                      for i in range(0, len(content), piece)]
        call = self.channel.stream_unary(REGISTRY + "PushArtifact")
        return call(iter(messages), metadata=self.metadata("PushArtifact", first_message),
                    timeout=30)

    def pull(self, artifact_id):
        """Server stream: the proof binds its single request."""
        request = field_bytes(1, artifact_id.encode())
        call = self.channel.unary_stream(REGISTRY + "PullArtifact")
        data = b""
        for reply in call(request, metadata=self.metadata("PullArtifact", request), timeout=30):
            part = first(reply, 2)
            data += part or b""
        return data


def code_of(call):
    try:
        call()
    except grpc.RpcError as err:
        return err.code().name, err.details()
    return "OK", ""


def run_calls(args):
    key = nacl.signing.SigningKey(bytes.fromhex(args["seed_hex"]))
    caller = Caller(args["target"], args["center"], args["credential"], key)
    content = os.urandom(200_000)
    metadata = (field_varint(1, 1) + field_bytes(2, b"interop") + field_bytes(3, b"1.0")
                + field_bytes(4, b"EU") + field_bytes(6, hashlib.sha256(content).digest()))
    pushed = caller.push(metadata, content)
    pushed_id = first(first(pushed, 1), 1).decode()

    get = field_bytes(1, pushed_id.encode())
    headers = caller.metadata("GetArtifact", get)
    got = caller.unary("GetArtifact", get, headers)
    pulled = caller.pull(pushed_id)
    replayed = code_of(lambda: caller.unary("GetArtifact", get, headers))
    elsewhere = caller.metadata("GetArtifact", get, audience="asia")
    misdirected = code_of(lambda: caller.unary("GetArtifact", get, elsewhere))
    return {
        "pushed_id": pushed_id,
        "got_id": first(first(got, 1), 1).decode(),
        "pulled_sha256": hashlib.sha256(pulled).hexdigest(),
        "content_sha256": hashlib.sha256(content).hexdigest(),
        "replayed": replayed,
        "misdirected": misdirected,
    }


def main():
    if sys.argv[1:2] == ["vectors"] and len(sys.argv) == 3:
        print(json.dumps({"vectors_checked": check_vectors(sys.argv[2])}))
    elif sys.argv[1:] == ["call"]:
        print(json.dumps(run_calls(json.load(sys.stdin))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
