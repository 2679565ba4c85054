#!/usr/bin/env python3
"""Independent reference for kizuna's handshake golden vector.

A second, deliberately separate implementation of Noise (this file, on the
Python 'cryptography' package and hashlib/hmac) produces the exact bytes of
kizuna's Noise_XXpsk0_25519_ChaChaPoly_SHA256 handshake for fixed keys. It
first checks itself against every cacophony vector in noise-vectors.txt, then
writes kizuna-handshake.txt, which tests/unit/test_noise.c compares byte for
byte with the C implementation in protocol/noise*.c.

Usage: kizuna_handshake_ref.py [--check]   (--check: compare, do not write)
"""
import hashlib
import hmac
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
RAW = serialization.Encoding.Raw

PATTERNS = {  # (initiator static pre-message, responder static pre-message, messages)
    "NN": (False, False, [["e"], ["e", "ee"]]),
    "NK": (False, True, [["e", "es"], ["e", "ee"]]),
    "KK": (True, True, [["e", "es", "ss"], ["e", "ee", "se"]]),
    "XK": (False, True, [["e", "es"], ["e", "ee"], ["s", "se"]]),
    "IK": (False, True, [["e", "es", "s", "ss"], ["e", "ee", "se"]]),
    "XX": (False, False, [["e"], ["e", "ee", "s", "es"], ["s", "se"]]),
}


def x25519_pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def x25519(priv, pub):
    return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(pub))


def hkdf(ck, ikm, n):
    tk = hmac.new(ck, ikm, hashlib.sha256).digest()
    outs, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(tk, prev + bytes([i]), hashlib.sha256).digest()
        outs.append(prev)
    return outs


class Cipher:
    def __init__(self, k=None):
        self.k, self.n = k, 0

    def _nonce(self):
        return b"\0" * 4 + self.n.to_bytes(8, "little")

    def enc(self, ad, pt):
        if self.k is None:
            return pt
        ct = ChaCha20Poly1305(self.k).encrypt(self._nonce(), pt, ad)
        self.n += 1
        return ct

    def dec(self, ad, ct):
        if self.k is None:
            return ct
        pt = ChaCha20Poly1305(self.k).decrypt(self._nonce(), ct, ad)
        self.n += 1
        return pt


class Handshake:
    def __init__(self, name, initiator, prologue, s=None, s_pub=None, e=None, rs=None, psk=None):
        body = name[len("Noise_"):-len("_25519_ChaChaPoly_SHA256")]
        base = body[:2]  # every supported base pattern has a two-letter name
        mods = [m for m in body[2:].split("+") if m]
        pre_i, pre_r, msgs = PATTERNS[base]
        self.msgs = [list(m) for m in msgs]
        for m in mods:
            n = int(m[3:])
            if n == 0:
                self.msgs[0].insert(0, "psk")
            else:
                self.msgs[n - 1].append("psk")
        self.psk_mode = bool(mods)
        self.initiator, self.s, self.e, self.rs, self.psk = initiator, s, e, rs, psk
        self.s_pub = s_pub if s_pub is not None else (x25519_pub(s) if s else None)
        self.re = None
        nb = name.encode()
        self.h = nb.ljust(32, b"\0") if len(nb) <= 32 else hashlib.sha256(nb).digest()
        self.ck = self.h
        self.c = Cipher()
        self.mix_hash(prologue)
        if pre_i:
            self.mix_hash(self.s_pub if initiator else rs)
        if pre_r:
            self.mix_hash(rs if initiator else self.s_pub)
        self.index = 0

    def mix_hash(self, data):
        self.h = hashlib.sha256(self.h + data).digest()

    def mix_key(self, ikm):
        self.ck, k = hkdf(self.ck, ikm, 2)
        self.c = Cipher(k)

    def mix_key_and_hash(self, ikm):
        self.ck, th, k = hkdf(self.ck, ikm, 3)
        self.mix_hash(th)
        self.c = Cipher(k)

    def enc_hash(self, pt):
        ct = self.c.enc(self.h, pt)
        self.mix_hash(ct)
        return ct

    def dec_hash(self, ct):
        pt = self.c.dec(self.h, ct)
        self.mix_hash(ct)
        return pt

    def dh(self, tok):
        me_e = (tok[0] == "e") if self.initiator else (tok[1] == "e")
        them_e = (tok[1] == "e") if self.initiator else (tok[0] == "e")
        self.mix_key(x25519(self.e if me_e else self.s, self.re if them_e else self.rs))

    def write(self, payload):
        out = b""
        for tok in self.msgs[self.index]:
            if tok == "e":
                pub = x25519_pub(self.e)
                out += pub
                self.mix_hash(pub)
                if self.psk_mode:
                    self.mix_key(pub)
            elif tok == "s":
                out += self.enc_hash(self.s_pub)
            elif tok == "psk":
                self.mix_key_and_hash(self.psk)
            else:
                self.dh(tok)
        out += self.enc_hash(payload)
        self.index += 1
        return out

    def read(self, msg):
        for tok in self.msgs[self.index]:
            if tok == "e":
                self.re, msg = msg[:32], msg[32:]
                self.mix_hash(self.re)
                if self.psk_mode:
                    self.mix_key(self.re)
            elif tok == "s":
                n = 48 if self.c.k is not None else 32
                self.rs, msg = self.dec_hash(msg[:n]), msg[n:]
            elif tok == "psk":
                self.mix_key_and_hash(self.psk)
            else:
                self.dh(tok)
        self.index += 1
        return self.dec_hash(msg)

    def done(self):
        return self.index == len(self.msgs)

    def split(self):
        k1, k2 = hkdf(self.ck, b"", 2)
        return k1, k2


