"""scripts/vitis_report.py, the check of what Vitis HLS synthesis claims (make vitis-synth / vitis-cosim),
on csynth.xml reports written here in the layout Vitis uses (no vendor tool runs on this machine): it
passes a report that meets the clock and every pipeline target and reports the top's latency, and
fails, naming the cause, on a loop above its II, a function pipelined whole above its II, a module over
the clock, a listed violation and a missing report."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cosim.toolchain import REPO_ROOT
from python_ref.config import load_config

SCRIPT = REPO_ROOT / "scripts" / "vitis_report.py"


def report_xml(module: str, est: float, loops: dict[str, int | None], target: float = 3.333,
               violation: str | None = None, latency=(5, 7), interval=(1, 1)) -> str:
    body = "".join(f"<{name}><Name>{name}</Name><TripCount>8</TripCount><Latency>10</Latency>"
                   + (f"<PipelineII>{ii}</PipelineII><PipelineDepth>3</PipelineDepth>" if ii is not None else "")
                   + f"</{name}>" for name, ii in loops.items())
    viol = f"<SummaryOfViolations><IssueType>{violation}</IssueType></SummaryOfViolations>" if violation else ""
    overall = (f"<SummaryOfOverallLatency><Best-caseLatency>{latency[0]}</Best-caseLatency><Average-caseLatency>"
               f"{latency[1]}</Average-caseLatency><Worst-caseLatency>{latency[1]}</Worst-caseLatency><Interval-min>"
               f"{interval[0]}</Interval-min><Interval-max>{interval[1]}</Interval-max></SummaryOfOverallLatency>")
    return (f'<profile xmlns="http://www.xilinx.com"><RTLDesignHierarchy><TopModule><ModuleName>{module}</ModuleName>'
            f"</TopModule></RTLDesignHierarchy><UserAssignments><TargetClockPeriod>{target}</TargetClockPeriod>"
            f"</UserAssignments><PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>{est}"
            f"</EstimatedClockPeriod></SummaryOfTimingAnalysis>{overall}<SummaryOfLoopLatency>{body}</SummaryOfLoopLatency>"
            f"{viol}</PerformanceEstimates></profile>")


def run(tmp_path, modules: dict[str, str], kernels=("gelu",), config="tiny"):
    rep = tmp_path / "gelu_top" / "solution" / "syn" / "report"
    rep.mkdir(parents=True, exist_ok=True)
    for name, text in modules.items():
        (rep / f"{name}_csynth.xml").write_text(text)
    out = tmp_path / "summary.json"
    res = subprocess.run([sys.executable, str(SCRIPT), "--config", config, "--kernels", *kernels, "--build",
                          str(tmp_path), "--json", str(out)], cwd=REPO_ROOT, capture_output=True, text=True)
    return res, (json.loads(out.read_text()) if out.is_file() else None)


def test_a_report_that_meets_every_target_passes(tmp_path):
    res, summary = run(tmp_path, {"gelu_top": report_xml("gelu_top", 2.9, {"gelu_lanes": 1, "VITIS_LOOP_20_1": 1}),
                                  "gelu_top_Pipeline_x": report_xml("gelu_top_Pipeline_x", 3.1, {"inner": None})})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "[PASS] gelu_top" in res.stdout and "worst estimated clock 3.100 ns" in res.stdout
    assert summary["tops"][0]["ok"] and summary["target_ns"] == pytest.approx(1000 / load_config("tiny").hardware.clock_mhz)
    # the top module's latency is reported (no bound is stated for it, so none is checked)
    assert "latency 5..7 cycles" in res.stdout and summary["tops"][0]["latency"] == [5, 7]


def test_a_latency_vitis_cannot_bound_is_reported_as_undef(tmp_path):
    res, summary = run(tmp_path, {"gelu_top": report_xml("gelu_top", 2.9, {}, latency=(5, "undef"))})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "latency 5..undef cycles" in res.stdout and summary["tops"][0]["latency"] == [5, None]


@pytest.mark.parametrize("case,modules,message", [
    ("ii", {"gelu_top": report_xml("gelu_top", 2.9, {"gelu_lanes": 2})},
     "loop gelu_lanes at II = 2, its pragma asks for II = 1"),
    ("auto-named loop", {"gelu_top": report_xml("gelu_top", 2.9, {"VITIS_LOOP_31_2": 4})},
     "loop VITIS_LOOP_31_2 at II = 4"),
    ("clock", {"gelu_top": report_xml("gelu_top", 2.9, {}),
               "gelu_top_Pipeline_a": report_xml("gelu_top_Pipeline_a", 3.6, {})},
     "gelu_top_Pipeline_a: estimated clock 3.600 ns > target 3.333 ns"),
    ("violation", {"gelu_top": report_xml("gelu_top", 2.9, {}, violation="II")}, "gelu_top: violation IssueType: II"),
    # gelu_top is pipelined whole (`#pragma HLS pipeline II=1` in its body): its interval is its II
    ("function ii", {"gelu_top": report_xml("gelu_top", 2.9, {}, interval=(2, 2))},
     "gelu_top: function at II = 2, its pragma asks for II = 1"),
    ("function not pipelined", {"gelu_top": report_xml("gelu_top", 2.9, {}, interval=("undef", "undef"))},
     "gelu_top: function with no fixed interval, its pragma asks for II = 1"),
])
def test_each_broken_claim_fails_by_name(tmp_path, case, modules, message):
    res, summary = run(tmp_path, modules)
    assert res.returncode == 1, (case, res.stdout + res.stderr)
    assert "[FAIL] gelu_top" in res.stdout and message in res.stdout, res.stdout
    assert summary is not None and not summary["tops"][0]["ok"]


def test_a_missing_report_is_a_clear_error(tmp_path):
    res = subprocess.run([sys.executable, str(SCRIPT), "--config", "tiny", "--kernels", "gelu", "--build",
                          str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and "gelu_top: no *_csynth.xml in" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([sys.executable, str(SCRIPT), "--config", "tiny", "--kernels", "nope"], cwd=REPO_ROOT,
                         capture_output=True, text=True)
    assert res.returncode == 2 and "--kernels: no kernel named nope" in res.stderr


def test_every_pipeline_pragma_of_hls_src_has_a_target():
    """The II targets come from the sources: every `#pragma HLS pipeline` under a loop label is found."""
    from scripts.vitis_report import hls_sources, target_iis
    targets = target_iis(hls_sources())
    assert targets.get("SOFTMAX_READ") == 1 and "gelu_lanes" not in targets  # unrolled, not pipelined
    assert len(targets) >= 20 and set(targets.values()) == {1}


def test_the_functions_pipelined_whole_are_found():
    """Function-level pipeline pragmas (not inside a loop) give the function II targets."""
    from scripts.vitis_report import function_iis, hls_sources
    assert function_iis(hls_sources()) == {"exp_top": 1, "gelu_top": 1, "reciprocal_top": 1}
