"""The main job (python -m lpkernel) on the bundled data."""

from lpkernel.__main__ import run


def test_main_job_reports_equal_memory_configurations():
    lines = []
    results = run([0.5], (32, 4), gamma=1.0, alpha=0.01, quick=True, out=lines.append)
    (bits32, b32, m32, mib32, acc32), (bits4, b4, m4, mib4, acc4) = results
    assert bits32 == bits4 == 4096 and (b32, m32) == (32, 128) and (b4, m4) == (4, 1024)
    assert mib32 == mib4  # the same memory
    # above the 90.3 % of always answering "negative", and LP-RFF ahead at equal memory
    assert acc32 > 0.91 and acc4 > acc32 + 0.01
    assert any("test acc" in line for line in lines)