def load_cacophony(path):
    vectors, cur = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            val = lambda s: b"" if s == "-" else bytes.fromhex(s)
            if parts[0] == "vector":
                cur = {"name": parts[1], "msgs": []}
            elif parts[0] == "msg":
                cur["msgs"].append((val(parts[1]), val(parts[2])))
            elif parts[0] == "end":
                vectors.append(cur)
            else:
                cur[parts[0]] = val(parts[1])
    return vectors


def self_check():
    vectors = load_cacophony(os.path.join(HERE, "noise-vectors.txt"))
    for v in vectors:
        i = Handshake(v["name"], True, v["init_prologue"], s=v.get("init_static"),
                      e=v["init_ephemeral"], rs=v.get("init_remote_static"), psk=v.get("init_psk"))
        r = Handshake(v["name"], False, v["resp_prologue"], s=v.get("resp_static"),
                      e=v["resp_ephemeral"], rs=v.get("resp_remote_static"), psk=v.get("resp_psk"))
        k = 0
        while not i.done():
            a, b = (i, r) if k % 2 == 0 else (r, i)
            pt, ct = v["msgs"][k]
            assert a.write(pt) == ct, (v["name"], k)
            assert b.read(ct) == pt, (v["name"], k)
            k += 1
        assert i.h == r.h == v["handshake_hash"], v["name"]
        i1, i2 = i.split()
        c = {True: Cipher(i1), False: Cipher(i2)}
        d = {True: Cipher(i1), False: Cipher(i2)}
        for pt, ct in v["msgs"][k:]:
            from_init = k % 2 == 0
            assert c[from_init].enc(b"", pt) == ct, (v["name"], k)
            assert d[from_init].dec(b"", ct) == pt, (v["name"], k)
            k += 1
    return len(vectors)


# ---- kizuna ---------------------------------------------------------------
P = 2**255 - 19


def ed25519_to_x25519(seed):
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pk = sk.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, P - 2, P) % P
    return pk, bytes(h), u.to_bytes(32, "little")


def kizuna_vector():
    init_seed = bytes(range(0x10, 0x30))
    resp_seed = bytes(range(0x30, 0x50))
    init_e = bytes(range(0x50, 0x70))
    resp_e = bytes(range(0x70, 0x90))
    psk = bytes(range(0xa0, 0xc0))
    name, prologue = "Noise_XXpsk0_25519_ChaChaPoly_SHA256", b"kizuna/1"
    i_id, i_xs, i_xp = ed25519_to_x25519(init_seed)
    r_id, r_xs, r_xp = ed25519_to_x25519(resp_seed)
    assert x25519_pub(i_xs) == i_xp and x25519_pub(r_xs) == r_xp
    i = Handshake(name, True, prologue, s=i_xs, s_pub=i_xp, e=init_e, psk=psk)
    r = Handshake(name, False, prologue, s=r_xs, s_pub=r_xp, e=resp_e, psk=psk)
    m1 = i.write(b"")
    assert r.read(m1) == b""
    m2 = r.write(bytes([1]))
    assert i.read(m2) == bytes([1]) and i.rs == r_xp
    m3 = i.write(bytes([1]) + i_id)
    assert r.read(m3) == bytes([1]) + i_id and r.rs == i_xp
    assert (len(m1), len(m2), len(m3)) == (48, 97, 97)
    assert i.h == r.h
    i2r, r2i = i.split()
    assert (i2r, r2i) == r.split()
    rows = [("init_seed", init_seed), ("resp_seed", resp_seed),
            ("init_node_id", i_id), ("resp_node_id", r_id),
            ("init_static", i_xp), ("resp_static", r_xp),
            ("init_ephemeral", init_e), ("resp_ephemeral", resp_e),
            ("psk", psk), ("prologue", prologue),
            ("msg1", m1), ("msg2", m2), ("msg3", m3),
            ("handshake_hash", i.h), ("i2r", i2r), ("r2i", r2i)]
    lines = ["# kizuna handshake golden vector: Noise_XXpsk0_25519_ChaChaPoly_SHA256,",
             "# prologue \"kizuna/1\", Ed25519 node keys from the seeds below converted",
             "# to X25519, federation key = psk. msg2 payload = 01; msg3 payload =",
             "# 01 || init_node_id. Generated by tests/vectors/kizuna_handshake_ref.py",
             "# (independent Python implementation); do not edit by hand."]
    lines += ["%s %s" % (k, v.hex()) for k, v in rows]
    return "\n".join(lines) + "\n"


def main():
    n = self_check()
    text = kizuna_vector()
    path = os.path.join(HERE, "kizuna-handshake.txt")
    if "--check" in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            if f.read() != text:
                raise SystemExit("kizuna-handshake.txt differs from the reference")
        print("reference passes %d cacophony vectors; %s is up to date" % (n, path))
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print("reference passes %d cacophony vectors; wrote %s" % (n, path))


if __name__ == "__main__":
    main()
