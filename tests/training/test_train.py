"""A 3-step training run interrupted after step 2 resumes to exactly the same state."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from jpegai_fast.model.codec import get_config
from jpegai_fast.model.gain import remap_ladder
from jpegai_fast.model.grow import first_channels
from jpegai_fast.training.train import lr_factor, parse_args, train
import jpegai_fast.training.train as train_module

from helpers import descendants, survivors, tiny_run_cli, training_images


def _args(data, out, *extra):
    return parse_args(tiny_run_cli(data, out, *extra))


def test_resume_reaches_the_same_state(tmp_path):
    data = tmp_path / "data"
    training_images(data)
    train(_args(data, tmp_path / "straight"))
    first = train(_args(data, tmp_path / "resumed", "--stop-at-step", "2"))
    assert first["step"] == 2 and first["stopped_early"]
    second = train(_args(data, tmp_path / "resumed"))
    assert second["step"] == 3
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=False)["model"]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert (tmp_path / "resumed" / "log.csv").read_text().count("\n") == 4  # header + 3 steps


def test_lr_schedule_ends_annealed():
    assert lr_factor(0.5) == 1.0
    assert lr_factor(1.0) < 0.1
    assert lr_factor(0.0) < lr_factor(0.5)


@pytest.mark.parametrize("widen", [0, 16])
def test_new_run_starts_from_shipped_weights(tmp_path, widen):
    from jpegai_fast.model.weights import WEIGHTS_DIR, load_model
    data = tmp_path / "data"
    training_images(data)
    shipped = WEIGHTS_DIR / "light.npz"
    shipped_model = load_model(shipped)
    m_old = shipped_model.config.M
    extra = ["--latent-channels", str(m_old + widen)] if widen else []
    train(_args(data, tmp_path / "fine", "--init-weights", str(shipped), "--stop-at-step", "1", "--lr", "1e-12",
                *extra))
    tuned = torch.load(tmp_path / "fine" / "checkpoint.pt", weights_only=False)["model"]
    assert tuned["g_s.0.weight"].shape[0] == m_old + widen
    ref = shipped_model.state_dict()
    ladder = list(get_config("light").lambdas)
    if shipped_model.config.lambdas != tuple(ladder):   # the run's ladder differs: the table is remapped
        ref["gain.log2_step_table"] = remap_ladder(ref["gain.log2_step_table"], shipped_model.config.lambdas, ladder)
    # one step at a negligible learning rate: still the shipped weights, not a fresh init (in the
    # old channels, where the run's latent is wider than the shipped model's)
    old_part = first_channels(tuned, m_old)
    for k in ref:
        assert torch.allclose(old_part[k].float(), ref[k], atol=1e-3), k


def test_noctx_ablation_starts_from_the_same_weights_minus_the_context(tmp_path):
    from jpegai_fast.model.weights import WEIGHTS_DIR, load_model
    data = tmp_path / "data"
    training_images(data)
    shipped = WEIGHTS_DIR / "light.npz"
    args = parse_args(["--data", str(data), "--out", str(tmp_path / "noctx"), "--profile", "light-noctx",
                       "--steps", "3", "--batch", "1", "--crop", "64", "--quiet", "--init-weights", str(shipped),
                       "--stop-at-step", "1", "--lr", "1e-12"])
    train(args)
    tuned = torch.load(tmp_path / "noctx" / "checkpoint.pt", weights_only=False)["model"]
    assert not any(k.startswith("context.") for k in tuned)
    ref = load_model(shipped).state_dict()
    key = "g_s.0.weight" if "g_s.0.weight" in ref else next(k for k in ref if k.startswith("g_s."))
    assert torch.allclose(tuned[key].float(), ref[key], atol=1e-3)


def test_fixed_t_trains_one_rate_and_bad_values_are_refused(tmp_path):
    data = tmp_path / "data"
    training_images(data)
    train(_args(data, tmp_path / "fixed", "--fixed-t", "4", "--stop-at-step", "2"))
    rows = (tmp_path / "fixed" / "log.csv").read_text().splitlines()[1:]
    assert rows and all(float(r.split(",")[-1]) == 4.0 for r in rows)   # t_mean column
    with pytest.raises(SystemExit):
        _args(data, tmp_path / "x", "--fixed-t", "nan")
    with pytest.raises(ValueError, match="multiple of 16"):
        train(_args(data, tmp_path / "y", "--latent-channels", "170"))


def test_committed_state_resumes_a_new_session_exactly(tmp_path):
    """--save-state writes the compact state; two sessions resumed from it are identical, and differ
    from a fresh start (the moments and RNG came across)."""
    from jpegai_fast.training import state as campaign_state
    data = tmp_path / "data"
    training_images(data)
    state = tmp_path / "state.pt"
    first = train(_args(data, tmp_path / "s1", "--save-state", str(state)))
    assert first["campaign"]["total_steps"] == 3 and first["campaign"]["total_pixels"] == 3 * 64 * 64
    saved = torch.load(state, weights_only=False)
    assert all(st["exp_avg_sq_log8"]["codes"].dtype == torch.uint8 for st in saved["opt"]["state"].values())
    ck = torch.load(tmp_path / "s1" / "checkpoint.pt", weights_only=False)["opt"]["state"]
    back = campaign_state.load(state)["opt"]["state"]
    for k in ck:                # the second moment within half a log step (a 30-octave range: < 6 %)
        a, b = ck[k]["exp_avg_sq"], back[k]["exp_avg_sq"]
        assert torch.allclose(a, b, rtol=0.1, atol=0) and torch.equal(a == 0, b == 0)
    a = train(_args(data, tmp_path / "a", "--resume-state", str(state), "--save-state", str(tmp_path / "a.pt")))
    b = train(_args(data, tmp_path / "b", "--resume-state", str(state)))
    assert a["campaign"]["total_steps"] == 6 and len(a["campaign"]["sessions"]) == 2
    wa = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=False)["model"]
    wb = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    fresh = torch.load(tmp_path / "s1" / "checkpoint.pt", weights_only=False)["model"]
    assert any(not torch.equal(wa[k], fresh[k]) for k in wa)
    loaded = campaign_state.load(state)
    assert loaded["campaign"]["sessions"][0]["steps"] == 3


def test_resume_onto_a_longer_rate_ladder_keeps_weights_and_moments():
    """A state saved on one ladder resumes on a ladder with a new lowest point: every weight and Adam
    moment is carried over, the gain table gains an extrapolated row whose moments copy the old end's."""
    from dataclasses import asdict

    from jpegai_fast.model.codec import Codec, CodecConfig
    from jpegai_fast.training.train import GAIN_TABLE, _load_trained
    base = get_config("light")
    old_cfg = CodecConfig(**{**asdict(base), "lambdas": (0.001, 0.01, 0.1)})
    new_cfg = CodecConfig(**{**asdict(base), "lambdas": (0.0003, 0.001, 0.01, 0.1)})
    torch.manual_seed(0)
    old = Codec(old_cfg)
    opt = torch.optim.Adam(old.parameters(), lr=1e-3)
    x = torch.rand(1, 3, 64, 64)
    _, bits = old.train_forward(x, old.gain.log2_steps(1.3), old.draw_noise(x))
    bits.backward()
    opt.step()
    saved = {"config": old.config.to_dict(), "model": old.state_dict(), "opt": opt.state_dict()}
    new = Codec(new_cfg)
    new_opt = torch.optim.Adam(new.parameters(), lr=1e-3)
    _load_trained(new, new_opt, saved, "saved", parse_args(["--quiet"]))
    table = new.state_dict()[GAIN_TABLE]
    assert torch.equal(table[1:], old.state_dict()[GAIN_TABLE])
    assert torch.allclose(table[0], remap_ladder(old.state_dict()[GAIN_TABLE], old_cfg.lambdas, (0.0003,))[0])
    assert not torch.equal(table[0], table[1])
    for name, p in old.state_dict().items():
        if name != GAIN_TABLE:
            assert torch.equal(new.state_dict()[name], p), name
    index = [n for n, _ in new.named_parameters()].index(GAIN_TABLE)
    old_moment = opt.state_dict()["state"][index]["exp_avg_sq"]
    new_moment = new_opt.state_dict()["state"][index]["exp_avg_sq"]
    assert new_moment.shape == table.shape and torch.equal(new_moment[0], old_moment[0])
    assert torch.equal(new_moment[1:], old_moment)
    other = CodecConfig(**{**asdict(new_cfg), "M": new_cfg.M + 16})
    with pytest.raises(ValueError, match="another model config"):
        _load_trained(Codec(other), new_opt, saved, "saved", parse_args(["--quiet"]))


