"""Specs read over the wire name functions only inside trusted modules (``only_from``)."""

from __future__ import annotations

import pytest

from rtml.callables import UntrustedReference, only_from, resolve


def test_a_trusted_module_cannot_lend_what_it_imported(tmp_path, monkeypatch):
    (tmp_path / "rtml_owner_mod.py").write_text(
        "import os\nfrom os import system\n\ndef mine(x):\n    return x\n\n"
        "def _hidden(x):\n    return x\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with only_from(["rtml_owner_mod"]):
        assert resolve("rtml_owner_mod:mine")(3) == 3
        for reference in ("rtml_owner_mod:system", "rtml_owner_mod:os.system"):
            with pytest.raises(UntrustedReference, match="not in a trusted module"):
                resolve(reference)
        with pytest.raises(UntrustedReference, match="private"):
            resolve("rtml_owner_mod:_hidden")
        with pytest.raises(UntrustedReference, match="not in a trusted module"):
            resolve("rtml_owner_mod_other:mine")  # a prefix of the name is not its package
    assert resolve("os:getcwd")  # outside the block, the owner's own code names anything


def test_submodules_of_a_trusted_package_are_trusted():
    with only_from(["email"]):
        assert resolve("email.utils:formatdate").__module__ == "email.utils"
