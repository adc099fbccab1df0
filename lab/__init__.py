"""kerncheck's real-kernel lab: Debian's kernel under QEMU, one provoked incident per boot.

Not part of the installed package; run it from the repository root as ``python -m lab``.
"""