def test_bf16_is_refused_on_a_cpu_without_native_bf16(tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "cpu_has_native_bf16", lambda: False)
    with pytest.raises(ValueError, match="no native bf16"):
        train(_args(tmp_path / "data", tmp_path / "bf16", "--bf16"))


def test_bf16_step_on_the_cpu_trains_fp32_weights(tmp_path, monkeypatch):
    """--bf16 runs the forward under CPU autocast: the run finishes with finite losses, the weights and
    the Adam moments stay fp32, and the steps are not the fp32 recipe's (autocast really took effect).
    (Emulated where the CPU lacks bf16, which is slow but computes the same.)"""
    monkeypatch.setattr(train_module, "cpu_has_native_bf16", lambda: True)
    data = tmp_path / "data"
    training_images(data)
    train(_args(data, tmp_path / "fp32"))
    train(_args(data, tmp_path / "bf16", "--bf16"))
    ck = torch.load(tmp_path / "bf16" / "checkpoint.pt", weights_only=False)
    assert all(v.dtype == torch.float32 for v in ck["model"].values() if v.is_floating_point())
    assert all(st["exp_avg_sq"].dtype == torch.float32 for st in ck["opt"]["state"].values())
    rows = (tmp_path / "bf16" / "log.csv").read_text().splitlines()[1:]
    assert len(rows) == 3 and all(np.isfinite(float(r.split(",")[3])) for r in rows)
    ref = torch.load(tmp_path / "fp32" / "checkpoint.pt", weights_only=False)["model"]
    assert any(not torch.equal(ref[k], ck["model"][k]) for k in ref)


