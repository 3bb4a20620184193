"""The key rotation deploy/README.md describes, run against the real service_common.auth.

Real: the key files as keygen writes them, the Verifier every service builds from AUTH_KEYS_DIR
(service_common.context.CallerProvider does exactly load_public_keys + Verifier).
"""
from __future__ import annotations

import shutil

import pytest

from service_common import auth


def _verifier(folder):
    return auth.Verifier("crm", auth.load_public_keys(folder))


def _token(folder):
    return auth.Signer.from_dir(folder, "gateway").mint(audience=["crm"], typ="user", tenant_id=1, user_id=1)


def test_a_switch_of_the_whole_key_pair_refuses_the_old_tokens(tmp_path):
    """What rotating means today: old tokens die with the old public key (hence: rotate by overlap)."""
    old, new = tmp_path / "old", tmp_path / "new"
    auth.generate(old, "gateway")
    auth.generate(new, "gateway")
    token = _token(old)
    assert _verifier(old).verify(token).user_id == 1
    with pytest.raises(auth.Unauthenticated):
        _verifier(new).verify(token)


def test_rotation_by_overlap_accepts_old_and_new_tokens(tmp_path):
    old, new, services = tmp_path / "old", tmp_path / "new", tmp_path / "services"
    auth.generate(old, "gateway")
    auth.generate(new, "gateway")
    services.mkdir()
    shutil.copy(old / "gateway.pub", services / "gateway.pub")
    # step 1: the new public key next to the old one, on every service
    shutil.copy(new / "gateway.pub", services / "gateway.next.pub")
    verifier = _verifier(services)
    # step 2: the gateway switches to the new private key; tokens of both keys are accepted meanwhile
    assert verifier.verify(_token(old)).user_id == 1
    assert verifier.verify(_token(new)).user_id == 1