def test_two_ranks_take_the_one_process_steps_and_resume_in_one(tmp_path):
    """--ranks 2 (each rank half the batch, gradients averaged) computes the one-process step, and its
    checkpoint resumes in one process: stopped at step 2 with two ranks, finished with one. At a
    negligible lr the weights stay put, so the Adam moments (the clipped, averaged gradients of the
    three steps) and the logged loss must agree; at a real lr Adam's sign-like first steps would
    amplify the float-order differences of near-zero gradient entries."""
    data = tmp_path / "data"
    training_images(data)
    train(_args(data, tmp_path / "one", "--batch", "2", "--lr", "1e-12"))
    first = train(_args(data, tmp_path / "two", "--batch", "2", "--lr", "1e-12", "--ranks", "2",
                        "--stop-at-step", "2"))
    assert first["step"] == 2 and first["ranks"] == 2
    train(_args(data, tmp_path / "two", "--batch", "2", "--lr", "1e-12"))
    a = torch.load(tmp_path / "one" / "checkpoint.pt", weights_only=False)
    b = torch.load(tmp_path / "two" / "checkpoint.pt", weights_only=False)
    assert torch.equal(a["rng"]["gen"], b["rng"]["gen"])   # both ranks drew the whole batch: one RNG stream
    for k, st in a["opt"]["state"].items():
        for m in ("exp_avg", "exp_avg_sq"):
            ref, got = st[m], b["opt"]["state"][k][m]
            assert torch.allclose(got, ref, rtol=1e-3, atol=1e-3 * float(ref.abs().max()) + 1e-30), (k, m)
    one = np.loadtxt(tmp_path / "one" / "log.csv", delimiter=",", skiprows=1, usecols=(3, 4, 6))
    two = np.loadtxt(tmp_path / "two" / "log.csv", delimiter=",", skiprows=1, usecols=(3, 4, 6))
    np.testing.assert_allclose(two, one, rtol=1e-5)   # loss, mse, bpp averaged over the ranks


def test_a_rank_0_killed_before_the_group_forms_takes_its_workers_with_it(tmp_path):
    """SIGKILL of rank 0 (the OOM killer, a session's end) while rank 1 is still starting: rank 1 ends
    at once instead of waiting out its 10-minute rendezvous timeout (training/ranks.py,
    worker_exit.py). Later in a run this needs no watcher: gloo's reads see the dead peer's
    reset connection and raise (measured: rank 1 gone 0.8 s after the kill)."""
    data = tmp_path / "data"
    training_images(data)
    p = subprocess.Popen([sys.executable, "-P", "-m", "jpegai_fast.training.train",
                          *tiny_run_cli(data, tmp_path / "run", "--batch", "2", "--ranks", "2")])
    try:
        if not Path("/proc/self/task").is_dir():
            pytest.skip("needs Linux /proc to find the workers")
        deadline = time.time() + 120
        while not (workers := descendants(p.pid)):
            assert time.time() < deadline and p.poll() is None, "rank 0 ended or stalled before starting rank 1"
            time.sleep(0.02)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert not survivors(workers, within_s=30), "rank 1 outlived the killed rank 0"
    assert not (tmp_path / "run" / "log.csv").exists()     # it was killed before the group formed


def test_ranks_must_split_the_batch_evenly(tmp_path):
    with pytest.raises(SystemExit):
        _args(tmp_path, tmp_path / "x", "--batch", "3", "--ranks", "2")


def test_each_rank_takes_its_own_slice():
    from jpegai_fast.training.ranks import Ranks
    batch = torch.arange(8).view(4, 2)
    assert torch.equal(Ranks(0, 2).shard(batch), batch[:2]) and torch.equal(Ranks(1, 2).shard(batch), batch[2:])


def test_a_checkpoint_saved_before_a_config_field_existed_resumes(tmp_path):
    """Checkpoints and states written before CodecConfig.N_analysis have no such key: they still resume."""
    data = tmp_path / "data"
    training_images(data)
    train(_args(data, tmp_path / "old", "--stop-at-step", "2"))
    path = tmp_path / "old" / "checkpoint.pt"
    ck = torch.load(path, weights_only=False)
    del ck["config"]["N_analysis"]
    torch.save(ck, path)
    assert train(_args(data, tmp_path / "old"))["step"] == 3
